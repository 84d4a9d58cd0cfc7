import type { GateName, InfoTopic, TelegramChatEvent } from '../../machines/telegram-chat';
import { callStats, pendingCallOf, recentCalls } from '../../storage/calls';
import type { GatesConfig, ZadarmaConfig } from '../config/config';
import type { Engine } from '../engine/engine';
import type { Logger } from '../lib/log';
import { normalisePhone } from '../lib/phone';
import type { Access } from './access';
import { TELEGRAM_MACHINE, tgKey } from './chat-binding';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const GATES: readonly GateName[] = ['hvirtka', 'vorota'];

export interface UpdateDeps {
  engine: Engine;
  access: Access;
  gates: GatesConfig;
  zadarma: ZadarmaConfig;
  log: Logger;
}

/** What an update asks for, before the facts (allowed, busy…) are looked up under the lock. */
type Intent =
  | { type: 'START' | 'HELP' | 'STATUS' | 'STATS' | 'TEXT' }
  | { type: 'GATE'; gate: GateName }
  | { type: 'INFO'; topic: InfoTopic }
  | { type: 'ADMIN'; command: 'allow' | 'revoke'; arg: string }
  | { type: 'CONTACT'; phone: string | null; own: boolean };

interface Parsed {
  userId: number;
  chatId: number;
  firstName: string;
  callbackQueryId?: string;
  intent: Intent;
}

/**
 * Feeds one Telegram update (from long polling or the webhook) to the user's chat actor, deduplicated
 * on update_id; resolves once it is committed. Updates that are not for the bot (other chat types,
 * edits, membership changes) are logged and skipped.
 */
export async function handleUpdate(update: unknown, deps: UpdateDeps): Promise<void> {
  if (!isObj(update) || typeof update.update_id !== 'number') {
    deps.log.warn('telegram: update without update_id ignored');
    return;
  }
  const parsed = parseUpdate(update, deps);
  if (typeof parsed === 'string') {
    deps.log.info('telegram: update ignored', { update: update.update_id, reason: parsed });
    return;
  }
  const { userId, chatId, firstName, callbackQueryId, intent } = parsed;
  const { engine, access, gates } = deps;
  await engine.dispatch({
    key: tgKey(userId),
    machine: TELEGRAM_MACHINE,
    dedupeKey: `tg:update:${update.update_id}`,
    event: ({ now }): TelegramChatEvent => {
      const admin = access.isAdmin(userId);
      const base = {
        now,
        chatId,
        firstName,
        admin,
        allowed: access.userAllowed(userId),
        ...(callbackQueryId ? { callbackQueryId } : {}),
      };
      switch (intent.type) {
        case 'CONTACT': {
          const phone = intent.phone ?? '';
          const allowed =
            intent.own && intent.phone !== null ? access.userAllowed(userId, intent.phone) : base.allowed;
          return { ...base, allowed, type: 'CONTACT', phone, own: intent.own && intent.phone !== null };
        }
        case 'GATE':
          return {
            ...base,
            type: 'GATE',
            gate: intent.gate,
            busy: pendingCallOf(engine.store, intent.gate) !== null,
            available: deps.zadarma.mode !== 'off' && gates.relays[intent.gate] !== undefined,
            cooldownMs: gates.cooldownMs,
          };
        case 'STATUS':
          return { ...base, type: 'STATUS', calls: recentCalls(engine.store, userId) };
        case 'STATS':
          return { ...base, type: 'STATS', stats: callStats(engine.store, now) };
        case 'INFO':
          return { ...base, type: 'INFO', topic: intent.topic };
        case 'ADMIN':
          return { ...base, type: 'ADMIN', command: intent.command, phone: normalisePhone(intent.arg) };
        default:
          return { ...base, type: intent.type };
      }
    },
  });
}

function parseUpdate(update: Obj, deps: UpdateDeps): Parsed | string {
  if (isObj(update.callback_query)) {
    const q = update.callback_query;
    const from = isObj(q.from) ? q.from : undefined;
    const message = isObj(q.message) ? q.message : undefined;
    const chat = message && isObj(message.chat) ? message.chat : undefined;
    if (!from || typeof from.id !== 'number') return 'callback query without a sender';
    const data = typeof q.data === 'string' ? q.data : '';
    const gate = GATES.find((g) => data === `gate:${g}`);
    return {
      userId: from.id,
      chatId: typeof chat?.id === 'number' ? chat.id : from.id,
      firstName: name(from),
      callbackQueryId: typeof q.id === 'string' ? q.id : undefined,
      intent: gate ? { type: 'GATE', gate } : { type: 'TEXT' },
    };
  }
  const m = update.message;
  if (!isObj(m)) return 'not a message';
  const from = isObj(m.from) ? m.from : undefined;
  const chat = isObj(m.chat) ? m.chat : undefined;
  if (!from || typeof from.id !== 'number' || !chat || typeof chat.id !== 'number')
    return 'message without sender';
  if (chat.type !== 'private')
    return `message in a ${typeof chat.type === 'string' ? chat.type.slice(0, 40) : typeof chat.type} chat`;
  const base = { userId: from.id, chatId: chat.id, firstName: name(from) };
  if (isObj(m.contact)) {
    const c = m.contact;
    const phone = typeof c.phone_number === 'string' ? normalisePhone(c.phone_number) : null;
    // Only the user's own card proves a phone: a forwarded card names someone else (or nobody).
    return { ...base, intent: { type: 'CONTACT', phone, own: c.user_id === from.id } };
  }
  const text = typeof m.text === 'string' ? m.text.trim() : '';
  if (!text.startsWith('/')) return { ...base, intent: { type: 'TEXT' } };
  const [head = '', ...rest] = text.split(/\s+/);
  const command = head.slice(1).split('@')[0]?.toLowerCase() ?? '';
  const arg = rest.join(' ').slice(0, 40);
  return { ...base, intent: intentOf(command, arg, deps.gates) };
}

function intentOf(command: string, arg: string, gates: GatesConfig): Intent {
  switch (command) {
    case 'start':
      return { type: 'START' };
    case 'help':
      return { type: 'HELP' };
    case 'hvirtka':
    case 'vorota':
      return { type: 'GATE', gate: command };
    case 'status':
      return { type: 'STATUS' };
    case 'stats':
      return { type: 'STATS' };
    case 'allow':
    case 'revoke':
      return { type: 'ADMIN', command, arg };
    case 'call':
      return gates.supportPhone ? { type: 'INFO', topic: 'call' } : { type: 'TEXT' };
    case 'map':
      return gates.mapUrl ? { type: 'INFO', topic: 'map' } : { type: 'TEXT' };
    case 'scheme':
      return gates.schemeImage ? { type: 'INFO', topic: 'scheme' } : { type: 'TEXT' };
    default:
      return { type: 'TEXT' };
  }
}

function name(from: Obj): string {
  return typeof from.first_name === 'string' ? from.first_name.slice(0, 64) : '';
}
