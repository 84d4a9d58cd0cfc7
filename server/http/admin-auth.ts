import type { Context, Next } from 'koa';
import { SESSION_COOKIE, validSession } from './admin-session';
import { HttpError } from './body';
import { safeEqual } from './safe-equal';

/**
 * The token of an `Authorization: Bearer <token>` header (scripts). A `?token=` in the URL is not
 * read: URLs end up in proxy logs and browser history; browsers sign in at /admin/login instead.
 */
export function requestToken(ctx: Context): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'));
  return m?.[1] ? m[1].trim() : undefined;
}

/** A same-site path to come back to after signing in (never another origin); else undefined. */
export function safeNext(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 500) return undefined;
  return /^\/(?![/\\])[^\s\\]*$/.test(raw) ? raw : undefined;
}

/**
 * Guards admin pages with ADMIN_TOKEN: a Bearer header compared in constant time, or the signed
 * session cookie of /admin/login. Without either, a browser asking for a page is sent to sign in (302);
 * any other client, and a wrong Bearer token, gets 401. The routes exist only with ADMIN_TOKEN set.
 */
export function requireAdmin(adminToken: string, clock: () => number = Date.now) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const token = requestToken(ctx);
    const signedIn = !token && validSession(ctx.cookies.get(SESSION_COOKIE), adminToken, clock());
    if (!signedIn && !(token && safeEqual(token, adminToken))) {
      if (!token && wantsPage(ctx)) {
        ctx.set('Cache-Control', 'no-store');
        ctx.redirect(`/admin/login?next=${encodeURIComponent(ctx.originalUrl)}`);
        return;
      }
      ctx.set('WWW-Authenticate', 'Bearer realm="switchboard admin"');
      throw new HttpError(
        401,
        'admin sign-in required: Authorization: Bearer <ADMIN_TOKEN>, or sign in at /admin/login',
      );
    }
    adminHeaders(ctx);
    await next();
  };
}

/** The inspector's routes when it is open (a dry development run on loopback): the same headers, no check. */
export function openAccess() {
  return async (ctx: Context, next: Next): Promise<void> => {
    adminHeaders(ctx);
    await next();
  };
}

/** A browser navigating to a page (not a script or a fetch of JSON/CSV). */
const wantsPage = (ctx: Context) =>
  (ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.get('accept').includes('text/html');

/**
 * Admin answers carry personal data: keep them out of caches and referrers, and let pages load
 * nothing from elsewhere.
 */
export function adminHeaders(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  );
}
