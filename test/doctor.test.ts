import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LowdbStore } from '../storage/lowdb';
import { put, remove } from '../storage/store';
import {
  type Fakes,
  lineOf,
  PUBLIC,
  prodEnv,
  registerAt,
  registerOurs,
  runCli,
  startFakes,
} from './helpers/ops';
import { startTestService, tmpDataDir } from './helpers/service';

interface JsonLine {
  check: string;
  ok: boolean;
  detail: string;
  fix: string | null;
  skipped?: boolean;
}

const CHECKS = [
  'settings',
  'whatsapp settings',
  'telegram settings',
  'zadarma settings',
  'data folder',
  'store files',
  'whatsapp API key',
  'whatsapp webhook',
  'telegram token',
  'telegram webhook',
  'zadarma keys',
  'zadarma notifications',
];

let fakes: Fakes;
const dirs: string[] = [];
const dataDir = () => {
  const d = tmpDataDir();
  dirs.push(d);
  return d;
};

test.before.each(async () => {
  fakes = await startFakes();
});
test.after.each(async () => {
  await fakes.close();
});
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function doctor(env: Record<string, string>, args: string[] = []) {
  return runCli('doctor', args, env);
}

async function doctorJson(env: Record<string, string>): Promise<{ code: number | null; lines: JsonLine[] }> {
  const r = await doctor(env, ['--json']);
  return { code: r.code, lines: JSON.parse(r.stdout) as JsonLine[] };
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function digest(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else h.update(`${p}\n`).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

test('everything right: one ✔ line per check, the balance and the bot named, exit 0', async () => {
  await registerOurs(fakes);
  const r = await doctor(prodEnv(fakes, dataDir()));
  assert.is(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  for (const check of CHECKS) assert.match(lineOf(r.stdout, check), /^✔ /, check);
  assert.match(lineOf(r.stdout, 'settings'), 'whatsapp live, telegram live, zadarma live');
  assert.match(lineOf(r.stdout, 'telegram token'), '@gate_ops_bot');
  assert.match(lineOf(r.stdout, 'telegram webhook'), `${PUBLIC}/telegram/webhook`);
  assert.match(
    lineOf(r.stdout, 'whatsapp webhook'),
    `${PUBLIC}/webhook with the x-switchboard-secret header`,
  );
  assert.match(lineOf(r.stdout, 'zadarma keys'), 'balance 10.34 USD');
  assert.match(lineOf(r.stdout, 'zadarma notifications'), `${PUBLIC}/zadarma/webhook`);
  assert.match(lineOf(r.stdout, 'zadarma settings'), 'hvirtka → …2017', 'relay numbers are masked');
  assert.is(lines[lines.length - 1], `${CHECKS.length} passed, 0 failed, 0 skipped`);
  assert.not.match(r.stdout, 'hook-secret-0042', 'no secret printed');
  assert.not.match(r.stdout, 'AAFakeTokenForOpsTests', 'no token printed');
});

test('--json: an array of {check, ok, detail, fix}, the same verdicts and exit code', async () => {
  await registerOurs(fakes);
  const { code, lines } = await doctorJson(prodEnv(fakes, dataDir()));
  assert.is(code, 0);
  assert.equal(
    lines.map((l) => l.check),
    CHECKS,
  );
  for (const l of lines) {
    assert.equal(Object.keys(l).slice(0, 4), ['check', 'ok', 'detail', 'fix']);
    assert.is(l.ok, true, l.check);
    assert.is(l.fix, null);
  }
});

test('reachable but the wrong key (401 from each fake): ✘ naming the setting, with the fix; exit 1', async () => {
  await registerOurs(fakes);
  const env = prodEnv(fakes, dataDir(), {
    D360_API_KEY: 'not-the-key',
    TELEGRAM_BOT_TOKEN: '7000000042:AAWrongTokenWrongTokenWrongToken_0001',
    ZADARMA_API_KEY: 'not-the-zadarma-key',
  });
  const r = await doctor(env);
  assert.is(r.code, 1, r.stdout);
  const wa = lineOf(r.stdout, 'whatsapp API key');
  assert.match(
    wa,
    /^✘ whatsapp API key: credentials refused \(HTTP 401: Invalid api_key\) — fix: .*D360_API_KEY/,
  );
  const tg = lineOf(r.stdout, 'telegram token');
  assert.match(tg, /^✘ telegram token: credentials refused \(401 Unauthorized\) — fix: .*TELEGRAM_BOT_TOKEN/);
  const z = lineOf(r.stdout, 'zadarma keys');
  assert.match(z, /^✘ zadarma keys: credentials refused \(HTTP 401: Auth error\) — fix: .*ZADARMA_API_KEY/);
  // what depends on the key is not checked, and says so
  for (const check of ['whatsapp webhook', 'telegram webhook', 'zadarma notifications'])
    assert.match(lineOf(r.stdout, check), /^– .*skipped, not checked/);
  assert.match(r.stdout, /\n\d+ passed, 3 failed, 3 skipped\n$/);

  // a wrong Zadarma secret with the right key is refused the same way
  const secret = await doctor(prodEnv(fakes, dataDir(), { ZADARMA_API_SECRET: 'wrong-secret-wrong-secret' }));
  assert.is(secret.code, 1);
  assert.match(lineOf(secret.stdout, 'zadarma keys'), /^✘ .*Auth error.*ZADARMA_API_SECRET/);

  const { lines } = await doctorJson(env);
  const bad = lines.filter((l) => !l.ok);
  assert.equal(
    bad.map((l) => l.check),
    ['whatsapp API key', 'telegram token', 'zadarma keys'],
  );
  for (const l of bad) assert.ok(l.fix && l.fix.length > 10, `${l.check} has a fix`);
});

test('a wrong URL registered on each platform: ✘ with the command that fixes it', async () => {
  await registerAt(fakes, {
    whatsapp: 'https://bot.example.com/hooks/whatsapp',
    telegram: 'https://other.example.com/bot',
    zadarma: 'https://bot.example.com/zadarma.php',
  });
  const r = await doctor(prodEnv(fakes, dataDir()));
  assert.is(r.code, 1);
  assert.match(
    lineOf(r.stdout, 'whatsapp webhook'),
    /^✘ whatsapp webhook: the registered URL https:\/\/bot.example.com\/hooks\/whatsapp is not ours \(…\/webhook\) — fix: npm run webhooks -- set --public-url https:\/\/bot.example.com$/,
  );
  assert.match(lineOf(r.stdout, 'telegram webhook'), /^✘ .*https:\/\/other.example.com\/bot is not ours/);
  assert.match(lineOf(r.stdout, 'zadarma notifications'), /^✘ .*zadarma.php is not ours/);

  // right paths on another host: not PUBLIC_URL's
  await registerAt(fakes, {
    whatsapp: 'https://old.example.com/webhook',
    telegram: 'https://old.example.com/telegram/webhook',
    zadarma: 'https://old.example.com/zadarma/webhook',
  });
  const host = await doctor(prodEnv(fakes, dataDir()));
  assert.is(host.code, 1);
  for (const check of ['whatsapp webhook', 'telegram webhook', 'zadarma notifications'])
    assert.match(lineOf(host.stdout, check), /^✘ .*is not PUBLIC_URL's https:\/\/bot.example.com\//, check);
  // without PUBLIC_URL the path is what is checked: these pass
  const noPublic = await doctor(prodEnv(fakes, dataDir(), { PUBLIC_URL: '' }));
  assert.is(noPublic.code, 0, noPublic.stdout);
  assert.match(lineOf(noPublic.stdout, 'settings'), 'PUBLIC_URL not set');
});

test('nothing registered, the secret header missing or different, notifications off: ✘ each', async () => {
  const env = prodEnv(fakes, dataDir());
  const none = await doctor(env);
  assert.is(none.code, 1);
  assert.match(lineOf(none.stdout, 'whatsapp webhook'), /^✘ .*no webhook URL registered/);
  assert.match(
    lineOf(none.stdout, 'telegram webhook'),
    /^✘ .*no webhook registered, but TELEGRAM_MODE=webhook/,
  );
  assert.match(lineOf(none.stdout, 'zadarma notifications'), /^✘ .*no PBX notification URL/);

  await registerAt(
    fakes,
    {
      whatsapp: `${PUBLIC}/webhook`,
      telegram: `${PUBLIC}/telegram/webhook`,
      zadarma: `${PUBLIC}/zadarma/webhook`,
    },
    { headers: {}, notifications: { notify_out_start: 'false', notify_out_end: 'false' } },
  );
  const r = await doctor(env);
  assert.is(r.code, 1);
  assert.match(
    lineOf(r.stdout, 'whatsapp webhook'),
    /^✘ .*without the x-switchboard-secret header .*refused \(401\)/,
  );
  assert.match(
    lineOf(r.stdout, 'zadarma notifications'),
    /^✘ .*these notifications are off: notify_out_start, notify_out_end — fix: npm run webhooks -- set .*turns them on/,
  );
  assert.match(lineOf(r.stdout, 'telegram webhook'), /^✔ /);

  await registerAt(
    fakes,
    { whatsapp: `${PUBLIC}/webhook` },
    { headers: { 'X-Switchboard-Secret': 'old-value' } },
  );
  const other = await doctor(env);
  assert.match(lineOf(other.stdout, 'whatsapp webhook'), /^✘ .*another x-switchboard-secret value/);
  assert.not.match(other.stdout, 'old-value');
});

test('TELEGRAM_MODE=polling: no webhook is right; a registered one is ✘', async () => {
  await registerOurs(fakes);
  const env = prodEnv(fakes, dataDir(), { TELEGRAM_MODE: 'polling', TELEGRAM_WEBHOOK_SECRET: '' });
  const r = await doctor(env);
  assert.is(r.code, 1);
  assert.match(
    lineOf(r.stdout, 'telegram webhook'),
    /^✘ .*a webhook is registered \(https:\/\/bot.example.com\/telegram\/webhook\) but TELEGRAM_MODE=polling/,
  );
  await fetch(`${fakes.tg.url}/bot${fakes.tg.token}/deleteWebhook`, { method: 'POST' });
  const ok = await doctor(env);
  assert.is(ok.code, 0, ok.stdout);
  assert.match(lineOf(ok.stdout, 'telegram webhook'), /^✔ .*none registered, as TELEGRAM_MODE=polling wants/);
});

test('an API that cannot be reached: ✘ saying so, with a network fix', async () => {
  await registerOurs(fakes);
  const port = await closedPort();
  const r = await doctor(prodEnv(fakes, dataDir(), { D360_BASE_URL: `http://127.0.0.1:${port}` }));
  assert.is(r.code, 1);
  assert.match(
    lineOf(r.stdout, 'whatsapp API key'),
    new RegExp(
      `^✘ whatsapp API key: cannot reach http://127.0.0.1:${port}: .*ECONNREFUSED.* — fix: .*firewall`,
    ),
  );
  assert.match(lineOf(r.stdout, 'telegram token'), /^✔ /, 'the other platforms are still checked');
});

test('a zero Zadarma balance is ✘ (callbacks would fail)', async () => {
  await registerOurs(fakes);
  fakes.z.setBalance(0, 'UAH');
  const r = await doctor(prodEnv(fakes, dataDir()));
  assert.is(r.code, 1);
  assert.match(lineOf(r.stdout, 'zadarma keys'), /^✘ .*the balance is 0 UAH.*top up/);
});

test('bad settings: one ✘ naming each, the platforms not checked; the data folder still is', async () => {
  const dir = dataDir();
  const r = await doctor({ MODE: 'prod', DATA_DIR: dir, D360_API_KEY: 'k', TELEGRAM_MODE: 'sometimes' });
  assert.is(r.code, 1);
  const line = lineOf(r.stdout, 'settings');
  assert.match(line, /^✘ settings: .*VERIFY_TOKEN is required.*; TELEGRAM_MODE must be polling or webhook/);
  assert.match(line, /— fix: set them in the env file/);
  assert.match(lineOf(r.stdout, 'data folder'), /^✔ /);
  assert.match(lineOf(r.stdout, 'whatsapp API'), /skipped, not checked: the settings are invalid/);
  const { code, lines } = await doctorJson({
    MODE: 'prod',
    DATA_DIR: dir,
    PUBLIC_URL: 'http://bot.example.com',
  });
  assert.is(code, 1);
  assert.match(lines[0]?.detail ?? '', 'PUBLIC_URL must start with https://');
});

test('dev mode with no credentials: channels dry and skipped (not failures), exit 0', async () => {
  const r = await doctor({ MODE: 'dev', DATA_DIR: dataDir() });
  assert.is(r.code, 0, r.stdout);
  assert.match(lineOf(r.stdout, 'whatsapp settings'), /^– whatsapp settings: skipped, channel dry/);
  assert.match(lineOf(r.stdout, 'telegram API'), /^– telegram API: skipped, channel dry/);
  assert.match(lineOf(r.stdout, 'settings'), 'use MODE=prod in production');
  const prod = await doctor({
    MODE: 'prod',
    DATA_DIR: dataDir(),
    D360_API_KEY: 'k',
    VERIFY_TOKEN: 'v',
    D360_BASE_URL: fakes.d360.url,
  });
  assert.match(
    lineOf(prod.stdout, 'zadarma settings'),
    /^– zadarma settings: skipped, channel off: none of ZADARMA_API_KEY/,
  );
});

test('gate settings that cannot work: zadarma without GATES, telegram with nobody allowed', async () => {
  await registerOurs(fakes);
  const r = await doctor(prodEnv(fakes, dataDir(), { MODE: 'dev', GATES: '', TELEGRAM_ADMIN_IDS: '' }));
  assert.is(r.code, 1);
  assert.match(lineOf(r.stdout, 'zadarma settings'), /^✘ .*GATES is empty/);
  assert.match(lineOf(r.stdout, 'telegram settings'), /^✘ .*nobody may open a gate/);
});

test('store files: counted when they parse; a broken partition or an unusable DATA_DIR is ✘', async () => {
  const dir = dataDir();
  const store = new LowdbStore(dir);
  await store.open();
  await store.commit('wa:1', [put('actors', 'wa:1', { v: 1 }), put('dedupe', 'm1', { at: 1 })]);
  await store.close();
  const ok = await doctor({ DATA_DIR: dir });
  assert.is(ok.code, 0, ok.stdout);
  assert.match(
    lineOf(ok.stdout, 'store files'),
    /^✔ store files: 16 partitions parse, 2 documents \(actors 1, dedupe 1\); no service/,
  );

  // After a crash the newest commits are only in the log: counted too, and said.
  const crashed = dataDir();
  const live = new LowdbStore(dir);
  await live.open();
  await live.commit('wa:1', [remove('dedupe', 'm1'), put('dedupe', 'm2', { at: 2 })]);
  await live.commit('wa:2', [put('actors', 'wa:2', { v: 1 })]);
  await live.idle();
  cpSync(join(dir, 'store'), join(crashed, 'store'), { recursive: true });
  await live.close();
  const logged = await doctor({ DATA_DIR: crashed });
  assert.is(logged.code, 0, logged.stdout);
  assert.match(
    lineOf(logged.stdout, 'store files'),
    /^✔ store files: 16 partitions parse, 2 commits in the log not yet checkpointed \(replayed at start\), 3 documents \(actors 2, dedupe 1\)/,
  );
  const log = readdirSync(join(crashed, 'store')).find((f) => /^wal-\d+\.log$/.test(f)) as string;
  const lines = readFileSync(join(crashed, 'store', log), 'utf-8').split('\n');
  lines[0] = (lines[0] ?? '').replace('"m2"', '"m3"');
  writeFileSync(join(crashed, 'store', log), lines.join('\n'));
  const damaged = await doctor({ DATA_DIR: crashed });
  assert.is(damaged.code, 1);
  assert.match(
    lineOf(damaged.stdout, 'store files'),
    new RegExp(`^✘ store files: .*${log} is damaged at byte 0`),
  );

  const part = readdirSync(join(dir, 'store')).find((f) => /^p-\d\d\.json$/.test(f)) as string;
  writeFileSync(join(dir, 'store', part), '{"format":1,"collections":{"actors":');
  const bad = await doctor({ DATA_DIR: dir });
  assert.is(bad.code, 1);
  assert.match(
    lineOf(bad.stdout, 'store files'),
    new RegExp(`^✘ store files: .*${part} is not valid JSON.* — fix: .*npm run restore`),
  );

  const file = join(dataDir(), 'a-file');
  writeFileSync(file, 'x');
  const notDir = await doctor({ DATA_DIR: join(file, 'data') });
  assert.is(notDir.code, 1);
  assert.match(
    lineOf(notDir.stdout, 'data folder'),
    /^✘ data folder: .*a-file\/data .* — fix: sudo install -d -o switchboard/,
  );
  const fresh = await doctor({ DATA_DIR: join(dataDir(), 'not', 'yet') });
  assert.is(fresh.code, 0);
  assert.match(lineOf(fresh.stdout, 'data folder'), /does not exist yet; the service creates it at start/);
});

test('next to a running service: read-only, it names the service holding the lock', async () => {
  const dir = dataDir();
  mkdirSync(dir, { recursive: true });
  const svc = await startTestService({}, { dataDir: dir });
  try {
    const before = digest(join(dir, 'store'));
    const r = await doctor({ DATA_DIR: dir });
    assert.is(r.code, 0, r.stdout);
    assert.match(lineOf(r.stdout, 'store files'), `in use by a Switchboard service (pid ${process.pid}`);
    assert.is(digest(join(dir, 'store')), before, 'no file of the store changed, the lock included');
    assert.equal(readdirSync(dir).sort(), ['store'], 'no probe file left behind');
  } finally {
    await svc.stop();
  }
});

test.run();
