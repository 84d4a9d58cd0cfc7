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
        KEEP: { guard: 'ready' },
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
  assert.ok(m.includes('[*] --> a : initial<br/>RESET'), 'initial of the machine, shared with RESET');
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

test("a compound state's own transitions leave the composite: to a sibling, as a loop, into a child", () => {
  const text = toMermaid(nested);
  const m = lines(text);
  assert.not.match(text, /any state/);
  // The root has transitions of its own: the machine is one composite, its loop outside it.
  assert.is(m[1], 'state "nested" as __machine');
  assert.is(m[2], 'state __machine {');
  assert.is(m.at(-2), '__machine --> __machine : PING');
  // b's own transitions: to a sibling from b's border (written outside b, else Mermaid would pull
  // `a` into it), the done event likewise, and into its own child from b's [*].
  const block = m.slice(m.indexOf('state b {'), m.indexOf('}', m.indexOf('state b {')));
  assert.not.ok(block.includes('b --> a : UP'));
  assert.ok(m.includes('b --> a : UP'));
  assert.ok(m.includes('b --> done : done'));
  assert.ok(block.includes('[*] --> b__y : INNER'), 'into its own child: from its [*]');
  assert.not.ok(
    m.some((l) => /^b --> b__/.test(l)),
    'never an edge from a composite into its own child',
  );
});

test('a targetless transition of a simple state is listed in its box; one that re-enters is a loop', () => {
  const m = lines(toMermaid(nested));
  assert.ok(m.includes('state "a" as a'), 'declared with its name, so the lines go below it');
  assert.ok(m.includes('a : KEEP [ready]'));
  assert.not.ok(m.includes('a --> a : KEEP [ready]'));
  assert.ok(m.includes('a --> a : after 500ms'));
});

test('every registered machine: no "any state", no edge from a composite into its own child', () => {
  for (const m of Object.values(MACHINES)) {
    const text = toMermaid(m.logic);
    assert.not.match(text, /any state/, m.name);
    const composites = [...text.matchAll(/^\s*state (\S+) \{$/gm)].map((x) => x[1] as string);
    for (const line of lines(text)) {
      const edge = /^(\S+) --> (\S+)/.exec(line);
      if (!edge) continue;
      const [, from, to] = edge as unknown as [string, string, string];
      if (composites.includes(from)) assert.not.ok(to.startsWith(`${from}__`), `${m.name}: ${line}`);
    }
  }
});

test('the remodelled machines draw their lifecycle: parents with their own events, no root transitions', () => {
  const gate = lines(toMermaid(MACHINES['gate-call'].logic));
  assert.ok(gate.includes('state live {'));
  assert.ok(gate.includes('new --> live : REQUEST'));
  assert.ok(gate.includes('live__initiated --> live__pending : API_OK'));
  for (const outcome of ['opened', 'busy', 'noAnswer', 'misconfigured'])
    assert.ok(gate.includes(`live --> ${outcome} : CALL_END [endIs(${outcome})]`), outcome);
  assert.ok(gate.includes('live --> failed : CALL_END<br/>TIMEOUT'));
  assert.ok(gate.includes('live --> live : CALL_START'));
  const chat = lines(toMermaid(MACHINES['telegram-chat'].logic));
  assert.ok(chat.some((l) => l.startsWith('guest --> member : CONTACT [allowed]')));
  assert.ok(chat.some((l) => l.startsWith('member --> guest : ')));
  assert.ok(chat.includes('guest : GATE') && chat.includes('member : GATE [coolingDown]'));
  const wa = lines(toMermaid(MACHINES['whatsapp-menu'].logic));
  assert.ok(wa.includes('state active {'));
  assert.ok(wa.includes('active --> idle : TIMEOUT'));
  assert.ok(wa.some((l) => l.startsWith('[*] --> active__menu : initial<br/>')));
  assert.ok(wa.includes('[*] --> active__askingPeriod : BUTTON [isButton(FILL_PERIOD)]'));
  for (const m of ['gate-call', 'telegram-chat', 'whatsapp-menu'] as const)
    assert.is(MACHINES[m].logic.root.transitions.size, 0, `${m}: nothing handled at the root`);
});

test('highlight marks the current state with classDef current and the composites around it', () => {
  const m = lines(toMermaid(nested, { highlight: 'b.x' }));
  assert.ok(m.some((l) => l.startsWith('classDef current ')));
  assert.ok(m.includes('class b__x current'));
  assert.ok(m.some((l) => l.startsWith('classDef currentParent ')));
  assert.ok(m.includes('class b currentParent'));
  const parallel = lines(toMermaid(nested, { highlight: 'p.r1.u,p.r2.k' }));
  assert.ok(parallel.includes('class p__r1__u,p__r2__k current'));
  assert.ok(parallel.includes('class p,p__r1,p__r2 currentParent'));
  const top = lines(toMermaid(nested, { highlight: 'a' }));
  assert.ok(top.includes('class a current'));
  assert.not.ok(
    top.some((l) => l.includes('currentParent')),
    'a top-level state has no parent to mark',
  );
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
