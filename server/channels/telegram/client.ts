import { Api, TelegramApiError } from 'node-telegram-bot-api';
import { fromPath } from 'node-telegram-bot-api/node';
import type { EffectOutcome, EffectRunner } from '../../engine/types';
import type { Logger } from '../../lib/log';
import type { TgCall } from './render';

/** The outbox channel of Telegram messages (the gate bot's replies and the admins' alerts). */
export const TELEGRAM_CHANNEL = 'telegram';

/** The Bot API as Switchboard uses it: no retries inside (the outbox retries), a 10 s timeout. */
export function telegramApi(token: string, apiRoot: string): Api {
  return new Api(token, { apiRoot, maxRetries: 0, timeoutMs: 10_000 });
}

/** Something that carries out one Bot API call: the real API, or the dry-run printer. */
export type TgSender = (call: TgCall, signal?: AbortSignal) => Promise<void>;

export function liveSender(api: Api): TgSender {
  return async (call, signal) => {
    if (call.method === 'sendPhoto' && call.file) {
      await api.sendPhoto(
        { ...(call.params as { chat_id: number }), photo: await fromPath(call.file) },
        signal,
      );
      return;
    }
    const method = (api as unknown as Record<string, (p: unknown, s?: AbortSignal) => Promise<unknown>>)[
      call.method
    ];
    if (typeof method !== 'function') throw new Error(`unknown Bot API method ${call.method}`);
    await method.call(api, call.params, signal);
  };
}

/** Prints what would be sent (MODE=dev without TELEGRAM_BOT_TOKEN). */
export function drySender(print: (t: string) => void = (t) => process.stdout.write(`${t}\n`)): TgSender {
  return async (call) => {
    const p = call.params as {
      chat_id?: number;
      text?: string;
      caption?: string;
      callback_query_id?: string;
      reply_markup?: {
        inline_keyboard?: Array<Array<{ text: string }>>;
        keyboard?: Array<Array<{ text: string }>>;
      };
    };
    if (call.method === 'answerCallbackQuery') return;
    const lines = [p.text ?? p.caption ?? `(${call.method}${call.file ? ` ${call.file}` : ''})`];
    const buttons = p.reply_markup?.inline_keyboard ?? p.reply_markup?.keyboard;
    if (buttons)
      lines.push(
        buttons
          .flat()
          .map((b) => `[${b.text}]`)
          .join(' '),
      );
    print(
      `[telegram dry-run → chat ${p.chat_id}]\n${lines.map((l) => `  ${l.replace(/\n/g, '\n  ')}`).join('\n')}`,
    );
  };
}

/** Carries out `telegram` effects; a tapped inline button is acknowledged first (best effort). */
export function telegramRunner(send: TgSender, log: Logger): EffectRunner {
  return async (effect, signal) => {
    const call = effect.payload.call as TgCall;
    const callbackQueryId = effect.payload.callbackQueryId as string | undefined;
    if (callbackQueryId && effect.attempts === 0) {
      await send({
        method: 'answerCallbackQuery',
        params: { callback_query_id: callbackQueryId },
      }).catch((e) => log.warn('telegram: answerCallbackQuery failed', { error: (e as Error).message }));
    }
    try {
      await send(call, signal);
      return { ok: true };
    } catch (e) {
      return classify(e);
    }
  };
}

/** 429 and 5xx and network trouble are worth retrying; any other refusal is final. */
export function classify(e: unknown): EffectOutcome {
  if (e instanceof TelegramApiError) {
    const error = `Telegram ${e.errorCode}: ${e.description}`;
    if (e.errorCode === 429)
      return { ok: false, permanent: false, error, retryAfterMs: (e.retryAfter ?? 1) * 1000 };
    return { ok: false, permanent: e.errorCode < 500, error };
  }
  return { ok: false, permanent: false, error: `Telegram unreachable: ${(e as Error).message}` };
}
