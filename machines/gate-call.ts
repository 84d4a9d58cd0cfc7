import { assign, setup } from 'xstate';
import { type ActionMap, effect } from './effects';
import { decideOutcome, type GateOutcome } from './gate-outcome';
import { type Migrations, moveStates } from './migrations';

/**
 * One gate opening (actor key `call:<gate>:<id>`): new → live (initiated → pending) → opened | busy |
 * noAnswer | misconfigured | failed, or `duplicate` when the gate already had a call under way.
 *
 * Pure: the server tells it whether the gate is busy (REQUEST.busy), carries out `requestCallback`
 * (Zadarma) and answers with API_OK / API_FAILED, and routes Zadarma's webhooks for this gate's relay
 * here as CALL_START / CALL_END. The deadline in the context becomes a TIMEOUT from the sweeper, also
 * after a restart. `notify` messages go to the Telegram chat that asked (none for the voice menu).
 */
export const GATE_CALL_VERSION = 2;

/** Stored calls of earlier versions, carried forward to this one (machines/migrations.ts). */
export const GATE_CALL_MIGRATIONS: Migrations = {
  // v2 put a call under way into the `live` parent.
  1: moveStates({ initiated: 'live.initiated', pending: 'live.pending' }),
};

export type CallSource = 'telegram' | 'ivr';
export type FailReason = 'api' | 'timeout' | 'disposition';

export type NotifyKind = 'initiated' | 'alreadyOpening' | 'apiFailed' | 'timeout' | GateOutcome;

/** Every state of the machine as the engine labels it (`live.pending`). */
export type GateCallState = 'new' | 'live.initiated' | 'live.pending' | GateOutcome | 'duplicate';

/**
 * What the call record says of a call (`/status`, `/stats`, the operator): a word users are shown,
 * never a state name. Mapped from the state below, so a renamed or nested state changes nothing here.
 */
export type CallStatus = 'initiated' | 'pending' | GateOutcome | 'duplicate';

export const CALL_STATUS_OF_STATE: Readonly<Record<GateCallState, CallStatus>> = {
  // Only a call that has not been asked for yet is `new`: as far as anyone can tell, it is initiated.
  new: 'initiated',
  'live.initiated': 'initiated',
  'live.pending': 'pending',
  opened: 'opened',
  busy: 'busy',
  noAnswer: 'noAnswer',
  misconfigured: 'misconfigured',
  failed: 'failed',
  duplicate: 'duplicate',
};

/** The call status of a state label; throws on a state the table does not know (a test checks all). */
export function callStatusOf(state: string): CallStatus {
  const status = (CALL_STATUS_OF_STATE as Record<string, CallStatus | undefined>)[state];
  if (status === undefined) throw new Error(`gate-call state ${state} has no call status`);
  return status;
}

export interface NotifyParams {
  kind: NotifyKind;
  gate: string;
  chatId: number | null;
  /** Zadarma's message (apiFailed) or the disposition (failed). */
  detail?: string;
}

export interface AlertParams {
  kind: 'misconfigured' | 'apiFailed';
  gate: string;
  relay: string;
  detail?: string;
}

export interface GateCallContext {
  gate: string;
  relay: string;
  source: CallSource;
  userId: number | null;
  chatId: number | null;
  /** The voice-menu caller, for calls started from the IVR. */
  caller: string | null;
  requestedAt: number;
  pbxCallId: string | null;
  disposition: string | null;
  duration: number | null;
  outcome: GateOutcome | 'duplicate' | null;
  reason: FailReason | null;
  error: string | null;
  endedAt: number | null;
  deadline: number | null;
}

export type GateCallEvent =
  | {
      type: 'REQUEST';
      now: number;
      gate: string;
      relay: string;
      source: CallSource;
      userId?: number;
      chatId?: number;
      caller?: string;
      /** Another call of this gate is under way (checked under the gate's lock). */
      busy: boolean;
      timeoutMs: number;
      /**
       * When the user asked (epoch ms; the request may have waited behind a failing reply or a
       * restart): the callback is not requested any more when that is too long ago. Default: `now`.
       */
      askedAt?: number;
    }
  | { type: 'API_OK'; now: number }
  | { type: 'API_FAILED'; now: number; message: string }
  | { type: 'CALL_START'; now: number; pbxCallId: string }
  | { type: 'CALL_END'; now: number; pbxCallId?: string; disposition: string; duration: number }
  | { type: 'TIMEOUT'; now: number };

const outcomeOf = (e: GateCallEvent): GateOutcome =>
  e.type === 'CALL_END' ? decideOutcome(e.disposition, e.duration) : 'failed';

type Ctx = { context: GateCallContext };

/** What a REQUEST tells the call about itself (a duplicate keeps it too, for its record). */
const requested = (e: Extract<GateCallEvent, { type: 'REQUEST' }>) => ({
  gate: e.gate,
  relay: e.relay,
  source: e.source,
  userId: e.userId ?? null,
  chatId: e.chatId ?? null,
  caller: e.caller ?? null,
  requestedAt: e.now,
});

/** The final states a CALL_END decides by the outcome table (`failed` takes whatever is left). */
const DECIDED = ['opened', 'busy', 'noAnswer', 'misconfigured'] as const;

/** The entry of a final state a CALL_END decided: what came of it, the gate is free, the chat is told. */
const settle = (outcome: Exclude<GateOutcome, 'failed'>) => [
  { type: 'finish' as const, params: { outcome } },
  { type: 'releaseGate' as const, params: ({ context }: Ctx) => ({ gate: context.gate }) },
  {
    type: 'notify' as const,
    params: ({ context }: Ctx): NotifyParams => ({
      kind: outcome,
      gate: context.gate,
      chatId: context.chatId,
    }),
  },
];

/** What a call asks the server to do (its binding carries these out). */
export const gateCallEffects = {
  /** Outbound: ask Zadarma to place the callback to the relay. */
  requestCallback: effect<{ gate: string; to: string }>(),
  /** Outbound: a message to the Telegram chat that asked (dropped when there is none). */
  notify: effect<NotifyParams>(),
  /** Outbound: a message to every admin. */
  alertAdmins: effect<AlertParams>(),
  /** Durable: this call is the gate's pending call / no longer is. */
  claimGate: effect<{ gate: string }>(),
  releaseGate: effect<{ gate: string }>(),
};
export type GateCallActions = ActionMap<typeof gateCallEffects>;

export const gateCallMachine = setup({
  types: {
    context: {} as GateCallContext,
    events: {} as GateCallEvent,
  },
  actions: {
    ...gateCallEffects,
    /** The call is over: what came of it, and no more deadline. */
    finish: assign(({ event }, p: { outcome: GateOutcome }) => ({
      outcome: p.outcome,
      endedAt: event.now,
      deadline: null,
    })),
    recordEnd: assign(({ event }) =>
      event.type === 'CALL_END'
        ? { disposition: event.disposition, duration: event.duration, pbxCallId: event.pbxCallId ?? null }
        : {},
    ),
  },
  guards: {
    busy: ({ event }) => event.type === 'REQUEST' && event.busy,
    endIs: ({ event }, p: { outcome: GateOutcome }) =>
      event.type === 'CALL_END' && outcomeOf(event) === p.outcome,
  },
}).createMachine({
  id: 'gate-call',
  initial: 'new',
  context: {
    gate: '',
    relay: '',
    source: 'telegram',
    userId: null,
    chatId: null,
    caller: null,
    requestedAt: 0,
    pbxCallId: null,
    disposition: null,
    duration: null,
    outcome: null,
    reason: null,
    error: null,
    endedAt: null,
    deadline: null,
  },
  states: {
    new: {
      on: {
        REQUEST: [
          {
            guard: 'busy',
            target: 'duplicate',
            actions: assign(({ event }) => requested(event)),
          },
          {
            target: 'live',
            actions: [
              assign(({ event }) => ({ ...requested(event), deadline: event.now + event.timeoutMs })),
              { type: 'claimGate', params: ({ context }) => ({ gate: context.gate }) },
              {
                type: 'requestCallback',
                params: ({ context }) => ({ gate: context.gate, to: context.relay }),
              },
            ],
          },
        ],
      },
    },
    // Under way: the callback is requested (initiated), then accepted by Zadarma (pending). Webhooks can
    // overtake the API's answer, so both take them; the deadline ends either.
    live: {
      initial: 'initiated',
      on: {
        CALL_START: { actions: assign({ pbxCallId: ({ event }) => event.pbxCallId }) },
        CALL_END: [
          ...DECIDED.map((outcome) => ({
            guard: { type: 'endIs' as const, params: { outcome } },
            target: outcome,
            actions: 'recordEnd' as const,
          })),
          { target: 'failed', actions: 'recordEnd' },
        ],
        TIMEOUT: { target: 'failed', actions: assign({ reason: 'timeout' }) },
      },
      states: {
        initiated: {
          on: {
            API_OK: {
              target: 'pending',
              actions: {
                type: 'notify',
                params: ({ context }) => ({ kind: 'initiated', gate: context.gate, chatId: context.chatId }),
              },
            },
            API_FAILED: {
              target: '#gate-call.failed',
              actions: [
                assign({ error: ({ event }) => event.message, reason: 'api' }),
                {
                  type: 'notify',
                  params: ({ context, event }) => ({
                    kind: 'apiFailed',
                    gate: context.gate,
                    chatId: context.chatId,
                    detail: event.message,
                  }),
                },
                {
                  type: 'alertAdmins',
                  params: ({ context, event }) => ({
                    kind: 'apiFailed',
                    gate: context.gate,
                    relay: context.relay,
                    detail: event.message,
                  }),
                },
              ],
            },
          },
        },
        pending: {},
      },
    },
    opened: { type: 'final', entry: settle('opened') },
    busy: { type: 'final', entry: settle('busy') },
    noAnswer: { type: 'final', entry: settle('noAnswer') },
    misconfigured: {
      type: 'final',
      entry: [
        ...settle('misconfigured'),
        {
          type: 'alertAdmins',
          params: ({ context }) => ({ kind: 'misconfigured', gate: context.gate, relay: context.relay }),
        },
      ],
    },
    failed: {
      type: 'final',
      entry: [
        assign(({ context, event }) => ({
          outcome: 'failed' as const,
          reason: context.reason ?? (event.type === 'TIMEOUT' ? 'timeout' : 'disposition'),
          endedAt: event.now,
          deadline: null,
        })),
        { type: 'releaseGate', params: ({ context }) => ({ gate: context.gate }) },
        {
          type: 'notify',
          params: ({ context }) =>
            context.reason === 'api'
              ? { kind: 'apiFailed', gate: context.gate, chatId: null }
              : context.reason === 'timeout'
                ? { kind: 'timeout', gate: context.gate, chatId: context.chatId }
                : {
                    kind: 'failed',
                    gate: context.gate,
                    chatId: context.chatId,
                    detail: context.disposition ?? '',
                  },
        },
      ],
    },
    duplicate: {
      type: 'final',
      entry: [
        assign({ outcome: 'duplicate', endedAt: ({ event }) => event.now }),
        {
          type: 'notify',
          params: ({ context }) => ({ kind: 'alreadyOpening', gate: context.gate, chatId: context.chatId }),
        },
      ],
    },
  },
});
