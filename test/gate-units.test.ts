/**
 * Pure units of the gate deployment: the outcome table, the gate-call, voice-menu and Telegram chat
 * machines stepped with `transition()`, phone normalisation, the clients CSV, the gate-leg matcher and
 * the IVR answer renderer. No server, no I/O.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type AnyMachineSnapshot, type AnyStateMachine, initialTransition, transition } from 'xstate';
import { type GateCallEvent, gateCallMachine } from '../machines/gate-call';
import { decideOutcome, OUTCOME_RULES } from '../machines/gate-outcome';
import { IVR_MAX_ATTEMPTS, IVR_PROMPTS, type IvrEvent, ivrCallMachine } from '../machines/ivr-call';
import { type TelegramChatEvent, telegramChatMachine } from '../machines/telegram-chat';
import { readConfig, secretsOf } from '../server/config/config';
import { clientMap, clientsCsv, parseClients, readClientsCsv } from '../server/gate/clients-csv';
import { renderIvr } from '../server/gate/ivr-binding';
import { gateLeg } from '../server/gate/zadarma-events';
import { normalisePhone, samePhone } from '../server/lib/phone';
import { uk } from '../server/texts/uk';

// biome-ignore lint/suspicious/noExplicitAny: snapshots and params are inspected freely
type Json = any;

interface Step {
  snap: AnyMachineSnapshot;
  actions: Array<{ type: string; params: Json }>;
}

function start(machine: AnyStateMachine): AnyMachineSnapshot {
  return initialTransition(machine)[0];
}

function step(
  machine: AnyStateMachine,
  snap: AnyMachineSnapshot,
  event: { type: string; [k: string]: unknown },
): Step {
  const [next, actions] = transition(machine, snap, event as never);
  return {
    snap: next,
    actions: actions
      .filter((a) => !a.type.startsWith('xstate.'))
      .map((a) => ({ type: a.type, params: (a as { params?: unknown }).params })),
  };
}

const types = (s: Step) => s.actions.map((a) => a.type);
const action = (s: Step, type: string) => s.actions.find((a) => a.type === type)?.params;

// ---------------------------------------------------------------------------------------------
// decideOutcome

test('decideOutcome: every row of the table', () => {
  assert.is(decideOutcome('cancel', 5), 'opened');
  assert.is(decideOutcome('cancel', 1), 'opened');
  assert.is(decideOutcome('busy', 0), 'busy');
  assert.is(decideOutcome('busy', 12), 'busy');
  assert.is(decideOutcome('cancel', 0), 'noAnswer');
  assert.is(decideOutcome('no answer', 0), 'noAnswer');
  assert.is(decideOutcome('no answered', 0), 'noAnswer');
  assert.is(decideOutcome('no-answer', 0), 'noAnswer');
  assert.is(decideOutcome('answered', 0), 'misconfigured');
  assert.is(decideOutcome('answered', 30), 'misconfigured');
  // The other dispositions of the official PHP SDK (NotifyEnd doc-comment); OpenAPI's statistics enum
  // says 'call failed' instead of 'failed'.
  for (const d of [
    'failed',
    'call failed',
    'no money',
    'unallocated number',
    'no limit',
    'no day limit',
    'line limit',
  ])
    assert.is(decideOutcome(d, 0), 'failed', d);
  assert.is(OUTCOME_RULES.at(-1)?.outcome, 'failed', 'the last rule is the catch-all');
});

test('decideOutcome: edges (case, spaces, durations, odd dispositions)', () => {
  assert.is(decideOutcome('  CANCEL ', 3), 'opened');
  assert.is(decideOutcome('Cancel', 0), 'noAnswer');
  assert.is(decideOutcome('BUSY', 0), 'busy');
  assert.is(decideOutcome(' No Answer\t', 0), 'noAnswer');
  assert.is(decideOutcome('ANSWERED', 2), 'misconfigured');
  // 'no answer' only counts with duration 0: with a duration it is not in the table → failed
  assert.is(decideOutcome('no answer', 3), 'failed');
  assert.is(decideOutcome('no money, no limit', 0), 'failed');
  assert.is(decideOutcome('no money, no limit', 9), 'failed');
  assert.is(decideOutcome('', 0), 'failed');
  assert.is(decideOutcome('', 5), 'failed');
  assert.is(decideOutcome('cancelled', 5), 'failed', 'no prefix matching');
  assert.is(decideOutcome('cancel', 0.5), 'opened');
  assert.is(decideOutcome('cancel', -1), 'failed', 'a negative duration is neither positive nor zero');
  assert.is(decideOutcome('cancel', Number.NaN), 'failed');
  assert.is(decideOutcome('cancel', Number.POSITIVE_INFINITY), 'opened');
});

// ---------------------------------------------------------------------------------------------
// gate-call machine

const T0 = 1_700_000_000_000;
const request = (o: Partial<Extract<GateCallEvent, { type: 'REQUEST' }>> = {}): GateCallEvent => ({
  type: 'REQUEST',
  now: T0,
  gate: 'vorota',
  relay: '380930063585',
  source: 'telegram',
  userId: 42,
  chatId: 42,
  busy: false,
  timeoutMs: 60_000,
  ...o,
});

function requested(o: Partial<Extract<GateCallEvent, { type: 'REQUEST' }>> = {}): Step {
  return step(gateCallMachine, start(gateCallMachine), request(o));
}

test('gate-call: REQUEST on a busy gate → duplicate, "already opening", no call, no claim', () => {
  const s = requested({ busy: true });
  assert.is(s.snap.value, 'duplicate');
  assert.is(s.snap.status, 'done');
  assert.equal(types(s), ['notify']);
  assert.equal(action(s, 'notify'), { kind: 'alreadyOpening', gate: 'vorota', chatId: 42 });
  assert.is(s.snap.context.outcome, 'duplicate');
  assert.is(s.snap.context.deadline, null);
});

test('gate-call: REQUEST → initiated with claimGate + requestCallback and a deadline', () => {
  const s = requested();
  assert.equal(s.snap.value, { live: 'initiated' });
  assert.equal(types(s), ['claimGate', 'requestCallback']);
  assert.equal(action(s, 'claimGate'), { gate: 'vorota' });
  assert.equal(action(s, 'requestCallback'), { gate: 'vorota', to: '380930063585' });
  assert.is(s.snap.context.deadline, T0 + 60_000);
  assert.is(s.snap.context.requestedAt, T0);
  assert.is(s.snap.context.source, 'telegram');
});

test('gate-call: an IVR REQUEST keeps the caller and has no chat', () => {
  const s = requested({ source: 'ivr', userId: undefined, chatId: undefined, caller: '380501112233' });
  assert.is(s.snap.context.source, 'ivr');
  assert.is(s.snap.context.caller, '380501112233');
  assert.is(s.snap.context.chatId, null);
  const ok = step(gateCallMachine, s.snap, { type: 'API_OK', now: T0 + 1 });
  assert.equal(action(ok, 'notify'), { kind: 'initiated', gate: 'vorota', chatId: null });
});

test('gate-call: API_OK → pending + notify initiated; CALL_END cancel>0 → opened, released', () => {
  const ok = step(gateCallMachine, requested().snap, { type: 'API_OK', now: T0 + 100 });
  assert.equal(ok.snap.value, { live: 'pending' });
  assert.equal(ok.actions, [{ type: 'notify', params: { kind: 'initiated', gate: 'vorota', chatId: 42 } }]);
  const start = step(gateCallMachine, ok.snap, { type: 'CALL_START', now: T0 + 200, pbxCallId: 'out_1' });
  assert.equal(start.snap.value, { live: 'pending' });
  assert.is(start.snap.context.pbxCallId, 'out_1');
  const end = step(gateCallMachine, start.snap, {
    type: 'CALL_END',
    now: T0 + 5000,
    pbxCallId: 'out_1',
    disposition: 'cancel',
    duration: 4,
  });
  assert.is(end.snap.value, 'opened');
  assert.is(end.snap.status, 'done');
  assert.equal(types(end), ['releaseGate', 'notify']);
  assert.equal(action(end, 'notify'), { kind: 'opened', gate: 'vorota', chatId: 42 });
  assert.is(end.snap.context.outcome, 'opened');
  assert.is(end.snap.context.endedAt, T0 + 5000);
  assert.is(end.snap.context.deadline, null);
  assert.is(end.snap.context.disposition, 'cancel');
  assert.is(end.snap.context.duration, 4);
});

test('gate-call: API_FAILED → failed (api) + notify apiFailed + alertAdmins, gate released', () => {
  const s = step(gateCallMachine, requested().snap, {
    type: 'API_FAILED',
    now: T0 + 50,
    message: 'Auth error',
  });
  assert.is(s.snap.value, 'failed');
  assert.is(s.snap.context.reason, 'api');
  assert.is(s.snap.context.error, 'Auth error');
  assert.is(s.snap.context.deadline, null);
  assert.ok(types(s).includes('alertAdmins'));
  assert.ok(types(s).includes('releaseGate'));
  assert.equal(action(s, 'alertAdmins'), {
    kind: 'apiFailed',
    gate: 'vorota',
    relay: '380930063585',
    detail: 'Auth error',
  });
  const notes = s.actions.filter((a) => a.type === 'notify').map((a) => a.params);
  const toUser = notes.filter((n) => n.chatId !== null);
  assert.equal(
    toUser,
    [{ kind: 'apiFailed', gate: 'vorota', chatId: 42, detail: 'Auth error' }],
    'the user hears it once',
  );
});

test('gate-call: CALL_END before API_OK still decides', () => {
  for (const [disposition, duration, outcome] of [
    ['cancel', 3, 'opened'],
    ['busy', 0, 'busy'],
    ['no answer', 0, 'noAnswer'],
    ['answered', 10, 'misconfigured'],
    ['no money', 0, 'failed'],
  ] as const) {
    const s = step(gateCallMachine, requested().snap, {
      type: 'CALL_END',
      now: T0 + 9,
      disposition,
      duration,
    });
    assert.is(s.snap.value, outcome, disposition);
    assert.is(s.snap.context.outcome, outcome);
    assert.ok(types(s).includes('releaseGate'));
    // the late API_OK changes nothing
    const late = step(gateCallMachine, s.snap, { type: 'API_OK', now: T0 + 10 });
    assert.is(late.snap.value, outcome);
    assert.equal(late.actions, []);
  }
  const mis = step(gateCallMachine, requested().snap, {
    type: 'CALL_END',
    now: T0,
    disposition: 'answered',
    duration: 1,
  });
  assert.equal(action(mis, 'alertAdmins'), { kind: 'misconfigured', gate: 'vorota', relay: '380930063585' });
  const failed = step(gateCallMachine, requested().snap, {
    type: 'CALL_END',
    now: T0,
    disposition: 'line limit',
    duration: 0,
  });
  assert.is(failed.snap.context.reason, 'disposition');
  assert.equal(action(failed, 'notify'), {
    kind: 'failed',
    gate: 'vorota',
    chatId: 42,
    detail: 'line limit',
  });
});

test('gate-call: TIMEOUT → failed (timeout); CALL_END after a final state does nothing', () => {
  const pending = step(gateCallMachine, requested().snap, { type: 'API_OK', now: T0 + 1 }).snap;
  const t = step(gateCallMachine, pending, { type: 'TIMEOUT', now: T0 + 60_000 });
  assert.is(t.snap.value, 'failed');
  assert.is(t.snap.context.reason, 'timeout');
  assert.equal(action(t, 'notify'), { kind: 'timeout', gate: 'vorota', chatId: 42 });
  assert.ok(types(t).includes('releaseGate'));
  const end = step(gateCallMachine, t.snap, {
    type: 'CALL_END',
    now: T0 + 61_000,
    disposition: 'cancel',
    duration: 3,
  });
  assert.is(end.snap.value, 'failed');
  assert.equal(end.actions, []);
  assert.is(end.snap.context.disposition, null);
  const again = step(gateCallMachine, t.snap, { type: 'TIMEOUT', now: T0 + 70_000 });
  assert.equal(again.actions, []);
  // after opened: a second END (redelivery with another disposition) changes nothing
  const opened = step(gateCallMachine, pending, {
    type: 'CALL_END',
    now: T0 + 2,
    disposition: 'cancel',
    duration: 2,
  });
  const second = step(gateCallMachine, opened.snap, {
    type: 'CALL_END',
    now: T0 + 3,
    disposition: 'busy',
    duration: 0,
  });
  assert.is(second.snap.value, 'opened');
  assert.equal(second.actions, []);
  // a duplicate ignores everything
  const dup = requested({ busy: true }).snap;
  for (const e of [
    { type: 'CALL_END', now: T0, disposition: 'cancel', duration: 2 },
    { type: 'TIMEOUT', now: T0 },
    { type: 'API_OK', now: T0 },
  ]) {
    const s = step(gateCallMachine, dup, e);
    assert.is(s.snap.value, 'duplicate');
    assert.equal(s.actions, []);
  }
});

test('gate-call: events before REQUEST are ignored', () => {
  const s0 = start(gateCallMachine);
  for (const e of [
    { type: 'CALL_END', now: T0, disposition: 'cancel', duration: 2 },
    { type: 'CALL_START', now: T0, pbxCallId: 'x' },
    { type: 'TIMEOUT', now: T0 },
  ]) {
    const s = step(gateCallMachine, s0, e);
    assert.is(s.snap.value, 'new', e.type);
    assert.equal(s.actions, []);
  }
});

// ---------------------------------------------------------------------------------------------
// ivr-call machine

const ivrStart = (allowed: boolean, caller = '380501112233'): Step =>
  step(ivrCallMachine, start(ivrCallMachine), {
    type: 'NOTIFY_START',
    now: T0,
    caller,
    allowed,
  } satisfies IvrEvent);
const digits = (snap: AnyMachineSnapshot, d: string): Step =>
  step(ivrCallMachine, snap, { type: 'NOTIFY_IVR', now: T0, digits: d } satisfies IvrEvent);

test('ivr-call: an allowed caller hears the menu and waits for a digit', () => {
  const s = ivrStart(true);
  assert.is(s.snap.value, 'menu');
  assert.equal(s.actions, [{ type: 'answer', params: { prompt: 'menu', waitDtmf: true, hangup: false } }]);
  assert.is(s.snap.context.caller, '380501112233');
});

test('ivr-call: an unknown caller is refused and hung up on; digits do nothing', () => {
  const s = ivrStart(false, '380679998877');
  assert.is(s.snap.value, 'refused');
  assert.is(s.snap.status, 'done');
  assert.equal(s.actions, [{ type: 'answer', params: { prompt: 'refused', waitDtmf: false, hangup: true } }]);
  for (const d of ['1', '2']) assert.equal(digits(s.snap, d).actions, []);
});

test('ivr-call: 1 opens vorota, 2 hvirtka (spaces trimmed), then nothing more', () => {
  const menu = ivrStart(true).snap;
  const one = digits(menu, '1');
  assert.is(one.snap.value, 'opening');
  assert.equal(one.actions, [
    { type: 'openGate', params: { gate: 'vorota', caller: '380501112233' } },
    { type: 'answer', params: { prompt: 'openingVorota', waitDtmf: false, hangup: true } },
  ]);
  assert.is(one.snap.context.choice, 'vorota');
  const two = digits(menu, ' 2 ');
  assert.equal(action(two, 'openGate'), { gate: 'hvirtka', caller: '380501112233' });
  assert.equal(action(two, 'answer'), { prompt: 'openingHvirtka', waitDtmf: false, hangup: true });
  assert.equal(digits(one.snap, '2').actions, [], 'a second digit opens nothing');
  assert.equal(
    step(ivrCallMachine, one.snap, { type: 'NOTIFY_START', now: T0, caller: 'x', allowed: true }).actions,
    [],
  );
});

test('ivr-call: invalid digits ask again; the third invalid one says goodbye and hangs up', () => {
  assert.is(IVR_MAX_ATTEMPTS, 3);
  let snap = ivrStart(true).snap;
  for (const [i, d] of ['9', ''].entries()) {
    const s = digits(snap, d);
    assert.is(s.snap.value, 'menu');
    assert.equal(s.actions, [
      { type: 'answer', params: { prompt: 'invalid', waitDtmf: true, hangup: false } },
    ]);
    assert.is(s.snap.context.attempts, i + 1);
    snap = s.snap;
  }
  const last = digits(snap, '12');
  assert.is(last.snap.value, 'ended');
  assert.equal(last.actions, [
    { type: 'answer', params: { prompt: 'goodbye', waitDtmf: false, hangup: true } },
  ]);
  assert.is(last.snap.context.attempts, 3);
  assert.equal(digits(last.snap, '1').actions, []);
  // a valid digit on the last attempt still opens
  const s1 = digits(digits(ivrStart(true).snap, '0').snap, '*');
  assert.equal(action(digits(s1.snap, '1'), 'openGate'), { gate: 'vorota', caller: '380501112233' });
});

test('ivr-call: CALL_END ends the menu silently', () => {
  const s = step(ivrCallMachine, ivrStart(true).snap, { type: 'CALL_END', now: T0 });
  assert.is(s.snap.value, 'ended');
  assert.equal(s.actions, []);
  const fresh = step(ivrCallMachine, start(ivrCallMachine), { type: 'CALL_END', now: T0 });
  assert.is(fresh.snap.value, 'new');
  const early = digits(start(ivrCallMachine), '1');
  assert.is(early.snap.value, 'new', 'digits before NOTIFY_START open nothing');
  assert.equal(early.actions, []);
});

// ---------------------------------------------------------------------------------------------
// telegram-chat machine

const base = { now: T0, chatId: 77, firstName: 'Олена', allowed: true, admin: false };
const gateEvent = (o: Partial<Extract<TelegramChatEvent, { type: 'GATE' }>> = {}): TelegramChatEvent => ({
  ...base,
  type: 'GATE',
  gate: 'vorota',
  busy: false,
  available: true,
  cooldownMs: 10_000,
  ...o,
});
const chat = (snap: AnyMachineSnapshot, e: TelegramChatEvent) => step(telegramChatMachine, snap, e);
const view = (s: Step) => (action(s, 'reply') as Json)?.view;

test('telegram-chat: a guest who is not allowed is denied and no gate opens', () => {
  const s = chat(start(telegramChatMachine), gateEvent({ allowed: false }));
  assert.equal(view(s), { view: 'denied' });
  assert.equal(types(s), ['reply']);
  assert.is(s.snap.value, 'guest');
});

test('telegram-chat: allowed → keys + openGate; again within the cooldown → seconds left; busy → already opening', () => {
  const open = chat(start(telegramChatMachine), gateEvent());
  assert.equal(types(open), ['reply', 'openGate']);
  assert.equal(view(open), { view: 'keys', gate: 'vorota' });
  assert.equal(action(open, 'openGate'), { gate: 'vorota', chatId: 77 });
  assert.is(open.snap.value, 'member');
  assert.is(open.snap.context.lastGateAt, T0);
  const cool = chat(open.snap, gateEvent({ now: T0 + 2_500, gate: 'hvirtka' }));
  assert.equal(view(cool), { view: 'cooldown', seconds: 8 });
  assert.equal(types(cool), ['reply']);
  const edge = chat(open.snap, gateEvent({ now: T0 + 9_001 }));
  assert.equal(view(edge), { view: 'cooldown', seconds: 1 }, 'rounded up');
  const busy = chat(open.snap, gateEvent({ now: T0 + 10_000, busy: true, gate: 'hvirtka' }));
  assert.equal(view(busy), { view: 'alreadyOpening', gate: 'hvirtka' });
  assert.equal(types(busy), ['reply']);
  const again = chat(open.snap, gateEvent({ now: T0 + 10_000, gate: 'hvirtka' }));
  assert.equal(action(again, 'openGate'), { gate: 'hvirtka', chatId: 77 });
  const off = chat(start(telegramChatMachine), gateEvent({ available: false }));
  assert.equal(view(off), { view: 'gatesOff' });
  assert.equal(types(off), ['reply']);
  const tap = chat(start(telegramChatMachine), gateEvent({ callbackQueryId: 'cq-1' }));
  assert.is((action(tap, 'reply') as Json).callbackQueryId, 'cq-1');
});

test('telegram-chat: contacts (foreign refused; own remembered, accepted or refused)', () => {
  const s0 = start(telegramChatMachine);
  const foreign = chat(s0, { ...base, type: 'CONTACT', phone: '380501112233', own: false });
  assert.equal(view(foreign), { view: 'contactForeign' });
  assert.equal(types(foreign), ['reply']);
  assert.is(foreign.snap.context.phone, null);
  const accepted = chat(s0, { ...base, type: 'CONTACT', phone: '380501112233', own: true });
  assert.equal(types(accepted), ['rememberPhone', 'reply']);
  assert.equal(action(accepted, 'rememberPhone'), { phone: '380501112233' });
  assert.equal(view(accepted), { view: 'contactAccepted', firstName: 'Олена' });
  assert.is(accepted.snap.value, 'member');
  const refused = chat(s0, { ...base, allowed: false, type: 'CONTACT', phone: '380679998877', own: true });
  assert.equal(view(refused), { view: 'contactRefused', firstName: 'Олена' });
  assert.equal(action(refused, 'rememberPhone'), { phone: '380679998877' });
  assert.is(refused.snap.value, 'guest');
  // a revocation arrives with the next event
  const revoked = chat(accepted.snap, { ...base, allowed: false, type: 'HELP' });
  assert.is(revoked.snap.value, 'guest');
  assert.equal(view(revoked), { view: 'help', member: false, admin: false });
});

test('telegram-chat: admin commands', () => {
  const s0 = start(telegramChatMachine);
  const notAdmin = chat(s0, { ...base, type: 'ADMIN', command: 'allow', phone: '380501112233' });
  assert.equal(view(notAdmin), { view: 'adminOnly' });
  assert.equal(types(notAdmin), ['reply']);
  const admin = { ...base, admin: true };
  const bad = chat(s0, { ...admin, type: 'ADMIN', command: 'allow', phone: null });
  assert.equal(view(bad), { view: 'badPhone' });
  assert.equal(types(bad), ['reply']);
  const allow = chat(s0, { ...admin, type: 'ADMIN', command: 'allow', phone: '380501112233' });
  assert.equal(types(allow), ['setAccess', 'reply']);
  assert.equal(action(allow, 'setAccess'), { phone: '380501112233', allowed: true });
  assert.equal(view(allow), { view: 'access', phone: '380501112233', allowed: true });
  const revoke = chat(s0, { ...admin, type: 'ADMIN', command: 'revoke', phone: '380501112233' });
  assert.equal(action(revoke, 'setAccess'), { phone: '380501112233', allowed: false });
  const stats = { day: { opened: 2 }, week: { opened: 5 } };
  assert.equal(view(chat(s0, { ...base, type: 'STATS', stats })), { view: 'adminOnly' });
  assert.equal(view(chat(s0, { ...admin, type: 'STATS', stats })), { view: 'stats', stats });
  assert.equal(view(chat(s0, { ...admin, type: 'START' })), {
    view: 'welcome',
    firstName: 'Олена',
    member: true,
    admin: true,
  });
  assert.equal(view(chat(s0, { ...base, allowed: false, type: 'TEXT' })), { view: 'unknown', member: false });
});

// ---------------------------------------------------------------------------------------------
// phones, clients, gate legs

test('normalisePhone: every spelling of a Ukrainian number is one', () => {
  for (const s of [
    '+380 50 111-22-33',
    '380501112233',
    '0501112233',
    '501112233',
    '00380501112233',
    '+38 (050) 111-22-33',
    ' 050.111.22.33 ',
    '+380501112233',
  ])
    assert.is(normalisePhone(s), '380501112233', s);
  assert.is(normalisePhone('+44 20 3769 1880'), '442037691880');
  assert.is(normalisePhone('0044 20 3769 1880'), '442037691880');
  assert.ok(samePhone('+380 50 111-22-33', '0501112233'));
  assert.not.ok(samePhone('0501112233', '0501112234'));
  assert.not.ok(samePhone('abc', 'abc'));
  assert.not.ok(samePhone(undefined, '0501112233'));
});

test('normalisePhone: not a phone → null', () => {
  for (const s of [
    'abc',
    '050111223a',
    '+380 50 111 22 33 ext 5',
    '',
    ' ',
    '123456',
    '12345',
    '1234567890123456',
    `+${'1'.repeat(40)}`,
    '1'.repeat(41),
    '380501112233;',
    '٠٥٠١١١٢٢٣٣',
  ])
    assert.is(normalisePhone(s), null, JSON.stringify(s));
  assert.is(normalisePhone('1234567'), '1234567', '7 digits is the shortest accepted');
  assert.is(normalisePhone('123456789012345'), '123456789012345', '15 digits is the longest');
  assert.is(normalisePhone(42 as unknown as string), null);
});

test('parseClients: header, BOM, quotes, CRLF, blank lines, names with commas', () => {
  const text =
    '\uFEFFphone,name\r\n' +
    '"+380 50 111-22-33","Іваненко, кв. 5"\r\n' +
    '\r\n' +
    '0671234567,Петро\r\n' +
    '  380931112233 ,  Марія  \n' +
    'not a phone,Хтось\n' +
    '0631112233\n' +
    '"0661112233",\n';
  const m = parseClients(text);
  assert.equal(
    [...m.entries()],
    [
      ['380501112233', 'Іваненко, кв. 5'],
      ['380671234567', 'Петро'],
      ['380931112233', 'Марія'],
      ['380631112233', ''],
      ['380661112233', ''],
    ],
  );
  assert.is(parseClients('').size, 0);
  assert.is(parseClients('phone,name\n').size, 0);
  assert.is(parseClients('"phone","name"\r\n"0501112233","A"').get('380501112233'), 'A');
});

test('readClientsCsv: line numbers, unquoted commas and stray quotes in names, lone CR, bad CSV named', () => {
  const { rows, errors } = readClientsCsv(
    '0501112233,Ivan "Kum" Petrenko\n\n0501112234,  Kv 5, pid 2,,\r0501112235,"Яна, ""старшая"""\n# note\n',
  );
  assert.equal(errors, []);
  assert.equal(
    rows.map((r) => [r.line, r.phone, r.name]),
    [
      [1, '380501112233', 'Ivan "Kum" Petrenko'],
      [3, '380501112234', 'Kv 5, pid 2'],
      [4, '380501112235', 'Яна, "старшая"'],
      [5, null, ''],
    ],
  );
  assert.equal(rows[3]?.cells, ['# note']);
  const broken = readClientsCsv('0501112233,A\n0501112234,"B\n');
  assert.equal([...clientMap(broken.rows)], [['380501112233', 'A']]);
  assert.is(broken.errors.length, 1);
  assert.match(broken.errors[0] ?? '', /^Quote Not Closed.*the last good record ends on line 1\)$/);
});

test('clientsCsv: names with quotes, commas and line breaks read back the same; header optional', () => {
  const clients = new Map([
    ['380501112233', 'Яна, "старшая"'],
    ['380501112234', '"Кум"'],
    ['380501112235', "кв. 5\nпід'їзд 2"],
    ['380501112236', ''],
    ['380501112237', 'Петро'],
  ]);
  const text = clientsCsv(clients);
  assert.is(text.split('\n')[0], 'phone,name');
  assert.ok(text.includes('380501112233,"Яна, ""старшая"""\n'), text);
  assert.equal([...parseClients(text)], [...clients]);
  assert.is(clientsCsv([['+380501112237', 'Петро']], false), '+380501112237,Петро\n');
});

const RELAYS = { hvirtka: '380637442017', vorota: '380930063585' };

test('gateLeg: the relay number in caller_id, called_did, destination or internal, any spelling', () => {
  assert.is(gateLeg({ caller_id: '+380930063585' }, RELAYS), 'vorota');
  assert.is(gateLeg({ caller_id: '0930063585' }, RELAYS), 'vorota');
  assert.is(gateLeg({ called_did: '380637442017' }, RELAYS), 'hvirtka');
  assert.is(gateLeg({ destination: '+38 (063) 744-20-17' }, RELAYS), 'hvirtka');
  assert.is(gateLeg({ internal: '0637442017' }, RELAYS), 'hvirtka');
  assert.is(gateLeg({ caller_id: '100', destination: '0930063585', internal: '100' }, RELAYS), 'vorota');
  assert.is(gateLeg({ caller_id: '+380501112233', called_did: '442037691881' }, RELAYS), undefined);
  assert.is(gateLeg({}, RELAYS), undefined);
  assert.is(gateLeg({ caller_id: 'anonymous', destination: '' }, RELAYS), undefined);
  assert.is(gateLeg({ caller_id: '0930063585' }, {}), undefined, 'no relays configured');
  assert.is(gateLeg({ caller_id: '0930063585' }, { hvirtka: RELAYS.hvirtka }), undefined);
  // other fields do not count
  assert.is(gateLeg({ pbx_call_id: '380930063585', call_id_with_rec: '0930063585' }, RELAYS), undefined);
});

// ---------------------------------------------------------------------------------------------
// renderIvr

const info = { call: true, map: false, scheme: false };
const org = { name: 'Тест', supportPhone: '+380 44 123 45 67', info };

test('renderIvr: spoken prompts in Ukrainian (language ua), wait_dtmf for one digit, hangup as 1', () => {
  assert.equal(renderIvr({ prompt: 'menu', waitDtmf: true, hangup: false }, { org, sounds: {} }), {
    ivr_say: { text: uk.ivr.menu, language: 'ua' },
    wait_dtmf: { timeout: 10, attempts: 1, maxdigits: 1, name: 'main_menu' },
  });
  assert.equal(renderIvr({ prompt: 'openingVorota', waitDtmf: false, hangup: true }, { org, sounds: {} }), {
    ivr_say: { text: uk.ivr.openingVorota, language: 'ua' },
    hangup: 1,
  });
  const refused = renderIvr(
    { prompt: 'refused', waitDtmf: false, hangup: true },
    { org, sounds: {} },
  ) as Json;
  assert.is(
    refused.ivr_say.text,
    'Вибачте, ваш номер не має доступу. Зверніться за номером 3 8 0 4 4 1 2 3 4 5 6 7. До побачення.',
  );
  const noSupport = renderIvr(
    { prompt: 'refused', waitDtmf: false, hangup: true },
    { org: { name: 'Тест', info }, sounds: {} },
  ) as Json;
  assert.is(noSupport.ivr_say.text, 'Вибачте, ваш номер не має доступу. До побачення.');
  for (const prompt of IVR_PROMPTS) {
    const a = renderIvr({ prompt, waitDtmf: false, hangup: false }, { org, sounds: {} }) as Json;
    assert.type(a.ivr_say.text, 'string');
    assert.ok(a.ivr_say.text.length > 10, prompt);
    assert.is(a.ivr_say.language, 'ua');
  }
});

test('renderIvr: a prompt with a sound file is played instead', () => {
  const sounds = { menu: '43d8a740ec032766', goodbye: 'bye-1' };
  assert.equal(renderIvr({ prompt: 'menu', waitDtmf: true, hangup: false }, { org, sounds }), {
    ivr_play: '43d8a740ec032766',
    wait_dtmf: { timeout: 10, attempts: 1, maxdigits: 1, name: 'main_menu' },
  });
  assert.equal(renderIvr({ prompt: 'goodbye', waitDtmf: false, hangup: true }, { org, sounds }), {
    ivr_play: 'bye-1',
    hangup: 1,
  });
  const spoken = renderIvr({ prompt: 'invalid', waitDtmf: true, hangup: false }, { org, sounds }) as Json;
  assert.is(spoken.ivr_play, undefined);
  assert.is(spoken.ivr_say.text, uk.ivr.invalid);
});

// ---------------------------------------------------------------------------------------------
// secrets of the gate channels

test('secretsOf covers the Telegram token/webhook secret and the Zadarma key/secret', () => {
  const c = readConfig({
    TELEGRAM_BOT_TOKEN: '7000000001:AAsecret-token',
    TELEGRAM_MODE: 'webhook',
    TELEGRAM_WEBHOOK_SECRET: 'tg-hook-secret',
    ZADARMA_API_KEY: 'zd-key-1234',
    ZADARMA_API_SECRET: 'zd-secret-5678',
    ZADARMA_CALLER: '0733103110',
    GATES: 'hvirtka=0637442017',
  });
  const secrets = secretsOf(c);
  for (const s of ['7000000001:AAsecret-token', 'tg-hook-secret', 'zd-key-1234', 'zd-secret-5678'])
    assert.ok(secrets.includes(s), s);
});

test.run();
