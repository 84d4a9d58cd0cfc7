import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ConfigError,
  DEV_CALLER,
  DEV_GATES,
  readConfig,
  readGates,
  secretsOf,
} from '../server/config/config';
import { createLogger, maskPhones } from '../server/lib/log';

/** readConfig, expecting it to throw a ConfigError; returns the message. */
function configError(env: Record<string, string | undefined>): string {
  try {
    readConfig(env);
  } catch (e) {
    assert.instance(e, ConfigError, `expected a ConfigError, got ${String(e)}`);
    return (e as Error).message;
  }
  assert.unreachable(`readConfig accepted ${JSON.stringify(env)}`);
  return '';
}

test('defaults: port 8000, loopback while dev runs dry, dev, ./data resolved, 360dialog production URL', () => {
  const c = readConfig({});
  assert.is(c.port, 8000);
  assert.is(c.host, '127.0.0.1');
  assert.is(c.mode, 'dev');
  assert.is(c.dataDir, resolve('./data'));
  assert.ok(c.dataDir.startsWith('/'), 'dataDir is absolute');
  assert.is(c.whatsapp.baseUrl, 'https://waba-v2.360dialog.io');
  assert.is(c.whatsapp.secretHeader, undefined);
  assert.is(c.adminToken, undefined);
  assert.is(c.tuning.retryBaseMs, 1000);
  assert.is(c.tuning.retryMaxAttempts, 12);
  assert.ok(c.timezone.length > 0, 'a timezone is always chosen');
});

test('HOST default: 127.0.0.1 only in dev with every channel dry; all interfaces otherwise; an explicit HOST wins', () => {
  assert.is(readConfig({ MODE: 'dev' }).host, '127.0.0.1');
  assert.is(readConfig({ MODE: 'prod' }).host, '0.0.0.0');
  assert.is(readConfig({ D360_API_KEY: 'k' }).host, '0.0.0.0', 'a live WhatsApp');
  assert.is(readConfig({ TELEGRAM_BOT_TOKEN: '1:t' }).host, '0.0.0.0', 'a live Telegram');
  assert.is(
    readConfig({ ZADARMA_API_KEY: 'k', ZADARMA_API_SECRET: 's', ZADARMA_CALLER: '100' }).host,
    '0.0.0.0',
    'a live Zadarma',
  );
  assert.is(readConfig({ HOST: '0.0.0.0' }).host, '0.0.0.0');
  assert.is(readConfig({ MODE: 'prod', HOST: '::1' }).host, '::1');
});

test('values are read, trimmed, and relative DATA_DIR is resolved against the working directory', () => {
  const c = readConfig({
    PORT: ' 9123 ',
    HOST: '127.0.0.1',
    DATA_DIR: 'var/sb',
    APP_TIMEZONE: 'Asia/Tbilisi',
    D360_BASE_URL: 'http://127.0.0.1:9999/',
    WEBHOOK_SECRET_HEADER: 'X-Hook-Secret = s3cr3t=x',
  });
  assert.is(c.port, 9123);
  assert.is(c.host, '127.0.0.1');
  assert.is(c.dataDir, resolve('var/sb'));
  assert.is(c.timezone, 'Asia/Tbilisi');
  assert.is(c.whatsapp.baseUrl, 'http://127.0.0.1:9999', 'trailing slash dropped');
  assert.equal(c.whatsapp.secretHeader, { name: 'x-hook-secret', value: 's3cr3t=x' });
});

test('empty strings count as unset', () => {
  const c = readConfig({ PORT: '', MODE: '  ', D360_API_KEY: '' });
  assert.is(c.port, 8000);
  assert.is(c.mode, 'dev');
  assert.is(c.whatsapp.mode, 'dry');
});

test('dev without a key: WhatsApp runs dry; dev with a key: live', () => {
  assert.is(readConfig({ MODE: 'dev' }).whatsapp.mode, 'dry');
  const live = readConfig({ MODE: 'dev', D360_API_KEY: 'k-1234' });
  assert.is(live.whatsapp.mode, 'live');
  assert.is(live.whatsapp.apiKey, 'k-1234');
});

test('prod with no WhatsApp settings: channel off, no error', () => {
  const c = readConfig({ MODE: 'prod' });
  assert.is(c.mode, 'prod');
  assert.is(c.whatsapp.mode, 'off');
});

test('prod with both WhatsApp settings: live', () => {
  const c = readConfig({ MODE: 'prod', D360_API_KEY: 'k-1234', VERIFY_TOKEN: 'v-5678' });
  assert.is(c.whatsapp.mode, 'live');
  assert.is(c.whatsapp.verifyToken, 'v-5678');
});

test('prod with only one of the two WhatsApp settings names the missing one', () => {
  const noToken = configError({ MODE: 'prod', D360_API_KEY: 'k-1234' });
  assert.match(noToken, 'VERIFY_TOKEN is required');
  assert.not.match(noToken, 'D360_API_KEY is required');
  const noKey = configError({ MODE: 'prod', VERIFY_TOKEN: 'v-5678' });
  assert.match(noKey, 'D360_API_KEY is required');
  assert.not.match(noKey, 'VERIFY_TOKEN is required');
});

test('each bad setting is reported on its own, all in one error', () => {
  const msg = configError({
    PORT: 'eighty',
    MODE: 'staging',
    APP_TIMEZONE: 'Mars/Olympus',
    WEBHOOK_SECRET_HEADER: 'just-a-secret',
  });
  for (const name of ['PORT', 'MODE', 'APP_TIMEZONE', 'WEBHOOK_SECRET_HEADER']) {
    assert.match(msg, name, `${name} is named`);
  }
  assert.match(msg, '"eighty"');
  assert.match(msg, '"staging"');
  assert.match(msg, 'Mars/Olympus');
  const lines = msg.split('\n').filter((l) => l.trim().startsWith('- '));
  assert.is(lines.length, 4, `one line per problem:\n${msg}`);
});

test('bad values and rules between settings are all named in one error, in the order of the settings', () => {
  const msg = configError({
    STORE_FSYNC: 'maybe',
    MODE: 'prod',
    PORT: 'x',
    D360_API_KEY: 'k',
    TELEGRAM_MODE: 'sometimes',
    TELEGRAM_ADMIN_IDS: '5,abc,-1',
    GATES: 'hvirtka=0637442017,gate=1',
    REMINDER_TIME: '25:00',
  });
  const names = msg
    .split('\n')
    .filter((l) => l.trim().startsWith('- '))
    .map((l) => l.trim().slice(2).split(' ')[0]);
  assert.equal(
    names,
    [
      'PORT',
      'VERIFY_TOKEN',
      'REMINDER_TIME',
      'TELEGRAM_BOT_TOKEN',
      'TELEGRAM_MODE',
      'TELEGRAM_ADMIN_IDS',
      'TELEGRAM_ADMIN_IDS',
      'ZADARMA_API_KEY',
      'ZADARMA_API_SECRET',
      'ZADARMA_CALLER',
      'GATES',
      'STORE_FSYNC',
    ],
    msg,
  );
  assert.match(msg, 'TELEGRAM_ADMIN_IDS must list Telegram user ids separated by commas; "abc" is not one');
  assert.match(msg, '"-1" is not one');
  assert.match(msg, '"gate=1" is not understood');
  assert.match(msg, 'STORE_FSYNC must be on or off, got "maybe"');
});

test('a bad MODE still lets the dev rules run; TELEGRAM_MODE=webhook with a token needs the secret', () => {
  const msg = configError({ MODE: 'staging', ZADARMA_API_KEY: 'k', ZADARMA_API_SECRET: 's' });
  assert.match(msg, 'MODE must be dev or prod');
  assert.match(msg, 'ZADARMA_CALLER is required when ZADARMA_API_KEY is set');
  assert.match(
    configError({ TELEGRAM_BOT_TOKEN: 't', TELEGRAM_MODE: 'webhook' }),
    'TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_MODE=webhook',
  );
  assert.is(readConfig({ TELEGRAM_MODE: 'webhook' }).telegram.transport, 'webhook', 'dry: no secret needed');
});

test('dev defaults: placeholder relays and caller while Zadarma runs dry; readGates reads GATES alone', () => {
  const dev = readConfig({});
  assert.is(dev.zadarma.mode, 'dry');
  assert.is(dev.zadarma.caller, DEV_CALLER);
  assert.equal(dev.gates.relays, { hvirtka: '380500000001', vorota: '380500000002' });
  assert.equal(readGates(DEV_GATES), { relays: dev.gates.relays });
  const live = readConfig({ ZADARMA_API_KEY: 'k', ZADARMA_API_SECRET: 's', ZADARMA_CALLER: '100' });
  assert.is(live.zadarma.mode, 'live');
  assert.equal(live.gates.relays, {}, 'no placeholder relays for a live Zadarma');
  assert.equal(readGates(' vorota = +380 93 006 35 85 '), { relays: { vorota: '380930063585' } });
  const bad = readGates('hvirtka=0637442017,x=1');
  assert.ok('problem' in bad);
  assert.match(bad.problem, '"x=1" is not understood');
});

test('single bad values: port out of range or fractional, secret header without a name or value, bad URL', () => {
  assert.match(configError({ PORT: '70000' }), 'PORT');
  assert.match(configError({ PORT: '80.5' }), 'PORT');
  assert.match(configError({ PORT: '-1' }), 'PORT');
  assert.match(configError({ WEBHOOK_SECRET_HEADER: '=value' }), 'WEBHOOK_SECRET_HEADER');
  assert.match(configError({ WEBHOOK_SECRET_HEADER: 'X-Secret=' }), 'WEBHOOK_SECRET_HEADER');
  assert.match(configError({ WEBHOOK_SECRET_HEADER: 'X Secret=abc' }), 'WEBHOOK_SECRET_HEADER');
  assert.match(configError({ D360_BASE_URL: 'ftp://example.com' }), 'D360_BASE_URL');
  assert.match(configError({ D360_BASE_URL: 'not a url' }), 'D360_BASE_URL');
  assert.match(configError({ OUTBOX_MAX_ATTEMPTS: '0' }), 'OUTBOX_MAX_ATTEMPTS');
});

test('secretsOf lists every configured secret and nothing else', () => {
  const c = readConfig({
    MODE: 'prod',
    D360_API_KEY: 'api-key-AAAA',
    VERIFY_TOKEN: 'verify-BBBB',
    WEBHOOK_SECRET_HEADER: 'X-Secret=header-CCCC',
    ADMIN_TOKEN: 'admin-DDDD',
    HOST: '127.0.0.1',
  });
  assert.equal([...secretsOf(c)].sort(), ['admin-DDDD', 'api-key-AAAA', 'header-CCCC', 'verify-BBBB'].sort());
  assert.equal(secretsOf(readConfig({})), []);
  assert.equal(secretsOf(readConfig({ D360_API_KEY: 'only-key' })), ['only-key']);
});

test('maskPhones keeps the last 4 digits of long digit runs and leaves short numbers alone', () => {
  assert.is(maskPhones('to=79001234567'), 'to=…4567');
  assert.is(maskPhones('+79001234567 wrote'), '…4567 wrote');
  assert.is(maskPhones('a 12345678 b'), 'a 12345678 b', '8 digits is not a phone');
  assert.is(maskPhones('x 123456789 y'), 'x …6789 y', '9 digits is');
  assert.is(maskPhones('79001112233 and 79004445566'), '…2233 and …5566');
  assert.is(maskPhones('wa:79001234567'), 'wa:…4567');
  assert.is(maskPhones('no digits here'), 'no digits here');
});

test('a logger never prints configured secrets nor full phone numbers', () => {
  const c = readConfig({
    MODE: 'prod',
    D360_API_KEY: 'sk_live_abcdef',
    VERIFY_TOKEN: 'tok"en\\quoted',
    WEBHOOK_SECRET_HEADER: 'X-Secret=hdr-secret-99',
  });
  const lines: string[] = [];
  const log = createLogger({ secrets: secretsOf(c), write: (l) => lines.push(l) });
  log.info('key is sk_live_abcdef', { header: 'hdr-secret-99' });
  log.warn('nested', { cfg: { apiKey: 'sk_live_abcdef', token: 'tok"en\\quoted' }, list: ['hdr-secret-99'] });
  log.error('failed', { error: 'token tok"en\\quoted refused', to: '79001234567' });
  assert.is(lines.length, 3);
  const all = lines.join('\n');
  for (const secret of [...secretsOf(c), JSON.stringify('tok"en\\quoted').slice(1, -1)]) {
    assert.not.ok(all.includes(secret), `secret ${secret} leaked:\n${all}`);
  }
  assert.not.ok(all.includes('79001234567'), 'phone printed in full');
  assert.ok(all.includes('…4567'), 'phone kept its last 4 digits');
  assert.ok(all.includes('***'), 'secrets are replaced by ***');
  for (const l of lines) assert.not.ok(l.includes('\n'), 'one line per entry');
  assert.match(lines[0] ?? '', /^\d{4}-\d\d-\d\dT\S+Z info /);
  assert.match(lines[2] ?? '', / error /);
});

test.run();
