import type { GateCallEvent } from '../../machines/gate-call';
import type { IvrEvent } from '../../machines/ivr-call';
import { CALLS, type CallDoc, pendingCallOf } from '../../storage/calls';
import { SIGNED_EVENT_PREFIX } from '../../storage/indexes';
import { put } from '../../storage/store';
import type { GatesConfig } from '../config/config';
import type { Engine } from '../engine/engine';
import type { Logger } from '../lib/log';
import { normalisePhone } from '../lib/phone';
import type { Access } from './access';
import { GATE_CALL_MACHINE } from './call-binding';
import { IVR_MACHINE, ivrKey } from './ivr-binding';

const START_EVENTS = new Set(['NOTIFY_START', 'NOTIFY_OUT_START', 'NOTIFY_ANSWER', 'NOTIFY_INTERNAL']);
const END_EVENTS = new Set(['NOTIFY_END', 'NOTIFY_OUT_END']);
const HANGUP = { hangup: 1 };

/** The gate whose relay number appears in the event's numbers, if any. */
export function gateLeg(fields: Record<string, string>, relays: GatesConfig['relays']): string | undefined {
  const numbers = [fields.caller_id, fields.called_did, fields.destination, fields.internal]
    .map((n) => (n ? normalisePhone(n) : null))
    .filter((n): n is string => n !== null);
  for (const [gate, relay] of Object.entries(relays)) if (relay && numbers.includes(relay)) return gate;
  return undefined;
}

/**
 * Where a verified Zadarma notification goes:
 * - a leg of a gate's callback (its relay number appears): to that gate's ONE pending call, unless the
 *   pbx_call_id names another (earlier) call; with no call under way it is logged and dropped;
 * - an outside call (NOTIFY_START / NOTIFY_IVR / its end): to the voice-menu actor of its pbx_call_id,
 *   whose answer is returned for the HTTP response;
 * - anything else: logged.
 * Deduplicated on (event, pbx_call_id), except NOTIFY_IVR, which Zadarma repeats within one call.
 */
export async function routeZadarmaEvent(
  fields: Record<string, string>,
  deps: { engine: Engine; access: Access; gates: GatesConfig; log: Logger },
): Promise<unknown | undefined> {
  const { engine, log } = deps;
  const event = fields.event ?? '';
  const pbx = (fields.pbx_call_id ?? '').slice(0, 128);
  // Without a call id there is nothing to tell two events apart: such an event is not deduplicated.
  const dedupeKey = pbx ? `zd:${event}:${pbx}` : undefined;
  const gate = gateLeg(fields, deps.gates.relays);

  if (gate) {
    const pending = pendingCallOf(engine.store, gate);
    if (!pending) {
      log.info('zadarma: gate event with no call under way, ignored', { event, gate, pbx });
      return undefined;
    }
    const earlier = pbx
      ? engine.store.all<CallDoc>(CALLS).find((c) => c.pbxCallId === pbx && `call:${c.id}` !== pending)
      : undefined;
    if (earlier) {
      log.warn('zadarma: late event of an earlier call, ignored', { event, gate, pbx, call: earlier.id });
      return undefined;
    }
    if (START_EVENTS.has(event)) {
      await engine.dispatch({
        key: pending,
        machine: GATE_CALL_MACHINE,
        dedupeKey,
        event: ({ now }): GateCallEvent => ({ type: 'CALL_START', now, pbxCallId: pbx }),
      });
    } else if (END_EVENTS.has(event)) {
      const duration = Number(fields.duration);
      await engine.dispatch({
        key: pending,
        machine: GATE_CALL_MACHINE,
        dedupeKey,
        event: ({ now }): GateCallEvent => ({
          type: 'CALL_END',
          now,
          ...(pbx ? { pbxCallId: pbx } : {}),
          disposition: (fields.disposition ?? '').slice(0, 64),
          duration: Number.isFinite(duration) && duration >= 0 ? duration : 0,
        }),
      });
    } else log.info('zadarma: gate event not used', { event, gate });
    return undefined;
  }

  if (!pbx) {
    log.warn('zadarma: event without pbx_call_id ignored', { event });
    return undefined;
  }
  const key = ivrKey(pbx);
  if (event === 'NOTIFY_START') {
    // Zadarma signs caller_id, called_did and call_start only, not pbx_call_id: a captured NOTIFY_START
    // replayed with a new call id would verify. The signed fields of a real call never repeat, so a
    // second sighting under another call id is refused. Serialised so two replays cannot race.
    const signedKey = `${SIGNED_EVENT_PREFIX}${event}:${fields.caller_id ?? ''}|${fields.called_did ?? ''}|${fields.call_start ?? ''}`;
    return engine.lock.run('zadarma:notify-start', async () => {
      const seen = engine.store.get<{ key: string }>('dedupe', signedKey);
      if (seen && seen.key !== key) {
        log.warn('zadarma: NOTIFY_START replayed under another pbx_call_id, refused', {
          pbx,
          first: seen.key,
        });
        return HANGUP;
      }
      const phone = normalisePhone(fields.caller_id ?? '');
      const result = await engine.dispatch({
        key,
        machine: IVR_MACHINE,
        dedupeKey,
        event: ({ now }): IvrEvent => ({
          type: 'NOTIFY_START',
          now,
          caller: phone ?? (fields.caller_id ?? '').slice(0, 32),
          allowed: phone !== null && deps.access.phoneAllowed(phone),
        }),
        writes: (now) => [put('dedupe', signedKey, { key, at: now })],
      });
      return result.response ?? HANGUP;
    });
  }
  const known = engine.store.get('actors', key) !== undefined;
  if (event === 'NOTIFY_IVR') {
    if (!known) {
      log.warn('zadarma: NOTIFY_IVR for a call the menu never saw, hanging up', { pbx });
      return HANGUP;
    }
    const result = await engine.dispatch({
      key,
      machine: IVR_MACHINE,
      event: ({ now }): IvrEvent => ({
        type: 'NOTIFY_IVR',
        now,
        digits: (fields['wait_dtmf[digits]'] ?? '').slice(0, 16),
      }),
    });
    return result.response ?? HANGUP;
  }
  if (END_EVENTS.has(event) && known) {
    await engine.dispatch({
      key,
      machine: IVR_MACHINE,
      dedupeKey,
      event: ({ now }): IvrEvent => ({ type: 'CALL_END', now }),
    });
    return undefined;
  }
  log.info('zadarma: event neither of a gate call nor of the voice menu, ignored', { event, pbx });
  return undefined;
}
