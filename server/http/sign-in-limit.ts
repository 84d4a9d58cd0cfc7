import type { Context } from 'koa';
import { isLoopbackHost } from '../lib/loopback';

/** Failed sign-ins from one client address allowed within SIGN_IN_WINDOW_MS; the next ones get 429. */
export const SIGN_IN_MAX_FAILURES = 5;
export const SIGN_IN_WINDOW_MS = 10 * 60 * 1000;
/** Addresses remembered at most (the oldest is forgotten first), so a flood cannot grow memory. */
const MAX_CLIENTS = 10_000;

/**
 * Counts failed admin sign-ins per client address in memory (a restart forgets them). While an
 * address is over the limit every attempt from it is refused, the right token included.
 */
export class SignInLimit {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max = SIGN_IN_MAX_FAILURES,
    private readonly windowMs = SIGN_IN_WINDOW_MS,
  ) {}

  /** Seconds until `client` may try again; 0 when it may now. */
  retryAfter(client: string, now: number): number {
    const recent = this.recent(client, now);
    if (recent.length < this.max) return 0;
    return Math.max(1, Math.ceil(((recent[0] as number) + this.windowMs - now) / 1000));
  }

  /** Records a failed attempt; returns how many `client` made within the window. */
  failed(client: string, now: number): number {
    const recent = [...this.recent(client, now), now].slice(-this.max);
    this.failures.delete(client);
    this.failures.set(client, recent);
    if (this.failures.size > MAX_CLIENTS) this.failures.delete(this.failures.keys().next().value as string);
    return recent.length;
  }

  private recent(client: string, now: number): number[] {
    const list = (this.failures.get(client) ?? []).filter((t) => t <= now && now - t < this.windowMs);
    if (list.length === 0) this.failures.delete(client);
    return list;
  }
}

/**
 * The address failures are counted under. X-Forwarded-For is trusted only from a proxy on this machine
 * (docs/DEPLOY.md), and then only its last entry, the one that proxy added: the entries before it are
 * whatever the client sent, so a guesser could otherwise pick a new address for every attempt.
 */
export function signInClient(ctx: Context): string {
  const peer = ctx.socket.remoteAddress ?? 'unknown';
  const forwarded = ctx
    .get('x-forwarded-for')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return isLoopbackHost(peer) && forwarded.length > 0 ? (forwarded.at(-1) as string) : peer;
}
