/**
 * Versions and migrations, pure: every stored actor of fixtures/snapshots/v1 (written by the release
 * before the remodel) is carried forward by its machine's migrations to a snapshot the current machine
 * resolves, in the state it was in, with its stored label and history labels moved alike; the chain of
 * migrations runs in order; a version with no path is refused (the engine then resets the actor).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MACHINES, type MachineName } from '../machines/index';
import { type Migration, moveStates } from '../machines/migrations';
import { stateLabel } from '../server/engine/engine';
import { migrate } from '../server/engine/snapshot-version';
import type { ActorRecord, PersistedActor } from '../server/engine/types';
import { readSnapshots, type SnapshotFixture } from './helpers/snapshots';

const manifest = readSnapshots('v1') as { fixtures: Array<SnapshotFixture & { machine: MachineName }> };
/** A fresh copy of the fixture's stored record, as read from its file. */
const read = (f: SnapshotFixture) => structuredClone(f.record);

/**
 * Where each version-1 state is in the current machines, written out here rather than taken from the
 * machines' migrations, which are what is under test.
 */
const NOW: Record<MachineName, Record<string, string>> = {
  'gate-call': {
    new: 'new',
    initiated: 'live.initiated',
    pending: 'live.pending',
    opened: 'opened',
    failed: 'failed',
  },
  'telegram-chat': { guest: 'guest', member: 'member' },
  'whatsapp-menu': {
    idle: 'idle',
    menu: 'active.menu',
    askingPeriod: 'active.askingPeriod',
    choosingShift: 'active.choosingShift',
  },
  'ivr-call': { new: 'new', menu: 'menu' },
  'admin-alerts': { ok: 'ok', alerting: 'alerting' },
};

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

const now = (machine: MachineName, label: string): string => {
  const to = NOW[machine][label];
  if (to === undefined) throw new Error(`the table above does not know ${machine}'s v1 state ${label}`);
  return to;
};

test('the fixtures: a version-1 stored actor of every machine, in the states that matter', () => {
  const states = manifest.fixtures.map((f) => `${f.machine} ${f.state}`).sort();
  assert.equal(states, [
    'admin-alerts alerting',
    'gate-call initiated',
    'gate-call pending',
    'ivr-call menu',
    'telegram-chat guest',
    'telegram-chat member',
    'whatsapp-menu askingPeriod',
    'whatsapp-menu choosingShift',
    'whatsapp-menu menu',
  ]);
  assert.equal([...new Set(manifest.fixtures.map((f) => f.machine))].sort(), Object.keys(MACHINES).sort());
  for (const f of manifest.fixtures) {
    const record = read(f);
    assert.is(record.key, f.key, f.file);
    assert.is(record.machine, f.machine, f.file);
    assert.is(record.version, 1, f.file);
    assert.is(record.state, f.state, f.file);
    assert.is((record.snapshot as { status: string }).status, 'active', `${f.file}: a live actor`);
  }
});

test('every machine declares a migration from each of its earlier versions', () => {
  for (const entry of Object.values(MACHINES)) {
    const migrations = (entry as { migrations?: Record<number, Migration> }).migrations ?? {};
    for (let v = 1; v < entry.version; v++)
      assert.type(migrations[v], 'function', `${entry.name}: from version ${v} to ${v + 1}`);
    for (const v of Object.keys(migrations).map(Number))
      assert.ok(v >= 1 && v < entry.version, `${entry.name}: a migration from version ${v} leads nowhere`);
  }
  assert.is(MACHINES['gate-call'].version, 2);
  assert.is(MACHINES['telegram-chat'].version, 2);
  assert.is(MACHINES['whatsapp-menu'].version, 2);
});

for (const f of manifest.fixtures) {
  test(`${f.file}: migrates to a snapshot the current ${f.machine} resolves, in ${now(f.machine, f.state)}`, () => {
    const entry = MACHINES[f.machine];
    const stored = deepFreeze(read(f));
    const migrated = migrate(entry, stored) as PersistedActor;
    assert.type(migrated, 'object', String(migrated));
    assert.equal(stored, read(f), 'the stored record is not touched');

    const snapshot = migrated.snapshot as {
      value: unknown;
      context: Record<string, unknown>;
      status: string;
    };
    const resolved = entry.logic.resolveState({ value: snapshot.value, context: snapshot.context } as never);
    assert.is(stateLabel(resolved), now(f.machine, f.state), 'the state it was in');
    assert.is(migrated.state, stateLabel(resolved), 'the stored label moved with it');
    assert.is(snapshot.status, 'active');
    assert.is(resolved.status, 'active');

    assert.is(migrated.history.length, stored.history.length);
    migrated.history.forEach((h, i) => {
      const old = stored.history[i] as ActorRecord['history'][number];
      assert.equal(h, { ...old, from: now(f.machine, old.from), to: now(f.machine, old.to) }, `history ${i}`);
    });

    const oldContext = (stored.snapshot as { context: Record<string, unknown> }).context;
    if (f.machine === 'telegram-chat') {
      const { allowed, ...rest } = oldContext;
      assert.type(allowed, 'boolean', 'v1 kept `allowed` in the context');
      assert.equal(snapshot.context, rest, 'v2 does not: everything else stays');
    } else assert.equal(snapshot.context, oldContext, 'the context stays');
    assert.equal(resolved.context, snapshot.context);
  });
}

test('a migration is pure: the same input gives the same output, and the input is not changed', () => {
  for (const f of manifest.fixtures) {
    const stored = deepFreeze(read(f));
    assert.equal(migrate(MACHINES[f.machine], stored), migrate(MACHINES[f.machine], stored), f.file);
  }
});

// A machine's chain, on a record as the engine stores it.
const record = (version: number, value: unknown, state: string, context: Record<string, unknown> = {}) =>
  deepFreeze({
    key: 't:1',
    machine: 'toy',
    version,
    snapshot: { status: 'active', value, context },
    deadline: null,
    state,
    lastEvent: 'GO',
    updatedAt: 0,
    history: [{ at: 1, event: 'GO', from: 'start', to: state, ref: 'r1' }],
  }) as ActorRecord;

const trail =
  (mark: string): Migration =>
  (actor) => {
    const context = actor.snapshot.context as { trail?: string[] };
    return {
      ...actor,
      snapshot: { ...actor.snapshot, context: { trail: [...(context.trail ?? []), mark] } },
    };
  };
const toy = {
  version: 4,
  migrations: { 1: trail('1→2'), 2: trail('2→3'), 3: moveStates({ one: 'parent.one' }) },
};

test('the chain runs from the stored version up to the current one, in order, each step once', () => {
  const from1 = migrate(toy, record(1, 'one', 'one')) as PersistedActor;
  assert.equal(from1.snapshot.context, { trail: ['1→2', '2→3'] });
  assert.equal(from1.snapshot.value, { parent: 'one' });
  assert.is(from1.state, 'parent.one');
  assert.equal(from1.history, [{ at: 1, event: 'GO', from: 'start', to: 'parent.one', ref: 'r1' }]);
  const from3 = migrate(toy, record(3, 'one', 'one', { trail: ['kept'] })) as PersistedActor;
  assert.equal(from3.snapshot.context, { trail: ['kept'] }, 'only the step from 3');
  assert.equal(from3.snapshot.value, { parent: 'one' });
  const current = migrate(toy, record(4, { parent: 'one' }, 'parent.one')) as PersistedActor;
  assert.equal(current.snapshot.value, { parent: 'one' }, 'the current version: nothing to do');
});

test('a version with no path is refused with the reason (the engine resets such an actor)', () => {
  assert.is(migrate(toy, record(0, 'one', 'one')), 'no migration from version 0');
  assert.is(
    migrate({ version: 4, migrations: { 1: trail('a'), 3: trail('c') } }, record(1, 'one', 'one')),
    'no migration from version 2',
  );
  assert.is(migrate({ version: 2 }, record(1, 'one', 'one')), 'no migration from version 1');
  assert.is(
    migrate(toy, { ...record(1, 'one', 'one'), version: Number.NaN }),
    'no migration from version NaN',
  );
  assert.is(
    migrate(toy, { ...record(1, 'one', 'one'), version: '1' as unknown as number }),
    'no migration from version 1',
    'a version that is not a number',
  );
});

test('a migration that fails on a stored actor is a version with no path too', () => {
  const broken: Migration = () => {
    throw new Error('no such field');
  };
  assert.is(
    migrate({ version: 3, migrations: { 1: trail('1→2'), 2: broken } }, record(1, 'one', 'one')),
    'the migration from version 2 failed: no such field',
  );
});

test('moveStates moves nested values and labels alike, and leaves what it does not name', () => {
  const move = moveStates({ a: 'p.q.a', 'p.b': 'b', constructor: 'x' });
  const moved = (value: unknown, state: string) =>
    move({ snapshot: { status: 'active', value, context: { n: 1 } }, state, history: [] });
  assert.equal(moved('a', 'a').snapshot.value, { p: { q: 'a' } });
  assert.is(moved('a', 'a').state, 'p.q.a');
  assert.equal(moved({ p: 'b' }, 'p.b').snapshot.value, 'b', 'a nested state out of its parent');
  assert.equal(moved('c', 'c').snapshot.value, 'c', 'an unnamed state stays');
  assert.equal(
    moved({ x: 'a', y: 'b' }, 'x.a,y.b').snapshot.value,
    { x: 'a', y: 'b' },
    'a parallel value stays',
  );
  assert.is(moved('toString', 'toString').state, 'toString', 'no inherited names');
  assert.equal(moved('a', 'a').snapshot.context, { n: 1 });
  const history = move({
    snapshot: { value: 'c' },
    state: 'c',
    history: [{ at: 1, from: 'a', to: 'p.b', event: 'E' } as never],
  }).history;
  assert.equal(history, [{ at: 1, from: 'p.q.a', to: 'b', event: 'E' }]);
});

test.run();
