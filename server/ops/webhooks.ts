/**
 * `npm run webhooks -- set|show`: registers the service's webhook URLs where a platform has an API for
 * it, and reads back what is registered. The manual steps (no API) are listed by `manualSteps`.
 */
import { TELEGRAM_UPDATES } from '../channels/telegram/update-types';
import type { Config } from '../config/config';
import { webhookUrl } from '../lib/public-url';
import { type CheckResult, failedCall, pass, skip } from './check';
import { NOTIFICATIONS } from './doctor-zadarma';
import {
  d360Webhook,
  telegramCall,
  telegramLastError,
  telegramWebhookInfo,
  zadarmaCall,
} from './platform-api';

const NETWORK = 'the server must reach the platform over HTTPS: check DNS, the firewall and outbound traffic';

/** Registers every live channel's webhook under `publicUrl`; one result per platform. */
export async function setWebhooks(config: Config, publicUrl: string): Promise<CheckResult[]> {
  return Promise.all([
    setWhatsApp(config, publicUrl),
    setTelegram(config, publicUrl),
    setZadarma(config, publicUrl),
  ]);
}

async function setTelegram(config: Config, publicUrl: string): Promise<CheckResult> {
  const tg = config.telegram;
  if (tg.mode !== 'live') return skip('telegram', `channel ${tg.mode}, nothing registered`);
  const fixes = { auth: 'check TELEGRAM_BOT_TOKEN (from @BotFather)', network: NETWORK };
  if (tg.transport === 'polling') {
    try {
      await telegramCall(tg, (api) => api.deleteWebhook({ drop_pending_updates: false }));
    } catch (e) {
      return failedCall('telegram', e, fixes);
    }
    return pass(
      'telegram',
      'TELEGRAM_MODE=polling needs no webhook: deleted any registered one (for a webhook, set ' +
        'TELEGRAM_MODE=webhook and TELEGRAM_WEBHOOK_SECRET, then run this again)',
    );
  }
  const url = webhookUrl(publicUrl, 'telegram');
  try {
    await telegramCall(tg, (api) =>
      api.setWebhook({ url, secret_token: tg.webhookSecret, allowed_updates: TELEGRAM_UPDATES }),
    );
  } catch (e) {
    return failedCall('telegram', e, {
      ...fixes,
      refused: 'Telegram needs an https URL on port 443, 80, 88 or 8443 with a valid certificate',
    });
  }
  return pass('telegram', `webhook set: ${url} (secret token: TELEGRAM_WEBHOOK_SECRET)`);
}

async function setWhatsApp(config: Config, publicUrl: string): Promise<CheckResult> {
  const wa = config.whatsapp;
  if (wa.mode !== 'live') return skip('whatsapp', `channel ${wa.mode}, nothing registered`);
  const url = webhookUrl(publicUrl, 'whatsapp');
  const secret = wa.secretHeader;
  try {
    await d360Webhook(wa, secret ? { url, headers: { [secret.name]: secret.value } } : { url });
  } catch (e) {
    return failedCall('whatsapp', e, {
      auth: 'check D360_API_KEY (from the 360dialog Hub)',
      network: NETWORK,
    });
  }
  return pass(
    'whatsapp',
    secret
      ? `webhook set: ${url} (sends the ${secret.name} header of WEBHOOK_SECRET_HEADER)`
      : `webhook set: ${url} (no WEBHOOK_SECRET_HEADER: deliveries are not authenticated)`,
  );
}

async function setZadarma(config: Config, publicUrl: string): Promise<CheckResult> {
  const z = config.zadarma;
  if (z.mode !== 'live') return skip('zadarma', `channel ${z.mode}, nothing registered`);
  const url = webhookUrl(publicUrl, 'zadarma');
  const fixes = {
    auth: 'check ZADARMA_API_KEY and ZADARMA_API_SECRET (my.zadarma.com/api/)',
    network: NETWORK,
  };
  try {
    await zadarmaCall(z, 'POST', '/v1/pbx/callinfo/url/', { url });
  } catch (e) {
    return failedCall('zadarma', e, {
      ...fixes,
      refused:
        `Zadarma checks the URL with GET ${url}?zd_echo=…: start the service first and make sure ` +
        `curl '${url}?zd_echo=ok' prints ok from the internet`,
    });
  }
  try {
    await zadarmaCall(
      z,
      'POST',
      '/v1/pbx/callinfo/notifications/',
      Object.fromEntries(NOTIFICATIONS.map((k) => [k, 'true'])),
    );
  } catch (e) {
    return failedCall('zadarma', e, fixes);
  }
  return pass('zadarma', `notification URL set: ${url}; ${NOTIFICATIONS.join(', ')} turned on`);
}

/** What must be done by hand, for the live channels. */
export function manualSteps(config: Config, publicUrl: string): string[] {
  const steps: string[] = [];
  if (config.zadarma.mode === 'live') {
    const url = webhookUrl(publicUrl, 'zadarma');
    steps.push(
      `Zadarma checked ${url} with ?zd_echo=… when it was set; the service answers that check by itself ` +
        `(try: curl '${url}?zd_echo=ok' prints ok).`,
      'Zadarma has no API for the voice menu: in the personal account, page "Call notifications in PBX" ' +
        '(my.zadarma.com/api/), turn on NOTIFY_IVR as well, and in the PBX settings let incoming calls of the ' +
        'gate number enter the PBX (its voice menu), so NOTIFY_START reaches the service and its answer drives the menu.',
    );
  }
  if (config.whatsapp.mode === 'live')
    steps.push(
      '360dialog: a new API key drops the webhook; after changing D360_API_KEY run this command again.',
    );
  if (config.telegram.mode === 'live' && config.telegram.transport === 'webhook')
    steps.push(
      'Telegram: nothing by hand. After changing TELEGRAM_WEBHOOK_SECRET run this command again (and restart the service).',
    );
  steps.push('Then check everything: npm run doctor');
  return steps;
}

/** What each live platform has registered now (secrets shown as ***). */
export async function showWebhooks(config: Config): Promise<CheckResult[]> {
  return Promise.all([showWhatsApp(config), showTelegram(config), showZadarma(config)]);
}

async function showTelegram(config: Config): Promise<CheckResult> {
  const tg = config.telegram;
  if (tg.mode !== 'live') return skip('telegram', `channel ${tg.mode}`);
  try {
    const info = await telegramWebhookInfo(tg);
    const parts = [info.url ? `webhook ${info.url}` : 'no webhook (long polling)'];
    parts.push(`TELEGRAM_MODE=${tg.transport}`, `${info.pending_update_count} update(s) waiting`);
    if (info.allowed_updates) parts.push(`updates: ${info.allowed_updates.join(', ')}`);
    const lastError = telegramLastError(info);
    if (lastError) parts.push(`last delivery error: ${lastError}`);
    return pass('telegram', parts.join('; '));
  } catch (e) {
    return failedCall('telegram', e, { auth: 'check TELEGRAM_BOT_TOKEN', network: NETWORK });
  }
}

async function showWhatsApp(config: Config): Promise<CheckResult> {
  const wa = config.whatsapp;
  if (wa.mode !== 'live') return skip('whatsapp', `channel ${wa.mode}`);
  try {
    const hook = await d360Webhook(wa);
    if (!hook.url) return pass('whatsapp', 'no webhook URL registered');
    const headers = Object.entries(hook.headers ?? {}).map(([name, value]) => {
      const ours = wa.secretHeader && name.toLowerCase() === wa.secretHeader.name;
      const same = ours
        ? value === wa.secretHeader?.value
          ? ' (= WEBHOOK_SECRET_HEADER)'
          : ' (≠ WEBHOOK_SECRET_HEADER)'
        : '';
      return `${name}: ***${same}`;
    });
    return pass('whatsapp', `webhook ${hook.url}; headers: ${headers.length ? headers.join(', ') : 'none'}`);
  } catch (e) {
    return failedCall('whatsapp', e, { auth: 'check D360_API_KEY', network: NETWORK });
  }
}

async function showZadarma(config: Config): Promise<CheckResult> {
  const z = config.zadarma;
  if (z.mode !== 'live') return skip('zadarma', `channel ${z.mode}`);
  try {
    const info = await zadarmaCall(z, 'GET', '/v1/pbx/callinfo/');
    const toggles = Object.entries((info.notifications ?? {}) as Record<string, unknown>)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    const url = typeof info.url === 'string' && info.url ? info.url : '(none)';
    return pass('zadarma', `notification URL ${url}; ${toggles || 'no notification switches reported'}`);
  } catch (e) {
    return failedCall('zadarma', e, {
      auth: 'check ZADARMA_API_KEY and ZADARMA_API_SECRET',
      network: NETWORK,
    });
  }
}
