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
import { incomingCall } from '../fixtures/zadarma';
import { type ActorDetail, listActors } from '../server/inspect/actors';
import { uk } from '../server/texts/uk';
import type { SentItem } from './fakes/telegram';
import { type OnCapture, startOnCapture } from './helpers/capture';
import { bodyText, Chat, rowIds } from './helpers/chat';
import { TgUser } from './helpers/gate-harness';
import { sleep, tmpDataDir } from './helpers/service';
import { readSnapshots, type SnapshotFixture, seedStore, snapshotFixture } from './helpers/snapshots';

const v1 = readSnapshots('v1');
const fixture = (machine: string, state: string) => snapshotFixture(v1, machine, state);
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

type Ctx = OnCapture;

const test = suite<Ctx>('upgrade: v1 stored actors finished by the current service');

test.before(async (ctx) => {
  // Stopped: the store holds what the old release left. Upgraded: the current service starts on it.
  const dataDir = tmpDataDir();
  await seedStore(dataDir, v1.fixtures);
  const chats = [Number(member.key.slice(3)), Number(guest.key.slice(3)), v1.telegram.admin];
  Object.assign(ctx, await startOnCapture(v1, dataDir, { chats }));
});

test.after(async (ctx) => {
  await ctx.stop?.();
});

const tgUser = (ctx: Ctx, f: SnapshotFixture) => new TgUser(ctx.tg, ctx.deliver, Number(f.key.slice(3)));

/** The relay of the fixture's call rejects it (it rang): what its member is told. */
async function relayRejects(ctx: Ctx, f: SnapshotFixture): Promise<SentItem> {
  const user = tgUser(ctx, member);
  const from = user.messages().length;
  await ctx.relayRejects(String(context(f).relay));
  return user.waitText(/відчинено/, from);
}

test('the service starts on the old store and resumes every actor as it was', (ctx) => {
  assert.is(ctx.gateHeldBy('vorota'), pendingCall.key, 'the pending call still holds its gate');
  assert.is(ctx.gateHeldBy('hvirtka'), initiatedCall.key);
  for (const f of v1.fixtures)
    assert.equal(ctx.actor(f.key), f.record, `${f.file}: untouched until its next event`);
});

test("the inspector shows an actor not yet migrated in today's states", (ctx) => {
  const [call] = listActors(ctx.svc.store, { key: pendingCall.key }).actors as ActorDetail[];
  assert.is(call?.state, 'live.pending');
  assert.equal(
    call?.history.map((h) => `${h.from}→${h.to}`),
    ['new→live.initiated', 'live.initiated→live.pending'],
  );
  assert.match(String(call?.diagram), 'class live__pending current', 'highlighted on the diagram');
  assert.equal(ctx.actor(pendingCall.key), pendingCall.record, 'only shown so: the store is untouched');
});

test('the call pending at Zadarma: its NOTIFY_END tells the user "відчинено" and frees the gate', async (ctx) => {
  const opened = await relayRejects(ctx, pendingCall);
  assert.is(opened.text, '✅ Ворота відчинено!');
  assert.is(ctx.gateHeldBy('vorota'), null, 'the gate is free');
  const call = ctx.actor(pendingCall.key);
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
  const opened = await relayRejects(ctx, initiatedCall);
  assert.is(opened.text, '✅ Хвіртка відчинено!');
  assert.is(ctx.gateHeldBy('hvirtka'), null);
  assert.is(ctx.actor(initiatedCall.key).state, 'opened');
  assert.is(ctx.actor(initiatedCall.key).history.at(-1)?.from, 'live.initiated');
});

test('the member opens the wicket: a callback is requested, and the admins hear the Zadarma API works again', async (ctx) => {
  const user = tgUser(ctx, member);
  const admin = new TgUser(ctx.tg, ctx.deliver, v1.telegram.admin);
  const callbacks = ctx.zd.callbacks().length;
  const from = user.messages().length;
  const keys = await ctx.command(user, '/hvirtka');
  assert.is(keys.text, uk.keys('hvirtka'), 'a member still: no need to share the number again');
  const [callback] = (await ctx.zd.waitFor((c) => c.length === callbacks + 1, 5000)).slice(-1);
  assert.is(callback?.to, String(context(initiatedCall).relay));
  await user.waitText(/^Відкриття хвіртки ініційовано/, from);
  const recovered = await admin.waitText(/Zadarma API працює знову/);
  assert.match(String(recovered.text), /^✅ Zadarma API працює знову/);

  const chat = ctx.actor(member.key);
  assert.is(chat.version, 2);
  assert.is(chat.state, 'member');
  const now = (chat.snapshot as { context: Record<string, unknown> }).context;
  assert.equal(Object.keys(now).sort(), ['lastGateAt', 'phone'], 'v2 keeps no `allowed`');
  assert.is(now.phone, context(member).phone, 'the proven phone is kept');
  assert.ok(
    (now.lastGateAt as number) > (context(member).lastGateAt as number),
    'the cooldown counts from now',
  );
  assert.is(ctx.actor('alerts:admin').state, 'ok', 'the alert is over');
});

test('the guest is still a guest', async (ctx) => {
  const reply = await ctx.command(tgUser(ctx, guest), '/start');
  assert.match(String(reply.text), 'не авторизовані');
  assert.is(ctx.actor(guest.key).version, 2);
  assert.is(ctx.actor(guest.key).state, 'guest');
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
    ctx.actor(f.key).history.map((h) => `${h.from}→${h.to}`),
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
  assert.is(ctx.actor(f.key).state, 'active.choosingShift');
  assert.is(ctx.actor(f.key).history.at(-1)?.from, 'active.menu');
});

test('the outside caller in the voice menu presses 1: the gate is opened for them', async (ctx) => {
  const f = fixture('ivr-call', 'menu');
  const callbacks = ctx.zd.callbacks().length;
  const call = incomingCall({ pbx_call_id: f.key.slice(4), caller_id: `+${String(context(f).caller)}` });
  const answer = await ctx.post(call.dtmf('1', { name: 'main_menu' }));
  assert.equal(answer.json, { ivr_say: { text: uk.ivr.openingVorota, language: 'ua' }, hangup: 1 });
  const [callback] = (await ctx.zd.waitFor((c) => c.length === callbacks + 1, 5000)).slice(-1);
  assert.is(callback?.to, String(context(pendingCall).relay));
  assert.is(ctx.actor(f.key).state, 'opening');
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
    const now = ctx.actor(f.key);
    assert.is(now.version, f.machine === 'ivr-call' || f.machine === 'admin-alerts' ? 1 : 2, f.file);
  }
});

test.run();
