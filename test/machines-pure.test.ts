import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { initialTransition, transition } from 'xstate';
import { telegramChatMachine } from '../machines/telegram-chat';
import { whatsappMenuMachine } from '../machines/whatsapp-menu';
import * as engineStep from '../server/engine/machine-step';

const dir = new URL('../machines', import.meta.url).pathname;

test('machines/ does no I/O and reads no clock or env', () => {
  const forbidden = [
    /Date\.now\(/,
    /new Date\(\)/,
    /process\.env/,
    /from 'node:/,
    /\bfetch\(/,
    /setTimeout\(/,
    /Math\.random\(/,
  ];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(dir, file), 'utf-8');
    for (const re of forbidden) assert.not.ok(re.test(text), `${file} uses ${re}`);
  }
});

const base = { now: 1_000_000, today: '2026-11-22', messageId: 'wamid.1', recent: [], taken: [] };

test('the attendance machine returns its effects as data and runs nothing', () => {
  const [s0] = initialTransition(whatsappMenuMachine, {});
  const [s1, actions] = transition(whatsappMenuMachine, s0, { type: 'BUTTON', id: 'FILL_TODAY', ...base });
  assert.equal(s1.value, { active: 'choosingShift' });
  const named = actions.filter((a) => !a.type.startsWith('xstate.'));
  assert.equal(
    named.map((a) => a.type),
    ['reply'],
  );
  assert.equal((named[0]?.params as { view: string } | undefined)?.view, 'shiftList');
  assert.is(s1.context.deadline, base.now + 30 * 60_000);
  const [s2, a2] = transition(whatsappMenuMachine, s1, {
    type: 'LIST',
    id: 'SHIFT_NIGHT',
    ...base,
    taken: ['2026-11-22'],
  });
  assert.equal(s2.value, { active: 'menu' });
  const rec = a2.find((a) => a.type === 'recordShift');
  assert.equal(rec?.params, { dates: ['2026-11-22'], shift: 'night', messageId: 'wamid.1' });
  const reply = a2.find((a) => a.type === 'reply')?.params as { notice: { replaced: number } };
  assert.is(reply.notice.replaced, 1);
});

test('TIMEOUT ends any step silently', () => {
  const [s0] = initialTransition(whatsappMenuMachine, {});
  const [s1] = transition(whatsappMenuMachine, s0, { type: 'BUTTON', id: 'FILL_PERIOD', ...base });
  const [s2, actions] = transition(whatsappMenuMachine, s1, { type: 'TIMEOUT', now: base.now + 1 });
  assert.is(s2.value, 'idle');
  assert.is(s2.context.deadline, null);
  assert.is(actions.filter((a) => a.type === 'reply').length, 0);
});

test('every message event yields exactly one reply, in every state', () => {
  const events = [
    { type: 'TEXT', text: 'меню' },
    { type: 'TEXT', text: '01.11-03.11' },
    { type: 'TEXT', text: 'ночная' },
    { type: 'TEXT', text: 'abc' },
    { type: 'BUTTON', id: 'FILL_TODAY' },
    { type: 'BUTTON', id: 'FILL_PERIOD' },
    { type: 'BUTTON', id: 'MY_STATUS' },
    { type: 'BUTTON', id: 'NOPE' },
    { type: 'LIST', id: 'SHIFT_DAY' },
    { type: 'LIST', id: 'NOPE' },
    { type: 'UNSUPPORTED', kind: 'image' },
  ] as const;
  // Walk every pair of events from the fresh state: covers every state the dialog can reach.
  const [s0] = initialTransition(whatsappMenuMachine, {});
  for (const first of events) {
    const [s1] = transition(whatsappMenuMachine, s0, { ...first, ...base });
    for (const second of events) {
      const [, actions] = transition(whatsappMenuMachine, s1, { ...second, ...base });
      const replies = actions.filter((a) => a.type === 'reply').length;
      assert.is(
        replies,
        1,
        `${JSON.stringify(first)} then ${JSON.stringify(second)} in ${JSON.stringify(s1.value)}`,
      );
    }
  }
});

test("the engine's step (one shared inert scope per machine) equals XState's transition()", () => {
  const events = [
    { type: 'TEXT', text: 'меню' },
    { type: 'TEXT', text: '01.11-03.11' },
    { type: 'TEXT', text: 'ночная' },
    { type: 'TEXT', text: 'стоп' },
    { type: 'TEXT', text: 'старт' },
    { type: 'BUTTON', id: 'FILL_TODAY' },
    { type: 'BUTTON', id: 'FILL_PERIOD' },
    { type: 'BUTTON', id: 'MY_STATUS' },
    { type: 'BUTTON', id: 'NOPE' },
    { type: 'LIST', id: 'SHIFT_DAY' },
    { type: 'LIST', id: 'SHIFT_OFF' },
    { type: 'UNSUPPORTED', kind: 'image' },
    { type: 'REMIND', date: '2026-11-22', recorded: false, stopped: false, windowOpen: true, name: 'A' },
    { type: 'TIMEOUT' },
  ] as const;
  const same = (
    a: [{ value: unknown; status: string; context: unknown }, Array<{ type: string; params?: unknown }>],
    b: [{ value: unknown; status: string; context: unknown }, Array<{ type: string; params?: unknown }>],
    what: string,
  ) => {
    assert.equal(
      whatsappMenuMachine.getPersistedSnapshot(b[0] as never),
      whatsappMenuMachine.getPersistedSnapshot(a[0] as never),
      what,
    );
    assert.equal(
      b[1].map((x) => [x.type, x.params]),
      a[1].map((x) => [x.type, x.params]),
      what,
    );
  };
  for (const input of [{}, { reset: true }]) {
    const theirs0 = initialTransition(whatsappMenuMachine, input);
    const ours0 = engineStep.initialTransition(whatsappMenuMachine, input);
    same(theirs0, ours0, 'initial');
    // Three events from every start: every state, and the actions of each step.
    let n = 0;
    for (const e1 of events)
      for (const e2 of events)
        for (const e3 of events) {
          let theirs = theirs0[0];
          let ours = ours0[0];
          for (const e of [e1, e2, e3]) {
            const ev = { ...e, ...base, now: base.now + n++ };
            const t = transition(whatsappMenuMachine, theirs, ev);
            const o = engineStep.transition(whatsappMenuMachine, ours, ev);
            same(t, o, `${e1.type} ${e2.type} ${e3.type}`);
            theirs = t[0];
            ours = o[0];
          }
        }
  }
});

test("the engine's step equals XState's transition() for the Telegram chat, which hands updates over", () => {
  // A guest's allowed gate command moves to member and is raised again there: the shared scope must
  // process XState's internal queue exactly as transition() does.
  const who = [
    { allowed: false, admin: false },
    { allowed: true, admin: false },
    { allowed: true, admin: true },
  ];
  const events = who.flatMap((w) => [
    { type: 'START', ...w },
    { type: 'GATE', gate: 'hvirtka', busy: false, available: true, cooldownMs: 5000, ...w },
    { type: 'CONTACT', phone: '380501112233', own: true, ...w },
    { type: 'ADMIN', command: 'allow', phone: '380501112233', ...w },
    { type: 'STATS', stats: { day: {}, week: {} }, ...w },
  ]);
  const pure = (s: { value: unknown; context: unknown; status: string }) => [s.value, s.context, s.status];
  const named = (actions: ReadonlyArray<{ type: string; params?: unknown }>) =>
    actions.filter((a) => !a.type.startsWith('xstate.')).map((a) => [a.type, a.params]);
  let n = 0;
  for (const e1 of events)
    for (const e2 of events)
      for (const e3 of events) {
        let theirs = initialTransition(telegramChatMachine)[0];
        let ours = engineStep.initialTransition(telegramChatMachine, undefined)[0];
        for (const e of [e1, e2, e3]) {
          const ev = { ...e, now: 1_000_000 + 1000 * n++, chatId: 5, firstName: 'A' } as never;
          const [t, ta] = transition(telegramChatMachine, theirs, ev);
          const [o, oa] = engineStep.transition(telegramChatMachine, ours, ev);
          assert.equal(pure(o), pure(t), `${e1.type} ${e2.type} ${e3.type}`);
          assert.equal(named(oa), named(ta), `${e1.type} ${e2.type} ${e3.type}`);
          theirs = t;
          ours = o;
        }
      }
});

test.run();
