import Router from '@koa/router';
import { HttpError, readJson } from '../body';
import { handleUpdate, type UpdateDeps } from '../channels/telegram/updates';
import { safeEqual } from '../safe-equal';

/**
 * `POST /telegram/webhook`: Telegram updates when TELEGRAM_MODE=webhook (and always in dry-run dev
 * mode, so the simulator can drive the bot). Checks X-Telegram-Bot-Api-Secret-Token whenever
 * TELEGRAM_WEBHOOK_SECRET is set; answers 200 once the update is committed.
 */
export function telegramRoutes(
  deps: UpdateDeps & { secret?: string; onRefused?: (route: string) => void },
): Router {
  const router = new Router();
  router.post('/telegram/webhook', async (ctx) => {
    if (deps.secret) {
      const got = ctx.get('x-telegram-bot-api-secret-token');
      if (!got || !safeEqual(got, deps.secret)) {
        deps.log.warn('telegram: webhook without the right secret token refused', { ip: ctx.ip });
        deps.onRefused?.('POST /telegram/webhook');
        throw new HttpError(401, 'missing or wrong X-Telegram-Bot-Api-Secret-Token');
      }
    }
    const update = await readJson(ctx);
    await handleUpdate(update, deps);
    ctx.body = {};
  });
  return router;
}
