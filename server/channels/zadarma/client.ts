import type { GateCallEvent } from '../../../machines/gate-call';
import type { EffectOutcome, EffectRow, EffectRunner } from '../../engine/types';
import type { Logger } from '../../lib/log';
import { cleanOutsideText } from '../../lib/outside-text';
import { uk } from '../../texts/uk';
import { signRequest } from './sign';

const CALLBACK_METHOD = '/v1/request/callback/';
const TIMEOUT_MS = 10_000;
/**
 * A callback request older than this is not sent any more: after a crash the outbox resumes it, but
 * a gate that opens minutes after it was asked is worse than a clear failure.
 */
export const STALE_CALLBACK_MS = 30_000;

export type CallbackResult = { ok: true } | { ok: false; message: string };
export type CallbackSender = (from: string, to: string) => Promise<CallbackResult>;

/** A signed `GET {baseUrl}{method}?query`; a network failure or timeout throws with the user's text. */
async function signedGet(
  baseUrl: string,
  method: string,
  params: Record<string, string>,
  key: string,
  secret: string,
): Promise<Response> {
  const { query, authorization } = signRequest(method, params, key, secret);
  try {
    return await fetch(`${baseUrl.replace(/\/$/, '')}${method}?${query}`, {
      headers: { Authorization: authorization },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw new Error(uk.zadarmaUnreachable((e as Error).message));
  }
}

/** `GET {baseUrl}/v1/request/callback/?from&to&format=json`, signed as Zadarma's SDKs do. */
export function liveCallback(baseUrl: string, key: string, secret: string): CallbackSender {
  return async (from, to) => {
    let res: Response;
    try {
      res = await signedGet(baseUrl, CALLBACK_METHOD, { from, to }, key, secret);
    } catch (e) {
      return { ok: false, message: (e as Error).message };
    }
    const text = await res.text().catch(() => '');
    let body: { status?: unknown; message?: unknown } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    if (res.ok && body?.status === 'success') return { ok: true };
    const raw = typeof body?.message === 'string' && body.message ? body.message : `HTTP ${res.status}`;
    // The user and the admins read this text: whatever Zadarma echoes, our keys never reach a chat.
    return { ok: false, message: cleanOutsideText(raw, [key, secret]) };
  };
}

/** MODE=dev without Zadarma keys: prints the callback it would request and reports success. */
export function dryCallback(
  print: (t: string) => void = (t) => process.stdout.write(`${t}\n`),
): CallbackSender {
  return async (from, to) => {
    print(
      `[zadarma dry-run] callback from ${from} to ${to} (send its webhook with: npm run simulate -- zadarma end …)`,
    );
    return { ok: true };
  };
}

/**
 * Carries out `zadarma` effects. Every answer becomes an event for the call (API_OK / API_FAILED)
 * and the effect is done: a failed callback is reported to the user at once, never retried later.
 * At most once: the attempt is stored (`markStarted`) before the request; an effect found already
 * started (the service died during the request) is not sent again — the user hears the status is
 * unknown instead of the relay ringing twice.
 */
export function zadarmaRunner(deps: {
  send: CallbackSender;
  caller: string;
  log: Logger;
  clock?: () => number;
  /** Stores that this effect's request is about to be made (before it is made). */
  markStarted?: (effect: EffectRow) => Promise<void>;
}): EffectRunner {
  const clock = deps.clock ?? Date.now;
  return async (effect): Promise<EffectOutcome> => {
    const now = clock();
    // Measured from the user's request (payload.askedAt), not from when this effect was queued.
    const asked = typeof effect.payload.askedAt === 'number' ? effect.payload.askedAt : effect.createdAt;
    const since = Math.min(asked, effect.createdAt);
    if (now - since > STALE_CALLBACK_MS) {
      deps.log.warn('zadarma: callback request too old, not sent', {
        key: effect.key,
        ageMs: now - since,
      });
      return {
        ok: true,
        event: { type: 'API_FAILED', now, message: uk.staleRequest } satisfies GateCallEvent,
      };
    }
    if (typeof effect.payload.startedAt === 'number') {
      deps.log.warn('zadarma: callback request was under way when the service stopped; not repeated', {
        key: effect.key,
      });
      return {
        ok: true,
        event: { type: 'API_FAILED', now, message: uk.interruptedRequest } satisfies GateCallEvent,
      };
    }
    await deps.markStarted?.({ ...effect, payload: { ...effect.payload, startedAt: now } });
    const result = await deps.send(deps.caller, String(effect.payload.to));
    if (result.ok) return { ok: true, event: { type: 'API_OK', now: clock() } satisfies GateCallEvent };
    deps.log.error('zadarma: callback refused', { key: effect.key, message: result.message });
    return {
      ok: true,
      event: { type: 'API_FAILED', now: clock(), message: result.message } satisfies GateCallEvent,
    };
  };
}

const BALANCE_METHOD = '/v1/info/balance/';

export interface Balance {
  balance: number;
  currency: string;
}

/** `GET {baseUrl}/v1/info/balance/` (signed): the account's balance; throws with Zadarma's message. */
export async function fetchBalance(baseUrl: string, key: string, secret: string): Promise<Balance> {
  const res = await signedGet(baseUrl, BALANCE_METHOD, {}, key, secret);
  const body = (await res.json().catch(() => undefined)) as
    | { status?: unknown; balance?: unknown; currency?: unknown; message?: unknown }
    | undefined;
  const raw = body?.balance;
  const balance =
    typeof raw === 'number' || (typeof raw === 'string' && raw !== '') ? Number(raw) : Number.NaN;
  if (res.ok && body?.status === 'success' && Number.isFinite(balance))
    return { balance, currency: typeof body?.currency === 'string' ? body.currency : '' };
  throw new Error(typeof body?.message === 'string' && body.message ? body.message : `HTTP ${res.status}`);
}
