import { MACHINES } from '../../machines/index';
import type { AnswerParams, IvrPrompt } from '../../machines/ivr-call';
import type { Binding, Plan } from '../engine/types';
import { type Org, uk } from '../texts/uk';

export const IVR_MACHINE = MACHINES['ivr-call'].name;
export const ivrKey = (pbxCallId: string) => `ivr:${pbxCallId}`;

/** Seconds Zadarma waits for a digit after the menu prompt. */
const DTMF_TIMEOUT_S = 10;

/** How the voice menu's actions become the webhook's answer and gate requests. */
export function ivrCallBinding(deps: { org: Org; sounds: Partial<Record<IvrPrompt, string>> }): Binding {
  return {
    ...MACHINES['ivr-call'],
    interpret(actions) {
      const plan: Plan = { effects: [], writes: [] };
      for (const a of actions) {
        const p = a.params as Record<string, unknown>;
        if (a.type === 'answer') plan.response = renderIvr(a.params as AnswerParams, deps);
        else if (a.type === 'openGate') {
          plan.effects.push({ channel: 'gate', payload: { gate: p.gate, source: 'ivr', caller: p.caller } });
        }
      }
      return plan;
    },
  };
}

/** Zadarma's IVR answer: a spoken prompt (or its sound file), then wait for a digit or hang up. */
export function renderIvr(
  a: AnswerParams,
  deps: { org: Org; sounds: Partial<Record<IvrPrompt, string>> },
): Record<string, unknown> {
  const sound = deps.sounds[a.prompt];
  const spoken = uk.ivr[a.prompt];
  const text = typeof spoken === 'function' ? spoken(deps.org) : spoken;
  const out: Record<string, unknown> = sound ? { ivr_play: sound } : { ivr_say: { text, language: 'ua' } };
  if (a.waitDtmf) out.wait_dtmf = { timeout: DTMF_TIMEOUT_S, attempts: 1, maxdigits: 1, name: 'main_menu' };
  if (a.hangup) out.hangup = 1;
  return out;
}
