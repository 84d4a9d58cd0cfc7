import type { CallStatus, GateCallContext } from '../machines/gate-call';
import type { CallLine, Stats } from '../machines/telegram-chat';
import type { DocWrite, Store } from './store';

/** One gate call as recorded for /status, /stats and the operator (document `calls/<id>`). */
export interface CallDoc {
  [k: string]: unknown;
  id: string;
  gate: string;
  relay: string;
  source: 'telegram' | 'ivr';
  userId: number | null;
  chatId: number | null;
  caller: string | null;
  pbxCallId: string | null;
  status: CallStatus;
  reason: string | null;
  disposition: string | null;
  duration: number | null;
  error: string | null;
  requestedAt: number;
  endedAt: number | null;
  updatedAt: number;
}

/** Which call of a gate is under way (document `gates/<gate>`). */
export interface GateDoc {
  [k: string]: unknown;
  gate: string;
  pendingCall: string | null;
  since: number | null;
}

export const CALLS = 'calls';
export const GATES = 'gates';

/** The call record after a step: `status` comes from the actor's state (`callStatusOf`). */
export function callWrite(id: string, status: CallStatus, c: GateCallContext, now: number): DocWrite {
  const doc: CallDoc = {
    id,
    gate: c.gate,
    relay: c.relay,
    source: c.source,
    userId: c.userId,
    chatId: c.chatId,
    caller: c.caller,
    pbxCallId: c.pbxCallId,
    status,
    reason: c.reason,
    disposition: c.disposition,
    duration: c.duration,
    error: c.error,
    requestedAt: c.requestedAt,
    endedAt: c.endedAt,
    updatedAt: now,
  };
  return { collection: CALLS, id, update: () => doc };
}

/**
 * The record of a call whose actor had to start afresh (its stored snapshot could not be resumed): a
 * call still under way ends `failed` with reason `reset`, as nobody can tell any more how it ended.
 */
export function callResetWrite(id: string, now: number): DocWrite {
  return {
    collection: CALLS,
    id,
    update: (prev) => {
      const call = prev as CallDoc | undefined;
      if (!call) return null;
      if (call.status !== 'initiated' && call.status !== 'pending') return call;
      return { ...call, status: 'failed', reason: 'reset', endedAt: now, updatedAt: now };
    },
  };
}

export function claimGate(gate: string, callKey: string, now: number): DocWrite {
  return { collection: GATES, id: gate, update: () => ({ gate, pendingCall: callKey, since: now }) };
}

/** Frees the gate, unless another call holds it by now. */
export function releaseGate(gate: string, callKey: string): DocWrite {
  return {
    collection: GATES,
    id: gate,
    update: (prev) =>
      (prev as GateDoc | undefined)?.pendingCall === callKey || !prev
        ? { gate, pendingCall: null, since: null }
        : (prev as GateDoc),
  };
}

export function pendingCallOf(store: Store, gate: string): string | null {
  return store.get<GateDoc>(GATES, gate)?.pendingCall ?? null;
}

/** A user's latest calls, newest first. */
export function recentCalls(store: Store, userId: number, n = 5): CallLine[] {
  return store
    .all<CallDoc>(CALLS)
    .filter((c) => c.userId === userId)
    .sort((a, b) => b.requestedAt - a.requestedAt)
    .slice(0, n)
    .map((c) => ({ gate: c.gate, at: c.requestedAt, outcome: c.status }));
}

/** Calls per outcome over the last 24 hours and 7 days. */
export function callStats(store: Store, now: number): Stats {
  const day: Stats['day'] = {};
  const week: Stats['week'] = {};
  for (const c of store.all<CallDoc>(CALLS)) {
    const age = now - c.requestedAt;
    if (age > 7 * 86_400_000) continue;
    week[c.status] = (week[c.status] ?? 0) + 1;
    if (age <= 86_400_000) day[c.status] = (day[c.status] ?? 0) + 1;
  }
  return { day, week };
}
