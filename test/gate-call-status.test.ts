/**
 * The status a gate call's record carries (`calls/<id>`, read by /status and /stats) is a declared word
 * mapped from the actor's state, never the state's name: a nested state (`live.pending`) must not
 * reach a user, and no text prints a raw value it does not know.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type AnyStateNode, initialTransition, transition } from 'xstate';
import {
  CALL_STATUS_OF_STATE,
  type CallStatus,
  callStatusOf,
  type GateCallContext,
  type GateCallEvent,
  gateCallMachine,
} from '../machines/gate-call';
import { stateLabel } from '../server/engine/engine';
import { statesOf } from '../server/inspect/machines';
import { uk } from '../server/texts/uk';
import { type CallDoc, callWrite } from '../storage/calls';

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const TZ = 'Europe/Kyiv';
const STATUSES = [...new Set(Object.values(CALL_STATUS_OF_STATE))];

/** The call record written after a step, as the binding writes it. */
function recordAfter(events: GateCallEvent[]): CallDoc {
  let [snap] = initialTransition(gateCallMachine);
  for (const e of events) [snap] = transition(gateCallMachine, snap, e);
  const write = callWrite('hvirtka:1', callStatusOf(stateLabel(snap)), snap.context as GateCallContext, T0);
  return write.update(undefined) as CallDoc;
}

const request: GateCallEvent = {
  type: 'REQUEST',
  now: T0,
  gate: 'hvirtka',
  relay: '380637442017',
  source: 'telegram',
  userId: 1,
  chatId: 1,
  busy: false,
  timeoutMs: 60_000,
};

test('every state of gate-call, and only those, has a call status', () => {
  const leaves = statesOf(gateCallMachine.root as AnyStateNode)
    .filter((n) => Object.keys(n.states).length === 0)
    .map((n) => n.path.join('.'));
  assert.equal(Object.keys(CALL_STATUS_OF_STATE).sort(), leaves.sort());
  assert.ok(leaves.includes('live.pending'), 'the machine has nested states');
  for (const status of STATUSES) assert.not.match(status, '.', `${status} is a word, not a state path`);
});

test('callStatusOf maps nested states to their word and refuses a state it does not know', () => {
  assert.is(callStatusOf('live.initiated'), 'initiated');
  assert.is(callStatusOf('live.pending'), 'pending');
  assert.is(callStatusOf('new'), 'initiated');
  assert.is(callStatusOf('failed'), 'failed');
  assert.throws(() => callStatusOf('pending'), /has no call status/);
  assert.throws(() => callStatusOf('live'), /has no call status/);
});

test('the record of a call carries the word of its state at every step', () => {
  assert.is(recordAfter([request]).status, 'initiated');
  assert.is(recordAfter([request, { type: 'API_OK', now: T0 + 1 }]).status, 'pending');
  assert.is(
    recordAfter([
      request,
      { type: 'API_OK', now: T0 + 1 },
      { type: 'CALL_END', now: T0 + 2, disposition: 'cancel', duration: 4 },
    ]).status,
    'opened',
  );
  assert.is(recordAfter([request, { type: 'TIMEOUT', now: T0 + 61_000 }]).status, 'failed');
  assert.is(recordAfter([{ ...request, busy: true }]).status, 'duplicate');
});

test('/status and /stats show a word for every status and never a raw value', () => {
  for (const status of STATUSES) {
    const text = uk.status([{ gate: 'vorota', at: T0, outcome: status }], TZ);
    assert.not.match(text, status, `/status for ${status}`);
    assert.not.match(text, 'невідомо', `/status for ${status} has its own word`);
    const stats = uk.stats({ day: { [status]: 2 }, week: { [status]: 3 } });
    assert.not.match(stats, status, `/stats for ${status}`);
  }
  // A record written by something else (an older store, a damaged file): "unknown", not its value.
  for (const raw of ['live.pending', 'pending.live', 'constructor', 'toString']) {
    const text = uk.status([{ gate: 'hvirtka', at: T0, outcome: raw as CallStatus }], TZ);
    assert.not.match(text, raw);
    assert.match(text, '❔ невідомо');
    const stats = uk.stats({ day: { [raw]: 1 }, week: {} } as never);
    assert.not.match(stats, raw);
    assert.match(stats, '❔ невідомо: 1');
  }
});

test.run();
