import type Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from '../lib/log';
import { HttpError } from './body';

/**
 * The Koa app: one error boundary, then the routes. A 4xx says exactly what was wrong; a 503 says the
 * event cannot be taken now and must come again (the platform redelivers it); anything else is logged
 * and answered 500 without details (the platform then redelivers, and dedupe absorbs it).
 */
export function createApp(deps: { routers: Router[]; log: Logger }): Koa {
  const app = new Koa();
  app.proxy = true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      const status = e instanceof HttpError ? e.status : ((e as { status?: number }).status ?? 500);
      if (status === 503) {
        // Not now, later (an actor stored by a newer instance of the service): the platform redelivers.
        // Whoever refused logged why, once.
        ctx.status = 503;
        ctx.body = { error: (e as Error).message };
      } else if (status >= 500) {
        deps.log.error('request failed', { method: ctx.method, path: ctx.path, error: (e as Error).message });
        ctx.status = 500;
        ctx.body = { error: 'internal error; the request was not processed' };
      } else {
        deps.log.warn('request refused', {
          method: ctx.method,
          path: ctx.path,
          status,
          reason: (e as Error).message,
        });
        ctx.status = status;
        ctx.body = { error: (e as Error).message };
      }
    }
  });
  for (const r of deps.routers) app.use(r.routes()).use(r.allowedMethods());
  app.on('error', () => {
    /* already logged above; Koa would otherwise print a stack */
  });
  return app;
}
