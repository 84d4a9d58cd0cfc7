import {
  type AlertParams,
  callStatusOf,
  type GateCallContext,
  type NotifyParams,
} from '../../machines/gate-call';
import type { GateOutcome } from '../../machines/gate-outcome';
import { MACHINES } from '../../machines/index';
import { callResetWrite, callWrite, claimGate, releaseGate } from '../../storage/calls';
import { alertActive, alertEffect } from '../alerts/binding';
import { TELEGRAM_CHANNEL } from '../channels/telegram/client';
import type { Binding, Plan } from '../engine/types';
import { type Org, uk } from '../texts/uk';

export const GATE_CALL_MACHINE = MACHINES['gate-call'].name;
/** `call:<gate>:<id>`: every call of a gate shares the gate's partition and lock. */
export const callKey = (gate: string, id: string) => `call:${gate}:${id}`;
export const gateOfKey = (key: string) => key.split(':')[1] ?? '';

const API_CAUSE = 'zadarmaApi';
const relayCause = (gate: string) => `relayAnswered:${gate}`;

/**
 * How a gate call's actions become effects and records; the call record is rewritten at every step.
 * `alertAdmins` goes to the admin alerts actor (deduplicated and rate-limited there); a call that
 * Zadarma accepted, or that the relay rejected as it should, ends an alert that is on.
 */
export function gateCallBinding(deps: { org: Org }): Binding {
  return {
    ...MACHINES['gate-call'],
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
      plan.writes.push(callResetWrite(key.slice('call:'.length), now));
      return plan;
    },
    interpret(actions, { key, now, event, after, store }) {
      const plan: Plan = { effects: [], writes: [] };
      // Still `new`: a restarted call (onReset) that no REQUEST reached. It acts on nothing, has no record.
      if (after.state === 'new') return plan;
      const message = (chatId: number, text: string) =>
        plan.effects.push({
          channel: TELEGRAM_CHANNEL,
          payload: { call: { method: 'sendMessage', params: { chat_id: chatId, text } } },
        });
      for (const a of actions) {
        const p = a.params as Record<string, string>;
        if (a.type === 'requestCallback') {
          const askedAt = typeof event.askedAt === 'number' ? event.askedAt : now;
          plan.effects.push({ channel: 'zadarma', payload: { gate: p.gate, to: p.to, askedAt } });
        } else if (a.type === 'claimGate') plan.writes.push(claimGate(String(p.gate), key, now));
        else if (a.type === 'releaseGate') plan.writes.push(releaseGate(String(p.gate), key));
        else if (a.type === 'notify') {
          const n = a.params as NotifyParams;
          if (n.chatId !== null) message(n.chatId, notifyText(deps.org, n));
          if (n.kind === 'initiated' && alertActive(store, API_CAUSE))
            plan.effects.push(alertEffect({ op: 'recover', cause: API_CAUSE, kind: 'zadarmaApi' }));
          const relay = String(after.context.relay ?? '');
          if (n.kind === 'opened' && alertActive(store, relayCause(n.gate)))
            plan.effects.push(
              alertEffect({
                op: 'recover',
                cause: relayCause(n.gate),
                kind: 'relayAnswered',
                info: { gate: n.gate, relay },
              }),
            );
        } else if (a.type === 'alertAdmins') {
          const al = a.params as AlertParams;
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
        }
      }
      plan.writes.push(
        callWrite(
          key.slice('call:'.length),
          callStatusOf(after.state),
          after.context as unknown as GateCallContext,
          now,
        ),
      );
      return plan;
    },
  };
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
      return uk.outcome(org, n.kind as GateOutcome, n.gate, n.detail);
  }
}
