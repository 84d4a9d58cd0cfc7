import type { TgView } from '../../../machines/telegram-chat';
import { type Org, uk } from '../../texts/uk';

/** A Bot API call as an outbox effect carries it. */
export interface TgCall {
  method: 'sendMessage' | 'sendPhoto' | 'answerCallbackQuery';
  params: Record<string, unknown>;
  /** A local picture to upload (sendPhoto). */
  file?: string;
}

export interface RenderOptions {
  org: Org;
  timezone: string;
  mapUrl?: string;
  schemeImage?: string;
}

const gateButtons = {
  inline_keyboard: [
    [{ text: uk.buttons.hvirtka, callback_data: 'gate:hvirtka' }],
    [{ text: uk.buttons.vorota, callback_data: 'gate:vorota' }],
  ],
};
const contactKeyboard = {
  keyboard: [[{ text: uk.buttons.shareContact, request_contact: true }]],
  one_time_keyboard: true,
  resize_keyboard: true,
};
const removeKeyboard = { remove_keyboard: true };

/** Turns a chat view into the one Bot API call the user gets. */
export function renderTelegram(chatId: number, view: TgView, o: RenderOptions): TgCall {
  const text = (body: string, reply_markup?: object): TgCall => ({
    method: 'sendMessage',
    params: { chat_id: chatId, text: body, ...(reply_markup ? { reply_markup } : {}) },
  });
  switch (view.view) {
    case 'welcome':
      return view.member
        ? text(uk.welcomeMember(o.org, view.firstName, view.admin), gateButtons)
        : text(uk.welcomeGuest(o.org, view.firstName), contactKeyboard);
    case 'help':
      return view.member
        ? text(uk.helpMember(o.org, view.admin), gateButtons)
        : text(uk.helpGuest(o.org), contactKeyboard);
    case 'contactForeign':
      return text(uk.contactForeign, contactKeyboard);
    case 'contactAccepted':
      return text(uk.contactAccepted(o.org, view.firstName), removeKeyboard);
    case 'contactRefused':
      return text(uk.contactRefused(o.org, view.firstName), removeKeyboard);
    case 'denied':
      return text(uk.denied);
    case 'cooldown':
      return text(uk.cooldown(view.seconds));
    case 'alreadyOpening':
      return text(uk.alreadyOpening(view.gate));
    case 'keys':
      return text(uk.keys(view.gate));
    case 'gatesOff':
      return text(uk.gatesOff(o.org));
    case 'status':
      return text(uk.status(view.calls, o.timezone));
    case 'info':
      if (view.topic === 'map' && o.mapUrl) return text(uk.info.map(o.mapUrl));
      if (view.topic === 'scheme' && o.schemeImage) {
        return {
          method: 'sendPhoto',
          params: { chat_id: chatId, caption: uk.info.scheme },
          file: o.schemeImage,
        };
      }
      return text(uk.info.call(o.org));
    case 'adminOnly':
      return text(uk.adminOnly);
    case 'access':
      return text(uk.access(view.phone, view.allowed));
    case 'badPhone':
      return text(uk.badPhone);
    case 'stats':
      return text(uk.stats(view.stats));
    case 'unknown':
      return text(uk.unknown(view.member));
  }
}
