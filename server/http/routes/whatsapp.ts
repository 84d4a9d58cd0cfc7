import Router from '@koa/router';
import { dispatchWebhook } from '../../channels/whatsapp/channel';
import { parseWebhook } from '../../channels/whatsapp/inbound';
import type { WhatsAppConfig } from '../../config/config';
import type { Engine } from '../../engine/engine';
import type { Logger } from '../../lib/log';
import { parseJson, readText } from '../body';
import { safeEqual } from '../safe-equal';
import { headerSecret, webhookAuth } from '../webhook-auth';

/**
 * `GET /webhook`: the Meta-style verification handshake. `POST /webhook`: 360dialog deliveries,
 * acknowledged with 200 only once every message and status in the body is committed. A body the
 * platform would keep redelivering for days although we can never use it (valid JSON of an unknown
 * shape) is acknowledged with a warning instead.
 */
export function whatsappRoutes(deps: {
  engine: Engine;
  config: WhatsAppConfig;
  timezone: string;
  log: Logger;
  onRefused?: (route: string) => void;
}): Router {
  const { config, log } = deps;
  const router = new Router();

  router.get('/webhook', (ctx) => {
    const token = ctx.query['hub.verify_token'];
    const challenge = ctx.query['hub.challenge'];
    if (config.verifyToken && typeof token === 'string' && safeEqual(token, config.verifyToken)) {
      ctx.type = 'text/plain';
      ctx.body = typeof challenge === 'string' ? challenge : '';
      return;
    }
    log.warn('whatsapp: webhook verification refused', {
      reason: config.verifyToken ? 'wrong token' : 'VERIFY_TOKEN unset',
    });
    ctx.status = 403;
    ctx.body = 'verification failed';
  });

  const { secretHeader } = config;
  const guard = webhookAuth(
    'POST /webhook',
    deps,
    secretHeader
      ? headerSecret(secretHeader.name, secretHeader.value, {
          log: 'whatsapp: webhook without the secret header refused',
          answer: 'missing or wrong secret header',
        })
      : () => undefined,
  );

  router.post('/webhook', guard, async (ctx) => {
    const text = await readText(ctx);
    const body = parseJson(text);
    const parsed = parseWebhook(body);
    if (!parsed.recognised) {
      log.warn('whatsapp: webhook of an unknown shape acknowledged and ignored', {
        // From the raw text: re-serialising a hostile body (nesting thousands deep) would overflow the stack.
        sample: text.slice(0, 200),
      });
    }
    for (const reason of parsed.ignored) log.info('whatsapp: ignored part of a webhook', { reason });
    await dispatchWebhook(deps.engine, parsed, { timezone: deps.timezone, log });
    ctx.body = { status: 'ok' };
  });

  return router;
}
