import type { EffectOutcome } from '../../engine/types';
import { post } from './http-post';
import { overLimit } from './limits';

/** Meta error codes that mean "slow down and try again", though they come with HTTP 400. */
const RETRYABLE_META_CODES = new Set([4, 80007, 130429, 131056, 131000]);

export interface SendResult {
  outcome: EffectOutcome;
  /** The wamid the platform gave the message (for delivery statuses). */
  messageId?: string;
}

/** Sends one message through `POST {baseUrl}/messages` and classifies the answer for the outbox. */
export async function sendD360(
  baseUrl: string,
  apiKey: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<SendResult> {
  const refused = overLimit(body);
  if (refused) return { outcome: refused };
  const answer = await post(
    `${baseUrl.replace(/\/$/, '')}/messages`,
    { 'D360-API-KEY': apiKey, 'Content-Type': 'application/json' },
    JSON.stringify(body),
    signal,
  );
  if ('error' in answer)
    return { outcome: { ok: false, permanent: false, error: `network: ${answer.error.message}` } };
  const { status, headers, text, cut } = answer;
  const ok = status >= 200 && status < 300;
  // An answer cut off by the timeout before its body: only a 2xx head counts, as before.
  if (cut?.timedOut && !ok)
    return { outcome: { ok: false, permanent: false, error: `network: ${cut.error.message}` } };
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  if (ok) {
    const id = (json?.messages as Array<{ id?: unknown }> | undefined)?.[0]?.id;
    return { outcome: { ok: true }, messageId: typeof id === 'string' ? id : undefined };
  }
  const error = `HTTP ${status}: ${describeError(json, text)}`;
  if (status === 429 || status >= 500) {
    return {
      outcome: {
        ok: false,
        permanent: false,
        error,
        retryAfterMs: retryAfter(headerValue(headers['retry-after'])),
      },
    };
  }
  const code = (json?.error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'number' && RETRYABLE_META_CODES.has(code)) {
    return { outcome: { ok: false, permanent: false, error } };
  }
  return { outcome: { ok: false, permanent: true, error } };
}

function headerValue(v: string | string[] | undefined): string | null {
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}

function describeError(json: Record<string, unknown> | undefined, text: string): string {
  const meta = json?.error as
    | { message?: string; code?: number; error_data?: { details?: string } }
    | undefined;
  if (meta?.message)
    return `${meta.message}${meta.error_data?.details ? ` (${meta.error_data.details})` : ''}`;
  const d360 = json?.meta as { developer_message?: string } | undefined;
  if (d360?.developer_message) return d360.developer_message;
  return text.slice(0, 200) || '(empty body)';
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 3600_000);
  // An HTTP date names its weekday and month; Date.parse would also read garbage like "-5" as a date.
  if (!/[a-z]/i.test(header)) return undefined;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.min(at - now, 3600_000));
}
