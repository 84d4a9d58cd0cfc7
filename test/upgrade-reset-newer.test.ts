/**
 * The two edges of versioned snapshots, end to end on the current service:
 *
 * - a stored gate call that cannot be carried forward (a version with no migration, or a snapshot the
 *   machine cannot resolve) restarts: its gate is freed and its user is told the outcome is unknown
 *   (the words of a timeout), whether a webhook or its deadline comes first;
 * - an actor stored by a NEWER version (a rolling deploy, a rollback) is never written: its webhooks are
 *   answered 503 so the platform redelivers them later, the record stays byte for byte, the log says
 *   why once, and neither the sweeper nor the outbox gives up on it (no dead letter, no error).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { commandUpdate } from '../fixtures/telegram';
import { textMessage } from '../fixtures/whatsapp';
import { outgoingCall } from '../fixtures/zadarma';
import { alertEffect } from '../server/alerts/binding';
import type { ActorRecord, EffectRow } from '../server/engine/types';
import { put } from '../storage/store';
import { type OnCapture, startOnCapture } from './helpers/capture';
import { TgUser } from './helpers/gate-harness';
import { eventually, http, outboxHealth, sleep, tmpDataDir } from './helpers/service';
import { readSnapshots, seedStore, snapshotFixture } from './helpers/snapshots';

const v1 = readSnapshots('v1');
const fixture = (machine: string, state: string) => snapshotFixture(v1, machine, state);
const context = (r: ActorRecord) => (r.snapshot as { context: Record<string, unknown> }).context;
const member = fixture('telegram-chat', 'member');
const MEMBER_ID = Number(member.key.slice(3));

/** A call of a version nothing migrates from (0): it holds the gate `vorota`. */
const unknownVersion = fixture('gate-call', 'pending');
/** A call of the current version in a state the machine does not have (v1's flat `initiated`). */
const unresolvable = fixture('gate-call', 'initiated');

/** Actors a newer instance stored. */
const NEWER = 99;
const newerWa: ActorRecord = {
  ...fixture('whatsapp-menu', 'choosingShift').record,
  key: 'wa:79990000099',
  version: NEWER,
  // Its deadline passed: the sweeper wants to time it out.
  deadline: v1.capturedAt - 60_000,
};
const newerEmployee = {
  ...Object.values(fixture('whatsapp-menu', 'choosingShift').docs)[0],
  waId: '79990000099',
};
const employee = fixture('whatsapp-menu', 'menu');
const newerTg: ActorRecord = {
  ...fixture('telegram-chat', 'guest').record,
  key: 'tg:5550077',
  version: NEWER,
};
// A shape this version does not know. (Had it a cause on, every gate call's recovery alert would wait
// for a newer instance, and the call's later messages behind it: effects of one key keep their order.)
const newerAlerts: ActorRecord = {
  ...fixture('admin-alerts', 'alerting').record,
  version: NEWER,
  snapshot: { status: 'active', value: 'watching', context: { rules: [] } },
  state: 'watching',
};
/** An alert waiting in the outbox for the newer alerts actor: the outbox must keep it, not give up. */
const alertRow: EffectRow = {
  id: 'alert-for-a-newer-actor',
  key: newerAlerts.key,
  ...alertEffect({
    op: 'raise',
    cause: 'zadarmaApi',
    kind: 'zadarmaApi',
    info: { gate: 'vorota', detail: 'x' },
  }),
  createdAt: v1.capturedAt,
  attempts: 0,
  nextAt: 0,
};

interface Ctx extends OnCapture {
  user: TgUser;
}

const test = suite<Ctx>('upgrade: reset calls and newer snapshots');

test.before(async (ctx) => {
  const dataDir = tmpDataDir();
  await seedStore(dataDir, [
    member,
    { record: { ...unknownVersion.record, version: 0 }, docs: unknownVersion.docs },
    { record: { ...unresolvable.record, version: 2 }, docs: unresolvable.docs },
    { record: newerWa, docs: { 'employees/79990000099': newerEmployee } },
    employee,
    { record: newerTg },
    { record: newerAlerts, docs: { [`outbox/${alertRow.id}`]: alertRow } },
  ]);
  // The capture was at 08:09 in Moscow: the daily reminder is due at start.
  const env = { REMINDER_TIME: '08:00' };
  Object.assign(ctx, await startOnCapture(v1, dataDir, { chats: [MEMBER_ID], env }));
  ctx.user = new TgUser(ctx.tg, ctx.deliver, MEMBER_ID);
});

test.after(async (ctx) => {
  await ctx.stop?.();
});

const callRecord = (ctx: Ctx, key: string) =>
  ctx.svc.store.get<{ status: string; reason: string | null }>('calls', key.slice('call:'.length));
const UNKNOWN = /^⏰ Статус відкриття (воріт|хвіртки) не визначено/;

test('a stored call of a version with no migration: its NOTIFY_END frees the gate and the user hears the status is unknown', async (ctx) => {
  const key = unknownVersion.key;
  assert.is(ctx.gateHeldBy('vorota'), key, 'it holds the gate');
  const from = ctx.user.messages().length;
  await ctx.relayRejects(String(context(unknownVersion.record).relay));
  const told = await ctx.user.waitText(UNKNOWN, from);
  assert.match(String(told.text), /^⏰ Статус відкриття воріт не визначено/);
  assert.is(ctx.user.count(/відчинено/), 0, 'no outcome is made up');
  assert.is(ctx.gateHeldBy('vorota'), null, 'the gate is free');
  assert.equal(callRecord(ctx, key), { ...callRecord(ctx, key), status: 'failed', reason: 'reset' });
  assert.is(ctx.actor(key).state, 'new', 'the actor restarted');
  assert.is(ctx.actor(key).version, 2);
  assert.ok(
    ctx.svc.logs.some(
      (l) => l.includes('another machine version') && l.includes('no migration from version 0'),
    ),
  );

  // The gate is usable again.
  const callbacks = ctx.zd.callbacks().length;
  const keys = await ctx.command(ctx.user, '/vorota');
  assert.match(String(keys.text), 'Підбираємо ключі');
  await ctx.zd.waitFor((c) => c.length === callbacks + 1, 5000);
  await ctx.user.waitText(/^Відкриття воріт ініційовано/, from);
  await ctx.relayRejects(String(context(unknownVersion.record).relay));
  await ctx.user.waitText(/^✅ Ворота відчинено!/, from);
  assert.is(ctx.gateHeldBy('vorota'), null);
});

test('a stored call the machine cannot resolve: when its deadline passes, the gate is freed and the user told', async (ctx) => {
  const key = unresolvable.key;
  assert.is(ctx.gateHeldBy('hvirtka'), key);
  const from = ctx.user.messages().length;
  ctx.clock.advance(Number(v1.env.GATE_CALL_TIMEOUT_S) * 1000 + 1000);
  const told = await ctx.user.waitText(UNKNOWN, from);
  assert.match(String(told.text), /^⏰ Статус відкриття хвіртки не визначено/);
  await eventually(() => ctx.gateHeldBy('hvirtka') === null, 3000, 'the wicket freed');
  assert.is(callRecord(ctx, key)?.status, 'failed');
  assert.is(callRecord(ctx, key)?.reason, 'reset');
  assert.is(ctx.actor(key).deadline, null, 'no deadline left to sweep');
  assert.ok(ctx.svc.logs.some((l) => l.includes('cannot be resumed')));
  await sleep(300);
  assert.is(ctx.user.messages().length, from + 1, 'told once');
});

const newerLines = (ctx: Ctx) => ctx.svc.logs.filter((l) => l.includes('newer machine version'));

test('WhatsApp: a message to an actor a newer version stored gets 503; the record stays byte for byte; said once', async (ctx) => {
  const before = JSON.stringify(ctx.actor(newerWa.key));
  const body = textMessage({ from: newerWa.key.slice(3), body: 'меню' });
  for (let i = 0; i < 2; i++) {
    const res = await http(`${ctx.svc.url}/webhook`, { body });
    assert.is(res.status, 503, 'redelivered later');
    assert.match(res.text, `version ${NEWER} of whatsapp-menu`);
    assert.match(res.text, 'try again later');
  }
  await sleep(200);
  assert.is(JSON.stringify(ctx.actor(newerWa.key)), before);
  assert.is(
    ctx.d360.sent().filter((m) => m.to === '79990000099').length,
    0,
    'no reply: nothing was processed',
  );
  const lines = newerLines(ctx).filter((l) => l.includes('whatsapp-menu'));
  assert.is(lines.length, 1, 'the refusal is logged once');
  assert.match(lines[0] as string, `stored=${NEWER}`);
  assert.match(lines[0] as string, 'current=2');
  assert.match(lines[0] as string, 'key=wa:…0099', 'the actor, its phone masked');
});

test('Telegram: an update for an actor a newer version stored gets 503 and changes nothing', async (ctx) => {
  const before = JSON.stringify(ctx.actor(newerTg.key));
  const update = commandUpdate({
    userId: 5550077,
    firstName: 'Newer',
    text: '/start',
    updateId: ctx.nextUpdateId(),
  });
  assert.is((await ctx.postUpdate(update)).status, 503);
  assert.is(JSON.stringify(ctx.actor(newerTg.key)), before);
  assert.is(
    ctx.svc.store.get('dedupe', `tg:update:${update.update_id}`),
    undefined,
    'its redelivery will count',
  );
  assert.is(newerLines(ctx).filter((l) => l.includes('telegram-chat')).length, 1);
});

test('Zadarma: the end of a call a newer version stored gets 503; the call and its gate stay as they are', async (ctx) => {
  const call: ActorRecord = { ...unknownVersion.record, key: 'call:vorota:newer', version: NEWER };
  await ctx.svc.store.commit('gate:vorota', [
    put('actors', call.key, call),
    put('gates', 'vorota', { gate: 'vorota', pendingCall: call.key, since: v1.capturedAt }),
  ]);
  const leg = outgoingCall({ destination: String(context(call).relay) });
  assert.is((await ctx.post(leg.end({ disposition: 'cancel', duration: 4 }))).status, 503);
  assert.equal(ctx.actor(call.key), call);
  assert.is(ctx.gateHeldBy('vorota'), call.key);
});

test('the daily reminder passes over the employee whose dialog a newer version stored, and reminds the others', async (ctx) => {
  const run = await eventually(
    () => ctx.svc.store.get<Record<string, unknown>>('jobs', 'reminders'),
    5000,
    "today's reminder run",
  );
  assert.is(run.newer, 1);
  assert.is(run.session, 1);
  const reminded = ctx.d360.sent().filter((m) => m.to === employee.key.slice(3));
  assert.match(JSON.stringify(reminded.at(-1)), 'Напоминание: отметьте смену за сегодня');
});

test('the sweeper and the outbox wait for the newer actors: no dead letter, no error, no write', async (ctx) => {
  await sleep(500); // many sweeps (every 50 ms) and outbox retries (at most 200 ms apart)
  assert.equal(await outboxHealth(ctx.svc.url), { pending: 1, deadLetters: 0 });
  const row = ctx.svc.store.get<EffectRow>('outbox', alertRow.id);
  assert.is(row?.attempts, 0, 'waiting is not a failed attempt');
  assert.equal(ctx.actor(newerAlerts.key), newerAlerts);
  assert.equal(ctx.actor(newerWa.key), newerWa, 'its passed deadline fired nothing');
  const errors = ctx.svc.logs.filter((l) => l.split(' ')[1] === 'error' || l.includes('dead-lettered'));
  assert.equal(errors, []);
  assert.is(newerLines(ctx).filter((l) => l.includes('admin-alerts')).length, 1);
});

test.run();
