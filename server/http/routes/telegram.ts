import Router from '@koa/router';
import { handleUpdate, type UpdateDeps } from '../../gate/chat-updates';
import { readJson } from '../body';
import { headerSecret, webhookAuth } from '../webhook-auth';

/**
 * `POST /telegram/webhook`: Telegram updates when TELEGRAM_MODE=webhook (and always in dry-run dev
 * mode, so the simulator can drive the bot). Checks X-Telegram-Bot-Api-Secret-Token whenever
 * TELEGRAM_WEBHOOK_SECRET is set; answers 200 once the update is committed.
 */
export function telegramRoutes(
  deps: UpdateDeps & { secret?: string; onRefused?: (route: string) => void },
): Router {
  const router = new Router();
  const guard = webhookAuth(
    'POST /telegram/webhook',
    deps,
    deps.secret
      ? headerSecret('x-telegram-bot-api-secret-token', deps.secret, {
          log: 'telegram: webhook without the right secret token refused',
          answer: 'missing or wrong X-Telegram-Bot-Api-Secret-Token',
        })
      : () => undefined,
  );
  router.post('/telegram/webhook', guard, async (ctx) => {
    const update = await readJson(ctx);
    await handleUpdate(update, deps);
    ctx.body = {};
  });
  return router;
}
