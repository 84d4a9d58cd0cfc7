import { MACHINES } from '../../machines/index';
import type { ReplyParams } from '../../machines/telegram-chat';
import { TELEGRAM_CHANNEL } from '../channels/telegram/client';
import { type RenderOptions, renderTelegram } from '../channels/telegram/render';
import type { Binding, Plan } from '../engine/types';
import { tgUserWrite } from './access';

export const TELEGRAM_MACHINE = MACHINES['telegram-chat'].name;
export const tgKey = (userId: number) => `tg:${userId}`;
const userIdOf = (key: string) => Number(key.slice(3));

/** How the gate bot's chat turns its actions into effects: replies, gate requests, access changes. */
export function telegramChatBinding(render: RenderOptions): Binding {
  return {
    ...MACHINES['telegram-chat'],
    interpret(actions, { key, now }) {
      const userId = userIdOf(key);
      const plan: Plan = { effects: [], writes: [] };
      for (const a of actions) {
        const p = a.params as Record<string, unknown>;
        if (a.type === 'reply') {
          const r = a.params as ReplyParams;
          plan.effects.push({
            channel: TELEGRAM_CHANNEL,
            payload: {
              call: renderTelegram(r.chatId, r.view, render),
              ...(r.callbackQueryId ? { callbackQueryId: r.callbackQueryId } : {}),
            },
          });
        } else if (a.type === 'openGate') {
          plan.effects.push({
            channel: 'gate',
            payload: { gate: p.gate, source: 'telegram', userId, chatId: p.chatId },
          });
        } else if (a.type === 'setAccess') {
          plan.effects.push({
            channel: 'access',
            payload: { phone: p.phone, allowed: p.allowed, by: userId },
          });
        } else if (a.type === 'rememberPhone') {
          plan.writes.push(tgUserWrite(userId, String(p.phone), now));
        }
      }
      return plan;
    },
  };
}
