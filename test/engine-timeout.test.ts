import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assign, setup } from 'xstate';
import { Engine } from '../server/engine/engine';
import { Sweeper } from '../server/engine/sweeper';
import type { ActorRecord, Binding } from '../server/engine/types';
import { LowdbStore } from '../storage/lowdb';
import { tmpDataDir } from './helpers/service';

// A machine that counts its TIMEOUTs: every TIMEOUT the engine steps shows, unlike in today's machines,
// where a second TIMEOUT is a no-op.
type Ev = { type: 'ARM'; at: number } | { type: 'PING' } | { type: 'TIMEOUT'; now: number };
const counter = setup({
  types: { context: {} as { deadline: number | null; timeouts: number }, events: {} as Ev },
}).createMachine({
  id: 'counter',
  context: { deadline: null, timeouts: 0 },
  initial: 'idle',
  states: {
    idle: { on: { ARM: { target: 'armed', actions: assign({ deadline: ({ event }) => event.at }) } } },
    armed: {
      on: {
        ARM: { actions: assign({ deadline: ({ event }) => event.at }) },
        TIMEOUT: {
          target: 'idle',
          actions: assign({ deadline: null, timeouts: ({ context }) => context.timeouts + 1 }),
        },
      },
    },
  },
  on: { PING: {} },
});

const binding: Binding = {
  name: 'counter',
  keyPrefix: 'c:',
  version: 1,
  logic: counter,
  interpret: () => ({ effects: [], writes: [] }),
};

const KEY = 'c:1';
const quiet = { info() {}, warn() {}, error() {} };

async function rig() {
  let now = Date.UTC(2026, 10, 22, 9);
  const store = new LowdbStore(tmpDataDir(), 4, { fsync: false });
  await store.open();
  const engine = new Engine({ store, bindings: [binding], log: quiet, clock: () => now });
  const sweeper = new Sweeper(engine, quiet);
  const send = (event: Ev) => engine.dispatch({ key: KEY, machine: 'counter', event: () => event });
  const actor = () => store.get<ActorRecord>('actors', KEY) as ActorRecord;
  const timeouts = () => (actor().snapshot.context as { timeouts: number }).timeouts;
  const tick = (ms: number) => {
    now += ms;
    return now;
  };
  return { engine, sweeper, send, actor, timeouts, tick, now: () => now };
}

test('one TIMEOUT from the sweeper is stepped once: one history entry, one transition', async () => {
  const r = await rig();
  await r.send({ type: 'ARM', at: r.now() + 1000 });
  await r.sweeper.run(r.tick(5000));
  assert.equal(
    r.actor().history.map((h) => `${h.event} ${h.from}→${h.to}`),
    ['ARM idle→armed', 'TIMEOUT armed→idle'],
  );
  assert.is(r.timeouts(), 1);
  assert.is(r.actor().deadline, null);
  await r.sweeper.run(r.tick(5000));
  assert.is(r.actor().history.length, 2, 'nothing more to sweep');
});

test('a deadline that passed unswept still fires before the next event', async () => {
  const r = await rig();
  await r.send({ type: 'ARM', at: r.now() + 1000 });
  r.tick(5000);
  await r.send({ type: 'PING' });
  assert.equal(
    r.actor().history.map((h) => h.event),
    ['ARM', 'TIMEOUT', 'PING'],
  );
  assert.is(r.timeouts(), 1);
});

test("a sweep of a deadline an event replaced meanwhile does not time out the actor's new deadline", async () => {
  const r = await rig();
  const first = r.now() + 1000;
  await r.send({ type: 'ARM', at: first });
  const now = r.tick(5000);
  // The event takes the lock first; the sweep, which saw the old deadline due, queues behind it.
  const armed = r.send({ type: 'ARM', at: now + 60_000 });
  const swept = r.sweeper.run(now);
  await Promise.all([armed, swept]);
  assert.equal(
    r.actor().history.map((h) => h.event),
    ['ARM', 'TIMEOUT', 'ARM'],
    'the passed deadline fired once, before the event',
  );
  assert.is(r.timeouts(), 1);
  assert.is(r.actor().deadline, now + 60_000, 'the new deadline stands');
  assert.equal(r.engine.due(now), [], 'and is not due');
  await r.sweeper.run(r.tick(60_000));
  assert.is(r.timeouts(), 2, 'the new deadline fires when it passes');
});

test.run();
