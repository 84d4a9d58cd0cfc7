import type { Config } from '../config/config';
import { type CheckResult, fail, failedCall, foreignUrl, pass, setWebhooksFix, skip } from './check';
import { zadarmaCall } from './platform-api';

/** The notifications the gate needs (webhooks set turns them on). */
export const NOTIFICATIONS = ['notify_start', 'notify_end', 'notify_out_start', 'notify_out_end'] as const;

const FIXES = {
  auth:
    'copy the key and secret from the API page of the Zadarma personal account (my.zadarma.com/api/) into ' +
    'ZADARMA_API_KEY and ZADARMA_API_SECRET (the keys must be activated there) and restart the service',
  network: 'the server must reach ZADARMA_BASE_URL over HTTPS: check DNS, the firewall and outbound traffic',
};

/** `GET /v1/info/balance/` (the keys work) and `GET /v1/pbx/callinfo/` (the notification URL is ours). */
export async function zadarmaChecks(config: Config): Promise<CheckResult[]> {
  const z = config.zadarma;
  if (z.mode !== 'live') return [skip('zadarma API', `channel ${z.mode}, not called`)];
  let keys: CheckResult;
  try {
    const b = await zadarmaCall(z, 'GET', '/v1/info/balance/');
    const balance = `${b.balance} ${b.currency ?? ''}`.trim();
    keys =
      Number(b.balance) > 0
        ? pass('zadarma keys', `valid; balance ${balance}`)
        : fail(
            'zadarma keys',
            `valid, but the balance is ${balance}: callbacks will fail`,
            'top up the Zadarma account',
          );
  } catch (e) {
    return [
      failedCall('zadarma keys', e, FIXES),
      skip('zadarma notifications', 'not checked: Zadarma did not accept the keys'),
    ];
  }
  return [keys, await notificationsCheck(config)];
}

async function notificationsCheck(config: Config): Promise<CheckResult> {
  const check = 'zadarma notifications';
  let info: Record<string, unknown>;
  try {
    info = await zadarmaCall(config.zadarma, 'GET', '/v1/pbx/callinfo/');
  } catch (e) {
    return failedCall(check, e, FIXES);
  }
  const setIt = setWebhooksFix(config);
  const url = typeof info.url === 'string' ? info.url : '';
  if (url === '') return fail(check, 'no PBX notification URL: call results do not reach the service', setIt);
  const foreign = foreignUrl(check, config, 'zadarma', url, 'the notification URL');
  if (foreign) return foreign;
  const toggles = (info.notifications ?? {}) as Record<string, unknown>;
  const off = NOTIFICATIONS.filter((k) => String(toggles[k]) !== 'true');
  if (off.length > 0)
    return fail(
      check,
      `${url}, but these notifications are off: ${off.join(', ')}`,
      `${setIt} (turns them on)`,
    );
  return pass(check, `${url}; ${NOTIFICATIONS.join(', ')} on`);
}
