import Router from '@koa/router';
import { HttpError, parseJson, readText } from '../body';
import { dispatchWebhook } from '../channels/whatsapp/channel';
import { parseWebhook } from '../channels/whatsapp/inbound';
import type { WhatsAppConfig } from '../config';
import type { Engine } from '../engine';
import type { Logger } from '../log';
import { safeEqual } from '../safe-equal';

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
  /** Told about every webhook refused for its secret (the "someone probing" alert). */
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

  router.post('/webhook', async (ctx) => {
    if (config.secretHeader) {
      const got = ctx.get(config.secretHeader.name);
      if (!got || !safeEqual(got, config.secretHeader.value)) {
        log.warn('whatsapp: webhook without the secret header refused', { ip: ctx.ip });
        deps.onRefused?.('POST /webhook');
        throw new HttpError(401, 'missing or wrong secret header');
      }
    }
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
