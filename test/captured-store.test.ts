/**
 * A store written by an earlier version of the service (fixtures/stores/v1, made by
 * scripts/capture-store.ts: see its README and MANIFEST.json) opened by the current one, and every
 * piece of unfinished business in it completed end to end over HTTP: an employee in the middle of a
 * period dialog, a gate call pending at Zadarma, a reply pending in the outbox, all of them held only
 * by a write-ahead log that was never checkpointed.
 *
 * The fixture's times are absolute, so the service's clock starts at the capture's moment (and runs on
 * from there): the 30-minute dialog timeout, GATE_CALL_TIMEOUT_S and the outbox schedule see the few
 * seconds they would have seen after a quick restart, whenever this test runs.
 */
import { cpSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type Capture, type OnCapture, startOnCapture } from './helpers/capture';
import { bodyText, buttonIds, Chat, rowIds } from './helpers/chat';
import { TgUser } from './helpers/gate-harness';
import { eventually, outboxHealth, sleep, tmpDataDir } from './helpers/service';

const FIXTURE = new URL('../fixtures/stores/v1/', import.meta.url).pathname;

interface Manifest extends Capture {
  today: string;
  store: { logCommits: number; files: Array<{ path: string; bytes: number }> };
  employee: { waId: string; name: string; key: string; recorded: { date: string; shift: string } };
  pendingReply: { waId: string; name: string; key: string; outboxId: string };
  gateUser: { userId: number; firstName: string; key: string };
  gateCall: { key: string; id: string; gate: string; relay: string };
}

const manifest = JSON.parse(readFileSync(join(FIXTURE, 'MANIFEST.json'), 'utf8')) as Manifest;
/** Long enough for a second (wrong) send to show up: the outbox retries every 30 ms. */
const SETTLE_MS = 400;
const DAY_MS = 24 * 3600 * 1000;

/** 'YYYY-MM-DD' → 'DD.MM.YYYY', as the bot writes dates. */
const ru = (iso: string) => iso.split('-').reverse().join('.');
const isoDay = (iso: string, days: number) =>
  new Date(Date.parse(`${iso}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

type Docs = Map<string, unknown>;

/** The documents of the fixture's partition files (plain lowdb JSON), by `collection/id`. */
function partitionDocs(): Docs {
  const docs: Docs = new Map();
  const dir = join(FIXTURE, 'datadir/store');
  for (const name of readdirSync(dir).filter((n) => /^p-\d+\.json$/.test(n))) {
    const data = JSON.parse(readFileSync(join(dir, name), 'utf8')) as {
      collections: Record<string, Record<string, unknown>>;
    };
    for (const [collection, byId] of Object.entries(data.collections))
      for (const [id, doc] of Object.entries(byId)) docs.set(`${collection}/${id}`, doc);
  }
  return docs;
}

/**
 * The log's commits, read by the format it was written in (format 2: one line per commit,
 * `<crc32 hex> [partition, [[collection, id, doc|null], …]]`), independently of today's reader.
 */
function logCommits(): Array<Array<[string, string, unknown]>> {
  const dir = join(FIXTURE, 'datadir/store');
  const commits: Array<Array<[string, string, unknown]>> = [];
  for (const name of readdirSync(dir).filter((n) => /^wal-\d+\.log$/.test(n))) {
    const lines = readFileSync(join(dir, name)).toString('utf8').split('\n');
    assert.is(lines.pop(), '', `${name} ends with a whole line`);
    for (const line of lines) {
      const json = line.slice(9);
      assert.is(line.slice(0, 8), crc32(Buffer.from(json)).toString(16).padStart(8, '0'), 'checksum');
      commits.push((JSON.parse(json) as [number, Array<[string, string, unknown]>])[1]);
    }
  }
  return commits;
}

interface Ctx extends OnCapture {
  user: TgUser;
}

const test = suite<Ctx>('captured store v1');

test.before(async (ctx) => {
  const dataDir = tmpDataDir();
  cpSync(join(FIXTURE, 'datadir'), dataDir, { recursive: true });
  Object.assign(ctx, await startOnCapture(manifest, dataDir, { chats: [manifest.gateUser.userId] }));
  ctx.user = new TgUser(ctx.tg, ctx.deliver, manifest.gateUser.userId, manifest.gateUser.firstName);
});

test.after(async (ctx) => {
  await ctx.stop?.();
});

test('the fixture is intact, and what is unfinished is only in its log, not in its partition files', () => {
  for (const f of manifest.store.files)
    assert.is(statSync(join(FIXTURE, f.path)).size, f.bytes, `${f.path} is as captured`);
  const commits = logCommits();
  assert.is(commits.length, manifest.store.logCommits);
  const logged = new Map<string, unknown>();
  for (const writes of commits) for (const [c, id, doc] of writes) logged.set(`${c}/${id}`, doc);
  const parts = partitionDocs();

  const employee = `actors/${manifest.employee.key}`;
  assert.is((logged.get(employee) as { state: string }).state, 'askingPeriod');
  assert.is((parts.get(employee) as { state: string }).state, 'menu', 'the partition files: at the menu');
  const gate = `gates/${manifest.gateCall.gate}`;
  assert.is((logged.get(gate) as { pendingCall: string }).pendingCall, manifest.gateCall.key);
  assert.not.ok(parts.has(gate), 'no gate claim in the partition files');
  assert.is((logged.get(`calls/${manifest.gateCall.id}`) as { status: string }).status, 'pending');
  const row = `outbox/${manifest.pendingReply.outboxId}`;
  assert.is((logged.get(row) as { attempts: number; key: string }).attempts, 1);
  assert.not.ok(parts.has(row), 'no outbox row in the partition files');
  const days = (parts.get(`employees/${manifest.employee.waId}`) as { days: Record<string, unknown> }).days;
  assert.ok(days[manifest.employee.recorded.date], 'the earlier day is in the partition files');
});

test('the reply pending in the outbox is delivered once after the start', async (ctx) => {
  const { waId } = manifest.pendingReply;
  const toWaiting = () => ctx.d360.sent().filter((m) => m.to === waId);
  const [menu] = await eventually(() => toWaiting().length > 0 && toWaiting(), 5000, 'the pending reply');
  assert.equal(buttonIds(menu), ['FILL_TODAY', 'FILL_PERIOD', 'MY_STATUS']);
  assert.is(bodyText(menu), 'Выберите действие:');
  await sleep(SETTLE_MS);
  assert.is(toWaiting().length, 1, 'delivered once');
  assert.is(ctx.d360.requests.filter((r) => r.body?.to === waId).length, 1, 'one request: it succeeded');
  assert.equal(await outboxHealth(ctx.svc.url), { pending: 0, deadLetters: 0 });
});

test('the employee continues the period dialog: the list, then "Смена записана ✅"; the earlier day stays', async (ctx) => {
  const { waId, name, recorded } = manifest.employee;
  const chat = new Chat(ctx.svc.url, ctx.d360, waId, name);
  const start = isoDay(manifest.today, -1);
  const end = manifest.today;
  // Only an actor restored in askingPeriod reads a period here; one at the menu would show the menu.
  const list = await chat.say(`${ru(start)}-${ru(end)}`);
  assert.is(list.interactive?.type, 'list', JSON.stringify(list));
  assert.equal(rowIds(list), ['SHIFT_DAY', 'SHIFT_NIGHT', 'SHIFT_OFF']);
  assert.match(bodyText(list), `с ${ru(start)} по ${ru(end)} (2 дня)`);
  const done = await chat.pick('SHIFT_NIGHT');
  assert.match(bodyText(done), `Смена записана ✅\n${ru(start)} — ${ru(end)} (2 дня): Ночная`);

  const status = bodyText(await chat.tap('MY_STATUS'));
  assert.match(status, 'Ваши последние записи:');
  const lines = status.split('\n').filter((l) => /^\d\d\.\d\d\.\d{4} — /.test(l));
  assert.equal(lines, [`${ru(end)} — Ночная`, `${ru(start)} — Ночная`, `${ru(recorded.date)} — Дневная`]);
});

test('the pending call: the gate is still held, a NOTIFY_END opens it for the user, then the gate is free', async (ctx) => {
  const { gate, relay } = manifest.gateCall;
  ctx.clock.advance(11_000); // past GATE_COOLDOWN_S after the captured /vorota
  const busy = await ctx.command(ctx.user, `/${gate}`);
  assert.match(String(busy.text), 'Відкриття воріт вже триває');
  assert.is(ctx.zd.callbacks().length, 0, 'no second callback while the call is pending');

  const from = ctx.user.messages().length;
  await ctx.relayRejects(relay);
  const opened = await ctx.user.waitText(/відчинено/, from);
  assert.is(opened.text, '✅ Ворота відчинено!');

  ctx.clock.advance(11_000);
  const keys = await ctx.command(ctx.user, `/${gate}`);
  assert.is(keys.text, '🚪 Підбираємо ключі…');
  const [callback] = await ctx.zd.waitFor((c) => c.length === 1, 5000);
  assert.is(callback?.to, relay);
  assert.is(callback?.from, manifest.env.ZADARMA_CALLER);
  await ctx.user.waitText(/^Відкриття воріт ініційовано/, from);
  await sleep(SETTLE_MS);
  assert.is(ctx.user.count(/відчинено/), 1, 'one result for the captured call');
});

test.run();
