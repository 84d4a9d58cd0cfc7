import type { GateCallEvent } from '../../machines/gate-call';
import { pendingCallOf } from '../../storage/calls';
import type { GatesConfig } from '../config/config';
import type { Engine } from '../engine/engine';
import type { EffectRunner } from '../engine/types';
import { ACCESS_PARTITION, accessWrite } from './access';
import { callKey, GATE_CALL_MACHINE } from './call-binding';

/**
 * `gate` effects: a chat or the voice menu asked to open a gate. Starts a gate-call actor; whether the
 * gate is free is decided there, under the gate's lock, so two requests can never both call. The
 * effect's id names the call, so a resumed effect does not start a second one.
 */
export function gateRunner(engine: Engine, gates: GatesConfig): EffectRunner {
  return async (effect) => {
    const gate = String(effect.payload.gate);
    const relay = gates.relays[gate as keyof GatesConfig['relays']];
    if (!relay) return { ok: false, permanent: true, error: `no relay configured for gate ${gate}` };
    const key = callKey(gate, effect.id);
    await engine.dispatch({
      key,
      machine: GATE_CALL_MACHINE,
      dedupeKey: `spawn:${effect.id}`,
      event: ({ now }): GateCallEvent => {
        const pending = pendingCallOf(engine.store, gate);
        return {
          type: 'REQUEST',
          now,
          gate,
          relay,
          source: effect.payload.source === 'ivr' ? 'ivr' : 'telegram',
          ...(typeof effect.payload.userId === 'number' ? { userId: effect.payload.userId } : {}),
          ...(typeof effect.payload.chatId === 'number' ? { chatId: effect.payload.chatId } : {}),
          ...(typeof effect.payload.caller === 'string' ? { caller: effect.payload.caller } : {}),
          busy: pending !== null && pending !== key,
          timeoutMs: gates.callTimeoutMs,
          // When the user asked: this effect may have waited behind a failing reply or a restart.
          askedAt: effect.createdAt,
        };
      },
    });
    return { ok: true };
  };
}

/** `access` effects: an admin's /allow or /revoke, stored in the one access partition. */
export function accessRunner(engine: Engine): EffectRunner {
  return async (effect) => {
    const { phone, allowed, by } = effect.payload as { phone: string; allowed: boolean; by: number };
    await engine.record({
      key: ACCESS_PARTITION,
      dedupeKey: `access:${effect.id}`,
      writes: (now) => [accessWrite(phone, allowed, by, now)],
    });
    return { ok: true };
  };
}
