import { MACHINES } from '../../machines/index';
import type { AnswerParams, IvrPrompt } from '../../machines/ivr-call';
import { defineBinding } from '../engine/define-binding';
import type { Binding } from '../engine/types';
import { type Org, uk } from '../texts/uk';

export const IVR_MACHINE = MACHINES['ivr-call'].name;
export const ivrKey = (pbxCallId: string) => `ivr:${pbxCallId}`;

/** Seconds Zadarma waits for a digit after the menu prompt. */
const DTMF_TIMEOUT_S = 10;

/** How the voice menu's actions become the webhook's answer and gate requests. */
export function ivrCallBinding(deps: { org: Org; sounds: Partial<Record<IvrPrompt, string>> }): Binding {
  return defineBinding(MACHINES['ivr-call'], {
    actions: {
      answer(answer, _step, plan) {
        plan.response = renderIvr(answer, deps);
      },
      openGate({ gate, caller }, _step, plan) {
        plan.effects.push({ channel: 'gate', payload: { gate, source: 'ivr', caller } });
      },
    },
  });
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
