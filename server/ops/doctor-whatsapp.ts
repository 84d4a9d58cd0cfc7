import type { Config } from '../config/config';
import { type CheckResult, fail, failedCall, foreignUrl, pass, setWebhooksFix, skip } from './check';
import { type D360Webhook, d360Webhook } from './platform-api';

/** `GET /v1/configs/webhook`: the key works, and the registered URL (and secret header) are ours. */
export async function whatsappChecks(config: Config): Promise<CheckResult[]> {
  const wa = config.whatsapp;
  if (wa.mode !== 'live') return [skip('whatsapp API', `channel ${wa.mode}, not called`)];
  let hook: D360Webhook;
  try {
    hook = await d360Webhook(wa);
  } catch (e) {
    return [
      failedCall('whatsapp API key', e, {
        auth:
          'copy the API key from the 360dialog Hub into D360_API_KEY and restart the service ' +
          '(a new key also drops the webhook: run npm run webhooks -- set again)',
        network:
          'the server must reach D360_BASE_URL over HTTPS: check DNS, the firewall and outbound traffic',
      }),
      skip('whatsapp webhook', 'not checked: 360dialog did not accept the key'),
    ];
  }
  return [pass('whatsapp API key', `accepted by ${wa.baseUrl}`), webhookCheck(config, hook)];
}

function webhookCheck(config: Config, hook: D360Webhook): CheckResult {
  const check = 'whatsapp webhook';
  const setIt = setWebhooksFix(config);
  const url = typeof hook.url === 'string' ? hook.url : '';
  if (url === '')
    return fail(check, 'no webhook URL registered: WhatsApp messages do not reach the service', setIt);
  const foreign = foreignUrl(check, config, 'whatsapp', url);
  if (foreign) return foreign;
  const secret = config.whatsapp.secretHeader;
  if (secret && hook.headers === undefined)
    return pass(check, `${url} (360dialog does not report its headers: the secret header cannot be checked)`);
  if (secret) {
    const sent = Object.entries(hook.headers ?? {}).find(([name]) => name.toLowerCase() === secret.name);
    if (!sent)
      return fail(
        check,
        `${url} is registered without the ${secret.name} header of WEBHOOK_SECRET_HEADER: every delivery is refused (401)`,
        setIt,
      );
    if (sent[1] !== secret.value)
      return fail(
        check,
        `${url} is registered with another ${secret.name} value than WEBHOOK_SECRET_HEADER: every delivery is refused (401)`,
        setIt,
      );
    return pass(check, `${url} with the ${secret.name} header`);
  }
  return pass(check, url);
}
