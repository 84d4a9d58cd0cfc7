import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buttonReply, listReply, textMessage } from '../fixtures/whatsapp';
import { type FakeD360, type FakeRequest, type Json, startFakeD360 } from './fakes/d360';
import {
  eventually,
  http,
  outboxHealth,
  type ServiceProcess,
  sleep,
  spawnMain,
  spawnService,
  tmpDataDir,
} from './helpers/service';

const KEY = 'restart-test-key';
/** Every child this file starts; whatever is still running at the end of a test is killed. */
const children = new Set<ChildProcess>();
const running = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;

async function start(env: Record<string, string | undefined>): Promise<ServiceProcess> {
  const svc = await spawnService(env);
  children.add(svc.proc);
  return svc;
}

/** A child that may fail to start: its exit code and everything it printed. */
async function runToExit(
  env: Record<string, string | undefined>,
  timeoutMs = 15_000,
): Promise<{ code: number | null; output: string }> {
  const child = spawnMain(env);
  children.add(child.proc);
  const code = await within(
    child.exited,
    timeoutMs,
    () => `the service should have exited; it printed:\n${child.output()}`,
  );
  return { code, output: child.output() };
}

async function within<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM, then the exit code (and how long it took). */
async function terminate(svc: ServiceProcess, ms = 8000): Promise<{ code: number | null; took: number }> {
  const t0 = Date.now();
  svc.proc.kill('SIGTERM');
  const code = await within(svc.exited, ms, () => `no exit after SIGTERM; output:\n${svc.output()}`);
  return { code, took: Date.now() - t0 };
}

function cleanup(): void {
  for (const p of children) if (running(p)) p.kill('SIGKILL');
  children.clear();
}

async function post(url: string, body: unknown): Promise<void> {
  const res = await http(`${url}/webhook`, { body });
  assert.is(res.status, 200, `webhook answered ${res.status}: ${res.text}`);
}

const sentTo = (fake: FakeD360, to: string): Json[] => fake.sent().filter((b) => b.to === to);
const requestsTo = (fake: FakeD360, to: string): FakeRequest[] =>
  fake.requests.filter((r) => r.path === '/messages' && r.body?.to === to);
const bodyText = (b: Json): string => String(b?.interactive?.body?.text ?? b?.text?.body ?? '');
const isMenu = (b: Json) => b?.type === 'interactive' && b.interactive?.type === 'button';
const isList = (b: Json) => b?.type === 'interactive' && b.interactive?.type === 'list';

test('restart mid-dialog: the period step survives SIGTERM and a new process', async () => {
  const fake = await startFakeD360({ apiKey: KEY });
  const env = { D360_API_KEY: KEY, D360_BASE_URL: fake.url, DATA_DIR: tmpDataDir() };
  const user = '79001110001';
  try {
    const first = await start(env);
    await post(first.url, textMessage({ from: user, body: 'меню' }));
    await fake.waitFor((s) => s.filter((b) => b.to === user).length === 1);
    assert.ok(isMenu(sentTo(fake, user)[0]), 'the menu first');
    await post(first.url, buttonReply({ from: user, buttonId: 'FILL_PERIOD' }));
    await fake.waitFor((s) => s.filter((b) => b.to === user).length === 2);
    assert.match(bodyText(sentTo(fake, user)[1]), 'Напишите даты периода', 'asked for the period');

    const stopped = await terminate(first);
    assert.is(stopped.code, 0, `exit code after SIGTERM; output:\n${first.output()}`);
    assert.match(first.output(), 'stopped');

    const second = await start(env);
    await post(second.url, textMessage({ from: user, body: '01.11-07.11' }));
    await fake.waitFor((s) => s.filter((b) => b.to === user).length === 3);
    const list = sentTo(fake, user)[2];
    assert.ok(isList(list), `the shift list for the range, not a menu: ${JSON.stringify(list)}`);
    const question = bodyText(list);
    assert.match(question, /с 01\.11\.\d{4} по 07\.11\.\d{4}/);
    assert.match(question, '7 дней');

    await post(second.url, listReply({ from: user, rowId: 'SHIFT_NIGHT' }));
    await fake.waitFor((s) => s.filter((b) => b.to === user).length === 4);
    const done = sentTo(fake, user)[3];
    assert.ok(isMenu(done), 'back to the menu');
    const confirmation = bodyText(done);
    assert.match(confirmation, 'Смена записана');
    assert.match(confirmation, /01\.11\.\d{4} — 07\.11\.\d{4} \(7 дней\): Ночная/);
    assert.is(sentTo(fake, user).length, 4, 'one reply per message, none repeated');
    assert.is((await terminate(second)).code, 0);
  } finally {
    cleanup();
    await fake.close();
  }
});

test('SIGKILL right after the answer: the committed reply goes out after the restart, once', async () => {
  const fake = await startFakeD360({ apiKey: KEY });
  const env = { D360_API_KEY: KEY, D360_BASE_URL: fake.url, DATA_DIR: tmpDataDir() };
  const user = '79001110002';
  try {
    const first = await start(env);
    fake.failNext({ status: 200, hang: true });
    await post(first.url, textMessage({ from: user, body: 'меню' }));
    await eventually(() => requestsTo(fake, user).length === 1, 5000, 'the send to reach the fake');
    first.proc.kill('SIGKILL');
    const code = await within(first.exited, 5000, () => 'no exit after SIGKILL');
    assert.is(code, null, 'killed, not exited');
    assert.is(sentTo(fake, user).length, 0, 'the hung send was never answered');

    const second = await start(env);
    await fake.waitFor((s) => s.some((b) => b.to === user), 8000);
    await sleep(500);
    const sent = sentTo(fake, user);
    assert.is(sent.length, 1, 'exactly one menu delivered');
    assert.ok(isMenu(sent[0]));
    assert.is(bodyText(sent[0]), 'Выберите действие:');
    assert.is(requestsTo(fake, user).length, 2, 'the hung attempt and the resumed one');
    assert.match(second.output(), 'outbox: resuming pending effects count=1');
    assert.equal(await outboxHealth(second.url), { pending: 0, deadLetters: 0 });
    assert.is((await terminate(second)).code, 0);
  } finally {
    cleanup();
    await fake.close();
  }
});

/** A 360dialog stand-in that answers through the fake, `delayMs` late. */
async function startSlowProxy(target: string, delayMs: number) {
  const received: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(Date.now());
      void sleep(delayMs)
        .then(() =>
          fetch(`${target}${req.url ?? '/'}`, {
            method: req.method,
            headers: {
              'content-type': String(req.headers['content-type'] ?? ''),
              'd360-api-key': String(req.headers['d360-api-key'] ?? ''),
            },
            body: Buffer.concat(chunks),
          }),
        )
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(await r.text());
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

test('SIGTERM during a slow send: the send finishes and is recorded, exit 0, no resend after restart', async () => {
  const fake = await startFakeD360({ apiKey: KEY });
  const proxy = await startSlowProxy(fake.url, 1500);
  const dataDir = tmpDataDir();
  const user = '79001110003';
  try {
    const first = await start({ D360_API_KEY: KEY, D360_BASE_URL: proxy.url, DATA_DIR: dataDir });
    await post(first.url, textMessage({ from: user, body: 'меню' }));
    await eventually(() => proxy.received.length === 1, 5000, 'the send to start');
    const stopped = await terminate(first);
    assert.is(stopped.code, 0, `exit code; output:\n${first.output()}`);
    assert.ok(stopped.took < 5000, `stopped in ${stopped.took} ms`);
    assert.is(sentTo(fake, user).length, 1, 'the send under way was finished before exiting');

    const second = await start({ D360_API_KEY: KEY, D360_BASE_URL: fake.url, DATA_DIR: dataDir });
    await sleep(500);
    assert.is(sentTo(fake, user).length, 1, 'not sent again');
    assert.not.match(second.output(), 'resuming pending effects');
    assert.equal(await outboxHealth(second.url), { pending: 0, deadLetters: 0 });
    assert.is((await terminate(second)).code, 0);
  } finally {
    cleanup();
    await proxy.close();
    await fake.close();
  }
});

test('SIGTERM while a send hangs for good: the send is aborted after the grace period, resumed after restart', async () => {
  const hung = await startFakeD360({ apiKey: KEY });
  const fake = await startFakeD360({ apiKey: KEY });
  const dataDir = tmpDataDir();
  const user = '79001110005';
  try {
    const first = await start({ D360_API_KEY: KEY, D360_BASE_URL: hung.url, DATA_DIR: dataDir });
    hung.failNext({ status: 200, hang: true });
    await post(first.url, textMessage({ from: user, body: 'меню' }));
    await eventually(() => requestsTo(hung, user).length === 1, 5000, 'the send to start');
    const t0 = Date.now();
    first.proc.kill('SIGTERM');
    const code = await within(first.exited, 8000, () => `no exit; output:\n${first.output()}`);
    const tookMs = Date.now() - t0;
    assert.is(code, 0, `exit code; output:\n${first.output()}`);
    assert.ok(tookMs < 6000, `stopped in ${tookMs} ms, not after the 10 s send timeout`);
    assert.match(first.output(), 'aborted by shutdown');

    await start({ D360_API_KEY: KEY, D360_BASE_URL: fake.url, DATA_DIR: dataDir });
    await fake.waitFor((s) => s.some((b) => b.to === user), 8000);
    await sleep(300);
    assert.is(sentTo(fake, user).length, 1);
  } finally {
    cleanup();
    await hung.close();
    await fake.close();
  }
});

test('SIGTERM during a hung send: exits 0 once the send fails, and the reply goes out after restart', async () => {
  const hung = await startFakeD360({ apiKey: KEY });
  const fake = await startFakeD360({ apiKey: KEY });
  const dataDir = tmpDataDir();
  const user = '79001110004';
  try {
    const first = await start({ D360_API_KEY: KEY, D360_BASE_URL: hung.url, DATA_DIR: dataDir });
    hung.failNext({ status: 200, hang: true });
    await post(first.url, textMessage({ from: user, body: 'меню' }));
    await eventually(() => requestsTo(hung, user).length === 1, 5000, 'the send to start');
    first.proc.kill('SIGTERM');
    await sleep(300);
    // The platform drops the connection: the send fails and is stored for a retry.
    await hung.close();
    const code = await within(first.exited, 5000, () => `no exit; output:\n${first.output()}`);
    assert.is(code, 0, `exit code; output:\n${first.output()}`);
    assert.match(first.output(), 'will retry');

    const second = await start({ D360_API_KEY: KEY, D360_BASE_URL: fake.url, DATA_DIR: dataDir });
    await fake.waitFor((s) => s.some((b) => b.to === user), 8000);
    await sleep(300);
    assert.is(sentTo(fake, user).length, 1);
    assert.ok(isMenu(sentTo(fake, user)[0]));
    assert.match(second.output(), 'outbox: resuming pending effects count=1');
    assert.is((await terminate(second)).code, 0);
  } finally {
    cleanup();
    await hung.close();
    await fake.close();
  }
});

test('MODE=prod with D360_API_KEY but no VERIFY_TOKEN: refuses to start, naming VERIFY_TOKEN', async () => {
  try {
    const secret = 'prod-key-must-not-print';
    const { code, output } = await runToExit({ MODE: 'prod', D360_API_KEY: secret, DATA_DIR: tmpDataDir() });
    assert.ok(code !== 0 && code !== null, `exit code ${code}`);
    assert.match(output, 'VERIFY_TOKEN');
    assert.not.match(output, 'switchboard started');
    assert.not.match(output, secret);
  } finally {
    cleanup();
  }
});

test('MODE=prod with no WhatsApp settings: starts with the channel off, said once', async () => {
  try {
    const svc = await start({ MODE: 'prod', DATA_DIR: tmpDataDir() });
    assert.match(svc.output(), 'whatsapp=off');
    await eventually(() => svc.output().includes('whatsapp: channel off'), 3000, 'the channel-off notice');
    await sleep(200);
    const mentions = svc.output().match(/whatsapp: channel off/g) ?? [];
    assert.is(mentions.length, 1, `said once:\n${svc.output()}`);
    const about = await http(`${svc.url}/`);
    assert.is((about.json as { channels: { whatsapp?: string } }).channels.whatsapp, 'off');
    const hook = await http(`${svc.url}/webhook`, {
      body: textMessage({ from: '79001110005', body: 'меню' }),
    });
    assert.is(hook.status, 404, 'no WhatsApp webhook when the channel is off');
    assert.is((await http(`${svc.url}/health`)).status, 200);
    assert.is((await terminate(svc)).code, 0);
  } finally {
    cleanup();
  }
});

test('MODE=dev with nothing set: runs dry and prints the reply transcript on stdout', async () => {
  try {
    const svc = await start({ MODE: 'dev', DATA_DIR: tmpDataDir() });
    assert.match(svc.output(), 'whatsapp=dry');
    let stdout = '';
    svc.proc.stdout?.on('data', (d) => {
      stdout += d;
    });
    await post(svc.url, textMessage({ from: '79001234567', body: 'меню' }));
    await eventually(() => stdout.includes('Мой статус'), 5000, 'the transcript on stdout');
    assert.match(stdout, '[whatsapp dry-run → …4567]');
    assert.match(stdout, 'Выберите действие:');
    assert.match(stdout, '[Заполнить за сегодня] [Заполнить за период] [Мой статус]');
    assert.not.match(stdout, '79001234567', 'the phone is masked');
    assert.not.match(stdout, / info /, 'log lines go to stderr, not stdout');
    assert.is((await terminate(svc)).code, 0);
  } finally {
    cleanup();
  }
});

test('a corrupted store partition: the start fails naming the file, which is left as it was', async () => {
  const dataDir = tmpDataDir();
  try {
    const first = await start({ MODE: 'dev', DATA_DIR: dataDir });
    await post(first.url, textMessage({ from: '79001110006', body: 'меню' }));
    assert.is((await terminate(first)).code, 0);
    const store = join(dataDir, 'store');
    const written = readdirSync(store).filter((f) => /^p-\d+\.json$/.test(f));
    assert.ok(written.length >= 1, 'the first run wrote a partition');
    const file = join(store, written[0] ?? '');
    const garbage = Buffer.from('{"format":1,"collections":{ this is not json \u0000\u00ff');
    writeFileSync(file, garbage);

    const { code, output } = await runToExit({ MODE: 'dev', DATA_DIR: dataDir });
    assert.ok(code !== 0 && code !== null, `exit code ${code}`);
    assert.match(output, file, `the message names ${file}:\n${output}`);
    assert.not.match(output, 'switchboard started');
    assert.ok(readFileSync(file).equals(garbage), 'the file is byte for byte what it was');
  } finally {
    cleanup();
  }
});

test.after(() => cleanup());

test.run();
