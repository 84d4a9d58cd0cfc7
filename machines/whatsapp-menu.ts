import { assign, setup } from 'xstate';
import { type ActionMap, effect } from './effects';
import { type Migrations, moveStates } from './migrations';
import { datesInRange, type IsoDate, type PeriodError, parsePeriod } from './period';

/**
 * The attendance dialog of one WhatsApp user (actor key `wa:<wa_id>`).
 *
 * Pure: the clock (`now`, `today`) and what the store knows (`recent`, `taken`) arrive inside the
 * events; what the dialog wants done leaves as named actions: `reply` (exactly one per inbound
 * message: hints and errors ride in the body of the menu or list they come with), `recordShift`, and
 * for the daily shift reminder (REMIND, sent by the server at REMINDER_TIME) `remindTemplate` (outside
 * the 24-hour window) and `setReminders` ("стоп" / "старт"). The server renders a reply's view into a
 * 360dialog message with the Russian texts.
 */
export const WHATSAPP_MENU_VERSION = 2;

/** Stored dialogs of earlier versions, carried forward to this one (machines/migrations.ts). */
export const WHATSAPP_MENU_MIGRATIONS: Migrations = {
  // v2 put the dialog's steps into the `active` parent.
  1: moveStates({
    menu: 'active.menu',
    askingPeriod: 'active.askingPeriod',
    choosingShift: 'active.choosingShift',
  }),
};
/** An idle dialog starts fresh on the next message after this long. */
export const DIALOG_TTL_MS = 30 * 60 * 1000;

export const BUTTONS = {
  FILL_TODAY: 'FILL_TODAY',
  FILL_PERIOD: 'FILL_PERIOD',
  MY_STATUS: 'MY_STATUS',
} as const;
export const SHIFT_IDS = { SHIFT_DAY: 'day', SHIFT_NIGHT: 'night', SHIFT_OFF: 'off' } as const;
export type Shift = (typeof SHIFT_IDS)[keyof typeof SHIFT_IDS];

export interface ShiftRecord {
  date: IsoDate;
  shift: Shift;
}

export interface Range {
  start: IsoDate;
  end: IsoDate;
  days: number;
  /** Chosen with "Заполнить за сегодня" (the list then asks about today). */
  isToday?: boolean;
}

export type Notice =
  | { kind: 'recorded'; range: Range; shift: Shift; replaced: number }
  | { kind: 'status'; records: ShiftRecord[] }
  | { kind: 'unsupported' }
  | { kind: 'unknownButton' }
  | { kind: 'cancelled' }
  | { kind: 'reminder'; date: IsoDate }
  | { kind: 'remindersOff' }
  | { kind: 'remindersOn' };

/** What one reply shows; `reset` says the dialog was restarted after an upgrade. */
export type View = (
  | { view: 'menu'; notice?: Notice }
  | ({ view: 'shiftList'; hint?: 'pickFromList' } & Range)
  | {
      view: 'askPeriod';
      error?: PeriodError;
    }
) & { reset?: boolean };

export interface RecordShiftParams {
  dates: IsoDate[];
  shift: Shift;
  messageId: string;
}

/** Facts every inbound message carries: the clock and what the store holds for this user. */
type Inbound = {
  now: number;
  today: IsoDate;
  messageId: string;
  /** The user's latest records, newest first (at most 3). */
  recent: ShiftRecord[];
  /** Dates among today and the pending range that already have a record. */
  taken: IsoDate[];
};

export type WhatsAppMenuEvent =
  | (Inbound & { type: 'TEXT'; text: string })
  | (Inbound & { type: 'BUTTON'; id: string })
  | (Inbound & { type: 'LIST'; id: string })
  | (Inbound & { type: 'UNSUPPORTED'; kind: string })
  | { type: 'TIMEOUT'; now: number }
  | {
      /** The daily shift reminder; what the store knows about this employee rides along. */
      type: 'REMIND';
      now: number;
      today: IsoDate;
      /** The WhatsApp profile name (the template's body parameter). */
      name: string;
      /** Inside the 24-hour window: a session message may be sent. */
      windowOpen: boolean;
      /** Today already has a record. */
      recorded: boolean;
      /** The employee answered "стоп". */
      stopped: boolean;
    };

export interface WhatsAppMenuContext {
  pending: Range | null;
  /** When this dialog expires (epoch ms); the engine stores it and sends TIMEOUT once it passes. */
  deadline: number | null;
  /** Set when the dialog was restarted because its stored version was incompatible. */
  reset: boolean;
}

const CANCEL_WORDS = new Set(['меню', 'menu', 'отмена', 'cancel', 'start', 'начать', '/start']);
/** Stop / resume the daily reminder (both also show the menu). */
const STOP_WORDS = new Set(['стоп']);
const START_WORDS = new Set(['старт']);
const TYPED_SHIFTS: Record<string, Shift> = {
  дневная: 'day',
  день: 'day',
  ночная: 'night',
  ночь: 'night',
  выходной: 'off',
};

const normalise = (text: string) => text.trim().toLowerCase().replace(/\s+/g, ' ');
const isCancel = (text: string) => CANCEL_WORDS.has(normalise(text));
const isStop = (text: string) => STOP_WORDS.has(normalise(text));
const isStart = (text: string) => START_WORDS.has(normalise(text));
const typedShift = (text: string): Shift | undefined => TYPED_SHIFTS[normalise(text)];
const shiftOf = (id: string): Shift | undefined => SHIFT_IDS[id as keyof typeof SHIFT_IDS];
const today = (e: Inbound): Range => ({ start: e.today, end: e.today, days: 1, isToday: true });
/** Narrows to a message event: TIMEOUT and REMIND carry none, and no transition that reads it takes them. */
const inbound = (e: WhatsAppMenuEvent): Inbound => {
  if (e.type === 'TIMEOUT' || e.type === 'REMIND') throw new Error(`${e.type} carries no message`);
  return e;
};

/** "стоп" / "старт" from any state: store the choice, confirm it with the menu. */
function stopStart(menu: string) {
  return [
    {
      guard: 'isStop' as const,
      target: menu,
      actions: [
        { type: 'setReminders' as const, params: { on: false } },
        menuReply(() => ({ kind: 'remindersOff' })),
      ],
    },
    {
      guard: 'isStart' as const,
      target: menu,
      actions: [
        { type: 'setReminders' as const, params: { on: true } },
        menuReply(() => ({ kind: 'remindersOn' })),
      ],
    },
  ];
}

/** Inside a step: "стоп" / "старт", and the cancel words that drop the step with "cancelled". */
function leaveStep() {
  return [
    ...stopStart('menu'),
    {
      guard: 'isCancel' as const,
      target: 'menu',
      actions: { type: 'reply' as const, params: { view: 'menu', notice: { kind: 'cancelled' } } as View },
    },
  ];
}

function recordOf(range: Range, shift: Shift, e: Inbound) {
  const dates = datesInRange(range.start, range.end);
  const taken = new Set(e.taken);
  return {
    record: { dates, shift, messageId: e.messageId } satisfies RecordShiftParams,
    notice: { kind: 'recorded', range, shift, replaced: dates.filter((d) => taken.has(d)).length } as const,
  };
}

type Step = 'menu' | 'askingPeriod' | 'choosingShift';
type Args = { event: WhatsAppMenuEvent; context: WhatsAppMenuContext };
const menuReply = (notice: (a: Args) => Notice | undefined) => ({
  type: 'reply' as const,
  params: (a: Args): View => {
    const n = notice(a);
    return { view: 'menu', ...(n ? { notice: n } : {}), reset: a.context.reset };
  },
});

/**
 * What a message does wherever the dialog is (idle, or any step that does not take it itself): the
 * menu buttons, a shift tapped in a list, an unsupported message, the reminder, the global words.
 * `to` names a step as seen from the state that takes these (`active.menu` from idle, `.menu` inside).
 */
function anywhere(to: (step: Step) => string) {
  return {
    BUTTON: [
      {
        guard: { type: 'isButton' as const, params: { id: BUTTONS.FILL_TODAY } },
        target: to('choosingShift'),
        actions: [
          assign<WhatsAppMenuContext, WhatsAppMenuEvent, undefined, WhatsAppMenuEvent, never>({
            pending: ({ event }) => today(inbound(event)),
          }),
          {
            type: 'reply' as const,
            params: ({ event, context }: Args): View => ({
              view: 'shiftList',
              ...today(inbound(event)),
              reset: context.reset,
            }),
          },
        ],
      },
      {
        guard: { type: 'isButton' as const, params: { id: BUTTONS.FILL_PERIOD } },
        target: to('askingPeriod'),
        actions: {
          type: 'reply' as const,
          params: ({ context }: Args): View => ({ view: 'askPeriod', reset: context.reset }),
        },
      },
      {
        guard: { type: 'isButton' as const, params: { id: BUTTONS.MY_STATUS } },
        target: to('menu'),
        actions: menuReply(({ event }) => ({ kind: 'status', records: inbound(event).recent })),
      },
      { target: to('menu'), actions: menuReply(() => ({ kind: 'unknownButton' })) },
    ],
    // A shift tapped: for the pending range in the shift step; from an old list elsewhere, the old
    // bot's meaning, today.
    LIST: [
      {
        guard: 'isShift' as const,
        target: to('menu'),
        actions: [
          {
            type: 'recordShift' as const,
            params: ({ event, context }: Args) => choice(event, context).record,
          },
          menuReply(({ event, context }) => choice(event, context).notice),
        ],
      },
      { target: to('menu'), actions: menuReply(() => ({ kind: 'unknownButton' })) },
    ],
    UNSUPPORTED: { target: to('menu'), actions: menuReply(() => ({ kind: 'unsupported' })) },
    // Outside the window only a template may be sent; the dialog itself stays where it is, and a
    // pending "bot updated" notice waits for the next reply the employee reads.
    REMIND: [
      { guard: 'noReminderDue' as const },
      {
        guard: 'windowOpen' as const,
        target: to('menu'),
        actions: menuReply(({ event }) => ({
          kind: 'reminder',
          date: event.type === 'REMIND' ? event.today : '',
        })),
      },
      {
        actions: {
          type: 'remindTemplate' as const,
          params: ({ event }: Args) => ({ name: event.type === 'REMIND' ? event.name : '' }),
        },
      },
    ],
    TEXT: [
      ...stopStart(to('menu')),
      { guard: 'isCancel' as const, target: to('menu'), actions: menuReply(() => undefined) },
      { target: to('menu'), actions: menuReply(() => undefined) },
    ],
  };
}

/** What the dialog asks the server to do (its binding carries these out). */
export const whatsappMenuEffects = {
  /** Outbound: one WhatsApp message to this user (carried out by the outbox). */
  reply: effect<View>(),
  /** Durable: one attendance record per date (written in the same commit as the snapshot). */
  recordShift: effect<RecordShiftParams>(),
  /** Outbound: the approved reminder template (outside the 24-hour window), if one is configured. */
  remindTemplate: effect<{ name: string }>(),
  /** Durable: this employee's reminders are on / off (stored on the employee). */
  setReminders: effect<{ on: boolean }>(),
};
export type WhatsAppMenuActions = ActionMap<typeof whatsappMenuEffects>;

export const whatsappMenuMachine = setup({
  types: {
    context: {} as WhatsAppMenuContext,
    events: {} as WhatsAppMenuEvent,
    input: {} as { reset?: boolean } | undefined,
  },
  actions: {
    ...whatsappMenuEffects,
    touch: assign({ deadline: ({ event }) => event.now + DIALOG_TTL_MS }),
    clearReset: assign({ reset: false }),
  },
  guards: {
    isButton: ({ event }, p: { id: string }) => event.type === 'BUTTON' && event.id === p.id,
    isCancel: ({ event }) => event.type === 'TEXT' && isCancel(event.text),
    isStop: ({ event }) => event.type === 'TEXT' && isStop(event.text),
    isStart: ({ event }) => event.type === 'TEXT' && isStart(event.text),
    /** Today is recorded already, or the employee stopped reminders: nothing to do. */
    noReminderDue: ({ event }) => event.type === 'REMIND' && (event.recorded || event.stopped),
    windowOpen: ({ event }) => event.type === 'REMIND' && event.windowOpen,
    isShift: ({ event }) => event.type === 'LIST' && shiftOf(event.id) !== undefined,
    isTypedShift: ({ event }) => event.type === 'TEXT' && typedShift(event.text) !== undefined,
    isValidPeriod: ({ event }) => {
      if (event.type !== 'TEXT') return false;
      return parsePeriod(event.text, event.today).ok;
    },
  },
}).createMachine({
  id: 'whatsapp-menu',
  initial: 'idle',
  context: ({ input }) => ({ pending: null, deadline: null, reset: input?.reset === true }),
  states: {
    /** No dialog under way (a new user, or one idle for DIALOG_TTL_MS): any message starts one. */
    idle: {
      entry: assign({ deadline: null, pending: null }),
      on: anywhere((step) => `active.${step}`),
    },
    /** A dialog under way: it expires DIALOG_TTL_MS after the last message. */
    active: {
      initial: 'menu',
      on: {
        TIMEOUT: { target: 'idle', actions: assign({ deadline: null, pending: null }) },
        ...anywhere((step) => `.${step}`),
      },
      states: {
        menu: { entry: ['touch', 'clearReset', assign({ pending: null })] },
        askingPeriod: {
          entry: ['touch', 'clearReset', assign({ pending: null })],
          on: {
            TEXT: [
              ...leaveStep(),
              {
                guard: 'isValidPeriod',
                target: 'choosingShift',
                actions: [
                  assign({ pending: ({ event }) => periodOf(event) }),
                  { type: 'reply', params: ({ event }) => ({ view: 'shiftList', ...periodOf(event) }) },
                ],
              },
              {
                target: 'askingPeriod',
                reenter: true,
                actions: {
                  type: 'reply',
                  params: ({ event }) => {
                    const r = event.type === 'TEXT' ? parsePeriod(event.text, event.today) : undefined;
                    return { view: 'askPeriod', error: r && !r.ok ? r.error : 'format' };
                  },
                },
              },
            ],
          },
        },
        // A shift tapped here is handled by active's LIST handler, which records the pending range.
        choosingShift: {
          entry: ['touch', 'clearReset'],
          on: {
            TEXT: [
              ...leaveStep(),
              {
                guard: 'isTypedShift',
                target: 'menu',
                actions: [
                  { type: 'recordShift', params: ({ event, context }) => choice(event, context).record },
                  {
                    type: 'reply',
                    params: ({ event, context }) => ({ view: 'menu', notice: choice(event, context).notice }),
                  },
                ],
              },
              {
                target: 'choosingShift',
                reenter: true,
                actions: {
                  type: 'reply',
                  params: ({ context, event }) => ({
                    view: 'shiftList',
                    ...(context.pending ?? today(inbound(event))),
                    hint: 'pickFromList',
                  }),
                },
              },
            ],
          },
        },
      },
    },
  },
});

function periodOf(event: WhatsAppMenuEvent): Range {
  if (event.type !== 'TEXT') throw new Error('period comes from a text');
  const r = parsePeriod(event.text, event.today);
  if (!r.ok) throw new Error(`guarded: ${r.error}`);
  return { start: r.start, end: r.end, days: r.days };
}

/** The record a shift choice makes: for the pending range in the shift step, otherwise for today. */
function choice(event: WhatsAppMenuEvent, context: WhatsAppMenuContext) {
  const e = inbound(event);
  const shift =
    event.type === 'LIST' ? shiftOf(event.id) : event.type === 'TEXT' ? typedShift(event.text) : undefined;
  if (!shift) throw new Error('guarded: not a shift');
  return recordOf(context.pending ?? today(e), shift, e);
}

/** The dates the store must look up for `taken`: today and the pending range. */
export function datesToCheck(context: WhatsAppMenuContext, todayDate: IsoDate): IsoDate[] {
  const dates = context.pending ? datesInRange(context.pending.start, context.pending.end) : [];
  return dates.includes(todayDate) ? dates : [...dates, todayDate];
}
