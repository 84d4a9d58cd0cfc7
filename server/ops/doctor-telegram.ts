import type { Config } from '../config/config';
import { type CheckResult, fail, failedCall, foreignUrl, pass, setWebhooksFix, skip } from './check';
import { telegramLastError, telegramMe, telegramWebhookInfo } from './platform-api';

const FIXES = {
  auth: 'copy the bot token from @BotFather (/mybots → API Token) into TELEGRAM_BOT_TOKEN and restart the service',
  network: 'the server must reach TELEGRAM_API_ROOT over HTTPS: check DNS, the firewall and outbound traffic',
};

/** `getMe` (the token works) and `getWebhookInfo` (the registration fits TELEGRAM_MODE). */
export async function telegramChecks(config: Config): Promise<CheckResult[]> {
  const tg = config.telegram;
  if (tg.mode !== 'live') return [skip('telegram API', `channel ${tg.mode}, not called`)];
  let token: CheckResult;
  try {
    const me = await telegramMe(tg);
    token = pass('telegram token', `valid: bot @${me.username ?? me.first_name} (id ${me.id})`);
  } catch (e) {
    return [
      failedCall('telegram token', e, FIXES),
      skip('telegram webhook', 'not checked: the Bot API did not accept the token'),
    ];
  }
  return [token, await webhookCheck(config)];
}

async function webhookCheck(config: Config): Promise<CheckResult> {
  const check = 'telegram webhook';
  const tg = config.telegram;
  let info: Awaited<ReturnType<typeof telegramWebhookInfo>>;
  try {
    info = await telegramWebhookInfo(tg);
  } catch (e) {
    return failedCall(check, e, FIXES);
  }
  const url = info.url ?? '';
  if (tg.transport === 'polling') {
    if (url === '')
      return pass(check, 'none registered, as TELEGRAM_MODE=polling wants (updates by long polling)');
    return fail(
      check,
      `a webhook is registered (${url}) but TELEGRAM_MODE=polling: long polling does not work while it is`,
      'npm run webhooks -- set (in polling mode it deletes the webhook; the service also does at start), ' +
        'or set TELEGRAM_MODE=webhook',
    );
  }
  if (url === '')
    return fail(
      check,
      'no webhook registered, but TELEGRAM_MODE=webhook: updates do not reach the service',
      setWebhooksFix(config),
    );
  const foreign = foreignUrl(check, config, 'telegram', url);
  if (foreign) return foreign;
  const lastError = telegramLastError(info);
  const pending = info.pending_update_count ? `, ${info.pending_update_count} update(s) waiting` : '';
  return pass(check, `${url}${pending}${lastError ? `; Telegram's last delivery error: ${lastError}` : ''}`);
}
