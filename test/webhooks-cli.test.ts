import { rmSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type Fakes,
  HOOK_HEADER,
  lineOf,
  NOTIFY_ON,
  PUBLIC,
  prodEnv,
  runCli,
  startFakes,
  TG_SECRET,
} from './helpers/ops';
import { tmpDataDir } from './helpers/service';

let fakes: Fakes;
let dir: string;

test.before.each(async () => {
  fakes = await startFakes();
  dir = tmpDataDir();
});
test.after.each(async () => {
  await fakes.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every request the three fakes saw, as `METHOD path`. */
function seen(f: Fakes): string[] {
  return [
    ...f.d360.requests.map((r) => `d360 ${r.method} ${r.path}`),
    ...f.tg.requests.map((r) => `tg ${r.method}`),
    ...f.z.requests.map((r) => `z ${r.method} ${r.path}`),
  ];
}

test('set: registers exactly the documented bodies at each platform, then lists the manual steps', async () => {
  const r = await runCli(
    'webhooks',
    ['set', '--public-url', PUBLIC],
    prodEnv(fakes, dir, { PUBLIC_URL: '' }),
  );
  assert.is(r.code, 0, r.stdout + r.stderr);

  // 360dialog: POST /v1/configs/webhook {url, headers: {name: value}} with the API key
  const d = fakes.d360.requests.filter((q) => q.method === 'POST' && q.path === '/v1/configs/webhook');
  assert.is(d.length, 1);
  assert.equal(d[0]?.body, { url: `${PUBLIC}/webhook`, headers: { [HOOK_HEADER.name]: HOOK_HEADER.value } });
  assert.is(d[0]?.headers['d360-api-key'], 'd360-key-for-ops-tests');

  // Telegram: setWebhook {url, secret_token, allowed_updates}
  const set = fakes.tg.calls('setWebhook');
  assert.is(set.length, 1);
  assert.equal(set[0]?.params, {
    url: `${PUBLIC}/telegram/webhook`,
    secret_token: TG_SECRET,
    allowed_updates: ['message', 'callback_query'],
  });
  assert.equal(fakes.tg.webhookInfo(), {
    url: `${PUBLIC}/telegram/webhook`,
    secret_token: TG_SECRET,
    allowed_updates: ['message', 'callback_query'],
  });

  // Zadarma: the URL, then the four notifications, each a signed form POST
  const z = fakes.z.requests.filter((q) => q.method === 'POST');
  assert.equal(
    z.map((q) => [q.path, q.params, q.response]),
    [
      ['/v1/pbx/callinfo/url/', { format: 'json', url: `${PUBLIC}/zadarma/webhook` }, 200],
      ['/v1/pbx/callinfo/notifications/', { format: 'json', ...NOTIFY_ON }, 200],
    ],
  );
  assert.equal(fakes.z.callinfo(), {
    url: `${PUBLIC}/zadarma/webhook`,
    notifications: { ...NOTIFY_ON, notify_internal: 'false', notify_answer: 'false' },
  });

  assert.match(lineOf(r.stdout, 'whatsapp'), /^✔ whatsapp: webhook set: https:\/\/bot.example.com\/webhook/);
  assert.match(
    lineOf(r.stdout, 'telegram'),
    /^✔ telegram: webhook set: https:\/\/bot.example.com\/telegram\/webhook/,
  );
  assert.match(
    lineOf(r.stdout, 'zadarma'),
    /^✔ zadarma: notification URL set: https:\/\/bot.example.com\/zadarma\/webhook/,
  );
  assert.match(r.stdout, 'By hand:');
  assert.match(r.stdout, 'NOTIFY_IVR');
  assert.match(r.stdout, `curl '${PUBLIC}/zadarma/webhook?zd_echo=ok'`);
  assert.match(r.stdout, 'npm run doctor');
  assert.not.match(r.stdout, HOOK_HEADER.value, 'the secret is not printed');

  // and now the doctor agrees (PUBLIC_URL from the setting this time)
  const doctor = await runCli('doctor', [], prodEnv(fakes, dir));
  assert.is(doctor.code, 0, doctor.stdout);
});

test('show: prints what each platform has registered now, secrets as ***', async () => {
  const env = prodEnv(fakes, dir);
  const before = await runCli('webhooks', ['show'], env);
  assert.is(before.code, 0, before.stderr);
  assert.match(lineOf(before.stdout, 'whatsapp'), 'no webhook URL registered');
  assert.match(lineOf(before.stdout, 'telegram'), 'no webhook (long polling)');
  assert.match(lineOf(before.stdout, 'zadarma'), 'notification URL (none)');

  assert.is(
    (await runCli('webhooks', ['set'], env)).code,
    0,
    'PUBLIC_URL is used when --public-url is not given',
  );
  const r = await runCli('webhooks', ['show'], env);
  assert.is(r.code, 0);
  assert.is(
    lineOf(r.stdout, 'whatsapp'),
    `✔ whatsapp: webhook ${PUBLIC}/webhook; headers: ${HOOK_HEADER.name}: *** (= WEBHOOK_SECRET_HEADER)`,
  );
  assert.match(
    lineOf(r.stdout, 'telegram'),
    `webhook ${PUBLIC}/telegram/webhook; TELEGRAM_MODE=webhook; 0 update(s) waiting; updates: message, callback_query`,
  );
  assert.match(
    lineOf(r.stdout, 'zadarma'),
    `notification URL ${PUBLIC}/zadarma/webhook; notify_start=true, notify_internal=false, notify_end=true, notify_out_start=true, notify_out_end=true`,
  );
  assert.not.match(r.stdout, HOOK_HEADER.value);
  // show changes nothing
  assert.is(fakes.tg.calls('setWebhook').length, 1);
  assert.is(fakes.d360.requests.filter((q) => q.method === 'POST').length, 1);
});

test('TELEGRAM_MODE=polling: set deletes any webhook and says why; no WEBHOOK_SECRET_HEADER: url only', async () => {
  await fetch(`${fakes.tg.url}/bot${fakes.tg.token}/setWebhook`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ url: 'https://old.example.com/hook' }),
  });
  const env = prodEnv(fakes, dir, {
    TELEGRAM_MODE: 'polling',
    TELEGRAM_WEBHOOK_SECRET: '',
    WEBHOOK_SECRET_HEADER: '',
  });
  const r = await runCli('webhooks', ['set', '--public-url', PUBLIC], env);
  assert.is(r.code, 0, r.stdout);
  assert.is(fakes.tg.calls('setWebhook').length, 1, 'only the one this test made');
  assert.equal(
    fakes.tg.calls('deleteWebhook').map((c) => c.params),
    [{ drop_pending_updates: false }],
  );
  assert.is(fakes.tg.webhookInfo().url, '');
  assert.match(
    lineOf(r.stdout, 'telegram'),
    /^✔ telegram: TELEGRAM_MODE=polling needs no webhook: deleted any registered one/,
  );
  const d = fakes.d360.requests.find((q) => q.method === 'POST');
  assert.equal(d?.body, { url: `${PUBLIC}/webhook` });
  assert.match(lineOf(r.stdout, 'whatsapp'), 'no WEBHOOK_SECRET_HEADER: deliveries are not authenticated');
});

test('refuses a public URL that is not https, has a port, an underscore or a path; nothing is sent', async () => {
  const env = prodEnv(fakes, dir);
  const cases: Array<[string, RegExp]> = [
    ['http://bot.example.com', /must start with https:\/\//],
    ['https://bot.example.com:8443', /must not have a port \(":8443"\): 360dialog refuses/],
    ['https://my_bot.example.com', /must not have "_" in the host name/],
    ['https://bot.example.com/switchboard', /must be the origin only/],
    ['bot.example.com', /must be the https origin the platforms call/],
  ];
  for (const [url, message] of cases) {
    const r = await runCli('webhooks', ['set', '--public-url', url], env);
    assert.is(r.code, 2, url);
    assert.match(r.stderr, /^refusing the public URL: it /, url);
    assert.match(r.stderr, message, url);
  }
  const none = await runCli('webhooks', ['set'], { ...env, PUBLIC_URL: '' });
  assert.is(none.code, 2);
  assert.match(none.stderr, 'give the public URL: --public-url https://bot.example.com');
  assert.equal(seen(fakes), [], 'no platform was called');
  const usage = await runCli('webhooks', ['register'], env);
  assert.is(usage.code, 2);
  assert.match(usage.stderr, 'usage: npm run webhooks -- set');
});

test('a refused key: ✘ for that platform with the fix, the others still registered, exit 1', async () => {
  const env = prodEnv(fakes, dir, { D360_API_KEY: 'wrong-key' });
  const r = await runCli('webhooks', ['set', '--public-url', PUBLIC], env);
  assert.is(r.code, 1);
  assert.match(
    lineOf(r.stdout, 'whatsapp'),
    /^✘ whatsapp: credentials refused \(HTTP 401: Invalid api_key\) — fix: check D360_API_KEY/,
  );
  assert.match(lineOf(r.stdout, 'telegram'), /^✔ /);
  assert.match(lineOf(r.stdout, 'zadarma'), /^✔ /);
  const show = await runCli('webhooks', ['show'], env);
  assert.is(show.code, 1);
  assert.match(lineOf(show.stdout, 'whatsapp'), /^✘ /);
});

test('dry and off channels: nothing registered, said as such', async () => {
  const r = await runCli('webhooks', ['set', '--public-url', PUBLIC], { MODE: 'dev', DATA_DIR: dir });
  assert.is(r.code, 0);
  for (const p of ['whatsapp', 'telegram', 'zadarma'])
    assert.match(lineOf(r.stdout, p), new RegExp(`^– ${p}: skipped, channel dry, nothing registered`));
  assert.equal(seen(fakes), []);
});

test.run();
