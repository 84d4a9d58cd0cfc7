import { assign, raise, setup } from 'xstate';
import { type ActionMap, effect } from './effects';
import type { CallStatus } from './gate-call';
import { type Migrations, moveStates } from './migrations';

/**
 * The gate bot's conversation with one Telegram user (actor key `tg:<user_id>`): `guest` until the
 * user may open gates (their own contact with an allowed phone, or an update that says they are
 * allowed), `member` after; a member whose access is revoked is a guest again from their next update.
 * Who is allowed is decided by the server at every update and arrives in the event (`allowed`; an
 * admin is always allowed); so do the clock, the cooldown and whether the gate is already busy. Every
 * update gets exactly one `reply`; a gate command that passes every check also emits `openGate` (a
 * gate-call actor then takes over).
 */
export const TELEGRAM_CHAT_VERSION = 2;

/** Stored chats of earlier versions, carried forward to this one (machines/migrations.ts). */
export const TELEGRAM_CHAT_MIGRATIONS: Migrations = {
  // v2 decides guest / member from each update: the context's copy of `allowed` went.
  1: moveStates({}, ({ allowed: _allowed, ...context }) => context),
};

export type GateName = 'hvirtka' | 'vorota';
export type InfoTopic = 'call' | 'map' | 'scheme';

export interface CallLine {
  gate: string;
  at: number;
  outcome: CallStatus;
}

/** Calls per status over the last 24 hours and 7 days. */
export interface Stats {
  day: Partial<Record<CallStatus, number>>;
  week: Partial<Record<CallStatus, number>>;
}

export type TgView =
  | { view: 'welcome'; firstName: string; member: boolean; admin: boolean }
  | { view: 'help'; member: boolean; admin: boolean }
  | { view: 'contactForeign' }
  | { view: 'contactAccepted'; firstName: string }
  | { view: 'contactRefused'; firstName: string }
  | { view: 'denied' }
  | { view: 'cooldown'; seconds: number }
  | { view: 'alreadyOpening'; gate: GateName }
  | { view: 'keys'; gate: GateName }
  | { view: 'gatesOff' }
  | { view: 'status'; calls: CallLine[] }
  | { view: 'info'; topic: InfoTopic }
  | { view: 'adminOnly' }
  | { view: 'access'; phone: string; allowed: boolean }
  | { view: 'badPhone' }
  | { view: 'stats'; stats: Stats }
  | { view: 'unknown'; member: boolean };

export interface ReplyParams {
  chatId: number;
  view: TgView;
  /** The inline button tap this answers (Telegram wants it acknowledged). */
  callbackQueryId?: string;
}

type Base = {
  now: number;
  chatId: number;
  firstName: string;
  /** May this user open gates right now (admin, allowed id, or a proven allowed phone)? */
  allowed: boolean;
  admin: boolean;
  callbackQueryId?: string;
};

export type TelegramChatEvent =
  | (Base & { type: 'START' })
  | (Base & { type: 'HELP' })
  | (Base & { type: 'CONTACT'; phone: string; own: boolean })
  | (Base & { type: 'GATE'; gate: GateName; busy: boolean; available: boolean; cooldownMs: number })
  | (Base & { type: 'STATUS'; calls: CallLine[] })
  | (Base & { type: 'INFO'; topic: InfoTopic })
  | (Base & { type: 'ADMIN'; command: 'allow' | 'revoke'; phone: string | null })
  | (Base & { type: 'STATS'; stats: Stats })
  | (Base & { type: 'TEXT' });

export interface TelegramChatContext {
  /** When this user last started a gate call (epoch ms), for the cooldown. */
  lastGateAt: number;
  /** The phone this user proved by sharing their own contact. */
  phone: string | null;
}

const say = (view: (e: TelegramChatEvent, c: TelegramChatContext) => TgView) => ({
  type: 'reply' as const,
  params: ({ event, context }: { event: TelegramChatEvent; context: TelegramChatContext }): ReplyParams => ({
    chatId: event.chatId,
    view: view(event, context),
    ...(event.callbackQueryId ? { callbackQueryId: event.callbackQueryId } : {}),
  }),
});
/** The user's own contact: the phone is theirs whether or not it lets them in. */
const keepPhone = [
  assign<TelegramChatContext, TelegramChatEvent, undefined, TelegramChatEvent, never>({
    phone: ({ event }) => (event.type === 'CONTACT' ? event.phone : null),
  }),
  {
    type: 'rememberPhone' as const,
    params: ({ event }: { event: TelegramChatEvent }) => ({
      phone: event.type === 'CONTACT' ? event.phone : '',
    }),
  },
];
const cooldownLeft = (e: TelegramChatEvent, c: TelegramChatContext) =>
  e.type === 'GATE' ? c.lastGateAt + e.cooldownMs - e.now : 0;
const gate = (e: TelegramChatEvent): GateName => (e.type === 'GATE' ? e.gate : 'hvirtka');

/** The answers that do not depend on whether this user may open: the same in both states. */
const common = {
  START: {
    actions: say((e) => ({ view: 'welcome', firstName: e.firstName, member: e.allowed, admin: e.admin })),
  },
  HELP: { actions: say((e) => ({ view: 'help', member: e.allowed, admin: e.admin })) },
  STATUS: {
    actions: say((e) => (e.type === 'STATUS' ? { view: 'status', calls: e.calls } : { view: 'denied' })),
  },
  INFO: { actions: say((e) => ({ view: 'info', topic: e.type === 'INFO' ? e.topic : 'call' })) },
  TEXT: { actions: say((e) => ({ view: 'unknown', member: e.allowed })) },
} as const;

/**
 * A contact decides the state wherever it arrives: the user's own allowed phone makes a member, any
 * other own phone a guest (a transition only where that changes the state); a forwarded card changes
 * nothing.
 */
const contact = (here: 'guest' | 'member') => {
  const to = (state: 'guest' | 'member') => (state === here ? {} : { target: state });
  return [
    { guard: 'foreignContact' as const, actions: say(() => ({ view: 'contactForeign' })) },
    {
      guard: 'allowed' as const,
      ...to('member'),
      actions: [...keepPhone, say((e) => ({ view: 'contactAccepted', firstName: e.firstName }))],
    },
    {
      ...to('guest'),
      actions: [...keepPhone, say((e) => ({ view: 'contactRefused', firstName: e.firstName }))],
    },
  ];
};

/** A guest's member-only command: handed over to member when the update says allowed, else refused. */
const memberOnly = (refusal: TgView) => [
  { guard: 'allowed' as const, target: 'member', actions: 'handOver' as const },
  { actions: say(() => refusal) },
];

/** What the chat asks the server to do (its binding carries these out). */
export const telegramChatEffects = {
  /** Outbound: the one answer to this update. */
  reply: effect<ReplyParams>(),
  /** Outbound: start a gate call for this chat. */
  openGate: effect<{ gate: GateName; chatId: number }>(),
  /** Durable: an admin allows or revokes a phone. */
  setAccess: effect<{ phone: string; allowed: boolean }>(),
  /** Durable: the phone this user proved. */
  rememberPhone: effect<{ phone: string }>(),
};
export type TelegramChatActions = ActionMap<typeof telegramChatEffects>;

export const telegramChatMachine = setup({
  types: { context: {} as TelegramChatContext, events: {} as TelegramChatEvent },
  actions: {
    ...telegramChatEffects,
    /** The update belongs to the state just entered: it answers it (still one reply). */
    handOver: raise(({ event }) => event),
  },
  guards: {
    allowed: ({ event }) => event.allowed,
    revoked: ({ event }) => event.allowed === false,
    notAdmin: ({ event }) => !event.admin,
    noPhone: ({ event }) => !(event.type === 'ADMIN' && event.phone),
    foreignContact: ({ event }) => event.type === 'CONTACT' && !event.own,
    gatesOff: ({ event }) => event.type === 'GATE' && !event.available,
    coolingDown: ({ event, context }) => cooldownLeft(event, context) > 0,
    busy: ({ event }) => event.type === 'GATE' && event.busy,
  },
}).createMachine({
  id: 'telegram-chat',
  initial: 'guest',
  context: { lastGateAt: 0, phone: null },
  states: {
    /** May not open gates: asks for the user's own contact; gate and admin commands are refused. */
    guest: {
      // An update that says this user may open now (a listed id, an admin, a phone allowed since):
      // gate and admin commands are handed over to member; the others, answered alike in both states,
      // are answered here, and then this transition (it sees the update just answered) moves on.
      always: { guard: 'allowed', target: 'member' },
      on: {
        ...common,
        CONTACT: contact('guest'),
        GATE: memberOnly({ view: 'denied' }),
        ADMIN: memberOnly({ view: 'adminOnly' }),
        STATS: memberOnly({ view: 'adminOnly' }),
      },
    },
    /** May open gates (and, as an admin, change access and see the figures). */
    member: {
      // Access revoked (an admin's /revoke, a list changed): a guest from this update on; a gate
      // command is handed over, so the guest refuses it.
      always: { guard: 'revoked', target: 'guest' },
      on: {
        ...common,
        CONTACT: contact('member'),
        GATE: [
          { guard: 'revoked', target: 'guest', actions: 'handOver' },
          { guard: 'gatesOff', actions: say(() => ({ view: 'gatesOff' })) },
          {
            guard: 'coolingDown',
            actions: say((e, c) => ({ view: 'cooldown', seconds: Math.ceil(cooldownLeft(e, c) / 1000) })),
          },
          { guard: 'busy', actions: say((e) => ({ view: 'alreadyOpening', gate: gate(e) })) },
          {
            actions: [
              assign({ lastGateAt: ({ event }) => event.now }),
              say((e) => ({ view: 'keys', gate: gate(e) })),
              { type: 'openGate', params: ({ event }) => ({ gate: gate(event), chatId: event.chatId }) },
            ],
          },
        ],
        ADMIN: [
          { guard: 'notAdmin', actions: say(() => ({ view: 'adminOnly' })) },
          { guard: 'noPhone', actions: say(() => ({ view: 'badPhone' })) },
          {
            actions: [
              {
                type: 'setAccess',
                params: ({ event }) =>
                  event.type === 'ADMIN'
                    ? { phone: event.phone ?? '', allowed: event.command === 'allow' }
                    : { phone: '', allowed: false },
              },
              say((e) =>
                e.type === 'ADMIN'
                  ? { view: 'access', phone: e.phone ?? '', allowed: e.command === 'allow' }
                  : { view: 'badPhone' },
              ),
            ],
          },
        ],
        STATS: [
          { guard: 'notAdmin', actions: say(() => ({ view: 'adminOnly' })) },
          {
            actions: say((e) =>
              e.type === 'STATS' ? { view: 'stats', stats: e.stats } : { view: 'adminOnly' },
            ),
          },
        ],
      },
    },
  },
});
