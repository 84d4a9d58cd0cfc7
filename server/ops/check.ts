import type { Config } from '../config/config';
import { endsWithPath, type Platform, WEBHOOK_PATHS, webhookUrl } from '../lib/public-url';

/**
 * One line of `npm run doctor`: what was checked, whether it is right, and what to do when it is not.
 * A skipped check (a channel that is dry or off) counts as passed and says why it was not checked.
 */
export interface CheckResult {
  check: string;
  ok: boolean;
  detail: string;
  /** What to do; null when ok. */
  fix: string | null;
  skipped?: true;
}

export const pass = (check: string, detail: string): CheckResult => ({ check, ok: true, detail, fix: null });

export const fail = (check: string, detail: string, fix: string): CheckResult => ({
  check,
  ok: false,
  detail,
  fix,
});

export const skip = (check: string, detail: string): CheckResult => ({
  check,
  ok: true,
  detail,
  fix: null,
  skipped: true,
});

/** `✔ check: detail`, `✘ check: detail — fix: …`, or `– check: skipped, detail`. */
export function formatCheck(r: CheckResult): string {
  if (r.skipped) return `– ${r.check}: skipped, ${r.detail}`;
  if (r.ok) return `✔ ${r.check}: ${r.detail}`;
  return `✘ ${r.check}: ${r.detail} — fix: ${r.fix}`;
}

/** The fix for a webhook registration that is missing or not ours. */
export const setWebhooksFix = (config: Config): string =>
  `npm run webhooks -- set --public-url ${config.publicUrl ?? 'https://<your host>'}`;

/**
 * A registered URL (`what`: how the platform calls it) that does not end with our path, or is not
 * PUBLIC_URL's: the failing check line; undefined when it is ours.
 */
export function foreignUrl(
  check: string,
  config: Config,
  platform: Platform,
  url: string,
  what = 'the registered URL',
): CheckResult | undefined {
  const path = WEBHOOK_PATHS[platform];
  if (!endsWithPath(url, path))
    return fail(check, `${what} ${url} is not ours (…${path})`, setWebhooksFix(config));
  const expected = config.publicUrl ? webhookUrl(config.publicUrl, platform) : undefined;
  if (expected && url !== expected)
    return fail(check, `${what} ${url} is not PUBLIC_URL's ${expected}`, setWebhooksFix(config));
  return undefined;
}

/** A failed platform call as a check line, with the fix that fits why it failed. */
export function failedCall(
  check: string,
  e: unknown,
  fixes: { auth: string; network: string; refused?: string },
): CheckResult {
  const kind = (e as { kind?: string }).kind;
  const message = (e as Error).message;
  if (kind === 'auth') return fail(check, `credentials refused (${message})`, fixes.auth);
  if (kind === 'refused')
    return fail(check, message, fixes.refused ?? 'read the message above; if it persists, retry later');
  return fail(check, message, fixes.network);
}
