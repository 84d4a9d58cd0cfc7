import { createHmac } from 'node:crypto';
import type { Context } from 'koa';
import { safeEqual } from './safe-equal';

/** The sign-in cookie's name. */
export const SESSION_COOKIE = 'switchboard_admin';
/** How long one sign-in lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/*
 * The cookie holds `<expiry>.<HMAC-SHA256 of the expiry>`, keyed by a key derived from ADMIN_TOKEN:
 * nothing is stored, a restart keeps everyone signed in, and changing ADMIN_TOKEN signs everyone out.
 * Signing out clears the cookie in that browser; a copied value stays valid until its expiry.
 */
const keyOf = (adminToken: string) =>
  createHmac('sha256', adminToken).update('switchboard admin session v1').digest();
const signatureOf = (adminToken: string, expiry: string) =>
  createHmac('sha256', keyOf(adminToken)).update(expiry).digest('base64url');

/** A new session value, valid for SESSION_TTL_MS from `now`. */
export function issueSession(adminToken: string, now: number): string {
  const expiry = (now + SESSION_TTL_MS).toString(36);
  return `${expiry}.${signatureOf(adminToken, expiry)}`;
}

/** Whether a cookie value was issued with this ADMIN_TOKEN and has not expired. */
export function validSession(value: string | undefined, adminToken: string, now: number): boolean {
  const m = value ? /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
  if (!m) return false;
  const [, expiry = '', signature = ''] = m;
  const until = Number.parseInt(expiry, 36);
  if (!(until > now && until <= now + SESSION_TTL_MS)) return false;
  return safeEqual(signature, signatureOf(adminToken, expiry));
}

const cookieOptions = (ctx: Context) =>
  ({ httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: '/', overwrite: true }) as const;

/** Sets the session cookie: HttpOnly, SameSite=Strict, Secure when the request came over https. */
export function setSessionCookie(ctx: Context, adminToken: string, now: number): void {
  ctx.cookies.set(SESSION_COOKIE, issueSession(adminToken, now), {
    ...cookieOptions(ctx),
    maxAge: SESSION_TTL_MS,
  });
}

export function clearSessionCookie(ctx: Context): void {
  ctx.cookies.set(SESSION_COOKIE, '', { ...cookieOptions(ctx), maxAge: 0 });
}
