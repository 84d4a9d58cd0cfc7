import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { and, not, setup } from 'xstate';
import { MACHINES } from '../machines/index';
import { delayText, guardName, mermaidId, toMermaid } from '../server/inspect/mermaid';

const test = suite('machine → Mermaid stateDiagram-v2');

const nested = setup({
  guards: { ready: () => true, named: (_, _p: { level: number }) => true },
}).createMachine({
  id: 'nested',
  initial: 'a',
  on: { RESET: '.a', PING: {} },
  states: {
    a: {
      after: { 30000: 'b', 500: { target: 'a', reenter: true }, 1800000: 'done' },
      on: {
        GO: { target: 'p', guard: 'ready' },
        TRY: { target: 'b', guard: ({ context }) => context !== undefined },
        BOTH: { target: 'b', guard: and(['ready', not('ready')]) },
        LEVEL: { target: 'b', guard: { type: 'named', params: { level: 2 } } },
      },
    },
    b: {
      initial: 'x',
      on: { UP: 'a', INNER: '.y' },
      states: { x: { always: [{ target: 'y', guard: 'ready' }] }, y: { type: 'final' } },
      onDone: 'done',
    },
    p: {
      type: 'parallel',
      states: {
        r1: { initial: 'u', states: { u: { on: { T: 'v' } }, v: {} } },
        r2: { initial: 'k', states: { k: {} } },
      },
    },
    done: { type: 'final' },
  },
});

const lines = (text: string) => text.split('\n').map((l) => l.trim());

test('header, initial and final markers', () => {
  const m = lines(toMermaid(nested));
  assert.is(m[0], 'stateDiagram-v2');
  assert.ok(m.includes('[*] --> a'), 'initial of the machine');
  assert.ok(m.includes('[*] --> b__x'), 'initial of a nested state');
  assert.ok(m.includes('done --> [*]'), 'final state');
  assert.ok(m.includes('b__y --> [*]'), 'nested final state');
});

test('nested and parallel states become composite blocks with unique ids', () => {
  const m = lines(toMermaid(nested));
  assert.ok(m.includes('state b {'));
  assert.ok(m.includes('state "x" as b__x'));
  assert.ok(m.includes('state p {'));
  assert.ok(m.includes('--'), 'regions of a parallel state are separated');
  assert.ok(m.includes('p__r1__u --> p__r1__v : T'));
  assert.is(mermaidId(['a-b', 'c']), 'a_b__c');
});

test('every transition is labelled: guards named, inline ones "guarded", after and always readable', () => {
  const text = toMermaid(nested);
  const m = lines(text);
  assert.ok(m.includes('a --> p : GO [ready]'));
  assert.ok(
    m.includes('a --> b : TRY [guarded]<br/>BOTH [ready and not ready]<br/>LEVEL [named(2)]<br/>after 30s'),
  );
  assert.ok(m.includes('a --> a : after 500ms'));
  assert.ok(m.includes('a --> done : after 30min'));
  assert.ok(m.includes('b__x --> b__y : always [ready]'));
  assert.not.match(text, /xstate\.(after|done)/);
});

test('transitions of a compound state leave its "any state"; targetless ones loop', () => {
  const m = lines(toMermaid(nested));
  assert.ok(m.includes('state "any state" as root__any'));
  assert.ok(m.includes('root__any --> a : RESET'));
  assert.ok(m.includes('root__any --> root__any : PING'));
  assert.ok(m.includes('b__any --> b__y : INNER'));
  // An edge leaving the composite is written outside it (Mermaid would pull `a` into the block).
  const block = m.slice(m.indexOf('state b {'), m.indexOf('}', m.indexOf('state b {')));
  assert.not.ok(block.includes('b__any --> a : UP'));
  assert.ok(m.includes('b__any --> a : UP'));
  assert.ok(m.includes('b__any --> done : done'));
});

test('highlight marks the innermost current state with classDef current', () => {
  const m = lines(toMermaid(nested, { highlight: 'b.x' }));
  assert.ok(m.some((l) => l.startsWith('classDef current ')));
  assert.ok(m.includes('class b__x current'));
  assert.not.ok(
    lines(toMermaid(nested)).some((l) => l.includes('current')),
    'no highlight by default',
  );
  assert.not.ok(
    lines(toMermaid(nested, { highlight: 'nowhere' })).some(
      (l) => l.startsWith('class ') && l.endsWith(' current'),
    ),
  );
});

test('helpers: delays and guard names', () => {
  assert.is(delayText(1500), '1.5s');
  assert.is(delayText(60_000), '1min');
  assert.is(delayText('answerTimeout'), 'answerTimeout');
  assert.is(guardName('isCancel'), 'isCancel');
  assert.is(
    guardName(() => true),
    'guarded',
  );
  assert.is(guardName({ type: 'endIs', params: { outcome: 'opened' } }), 'endIs(opened)');
});

test('every registered machine: each state and each event of its definition appears', () => {
  for (const m of Object.values(MACHINES)) {
    const text = toMermaid(m.logic);
    for (const state of Object.keys(m.logic.root.states))
      assert.match(text, new RegExp(`\\b${state}\\b`), `${m.name}: ${state}`);
    for (const event of (m.logic.root.events as string[]).filter((e) => !e.startsWith('xstate.')))
      assert.match(text, new RegExp(`\\b${event}\\b`), `${m.name}: ${event}`);
  }
});

test.run();
