import Router from '@koa/router';
import type { Context } from 'koa';
import { loginPage } from '../../admin/login-page';
import type { Logger } from '../../lib/log';
import { ru } from '../../texts/ru';
import { adminHeaders, safeNext } from '../admin-auth';
import { clearSessionCookie, setSessionCookie } from '../admin-session';
import { readText } from '../body';
import { safeEqual } from '../safe-equal';
import { SIGN_IN_MAX_FAILURES, SignInLimit, signInClient } from '../sign-in-limit';

export const LOGIN_ROUTE = 'POST /admin/login';
const AFTER_SIGN_IN = '/admin/attendance';

/**
 * Admin sign-in for browsers (ADMIN_TOKEN): `GET /admin/login?next=` (the form), `POST /admin/login`
 * (form-encoded `token`, `next`) sets the session cookie and goes back to `next` (same-site paths only),
 * `POST /admin/logout` clears it. Failed attempts are logged (without what was typed), counted per
 * client address (5 in 10 minutes, then 429 with Retry-After) and reported like refused webhooks.
 */
export function adminLoginRoutes(deps: {
  adminToken: string;
  clock: () => number;
  log: Logger;
  onRefused?: (route: string) => void;
}): Router {
  const router = new Router();
  const limit = new SignInLimit();
  const form = (ctx: Context, status: number, next: string, problem?: string) => {
    adminHeaders(ctx);
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = loginPage(next, problem);
  };

  router.get('/admin/login', (ctx) => form(ctx, 200, safeNext(ctx.query.next) ?? AFTER_SIGN_IN));

  router.post('/admin/login', async (ctx) => {
    const fields = new URLSearchParams(await readText(ctx, 8 * 1024));
    const next = safeNext(fields.get('next')) ?? AFTER_SIGN_IN;
    const now = deps.clock();
    const client = signInClient(ctx);
    const wait = limit.retryAfter(client, now);
    if (wait > 0) {
      deps.log.warn('admin sign-in refused: too many failed attempts', { ip: client, retryAfterS: wait });
      ctx.set('Retry-After', String(wait));
      form(ctx, 429, next, ru.adminSignIn.tooMany(Math.ceil(wait / 60)));
      return;
    }
    const token = fields.get('token') ?? '';
    if (!token || !safeEqual(token, deps.adminToken)) {
      const failures = limit.failed(client, now);
      deps.log.warn('admin sign-in refused: wrong token', {
        ip: client,
        failures,
        limit: SIGN_IN_MAX_FAILURES,
      });
      deps.onRefused?.(LOGIN_ROUTE);
      form(ctx, 401, next, ru.adminSignIn.wrong);
      return;
    }
    deps.log.info('admin signed in', { ip: client });
    setSessionCookie(ctx, deps.adminToken, now);
    ctx.status = 303;
    ctx.redirect(next);
  });

  router.post('/admin/logout', (ctx) => {
    clearSessionCookie(ctx);
    ctx.status = 303;
    ctx.redirect('/admin/login');
  });

  return router;
}
