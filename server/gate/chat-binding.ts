import { MACHINES } from '../../machines/index';
import { TELEGRAM_CHANNEL } from '../channels/telegram/client';
import { type RenderOptions, renderTelegram } from '../channels/telegram/render';
import { defineBinding } from '../engine/define-binding';
import type { Binding } from '../engine/types';
import { tgUserWrite } from './access';

export const TELEGRAM_MACHINE = MACHINES['telegram-chat'].name;
export const tgKey = (userId: number) => `tg:${userId}`;
const userIdOf = (key: string) => Number(key.slice(3));

/** How the gate bot's chat turns its actions into effects: replies, gate requests, access changes. */
export function telegramChatBinding(render: RenderOptions): Binding {
  return defineBinding(MACHINES['telegram-chat'], {
    actions: {
      reply({ chatId, view, callbackQueryId }, _step, plan) {
        plan.effects.push({
          channel: TELEGRAM_CHANNEL,
          payload: {
            call: renderTelegram(chatId, view, render),
            ...(callbackQueryId ? { callbackQueryId } : {}),
          },
        });
      },
      openGate({ gate, chatId }, { key }, plan) {
        plan.effects.push({
          channel: 'gate',
          payload: { gate, source: 'telegram', userId: userIdOf(key), chatId },
        });
      },
      setAccess({ phone, allowed }, { key }, plan) {
        plan.effects.push({ channel: 'access', payload: { phone, allowed, by: userIdOf(key) } });
      },
      rememberPhone({ phone }, { key, now }, plan) {
        plan.writes.push(tgUserWrite(userIdOf(key), phone, now));
      },
    },
  });
}
