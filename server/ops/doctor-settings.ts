import { type Config, ConfigError, readConfig } from '../config/config';
import { maskPhones } from '../lib/log';
import { type CheckResult, fail, pass, skip } from './check';
import { dataDirSetting } from './cli';

export const ENV_FIX =
  'set them in the env file (/etc/switchboard/env in a deployment, .env in development); README "Settings" explains each';

type Env = Record<string, string | undefined>;

/** The settings as the service reads them, one line for the whole and one per channel. */
export function settingsChecks(env: Env): { results: CheckResult[]; config?: Config; dataDir: string } {
  let config: Config;
  try {
    config = readConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const problems = e.message
      .replace(/^invalid settings:\s*/, '')
      .split(/\n\s*- /)
      .filter(Boolean);
    return {
      results: [fail('settings', problems.map((p) => p.trim()).join('; '), ENV_FIX)],
      // The data folder can still be checked with what DATA_DIR says.
      dataDir: dataDirSetting(env),
    };
  }
  const channels = `whatsapp ${config.whatsapp.mode}, telegram ${config.telegram.mode}, zadarma ${config.zadarma.mode}`;
  const parts = [
    `MODE=${config.mode}`,
    `DATA_DIR=${config.dataDir}`,
    config.publicUrl
      ? `PUBLIC_URL=${config.publicUrl}`
      : 'PUBLIC_URL not set (registered URLs are checked by their path only)',
    `channels: ${channels}`,
  ];
  if (config.mode === 'dev')
    parts.push('MODE=dev runs channels without credentials dry: use MODE=prod in production');
  return {
    results: [
      pass('settings', parts.join('; ')),
      whatsappSettings(config),
      telegramSettings(config),
      zadarmaSettings(config),
    ],
    config,
    dataDir: config.dataDir,
  };
}

function notLive(check: string, mode: 'dry' | 'off', dry: string, off: string): CheckResult {
  return mode === 'dry'
    ? skip(check, `channel dry: MODE=dev without ${dry}, it prints what it would send`)
    : skip(check, `channel off: none of ${off} is set`);
}

function whatsappSettings(config: Config): CheckResult {
  const wa = config.whatsapp;
  if (wa.mode !== 'live')
    return notLive('whatsapp settings', wa.mode, 'D360_API_KEY', 'D360_API_KEY, VERIFY_TOKEN');
  const secret = wa.secretHeader
    ? `WEBHOOK_SECRET_HEADER ${wa.secretHeader.name}`
    : 'no WEBHOOK_SECRET_HEADER (deliveries are not authenticated)';
  return pass('whatsapp settings', `live: D360_API_KEY set, ${secret}`);
}

function telegramSettings(config: Config): CheckResult {
  const tg = config.telegram;
  if (tg.mode !== 'live')
    return notLive('telegram settings', tg.mode, 'TELEGRAM_BOT_TOKEN', 'TELEGRAM_BOT_TOKEN');
  const g = config.gates;
  if (tg.adminIds.length + tg.allowedUsers.length + g.allowedPhones.length === 0 && !g.clientsFile)
    return fail(
      'telegram settings',
      'nobody may open a gate: TELEGRAM_ADMIN_IDS, TELEGRAM_ALLOWED_USERS, ALLOWED_PHONES and CLIENTS_FILE are all empty',
      'set TELEGRAM_ADMIN_IDS to your Telegram user id (and allow others with /allow, ALLOWED_PHONES or CLIENTS_FILE)',
    );
  return pass(
    'telegram settings',
    `live, TELEGRAM_MODE=${tg.transport}; ${tg.adminIds.length} admin(s), ${tg.allowedUsers.length} allowed user(s), ` +
      `${g.allowedPhones.length} allowed phone(s)${g.clientsFile ? `, CLIENTS_FILE ${g.clientsFile}` : ''}`,
  );
}

function zadarmaSettings(config: Config): CheckResult {
  const z = config.zadarma;
  if (z.mode !== 'live')
    return notLive(
      'zadarma settings',
      z.mode,
      'ZADARMA_API_KEY and ZADARMA_API_SECRET',
      'ZADARMA_API_KEY, ZADARMA_API_SECRET, ZADARMA_CALLER, GATES',
    );
  const relays = Object.entries(config.gates.relays);
  if (relays.length === 0)
    return fail(
      'zadarma settings',
      'the Zadarma keys are set but GATES is empty: no gate can be opened',
      'set GATES, e.g. GATES=hvirtka=0637442017,vorota=0930063585',
    );
  const gates = relays.map(([name, phone]) => `${name} → ${maskPhones(String(phone))}`).join(', ');
  return pass('zadarma settings', `live: caller ${maskPhones(z.caller ?? '')}, gates ${gates}`);
}
