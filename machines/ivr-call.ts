import { assign, setup } from 'xstate';
import { type ActionMap, effect } from './effects';

/**
 * One outside call in the voice menu (actor key `ivr:<pbx_call_id>`). Zadarma asks what to do with
 * NOTIFY_START and, after each prompt, with NOTIFY_IVR (the digits pressed); each step answers with one
 * `answer` (rendered by the server into Zadarma's IVR JSON, returned in the webhook's HTTP answer).
 * Only callers on the allow-list get the menu; digits 1/2 open the gate/wicket (`openGate`), anything
 * else asks again, three attempts in all. Calls from here never message Telegram users.
 */
export const IVR_CALL_VERSION = 1;
export const IVR_MAX_ATTEMPTS = 3;

export const IVR_PROMPTS = [
  'menu',
  'invalid',
  'refused',
  'openingVorota',
  'openingHvirtka',
  'goodbye',
] as const;
export type IvrPrompt = (typeof IVR_PROMPTS)[number];

export interface AnswerParams {
  prompt: IvrPrompt;
  /** Wait for one digit after the prompt. */
  waitDtmf: boolean;
  hangup: boolean;
}

export interface IvrContext {
  caller: string;
  attempts: number;
  choice: 'vorota' | 'hvirtka' | null;
  /** A caller who hangs up in the menu sends nothing more: the actor ends itself after this (epoch ms). */
  deadline: number | null;
}

/** How long a call may stay in the menu before its actor is closed. */
export const IVR_MENU_TTL_MS = 10 * 60 * 1000;

export type IvrEvent =
  | { type: 'NOTIFY_START'; now: number; caller: string; allowed: boolean }
  | { type: 'NOTIFY_IVR'; now: number; digits: string }
  | { type: 'CALL_END'; now: number }
  | { type: 'TIMEOUT'; now: number };

const DIGIT_GATES: Record<string, 'vorota' | 'hvirtka'> = { '1': 'vorota', '2': 'hvirtka' };
const gateOf = (e: IvrEvent) => (e.type === 'NOTIFY_IVR' ? DIGIT_GATES[e.digits.trim()] : undefined);

/** What the voice menu asks the server to do (its binding carries these out). */
export const ivrCallEffects = {
  /** The webhook's answer: a prompt, then wait for a digit or hang up. */
  answer: effect<AnswerParams>(),
  /** Outbound: open a gate for this caller (a gate call with source `ivr`). */
  openGate: effect<{ gate: 'vorota' | 'hvirtka'; caller: string }>(),
};
export type IvrCallActions = ActionMap<typeof ivrCallEffects>;

export const ivrCallMachine = setup({
  types: { context: {} as IvrContext, events: {} as IvrEvent },
  actions: {
    ...ivrCallEffects,
    closed: assign({ deadline: null }),
  },
  guards: {
    allowed: ({ event }) => event.type === 'NOTIFY_START' && event.allowed,
    validChoice: ({ event }) => gateOf(event) !== undefined,
    attemptsLeft: ({ context }) => context.attempts + 1 < IVR_MAX_ATTEMPTS,
  },
}).createMachine({
  id: 'ivr-call',
  initial: 'new',
  context: { caller: '', attempts: 0, choice: null, deadline: null },
  states: {
    new: {
      on: {
        NOTIFY_START: [
          {
            guard: 'allowed',
            target: 'menu',
            actions: [
              assign({
                caller: ({ event }) => event.caller,
                deadline: ({ event }) => event.now + IVR_MENU_TTL_MS,
              }),
              { type: 'answer', params: { prompt: 'menu', waitDtmf: true, hangup: false } },
            ],
          },
          {
            target: 'refused',
            actions: [
              assign({ caller: ({ event }) => event.caller }),
              { type: 'answer', params: { prompt: 'refused', waitDtmf: false, hangup: true } },
            ],
          },
        ],
      },
    },
    menu: {
      on: {
        NOTIFY_IVR: [
          {
            guard: 'validChoice',
            target: 'opening',
            actions: [
              assign({ choice: ({ event }) => gateOf(event) ?? null }),
              {
                type: 'openGate',
                params: ({ context, event }) => ({ gate: gateOf(event) ?? 'vorota', caller: context.caller }),
              },
              {
                type: 'answer',
                params: ({ event }) => ({
                  prompt: gateOf(event) === 'vorota' ? 'openingVorota' : 'openingHvirtka',
                  waitDtmf: false,
                  hangup: true,
                }),
              },
            ],
          },
          {
            guard: 'attemptsLeft',
            target: 'menu',
            reenter: true,
            actions: [
              assign({ attempts: ({ context }) => context.attempts + 1 }),
              { type: 'answer', params: { prompt: 'invalid', waitDtmf: true, hangup: false } },
            ],
          },
          {
            target: 'ended',
            actions: [
              assign({ attempts: ({ context }) => context.attempts + 1 }),
              { type: 'answer', params: { prompt: 'goodbye', waitDtmf: false, hangup: true } },
            ],
          },
        ],
        CALL_END: 'ended',
        TIMEOUT: 'ended',
      },
    },
    opening: { type: 'final', entry: 'closed' },
    refused: { type: 'final', entry: 'closed' },
    ended: { type: 'final', entry: 'closed' },
  },
});
