import type { Context, Next } from 'koa';
import type { Logger } from '../lib/log';
import { HttpError } from './body';
import { safeEqual } from './safe-equal';

/** Why a webhook was refused: the log line's message and fields, and the 401's text. */
export interface Refusal {
  log: string;
  fields?: Record<string, unknown>;
  answer: string;
}

export interface WebhookGuardDeps {
  log: Logger;
  /** Told about every refused webhook (the "someone probing" admin alert counts them). */
  onRefused?: (route: string) => void;
}

/**
 * One middleware for every webhook route's secret or signature check: `verify` returns a Refusal, or
 * nothing when the request may pass. A refusal is logged (never with the secret), counted for the
 * probing alert under the route's name, and answered 401 before the body reaches a channel.
 */
export function webhookAuth(
  route: string,
  deps: WebhookGuardDeps,
  verify: (ctx: Context) => Refusal | undefined | Promise<Refusal | undefined>,
) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const refusal = await verify(ctx);
    if (refusal) {
      deps.log.warn(refusal.log, { ...refusal.fields, ip: ctx.ip });
      deps.onRefused?.(route);
      throw new HttpError(401, refusal.answer);
    }
    await next();
  };
}

/** A check that the request carries `header` with exactly `value` (compared in constant time). */
export function headerSecret(header: string, value: string, refusal: Omit<Refusal, 'fields'>) {
  return (ctx: Context): Refusal | undefined => {
    const got = ctx.get(header);
    return got && safeEqual(got, value) ? undefined : refusal;
  };
}
