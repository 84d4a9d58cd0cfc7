import type { Context, Next } from 'koa';
import { HttpError } from './body';
import { safeEqual } from './safe-equal';

/** The token a request carries: `Authorization: Bearer <token>`, else `?token=` (links, browsers). */
export function requestToken(ctx: Context): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'));
  if (m?.[1]) return m[1].trim();
  return queryToken(ctx);
}

/** The `?token=` of a request: what an admin page carries on into its links (never a Bearer token). */
export function queryToken(ctx: Context): string | undefined {
  const q = ctx.query.token;
  return typeof q === 'string' && q ? q : undefined;
}

/**
 * Guards admin pages with ADMIN_TOKEN, compared in constant time. The routes are mounted only when
 * the token is set (so without it they answer 404); a wrong or missing token gets 401.
 */
export function requireAdmin(adminToken: string) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const token = requestToken(ctx);
    if (!token || !safeEqual(token, adminToken)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="switchboard admin"');
      throw new HttpError(401, 'admin token required: Authorization: Bearer <ADMIN_TOKEN> or ?token=');
    }
    // Admin answers carry personal data and the token may sit in the URL: keep them out of caches and
    // referrers, and let pages load nothing from elsewhere.
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    await next();
  };
}
