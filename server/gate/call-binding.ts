import { callStatusOf, type GateCallContext, type NotifyParams } from '../../machines/gate-call';
import { MACHINES } from '../../machines/index';
import { callResetWrite, callWrite, claimGate, releaseGate } from '../../storage/calls';
import { alertEffect } from '../alerts/binding';
import { TELEGRAM_CHANNEL } from '../channels/telegram/client';
import { defineBinding } from '../engine/define-binding';
import type { Binding, Plan } from '../engine/types';
import { type Org, uk } from '../texts/uk';

export const GATE_CALL_MACHINE = MACHINES['gate-call'].name;
/** `call:<gate>:<id>`: every call of a gate shares the gate's partition and lock. */
export const callKey = (gate: string, id: string) => `call:${gate}:${id}`;
export const gateOfKey = (key: string) => key.split(':')[1] ?? '';
/** The call's record (`calls/<gate>:<id>`) is named by its key without the prefix. */
const recordIdOf = (key: string) => key.slice('call:'.length);

const API_CAUSE = 'zadarmaApi';
const relayCause = (gate: string) => `relayAnswered:${gate}`;

/**
 * How a gate call's actions become effects and records; the call record is rewritten at every step.
 * `alertAdmins` goes to the admin alerts actor (deduplicated and rate-limited there). A call that
 * Zadarma accepted, or that the relay rejected as it should, reports a recovery of that cause: the
 * alerts actor announces it only when the cause is on, so this binding need not know whether it is.
 */
export function gateCallBinding(deps: { org: Org }): Binding {
  return defineBinding(MACHINES['gate-call'], {
    partition: (key) => `gate:${gateOfKey(key)}`,
    // A stored call that cannot be resumed (no migration from its version) restarts as `new`, which no
    // event but REQUEST moves: its gate is freed and, when it was under way, its chat is told that how
    // it ended is unknown (the words of a timeout) and its record says so.
    onReset(stored, { key, now }) {
      const gate = gateOfKey(key);
      const plan: Plan = { effects: [], writes: [releaseGate(gate, key)] };
      if ((stored.snapshot as { status?: unknown }).status !== 'active') return plan;
      const chatId = (stored.snapshot.context as Partial<GateCallContext> | undefined)?.chatId;
      if (typeof chatId === 'number') plan.effects.push(telegramMessage(chatId, uk.timeout(deps.org, gate)));
      plan.writes.push(callResetWrite(recordIdOf(key), now));
      return plan;
    },
    actions: {
      requestCallback({ gate, to }, { now, event }, plan) {
        const askedAt = event.type === 'REQUEST' && event.askedAt !== undefined ? event.askedAt : now;
        plan.effects.push({ channel: 'zadarma', payload: { gate, to, askedAt } });
      },
      claimGate({ gate }, { key, now }, plan) {
        plan.writes.push(claimGate(gate, key, now));
      },
      releaseGate({ gate }, { key }, plan) {
        plan.writes.push(releaseGate(gate, key));
      },
      notify(n, { after }, plan) {
        if (n.chatId !== null) plan.effects.push(telegramMessage(n.chatId, notifyText(deps.org, n)));
        if (n.kind === 'initiated')
          plan.effects.push(alertEffect({ op: 'recover', cause: API_CAUSE, kind: 'zadarmaApi' }));
        if (n.kind === 'opened')
          plan.effects.push(
            alertEffect({
              op: 'recover',
              cause: relayCause(n.gate),
              kind: 'relayAnswered',
              info: { gate: n.gate, relay: after.context.relay },
            }),
          );
      },
      alertAdmins(al, _step, plan) {
        plan.effects.push(
          al.kind === 'misconfigured'
            ? alertEffect({
                op: 'raise',
                cause: relayCause(al.gate),
                kind: 'relayAnswered',
                info: { gate: al.gate, relay: al.relay },
              })
            : alertEffect({
                op: 'raise',
                cause: API_CAUSE,
                kind: 'zadarmaApi',
                info: { gate: al.gate, detail: al.detail ?? '' },
              }),
        );
      },
    },
    everyStep({ key, now, after }, plan) {
      // Still `new`: a restarted call (onReset) that no REQUEST reached has no record to write.
      if (after.state === 'new') return;
      plan.writes.push(callWrite(recordIdOf(key), callStatusOf(after.state), after.context, now));
    },
  });
}

function telegramMessage(chatId: number, text: string): Plan['effects'][number] {
  return {
    channel: TELEGRAM_CHANNEL,
    payload: { call: { method: 'sendMessage', params: { chat_id: chatId, text } } },
  };
}

function notifyText(org: Org, n: NotifyParams): string {
  switch (n.kind) {
    case 'initiated':
      return uk.initiated(n.gate);
    case 'alreadyOpening':
      return uk.alreadyOpening(n.gate);
    case 'apiFailed':
      return uk.apiFailed(org, n.detail ?? '');
    case 'timeout':
      return uk.timeout(org, n.gate);
    default:
      return uk.outcome(org, n.kind, n.gate, n.detail);
  }
}
