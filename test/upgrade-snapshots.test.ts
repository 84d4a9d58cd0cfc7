/**
 * Stop, upgrade, restart, final webhook: every stored actor of fixtures/snapshots/v1 (written by the
 * release before the remodel, see its README) is seeded into a stopped DATA_DIR with the documents its
 * steps wrote, the CURRENT service is started on it, and each dialog and call is finished over HTTP,
 * checked at the fake platforms: nothing restarts ("Бот обновился" never shows), the pending and the
 * initiated calls open their gates and free them, the member opens another, the employees record their
 * shifts, the voice-menu caller opens the gate, and the admins hear that the Zadarma API works again.
 *
 * The fixture's times are absolute, so the service's clock starts at the capture's moment (and runs on).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { commandUpdate, type Update } from '../fixtures/telegram';
import { incomingCall, outgoingCall } from '../fixtures/zadarma';
import type { ActorRecord } from '../server/engine/types';
import { type ActorDetail, listActors } from '../server/inspect/actors';
import { uk } from '../server/texts/uk';
import { type FakeD360, startFakeD360 } from './fakes/d360';
import { type FakeTelegram, startFakeTelegram } from './fakes/telegram';
import { type FakeZadarma, startFakeZadarma } from './fakes/zadarma';
import { bodyText, Chat, rowIds } from './helpers/chat';
import { TestClock, TgUser } from './helpers/gate-harness';
import { zadarmaPoster } from './helpers/ivr-zadarma';
import { http, sleep, startTestService, type TestService, tmpDataDir } from './helpers/service';
import { readSnapshots, type SnapshotFixture, seedStore } from './helpers/snapshots';

const v1 = readSnapshots('v1');
const fixture = (machine: string, state: string): SnapshotFixture => {
  const f = v1.fixtures.find((x) => x.machine === machine && x.state === state);
  if (!f) throw new Error(`no v1 fixture of ${machine} in ${state}`);
  return f;
};
const context = (f: SnapshotFixture) => (f.record.snapshot as { context: Record<string, unknown> }).context;
const pendingCall = fixture('gate-call', 'pending');
const initiatedCall = fixture('gate-call', 'initiated');
const member = fixture('telegram-chat', 'member');
const guest = fixture('telegram-chat', 'guest');
const SETTLE_MS = 300;
const DAY_MS = 86_400_000;
/** DD.MM of `ms` as the employees write it (Moscow time, the capture's APP_TIMEZONE). */
const ddmm = (ms: number) =>
  new Date(ms).toLocaleDateString('ru-RU', { timeZone: v1.env.APP_TIMEZONE }).slice(0, 5);

interface Ctx {
  d360: FakeD360;
  tg: FakeTelegram;
  zd: FakeZadarma;
  svc: TestService;
  clock: TestClock;
  updateId: number;
  post: ReturnType<typeof zadarmaPoster>;
  deliver: (u: Update) => Promise<void>;
}

const test = suite<Ctx>('upgrade: v1 stored actors finished by the current service');

test.before(async (ctx) => {
  ctx.d360 = await startFakeD360({ apiKey: v1.env.D360_API_KEY as string });
  ctx.tg = await startFakeTelegram({ token: v1.env.TELEGRAM_BOT_TOKEN as string });
  ctx.zd = await startFakeZadarma({
    key: v1.env.ZADARMA_API_KEY as string,
    secret: v1.env.ZADARMA_API_SECRET as string,
  });
  for (const id of [Number(member.key.slice(3)), Number(guest.key.slice(3)), v1.telegram.admin])
    ctx.tg.addChat(id);
  // Stopped: the store holds what the old release left. Upgraded: the current service starts on it.
  const dataDir = tmpDataDir();
  await seedStore(dataDir, v1.fixtures);
  ctx.clock = new TestClock();
  ctx.clock.offset = v1.capturedAt - Date.now();
  ctx.svc = await startTestService(
    { ...v1.env, D360_BASE_URL: ctx.d360.url, TELEGRAM_API_ROOT: ctx.tg.url, ZADARMA_BASE_URL: ctx.zd.url },
    { clock: ctx.clock.now, dataDir },
  );
  ctx.updateId = v1.telegram.lastUpdateId;
  ctx.post = zadarmaPoster(ctx.svc.url, v1.env.ZADARMA_API_SECRET as string);
  ctx.deliver = async (u) => {
    const res = await http(`${ctx.svc.url}/telegram/webhook`, {
      body: u,
      headers: { 'x-telegram-bot-api-secret-token': v1.env.TELEGRAM_WEBHOOK_SECRET as string },
    });
    if (res.status !== 200) throw new Error(`telegram webhook answered ${res.status}: ${res.text}`);
  };
});

test.after(async (ctx) => {
  await ctx.svc?.stop();
  await ctx.d360?.close();
  await ctx.tg?.close();
  await ctx.zd?.close();
});

const tgUser = (ctx: Ctx, f: SnapshotFixture) => new TgUser(ctx.tg, ctx.deliver, Number(f.key.slice(3)));
const command = (ctx: Ctx, user: TgUser, text: string) =>
  user.send(commandUpdate({ userId: user.id, firstName: user.firstName, text, updateId: ++ctx.updateId }));
const actor = (ctx: Ctx, key: string) => ctx.svc.store.get<ActorRecord>('actors', key) as ActorRecord;
const gateHeldBy = (ctx: Ctx, gate: string) =>
  ctx.svc.store.get<{ pendingCall: string | null }>('gates', gate)?.pendingCall;

/** The relay leg of a call ends as a relay ends it: it rang, then rejected the call. */
async function relayRejects(ctx: Ctx, f: SnapshotFixture): Promise<void> {
  const leg = outgoingCall({ destination: String(context(f).relay) });
  assert.is((await ctx.post(leg.start())).status, 200);
  assert.is((await ctx.post(leg.end({ disposition: 'cancel', duration: 4 }))).status, 200);
}

test('the service starts on the old store and resumes every actor as it was', (ctx) => {
  assert.is(gateHeldBy(ctx, 'vorota'), pendingCall.key, 'the pending call still holds its gate');
  assert.is(gateHeldBy(ctx, 'hvirtka'), initiatedCall.key);
  for (const f of v1.fixtures)
    assert.equal(actor(ctx, f.key), f.record, `${f.file}: untouched until its next event`);
});

test("the inspector shows an actor not yet migrated in today's states", (ctx) => {
  const [call] = listActors(ctx.svc.store, { key: pendingCall.key }).actors as ActorDetail[];
  assert.is(call?.state, 'live.pending');
  assert.equal(
    call?.history.map((h) => `${h.from}→${h.to}`),
    ['new→live.initiated', 'live.initiated→live.pending'],
  );
  assert.match(String(call?.diagram), 'class live__pending current', 'highlighted on the diagram');
  assert.equal(actor(ctx, pendingCall.key), pendingCall.record, 'only shown so: the store is untouched');
});

test('the call pending at Zadarma: its NOTIFY_END tells the user "відчинено" and frees the gate', async (ctx) => {
  const user = tgUser(ctx, member);
  const from = user.messages().length;
  await relayRejects(ctx, pendingCall);
  const opened = await user.waitText(/відчинено/, from);
  assert.is(opened.text, '✅ Ворота відчинено!');
  assert.is(gateHeldBy(ctx, 'vorota'), null, 'the gate is free');
  const call = actor(ctx, pendingCall.key);
  assert.is(call.version, 2);
  assert.is(call.state, 'opened');
  assert.equal(
    call.history.map((h) => `${h.event} ${h.from}→${h.to}`),
    [
      'REQUEST new→live.initiated',
      'API_OK live.initiated→live.pending',
      'CALL_START live.pending→live.pending',
      'CALL_END live.pending→opened',
    ],
    'the stored history in the new labels, then the relay leg',
  );
  const record = ctx.svc.store.get<{ status: string; disposition: string }>(
    'calls',
    pendingCall.key.slice(5),
  );
  assert.is(record?.status, 'opened');
  assert.is(record?.disposition, 'cancel');
});

test('the call whose callback request was under way: a NOTIFY_END still ends it, opened', async (ctx) => {
  const user = tgUser(ctx, member);
  const from = user.messages().length;
  await relayRejects(ctx, initiatedCall);
  const opened = await user.waitText(/відчинено/, from);
  assert.is(opened.text, '✅ Хвіртка відчинено!');
  assert.is(gateHeldBy(ctx, 'hvirtka'), null);
  assert.is(actor(ctx, initiatedCall.key).state, 'opened');
  assert.is(actor(ctx, initiatedCall.key).history.at(-1)?.from, 'live.initiated');
});

test('the member opens the wicket: a callback is requested, and the admins hear the Zadarma API works again', async (ctx) => {
  const user = tgUser(ctx, member);
  const admin = new TgUser(ctx.tg, ctx.deliver, v1.telegram.admin);
  const callbacks = ctx.zd.callbacks().length;
  const from = user.messages().length;
  const keys = await command(ctx, user, '/hvirtka');
  assert.is(keys.text, uk.keys('hvirtka'), 'a member still: no need to share the number again');
  const [callback] = (await ctx.zd.waitFor((c) => c.length === callbacks + 1, 5000)).slice(-1);
  assert.is(callback?.to, String(context(initiatedCall).relay));
  await user.waitText(/^Відкриття хвіртки ініційовано/, from);
  const recovered = await admin.waitText(/Zadarma API працює знову/);
  assert.match(String(recovered.text), /^✅ Zadarma API працює знову/);

  const chat = actor(ctx, member.key);
  assert.is(chat.version, 2);
  assert.is(chat.state, 'member');
  const now = (chat.snapshot as { context: Record<string, unknown> }).context;
  assert.equal(Object.keys(now).sort(), ['lastGateAt', 'phone'], 'v2 keeps no `allowed`');
  assert.is(now.phone, context(member).phone, 'the proven phone is kept');
  assert.ok(
    (now.lastGateAt as number) > (context(member).lastGateAt as number),
    'the cooldown counts from now',
  );
  assert.is(actor(ctx, 'alerts:admin').state, 'ok', 'the alert is over');
});

test('the guest is still a guest', async (ctx) => {
  const reply = await command(ctx, tgUser(ctx, guest), '/start');
  assert.match(String(reply.text), 'не авторизовані');
  assert.is(actor(ctx, guest.key).version, 2);
  assert.is(actor(ctx, guest.key).state, 'guest');
});

test('the employee asked for a period sends one, picks a shift: "Смена записана ✅"', async (ctx) => {
  const f = fixture('whatsapp-menu', 'askingPeriod');
  const chat = new Chat(ctx.svc.url, ctx.d360, f.key.slice(3));
  const now = ctx.clock.now();
  const list = await chat.say(`${ddmm(now - DAY_MS)}-${ddmm(now)}`);
  assert.is(
    list.interactive?.type,
    'list',
    `only a dialog resumed in askingPeriod reads a period: ${bodyText(list)}`,
  );
  assert.equal(rowIds(list), ['SHIFT_DAY', 'SHIFT_NIGHT', 'SHIFT_OFF']);
  assert.match(bodyText(list), '(2 дня)');
  const done = await chat.pick('SHIFT_DAY');
  assert.match(
    bodyText(done),
    /^Смена записана ✅\n\d\d\.\d\d\.\d{4} — \d\d\.\d\d\.\d{4} \(2 дня\): Дневная/,
  );
  assert.equal(
    actor(ctx, f.key).history.map((h) => `${h.from}→${h.to}`),
    [
      'idle→active.menu',
      'active.menu→active.askingPeriod',
      'active.askingPeriod→active.choosingShift',
      'active.choosingShift→active.menu',
    ],
  );
});

test('the employee choosing a shift for a period picks one: the period is recorded', async (ctx) => {
  const f = fixture('whatsapp-menu', 'choosingShift');
  const pending = context(f).pending as { start: string; end: string };
  const ru = (iso: string) => iso.split('-').reverse().join('.');
  const chat = new Chat(ctx.svc.url, ctx.d360, f.key.slice(3));
  const done = await chat.pick('SHIFT_NIGHT');
  assert.match(
    bodyText(done),
    `Смена записана ✅\n${ru(pending.start)} — ${ru(pending.end)} (2 дня): Ночная`,
  );
  const days = ctx.svc.store.get<{ days: Record<string, { shift: string }> }>(
    'employees',
    f.key.slice(3),
  )?.days;
  assert.is(days?.[pending.start]?.shift, 'night');
  assert.is(days?.[pending.end]?.shift, 'night');
});

test('the employee at the menu taps "Заполнить за сегодня": the list, no restart', async (ctx) => {
  const f = fixture('whatsapp-menu', 'menu');
  const chat = new Chat(ctx.svc.url, ctx.d360, f.key.slice(3));
  const list = await chat.tap('FILL_TODAY');
  assert.is(list.interactive?.type, 'list');
  assert.is(actor(ctx, f.key).state, 'active.choosingShift');
  assert.is(actor(ctx, f.key).history.at(-1)?.from, 'active.menu');
});

test('the outside caller in the voice menu presses 1: the gate is opened for them', async (ctx) => {
  const f = fixture('ivr-call', 'menu');
  const callbacks = ctx.zd.callbacks().length;
  const call = incomingCall({ pbx_call_id: f.key.slice(4), caller_id: `+${String(context(f).caller)}` });
  const answer = await ctx.post(call.dtmf('1', { name: 'main_menu' }));
  assert.equal(answer.json, { ivr_say: { text: uk.ivr.openingVorota, language: 'ua' }, hangup: 1 });
  const [callback] = (await ctx.zd.waitFor((c) => c.length === callbacks + 1, 5000)).slice(-1);
  assert.is(callback?.to, String(context(pendingCall).relay));
  assert.is(actor(ctx, f.key).state, 'opening');
});

test('nothing was restarted, and only what changed was migrated', async (ctx) => {
  await sleep(SETTLE_MS);
  assert.not.ok(
    ctx.d360.sent().some((m) => JSON.stringify(m).includes('Бот обновился')),
    'no employee was told the bot restarted',
  );
  const logs = ctx.svc.logs.join('\n');
  assert.not.match(logs, 'starting the dialog afresh');
  assert.not.match(logs, 'newer machine version');
  const migrated = ctx.svc.logs.filter((l) => l.includes('stored snapshot migrated'));
  assert.is(migrated.length, 7, 'every actor of the three bumped machines, once each');
  for (const f of v1.fixtures) {
    const now = actor(ctx, f.key);
    assert.is(now.version, f.machine === 'ivr-call' || f.machine === 'admin-alerts' ? 1 : 2, f.file);
  }
});

test.run();
