import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buttonReply, listReply, textMessage } from '../fixtures/whatsapp';
import { dispatchWebhook, whatsappBinding } from '../server/channels/whatsapp/channel';
import { parseWebhook } from '../server/channels/whatsapp/inbound';
import { Engine } from '../server/engine/engine';
import type { ActorRecord } from '../server/engine/types';
import { getEmployee } from '../storage/attendance';
import { LowdbStore } from '../storage/lowdb';
import { put } from '../storage/store';
import { tmpDataDir } from './helpers/service';

// The engine keeps the live snapshot of the record it last committed per actor; these check that a
// record changed underneath (a restore, an operator's edit, another version) is what the next event sees.

const WA = '79001112233';
const KEY = `wa:${WA}`;

const clock = () => Date.UTC(2026, 10, 22, 9);
const quiet = { info() {}, warn() {}, error() {} };

async function rig() {
  const store = new LowdbStore(tmpDataDir(), 4, { fsync: false });
  await store.open();
  const warnings: string[] = [];
  const log = { info() {}, warn: (m: string) => void warnings.push(m), error() {} };
  const engine = new Engine({ store, bindings: [whatsappBinding()], log, clock });
  const send = (body: ReturnType<typeof textMessage>) =>
    dispatchWebhook(engine, parseWebhook(body), { timezone: 'Europe/Moscow', log });
  const actor = () => store.get<ActorRecord>('actors', KEY) as ActorRecord;
  return { store, engine, send, actor, warnings };
}

test('a record replaced in the store (another state) is restored, not the cached snapshot', async () => {
  const { store, send, actor } = await rig();
  await send(textMessage({ from: WA, body: 'меню' }));
  await send(buttonReply({ from: WA, buttonId: 'FILL_PERIOD' }));
  await send(textMessage({ from: WA, body: '01.11-03.11' }));
  assert.is(actor().state, 'active.choosingShift', 'a shift for 1–3 November pending');
  // An operator (or a restore) puts the actor back to idle: a new document object.
  await store.commit(KEY, [
    put('actors', KEY, {
      ...actor(),
      snapshot: { status: 'active', value: 'idle', context: { pending: null, deadline: null, reset: false } },
      state: 'idle',
      deadline: null,
    }),
  ]);
  await send(listReply({ from: WA, rowId: 'SHIFT_DAY' }));
  assert.is(actor().history.at(-1)?.from, 'idle', 'the step started from the stored state');
  // From idle an old list's row means today; the cached snapshot would have recorded the period.
  assert.equal(Object.keys(getEmployee(store, WA)?.days ?? {}), ['2026-11-22']);
});

test('a record of another machine version behind a cached snapshot resets the dialog', async () => {
  const { store, send, actor, warnings } = await rig();
  await send(textMessage({ from: WA, body: 'меню' }));
  await send(buttonReply({ from: WA, buttonId: 'FILL_TODAY' }));
  await store.commit(KEY, [put('actors', KEY, { ...actor(), version: 0 })]);
  await send(listReply({ from: WA, rowId: 'SHIFT_DAY' }));
  assert.ok(warnings.some((w) => w.includes('another machine version')));
  const context = actor().snapshot.context as { reset: boolean };
  assert.is(actor().history.at(-1)?.from, 'idle', 'started afresh');
  assert.is(typeof context.reset, 'boolean');
});

/** The record as JSON, the (random) outbox ids of its history's effects replaced by a placeholder. */
const sameIds = (record: unknown) =>
  JSON.parse(JSON.stringify(record), (k, v) => (k === 'id' && typeof v === 'string' ? '<effect id>' : v));

test('the cached path and a fresh engine per event write the same records', async () => {
  const a = await rig();
  const b = await rig();
  const bodies = [
    textMessage({ from: WA, body: 'меню' }),
    buttonReply({ from: WA, buttonId: 'FILL_PERIOD' }),
    textMessage({ from: WA, body: '01.11-03.11' }),
    listReply({ from: WA, rowId: 'SHIFT_NIGHT' }),
    buttonReply({ from: WA, buttonId: 'MY_STATUS' }),
    buttonReply({ from: WA, buttonId: 'FILL_TODAY' }),
    listReply({ from: WA, rowId: 'SHIFT_OFF' }),
    textMessage({ from: WA, body: 'стоп' }),
  ];
  for (const body of bodies) {
    await a.send(body);
    // b: a new engine for every event, so every step resolves the stored record.
    await dispatchWebhook(
      new Engine({ store: b.store, bindings: [whatsappBinding()], log: quiet, clock }),
      parseWebhook(body),
      {
        timezone: 'Europe/Moscow',
        log: quiet,
      },
    );
    assert.equal(sameIds(a.actor()), sameIds(b.actor()));
  }
  assert.equal(getEmployee(a.store, WA)?.days, getEmployee(b.store, WA)?.days);
  assert.is(Object.keys(getEmployee(a.store, WA)?.days ?? {}).length, 4, 'three period days and today');
});

test.run();
