import Router from '@koa/router';
import type { Store } from '../../../storage/store';
import type { Outbox } from '../../engine/outbox';

export const SERVICE_NAME = 'switchboard';

/** `GET /`: what this is; `GET /health`: whether it works (503 when the store cannot write). */
export function healthRoutes(deps: {
  store: Store;
  outbox: Outbox;
  version: string;
  startedAt: number;
  channels: Record<string, string>;
}): Router {
  const router = new Router();
  router.get('/', (ctx) => {
    ctx.body = {
      service: SERVICE_NAME,
      version: deps.version,
      channels: deps.channels,
      links: { health: '/health', whatsappWebhook: '/webhook' },
    };
  });
  router.get('/health', (ctx) => {
    const storeOk = deps.store.healthy();
    ctx.status = storeOk ? 200 : 503;
    ctx.body = {
      status: storeOk ? 'ok' : 'degraded',
      uptime: Math.round((Date.now() - deps.startedAt) / 1000),
      store: storeOk ? 'ok' : 'failing',
      outbox: { pending: deps.outbox.pending, deadLetters: deps.store.all('deadletters').length },
    };
  });
  return router;
}
