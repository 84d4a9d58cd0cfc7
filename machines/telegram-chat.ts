import { assign, setup } from 'xstate';

/**
 * The gate bot's conversation with one Telegram user (actor key `tg:<user_id>`): `guest` until the
 * user is on the allow-list, `member` after. Who is allowed is decided by the server at every update
 * (so a revocation takes effect on the next command) and arrives in the event; so do the clock, the
 * cooldown and whether the gate is already busy. Every update gets exactly one `reply`; a gate command
 * that passes every check also emits `openGate` (a gate-call actor then takes over).
 */
export const TELEGRAM_CHAT_VERSION = 1;

export type GateName = 'hvirtka' | 'vorota';
export type InfoTopic = 'call' | 'map' | 'scheme';

export interface CallLine {
  gate: string;
  at: number;
  outcome: string;
}

export interface Stats {
  day: Record<string, number>;
  week: Record<string, number>;
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
  allowed: boolean;
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

export const telegramChatMachine = setup({
  types: { context: {} as TelegramChatContext, events: {} as TelegramChatEvent },
  actions: {
    reply: (_, _p: ReplyParams) => {},
    /** Outbound: start a gate call for this chat. */
    openGate: (_, _p: { gate: GateName; chatId: number }) => {},
    /** Durable: an admin allows or revokes a phone. */
    setAccess: (_, _p: { phone: string; allowed: boolean }) => {},
    /** Durable: the phone this user proved. */
    rememberPhone: (_, _p: { phone: string }) => {},
    seen: assign({ allowed: ({ event }) => event.allowed }),
  },
  guards: {
    allowed: ({ event }) => event.allowed,
    foreignContact: ({ event }) => event.type === 'CONTACT' && !event.own,
    gatesOff: ({ event }) => event.type === 'GATE' && !event.available,
    coolingDown: ({ event, context }) => cooldownLeft(event, context) > 0,
    busy: ({ event }) => event.type === 'GATE' && event.busy,
    isMember: ({ context }) => context.allowed,
  },
}).createMachine({
  id: 'telegram-chat',
  initial: 'guest',
  context: { allowed: false, lastGateAt: 0, phone: null },
  states: {
    guest: { always: { guard: 'isMember', target: 'member' } },
    member: { always: { guard: ({ context }) => !context.allowed, target: 'guest' } },
  },
  on: {
    START: {
      actions: [
        'seen',
        say((e) => ({ view: 'welcome', firstName: e.firstName, member: e.allowed, admin: e.admin })),
      ],
    },
    HELP: { actions: ['seen', say((e) => ({ view: 'help', member: e.allowed, admin: e.admin }))] },
    CONTACT: [
      { guard: 'foreignContact', actions: ['seen', say(() => ({ view: 'contactForeign' }))] },
      {
        guard: 'allowed',
        actions: ['seen', ...keepPhone, say((e) => ({ view: 'contactAccepted', firstName: e.firstName }))],
      },
      {
        actions: ['seen', ...keepPhone, say((e) => ({ view: 'contactRefused', firstName: e.firstName }))],
      },
    ],
    GATE: [
      { guard: ({ event }) => !event.allowed, actions: ['seen', say(() => ({ view: 'denied' }))] },
      { guard: 'gatesOff', actions: ['seen', say(() => ({ view: 'gatesOff' }))] },
      {
        guard: 'coolingDown',
        actions: [
          'seen',
          say((e, c) => ({ view: 'cooldown', seconds: Math.ceil(cooldownLeft(e, c) / 1000) })),
        ],
      },
      { guard: 'busy', actions: ['seen', say((e) => ({ view: 'alreadyOpening', gate: gate(e) }))] },
      {
        actions: [
          'seen',
          assign({ lastGateAt: ({ event }) => event.now }),
          say((e) => ({ view: 'keys', gate: gate(e) })),
          {
            type: 'openGate',
            params: ({ event }) => ({ gate: gate(event), chatId: event.chatId }),
          },
        ],
      },
    ],
    STATUS: {
      actions: [
        'seen',
        say((e) => (e.type === 'STATUS' ? { view: 'status', calls: e.calls } : { view: 'denied' })),
      ],
    },
    INFO: {
      actions: ['seen', say((e) => ({ view: 'info', topic: e.type === 'INFO' ? e.topic : 'call' }))],
    },
    ADMIN: [
      { guard: ({ event }) => !event.admin, actions: ['seen', say(() => ({ view: 'adminOnly' }))] },
      {
        guard: ({ event }) => !(event.type === 'ADMIN' && event.phone),
        actions: ['seen', say(() => ({ view: 'badPhone' }))],
      },
      {
        actions: [
          'seen',
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
      { guard: ({ event }) => !event.admin, actions: ['seen', say(() => ({ view: 'adminOnly' }))] },
      {
        actions: [
          'seen',
          say((e) => (e.type === 'STATS' ? { view: 'stats', stats: e.stats } : { view: 'adminOnly' })),
        ],
      },
    ],
    TEXT: { actions: ['seen', say((e) => ({ view: 'unknown', member: e.allowed }))] },
  },
});
