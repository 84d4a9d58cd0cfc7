/**
 * The engine and stored versions, on a toy machine: an older stored actor is migrated and resumed (and
 * committed at the current version); one with no migration path restarts, with the binding's reset
 * plan committed in the same step; one of a NEWER version is never written: its events are refused
 * (NewerSnapshotError, logged once), the sweeper and the outbox try again later, and nothing is
 * dead-lettered or pruned.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assign, setup } from 'xstate';
import { moveStates } from '../machines/migrations';
import { Engine } from '../server/engine/engine';
import { Outbox } from '../server/engine/outbox';
import { NewerSnapshotError } from '../server/engine/snapshot-version';
import { Sweeper } from '../server/engine/sweeper';
import type { ActorRecord, Binding, EffectRow, EffectRunner } from '../server/engine/types';
import { LowdbStore } from '../storage/lowdb';
import { put } from '../storage/store';
import { eventually, sleep, tmpDataDir } from './helpers/service';

type Ev = { type: 'PING'; now: number } | { type: 'GO'; now: number } | { type: 'TIMEOUT'; now: number };
const toy = setup({
  types: { context: {} as { n: number; deadline: number | null }, events: {} as Ev },
  actions: { said: (_, _p: { n: number }) => {} },
}).createMachine({
  id: 'toy',
  initial: 'start',
  context: { n: 0, deadline: null },
  states: {
    start: { on: { GO: 'busy' } },
    busy: {
      initial: 'one',
      states: { one: { on: { GO: 'two' } }, two: { type: 'final' } },
      on: { PING: { actions: { type: 'said', params: ({ context }) => ({ n: context.n }) } } },
    },
  },
  on: { TIMEOUT: { actions: assign({ deadline: null }) } },
});

const KEY = 't:1';
const T0 = Date.UTC(2026, 11, 6, 9);

interface Logged {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

async function rig() {
  const store = new LowdbStore(tmpDataDir(), 4, { fsync: false });
  await store.open();
  const logs: Logged[] = [];
  const faults = { interpret: 0 };
  const log = {
    info: (msg: string, fields?: Record<string, unknown>) => void logs.push({ level: 'info', msg, fields }),
    warn: (msg: string, fields?: Record<string, unknown>) => void logs.push({ level: 'warn', msg, fields }),
    error: (msg: string, fields?: Record<string, unknown>) => void logs.push({ level: 'error', msg, fields }),
  };
  const binding: Binding = {
    name: 'toy',
    keyPrefix: 't:',
    version: 3,
    logic: toy,
    migrations: {
      // v2 put `one` under the `busy` parent; v3 counts from 10.
      1: moveStates({ one: 'busy.one' }),
      2: (a) => {
        const c = a.snapshot.context as { n: number };
        return { ...a, snapshot: { ...a.snapshot, context: { ...c, n: c.n + 10 } } };
      },
    },
    onReset: (stored, { key, now }) => ({
      effects: [{ channel: 'note', payload: { restarted: stored.version } }],
      writes: [put('notes', key, { restartedAt: now, was: stored.state })],
    }),
    interpret: (actions) => {
      if (faults.interpret > 0) {
        faults.interpret--;
        throw new Error('the step cannot be recorded now');
      }
      return {
        effects: actions
          .filter((a) => a.type === 'said')
          .map((a) => ({ channel: 'note', payload: a.params as Record<string, unknown> })),
        writes: [],
      };
    },
  };
  let now = T0;
  const engine = new Engine({ store, bindings: [binding], log, clock: () => now });
  const actor = () => store.get<ActorRecord>('actors', KEY) as ActorRecord;
  const seed = (r: Partial<ActorRecord>) =>
    store.commit(KEY, [
      put('actors', KEY, {
        key: KEY,
        machine: 'toy',
        version: 1,
        snapshot: { status: 'active', value: 'one', context: { n: 1, deadline: null } },
        deadline: null,
        state: 'one',
        lastEvent: 'GO',
        updatedAt: T0 - 1000,
        history: [{ at: T0 - 1000, event: 'GO', from: 'start', to: 'one', ref: 'm0' }],
        ...r,
      }),
    ]);
  const send = (type: Ev['type'], dedupeKey?: string) =>
    engine.dispatch({
      key: KEY,
      machine: 'toy',
      ...(dedupeKey ? { dedupeKey } : {}),
      event: () => ({ type, now }),
    });
  const outbox = () => store.all<EffectRow>('outbox');
  /** A pending effect `id` of actor `key`, due now. */
  const queue = (id: string, key: string, channel: string) =>
    store.commit(key, [
      put('outbox', id, { id, key, channel, payload: {}, createdAt: T0, attempts: 0, nextAt: 0 }),
    ]);
  const tick = (ms: number) => {
    now += ms;
    return now;
  };
  return {
    store,
    engine,
    binding,
    log,
    logs,
    faults,
    actor,
    seed,
    send,
    outbox,
    queue,
    tick,
    now: () => now,
  };
}

test('an older stored actor is migrated step by step, resumed where it was and committed at the current version', async () => {
  const r = await rig();
  await r.seed({});
  await r.send('PING', 'm1');
  const a = r.actor();
  assert.is(a.version, 3);
  assert.is(a.state, 'busy.one');
  assert.equal(a.snapshot.value, { busy: 'one' });
  assert.is((a.snapshot.context as { n: number }).n, 11, 'both steps, in order');
  assert.equal(
    a.history.map((h) => `${h.event} ${h.from}→${h.to}`),
    ['GO start→busy.one', 'PING busy.one→busy.one'],
    'the stored history moved with it',
  );
  assert.equal(
    r.outbox().map((e) => e.payload),
    [{ n: 11 }],
    'the machine stepped from the migrated context; no reset',
  );
  assert.is(r.store.get('notes', KEY), undefined);
  assert.ok(r.logs.some((l) => l.msg === 'stored snapshot migrated' && l.fields?.from === 'toy@1'));
  await r.send('GO', 'm2');
  assert.is(r.actor().state, 'busy.two', 'and it goes on from there');
});

test('no migration path: a fresh actor, with the binding reset plan committed in the same step', async () => {
  const r = await rig();
  await r.seed({ version: 0 });
  await r.send('GO', 'm1');
  const a = r.actor();
  assert.is(a.version, 3);
  assert.is(a.state, 'busy.one', 'GO from a fresh start');
  assert.equal(
    { ...a.history.at(-1), effects: undefined },
    { effects: undefined, at: T0, event: 'GO', from: 'start', to: 'busy.one', ref: 'm1' },
  );
  assert.equal(r.store.get('notes', KEY), { restartedAt: T0, was: 'one' });
  assert.equal(
    r.outbox().map((e) => e.payload),
    [{ restarted: 0 }],
  );
  const warn = r.logs.find((l) => l.msg.includes('another machine version'));
  assert.equal(warn?.fields?.why, 'no migration from version 0');
});

test('a stored snapshot the machine cannot resolve restarts too, with the reset plan', async () => {
  const r = await rig();
  await r.seed({
    version: 3,
    snapshot: { status: 'active', value: 'gone', context: { n: 5, deadline: null } },
  });
  await r.send('PING', 'm1');
  assert.is(r.actor().state, 'start');
  assert.equal(
    r.outbox().map((e) => e.payload),
    [{ restarted: 3 }],
  );
  assert.ok(r.logs.some((l) => l.msg.includes('cannot be resumed')));
});

test('a NEWER stored actor is never written: the event is refused (503), the record untouched, logged once', async () => {
  const r = await rig();
  await r.seed({
    version: 4,
    snapshot: { status: 'active', value: 'future', context: { m: 1 } },
    state: 'future',
  });
  const before = JSON.stringify(r.actor());
  for (const ref of ['m1', 'm1', 'm2']) {
    const e = await r.send('PING', ref).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.instance(e, NewerSnapshotError);
    assert.is((e as NewerSnapshotError).status, 503);
    assert.match((e as Error).message, 'version 4 of toy');
    assert.match((e as Error).message, 'runs version 3');
  }
  assert.is(JSON.stringify(r.actor()), before, 'the record is as stored');
  assert.is(r.store.get('dedupe', 'm1'), undefined, 'the delivery is not marked seen: its redelivery counts');
  assert.equal(r.outbox(), []);
  assert.equal(r.store.get('notes', KEY), undefined, 'no reset either');
  const said = r.logs.filter((l) => l.msg.includes('newer machine version'));
  assert.is(said.length, 1, 'once per actor and version');
  assert.equal(said[0]?.fields, { key: KEY, machine: 'toy', stored: 4, current: 3 });
  assert.is(said[0]?.level, 'warn');
});

test('the sweeper leaves a newer actor with a passed deadline alone, without an error', async () => {
  const r = await rig();
  await r.seed({ version: 9, deadline: T0 - 1 });
  // Started on the seeded store, as after a restart: an engine reads the stored deadlines when it starts.
  const engine = new Engine({ store: r.store, bindings: [r.binding], log: r.log, clock: r.now });
  const before = JSON.stringify(r.actor());
  const sweeper = new Sweeper(engine, r.log);
  for (let i = 0; i < 3; i++) await sweeper.run(r.tick(1000));
  assert.is(JSON.stringify(r.actor()), before);
  assert.equal(
    r.logs.filter((l) => l.level === 'error'),
    [],
  );
  assert.is(r.logs.filter((l) => l.msg.includes('newer machine version')).length, 1);
});

test('pruning forgets finished actors, but not a newer one', async () => {
  const r = await rig();
  const done = { status: 'done', value: { busy: 'two' }, context: { n: 1, deadline: null } };
  await r.seed({ version: 5, snapshot: done });
  await r.store.commit('t:2', [put('actors', 't:2', { ...r.actor(), key: 't:2', version: 3 })]);
  assert.is(await r.engine.pruneFinished(T0), 1);
  assert.ok(r.store.get('actors', KEY), 'the newer one stays');
  assert.is(r.store.get('actors', 't:2'), undefined);
});

const fast = { baseDelayMs: 5, maxDelayMs: 40, maxAttempts: 2 };

test('outbox: a runner whose step a newer actor refuses is tried again later, never dead-lettered', async () => {
  const r = await rig();
  await r.seed({ version: 4 });
  await r.queue('e1', 'x:1', 'poke');
  let runs = 0;
  // Like the alert and gate runners: the effect is a step of another actor.
  const poke: EffectRunner = async () => {
    runs++;
    await r.engine.dispatch({ key: KEY, machine: 'toy', event: () => ({ type: 'PING', now: T0 }) });
    return { ok: true };
  };
  const outbox = new Outbox(r.engine, { poke }, r.log, fast, Date.now);
  outbox.start();
  await eventually(() => runs >= 3, 3000, 'tried again');
  await outbox.drain();
  const stored = r.store.get<EffectRow>('outbox', 'e1');
  assert.is(stored?.attempts, 0, 'not counted as an attempt');
  assert.equal(r.store.all('deadletters'), []);
  assert.equal(
    r.logs.filter((l) => l.level === 'error'),
    [],
  );
});

test('outbox: an effect carried out whose result a newer actor refuses is not carried out again; the result is recorded later', async () => {
  const r = await rig();
  await r.seed({ version: 4 });
  await r.queue('e2', KEY, 'call');
  let runs = 0;
  // Like the Zadarma runner: done once, its answer an event for the actor.
  const call: EffectRunner = async () => {
    runs++;
    return { ok: true, event: { type: 'PING', now: T0 } };
  };
  const outbox = new Outbox(r.engine, { call }, r.log, fast, Date.now);
  outbox.start();
  await sleep(300);
  assert.is(runs, 1, 'carried out once');
  assert.ok(r.store.get('outbox', 'e2'), 'still pending: its result is not recorded');
  assert.equal(r.store.all('deadletters'), []);
  // The actor becomes one this instance may step (here: the record rewritten at its version).
  const resumable = { status: 'active', value: { busy: 'one' }, context: { n: 1, deadline: null } };
  await r.store.commit(KEY, [
    put('actors', KEY, { ...r.actor(), version: 3, snapshot: resumable, state: 'busy.one' }),
  ]);
  await eventually(() => r.store.get('outbox', 'e2') === undefined, 3000, 'the result recorded');
  await outbox.drain();
  assert.is(runs, 1, 'still carried out once');
  assert.is(r.actor().lastEvent, 'PING', 'the result reached the actor');
  assert.equal(r.store.get('notes', KEY), undefined, 'resumed, not reset');
  assert.equal(
    r.logs.filter((l) => l.level === 'error'),
    [],
  );
});

test('outbox: an effect carried out whose result fails to be recorded is recorded on a later try, not carried out again', async () => {
  const r = await rig();
  await r.seed({
    version: 3,
    snapshot: { status: 'active', value: { busy: 'one' }, context: { n: 1, deadline: null } },
  });
  await r.queue('e3', KEY, 'call');
  let runs = 0;
  const call: EffectRunner = async () => {
    runs++;
    return { ok: true, event: { type: 'PING', now: T0 } };
  };
  r.faults.interpret = 2;
  const outbox = new Outbox(r.engine, { call }, r.log, fast, Date.now);
  outbox.start();
  await eventually(() => r.store.get('outbox', 'e3') === undefined, 3000, 'the result recorded');
  await outbox.drain();
  assert.is(r.faults.interpret, 0, 'two failed tries to record it');
  assert.is(runs, 1, 'carried out once (a second Zadarma callback would ring the relay twice)');
  assert.is(r.actor().lastEvent, 'PING');
  assert.is(r.logs.filter((l) => l.msg === 'outbox: cannot record the outcome of an effect').length, 2);
});

test.run();
