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
