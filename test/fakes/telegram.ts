/**
 * Fake Telegram Bot API on loopback (https://core.telegram.org/bots/api).
 *
 * Routes `/bot<token>/<method>` (method names case-insensitive, as on Telegram), GET query and POST
 * bodies in JSON, x-www-form-urlencoded (what node-telegram-bot-api v2 sends: every field a string,
 * structured fields JSON-encoded) and multipart/form-data (its uploads). Form/query values are
 * coerced as the Bot API does (integers, booleans, JSON-typed fields such as reply_markup).
 *
 * Answers `{ok:true,result}` or `{ok:false,error_code,description[,parameters]}` with the same HTTP
 * status: 401 Unauthorized (wrong token), 404 Not Found (unknown method), 400 Bad Request: … (chat not
 * found, message text is empty, can't parse entities, …), 403 (blocked chat), 409 (webhook active /
 * a second poller), 429 with parameters.retry_after (via failNext).
 *
 * Chats are tracked: a chat is known once an update from it was pushed, or via `chats`/`addChat`.
 * Sending to an unknown chat is "400 Bad Request: chat not found", as for a user who never started
 * the bot; pass `strictChats: false` to accept any chat.
 *
 * Long polling: getUpdates holds the request up to `timeout` seconds until pushUpdate(); `offset`
 * confirms (drops) earlier updates; a newer getUpdates terminates a held one with 409, as Telegram
 * does. close() answers held polls with an empty result and closes every connection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyServer, closeServer, listenLoopback, pollUntil, resetOrHang } from './shared';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected freely by tests
export type Json = any;

export interface TelegramRequest {
  httpMethod: string;
  path: string;
  /** API method as in the path (case as sent); '' when the path is not /bot<token>/<method> */
  method: string;
  /** params after Bot-API coercion (query merged with body) */
  params: Record<string, Json>;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
  at: number;
  /** HTTP status answered; 0 while held (long poll / hang) or after a reset */
  response: number;
  /** the JSON answered, when any */
  answer?: Json;
}

export interface TelegramFailAnswer {
  /** only consume this answer on this API method (case-insensitive); default: any method except getUpdates */
  method?: string;
  /** HTTP status = error_code; default 500 */
  status?: number;
  /** default per status, e.g. 'Too Many Requests: retry after N' */
  description?: string;
  /** for 429: parameters.retry_after (default 1) */
  retryAfter?: number;
  /** full JSON body instead of the Bot API error envelope */
  body?: unknown;
  headers?: Record<string, string>;
  /** never answer (until close()) */
  hang?: boolean;
  /** destroy the socket */
  reset?: boolean;
}

/** One chat-visible call that succeeded: its (coerced) params plus the resulting message_id. */
export interface SentItem {
  method: string;
  chat_id?: number | string;
  text?: string;
  reply_markup?: Json;
  message_id?: number;
  [k: string]: Json;
}

export interface ApiCall {
  method: string;
  params: Record<string, Json>;
  result: Json;
  at: number;
}

export interface FakeTelegram {
  /** the apiRoot to give the client (it appends /bot<token>/<method>) */
  url: string;
  token: string;
  requests: TelegramRequest[];
  /** queue an update (update_id assigned when missing); answers a held getUpdates; returns it */
  pushUpdate(update: Json): Json;
  /** updates not yet confirmed by an offset */
  pendingUpdates(): Json[];
  /** successful sendMessage / sendPhoto / sendDocument / editMessageText / editMessageReplyMarkup / deleteMessage */
  sent(): SentItem[];
  /** every successful API call (optionally of one method), in order */
  calls(method?: string): ApiCall[];
  /** queue failure answers (see TelegramFailAnswer.method for which requests consume them) */
  failNext(...answers: TelegramFailAnswer[]): void;
  /** polls until pred(sent()) holds; rejects with a clear message on timeout (default 5000 ms) */
  waitFor(pred: (sent: SentItem[]) => boolean, timeoutMs?: number): Promise<SentItem[]>;
  /** make a chat known (a number = private chat with that user id) */
  addChat(chat: number | { id: number; type?: string; [k: string]: Json }): void;
  /** the user blocked the bot: sends to this chat answer 403 */
  blockChat(chatId: number): void;
  webhookInfo(): { url: string; secret_token?: string };
  /** commands set with setMyCommands for the default scope and language */
  commands(): Array<{ command: string; description: string }>;
  getMe(): Json;
  close(): Promise<void>;
}

export interface FakeTelegramOptions {
  token: string;
  username?: string;
  firstName?: string;
  /** known chats from the start (numbers = private chats) */
  chats?: Array<number | { id: number; type?: string; [k: string]: Json }>;
  /** default true: unknown chat → 400 Bad Request: chat not found */
  strictChats?: boolean;
}

const METHODS = [
  'getMe',
  'getUpdates',
  'sendMessage',
  'sendPhoto',
  'sendDocument',
  'sendChatAction',
  'editMessageText',
  'editMessageReplyMarkup',
  'deleteMessage',
  'answerCallbackQuery',
  'setMyCommands',
  'getMyCommands',
  'deleteMyCommands',
  'setWebhook',
  'deleteWebhook',
  'getWebhookInfo',
  'logOut',
  'close',
] as const;
type Method = (typeof METHODS)[number];
const CANONICAL = new Map<string, Method>(METHODS.map((m) => [m.toLowerCase(), m]));

const INT_PARAMS = new Set([
  'message_id',
  'offset',
  'limit',
  'timeout',
  'reply_to_message_id',
  'message_thread_id',
  'cache_time',
  'max_connections',
  'user_id',
]);
const BOOL_PARAMS = new Set([
  'disable_notification',
  'protect_content',
  'show_alert',
  'drop_pending_updates',
  'disable_web_page_preview',
  'allow_sending_without_reply',
  'has_spoiler',
  'show_caption_above_media',
  'disable_content_type_detection',
]);
const JSON_PARAMS = new Set([
  'reply_markup',
  'entities',
  'caption_entities',
  'allowed_updates',
  'commands',
  'scope',
  'link_preview_options',
  'reply_parameters',
  'media',
]);

const TEXT_MAX = 4096;
const CAPTION_MAX = 1024;
const HTML_TAGS = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'span',
  'tg-spoiler',
  'a',
  'code',
  'pre',
  'blockquote',
  'tg-emoji',
]);

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: Record<string, Json>,
  ) {
    super(description);
  }
}
function bad(what: string): never {
  throw new ApiError(400, `Bad Request: ${what}`);
}

function isObj(v: unknown): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Bot API coercion of a string value (query / form field) by parameter name. */
function coerce(name: string, v: unknown): Json {
  if (typeof v !== 'string') return v;
  if (JSON_PARAMS.has(name)) {
    try {
      return JSON.parse(v);
    } catch {
      if (name === 'reply_markup') bad("can't parse reply keyboard markup JSON object");
      if (name === 'entities' || name === 'caption_entities') bad("can't parse entities JSON object");
      bad(`can't parse ${name} JSON object`);
    }
  }
  if (name === 'chat_id' || name === 'from_chat_id') return /^-?\d+$/.test(v) ? Number(v) : v;
  if (INT_PARAMS.has(name)) {
    if (!/^-?\d+$/.test(v.trim())) bad(`field "${name}" must be of type Integer`);
    return Number(v.trim());
  }
  if (BOOL_PARAMS.has(name)) {
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0' || v === '') return false;
    bad(`field "${name}" must be of type Boolean`);
  }
  return v;
}

function byteOffset(s: string, i: number): number {
  return Buffer.byteLength(s.slice(0, i), 'utf8');
}

/**
 * Checks Telegram HTML (parse_mode HTML) and returns the plain text length in UTF-16 units.
 * Error texts follow Telegram's "can't parse entities: …" family (best-effort wording).
 */
function htmlFail(m: string): never {
  return bad(`can't parse entities: ${m}`);
}

export function checkHtml(text: string): number {
  const stack: Array<{ name: string; at: number }> = [];
  let plain = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '<') {
      const end = text.indexOf('>', i);
      if (end < 0) htmlFail(`Unclosed start tag at byte offset ${byteOffset(text, i)}`);
      const inner = text.slice(i + 1, end);
      if (inner.startsWith('/')) {
        const name = inner.slice(1).trim().toLowerCase();
        const top = stack.pop();
        if (!top) htmlFail(`Unexpected end tag at byte offset ${byteOffset(text, i)}`);
        else if (name !== '' && name !== top.name) {
          htmlFail(
            `Unmatched end tag at byte offset ${byteOffset(text, i)}, expected "</${top.name}>", found "</${name}>"`,
          );
        }
      } else {
        const name = (/^[a-zA-Z][a-zA-Z0-9-]*/.exec(inner)?.[0] ?? '').toLowerCase();
        if (!HTML_TAGS.has(name))
          htmlFail(`Unsupported start tag "${name}" at byte offset ${byteOffset(text, i)}`);
        stack.push({ name, at: i });
      }
      i = end + 1;
      continue;
    }
    if (ch === '&') {
      const m = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/.exec(text.slice(i, i + 12));
      if (m) {
        plain += 1;
        i += m[0].length;
        continue;
      }
    }
    plain += 1;
    i += 1;
  }
  const open = stack.pop();
  if (open) htmlFail(`Can't find end tag corresponding to start tag "${open.name}"`);
  return plain;
}

function textLength(text: string, parseMode: unknown): number {
  if (parseMode === undefined || parseMode === '') return text.length;
  if (typeof parseMode !== 'string') return bad('unsupported parse_mode');
  const pm = parseMode.toLowerCase();
  if (pm === 'html') return checkHtml(text);
  if (pm === 'markdown' || pm === 'markdownv2') return text.length; // not validated
  return bad('unsupported parse_mode');
}

function checkReplyMarkup(rm: unknown): void {
  if (rm === undefined) return;
  if (!isObj(rm)) bad("can't parse reply keyboard markup JSON object");
  if (rm.inline_keyboard !== undefined) {
    if (!Array.isArray(rm.inline_keyboard))
      bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays');
    for (const row of rm.inline_keyboard) {
      if (!Array.isArray(row))
        bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays');
      for (const b of row) {
        if (!isObj(b) || typeof b.text !== 'string')
          bad('can\'t parse inline keyboard button: Field "text" must be of type String');
        if (b.text === '') bad('text buttons are unallowed in the inline keyboard');
        const actions = [
          'url',
          'callback_data',
          'web_app',
          'login_url',
          'switch_inline_query',
          'switch_inline_query_current_chat',
          'switch_inline_query_chosen_chat',
          'copy_text',
          'callback_game',
          'pay',
        ].filter((k) => b[k] !== undefined);
        if (actions.length === 0)
          bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
        if (b.callback_data !== undefined) {
          const n = typeof b.callback_data === 'string' ? Buffer.byteLength(b.callback_data, 'utf8') : 0;
          if (n < 1 || n > 64) bad('BUTTON_DATA_INVALID');
        }
      }
    }
    return;
  }
  if (rm.keyboard !== undefined) {
    if (!Array.isArray(rm.keyboard))
      bad('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays');
    for (const row of rm.keyboard) {
      if (!Array.isArray(row))
        bad('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays');
      for (const b of row) {
        const t = typeof b === 'string' ? b : isObj(b) ? b.text : undefined;
        if (typeof t !== 'string' || t === '')
          bad('can\'t parse keyboard button: Field "text" must be of type String');
      }
    }
    return;
  }
  if (rm.remove_keyboard === true || rm.force_reply === true) return;
  bad("can't parse reply keyboard markup JSON object");
}

function updateType(u: Json): string | undefined {
  if (!isObj(u)) return undefined;
  return Object.keys(u).find((k) => k !== 'update_id');
}

function defaultDescription(status: number, retryAfter: number): string {
  switch (status) {
    case 400:
      return 'Bad Request';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden: bot was blocked by the user';
    case 404:
      return 'Not Found';
    case 409:
      return 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
    case 429:
      return `Too Many Requests: retry after ${retryAfter}`;
    case 502:
      return 'Bad Gateway';
    default:
      return status >= 500 ? 'Internal Server Error' : `Error ${status}`;
  }
}

interface HeldPoll {
  rec: TelegramRequest;
  res: ServerResponse;
  limit: number;
  timer: NodeJS.Timeout;
}

interface StoredMessage {
  text?: string;
  caption?: string;
  reply_markup?: Json;
  message: Json;
}

export async function startFakeTelegram(opts: FakeTelegramOptions): Promise<FakeTelegram> {
  const token = opts.token;
  const strict = opts.strictChats ?? true;
  const botId = Number(/^(\d+):/.exec(token)?.[1] ?? 1000000);
  const me = {
    id: botId,
    is_bot: true,
    first_name: opts.firstName ?? 'Switchboard Test Bot',
    username: opts.username ?? 'switchboard_test_bot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
  const requests: TelegramRequest[] = [];
  const sentItems: SentItem[] = [];
  const apiCalls: ApiCall[] = [];
  const queue: TelegramFailAnswer[] = [];
  const hung = new Set<ServerResponse>();
  const chats = new Map<number | string, Json>();
  const blocked = new Set<number | string>();
  const callbackIds = new Set<string>();
  const messages = new Map<string, StoredMessage>();
  const commandSets = new Map<string, Array<{ command: string; description: string }>>();
  let updates: Json[] = [];
  let lastUpdateId = 0;
  let allowed: string[] | undefined;
  let held: HeldPoll | undefined;
  let webhook: { url: string; secret_token?: string; max_connections?: number; allowed_updates?: string[] } =
    {
      url: '',
    };
  let messageSeq = 0;
  let closing = false;

  const rememberChat = (c: Json): void => {
    if (isObj(c) && (typeof c.id === 'number' || typeof c.id === 'string')) {
      chats.set(c.id, { ...(chats.get(c.id) ?? {}), ...c });
    }
  };
  const addChat = (c: number | { id: number; type?: string; [k: string]: Json }): void => {
    if (typeof c === 'number') rememberChat({ id: c, type: c > 0 ? 'private' : 'group', first_name: 'Test' });
    else rememberChat({ type: c.id > 0 ? 'private' : 'group', ...c });
  };
  for (const c of opts.chats ?? []) addChat(c);

  const chatFor = (chatId: unknown): Json => {
    if (chatId === undefined || chatId === null || chatId === '') bad('chat_id is empty');
    const key = chatId as number | string;
    if (blocked.has(key)) throw new ApiError(403, 'Forbidden: bot was blocked by the user');
    const known = chats.get(key);
    if (known) return known;
    if (strict) bad('chat not found');
    return { id: key, type: typeof key === 'number' && key > 0 ? 'private' : 'group' };
  };

  const send = (
    rec: TelegramRequest,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    rec.response = status;
    rec.answer = body;
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const ok = (
    rec: TelegramRequest,
    res: ServerResponse,
    result: Json,
    extra: Record<string, Json> = {},
  ): void => send(rec, res, 200, { ok: true, result, ...extra });
  const apiError = (rec: TelegramRequest, res: ServerResponse, e: ApiError): void => {
    const body: Record<string, Json> = { ok: false, error_code: e.code, description: e.description };
    if (e.parameters) body.parameters = e.parameters;
    send(rec, res, e.code, body);
  };

  const deliverable = (lim: number): Json[] => updates.slice(0, lim);

  const answerHeld = (): void => {
    if (!held) return;
    const h = held;
    const batch = deliverable(h.limit);
    if (batch.length === 0) return;
    held = undefined;
    clearTimeout(h.timer);
    ok(h.rec, h.res, batch);
    apiCalls.push({ method: 'getUpdates', params: h.rec.params, result: batch, at: Date.now() });
  };

  const pushUpdate = (u: Json): Json => {
    if (!isObj(u)) throw new Error('pushUpdate: an Update object is required');
    const upd = { ...u };
    if (typeof upd.update_id !== 'number') upd.update_id = lastUpdateId + 1;
    if (upd.update_id > lastUpdateId) lastUpdateId = upd.update_id;
    const m = upd.message ?? upd.edited_message ?? upd.callback_query?.message;
    if (isObj(m)) rememberChat(m.chat);
    if (isObj(upd.callback_query) && typeof upd.callback_query.id === 'string')
      callbackIds.add(upd.callback_query.id);
    const type = updateType(upd);
    if (allowed && allowed.length > 0 && type !== undefined && !allowed.includes(type)) return upd;
    updates.push(upd);
    updates.sort((a, b) => a.update_id - b.update_id);
    answerHeld();
    return upd;
  };

  const storeMessage = (chat: Json, body: Record<string, Json>): Json => {
    messageSeq += 1;
    const message: Json = {
      message_id: messageSeq,
      from: { id: me.id, is_bot: true, first_name: me.first_name, username: me.username },
      chat,
      date: Math.floor(Date.now() / 1000),
      ...body,
    };
    messages.set(`${chat.id}:${messageSeq}`, {
      text: body.text,
      caption: body.caption,
      reply_markup: body.reply_markup,
      message,
    });
    return message;
  };

  const inlineOnly = (rm: Json): Json => (isObj(rm) && rm.inline_keyboard !== undefined ? rm : undefined);

  const recordSent = (method: Method, params: Record<string, Json>, messageId?: number): void => {
    const item: SentItem = { method, ...params };
    if (messageId !== undefined) item.message_id = messageId;
    sentItems.push(item);
  };

  /** Runs one API method; returns the result (or throws ApiError). getUpdates is handled by the caller. */
  const run = (method: Method, p: Record<string, Json>): { result: Json; extra?: Record<string, Json> } => {
    switch (method) {
      case 'getMe':
        return { result: { ...me } };
      case 'logOut':
      case 'close':
        return { result: true };
      case 'sendMessage': {
        const chat = chatFor(p.chat_id);
        if (typeof p.text !== 'string' || p.text.trim() === '') bad('message text is empty');
        const n = textLength(p.text, p.parse_mode);
        if (n > TEXT_MAX) bad('message is too long');
        if (n === 0) bad('message text is empty');
        checkReplyMarkup(p.reply_markup);
        const body: Record<string, Json> = { text: p.text };
        const rm = inlineOnly(p.reply_markup);
        if (rm) body.reply_markup = rm;
        const msg = storeMessage(chat, body);
        recordSent(method, p, msg.message_id);
        return { result: msg };
      }
      case 'sendPhoto':
      case 'sendDocument': {
        const field = method === 'sendPhoto' ? 'photo' : 'document';
        const chat = chatFor(p.chat_id);
        const file = p[field];
        if (file === undefined || file === '') bad(`there is no ${field} in the request`);
        if (typeof p.caption === 'string' && textLength(p.caption, p.parse_mode) > CAPTION_MAX) {
          bad('message caption is too long');
        }
        checkReplyMarkup(p.reply_markup);
        const fileId = `FAKE_${field.toUpperCase()}_${messageSeq + 1}`;
        const body: Record<string, Json> =
          method === 'sendPhoto'
            ? {
                photo: [
                  {
                    file_id: `${fileId}_s`,
                    file_unique_id: `${fileId}s`,
                    width: 90,
                    height: 90,
                    file_size: 1000,
                  },
                  {
                    file_id: fileId,
                    file_unique_id: `${fileId}m`,
                    width: 800,
                    height: 800,
                    file_size: 50000,
                  },
                ],
              }
            : {
                document: {
                  file_id: fileId,
                  file_unique_id: `${fileId}u`,
                  file_name: isObj(file) ? file.filename : 'file',
                },
              };
        if (typeof p.caption === 'string') body.caption = p.caption;
        const rm = inlineOnly(p.reply_markup);
        if (rm) body.reply_markup = rm;
        const msg = storeMessage(chat, body);
        recordSent(method, p, msg.message_id);
        return { result: msg };
      }
      case 'sendChatAction': {
        chatFor(p.chat_id);
        const actions = [
          'typing',
          'upload_photo',
          'record_video',
          'upload_video',
          'record_voice',
          'upload_voice',
          'upload_document',
          'choose_sticker',
          'find_location',
          'record_video_note',
          'upload_video_note',
        ];
        if (typeof p.action !== 'string' || !actions.includes(p.action))
          bad('wrong parameter action in request');
        return { result: true };
      }
      case 'editMessageText':
      case 'editMessageReplyMarkup': {
        if (p.inline_message_id !== undefined) {
          recordSent(method, p);
          return { result: true };
        }
        const chat = chatFor(p.chat_id);
        if (typeof p.message_id !== 'number') bad('message identifier is not specified');
        const stored = messages.get(`${chat.id}:${p.message_id}`);
        if (!stored)
          bad(method === 'editMessageText' ? 'message to edit not found' : 'message to edit not found');
        if (method === 'editMessageText') {
          if (typeof p.text !== 'string' || p.text.trim() === '') bad('message text is empty');
          const n = textLength(p.text, p.parse_mode);
          if (n > TEXT_MAX) bad('MESSAGE_TOO_LONG');
        }
        checkReplyMarkup(p.reply_markup);
        const newText = method === 'editMessageText' ? p.text : stored.text;
        const newMarkup = inlineOnly(p.reply_markup);
        if (newText === stored.text && JSON.stringify(newMarkup) === JSON.stringify(stored.reply_markup)) {
          bad(
            'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
          );
        }
        stored.text = newText;
        stored.reply_markup = newMarkup;
        const message = { ...stored.message, text: newText, edit_date: Math.floor(Date.now() / 1000) };
        if (newMarkup) message.reply_markup = newMarkup;
        else delete message.reply_markup;
        stored.message = message;
        recordSent(method, p, p.message_id);
        return { result: message };
      }
      case 'deleteMessage': {
        const chat = chatFor(p.chat_id);
        const key = `${chat.id}:${p.message_id}`;
        if (!messages.has(key)) bad('message to delete not found');
        messages.delete(key);
        recordSent(method, p, p.message_id);
        return { result: true };
      }
      case 'answerCallbackQuery': {
        if (typeof p.callback_query_id !== 'string' || !callbackIds.has(p.callback_query_id)) {
          bad('query is too old and response timeout expired or query ID is invalid');
        }
        return { result: true };
      }
      case 'setMyCommands': {
        const cmds = p.commands;
        if (!Array.isArray(cmds)) bad('parameter "commands" is required');
        if (cmds.length > 100) bad('BOT_COMMANDS_TOO_MUCH');
        for (const c of cmds) {
          if (!isObj(c) || typeof c.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) {
            bad('BOT_COMMAND_INVALID');
          }
          if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 256) {
            bad('BOT_COMMAND_DESCRIPTION_INVALID');
          }
        }
        const key = `${JSON.stringify(p.scope ?? { type: 'default' })}|${p.language_code ?? ''}`;
        commandSets.set(
          key,
          cmds.map((c: Json) => ({ command: c.command, description: c.description })),
        );
        return { result: true };
      }
      case 'getMyCommands': {
        const key = `${JSON.stringify(p.scope ?? { type: 'default' })}|${p.language_code ?? ''}`;
        return { result: commandSets.get(key) ?? [] };
      }
      case 'deleteMyCommands': {
        commandSets.delete(`${JSON.stringify(p.scope ?? { type: 'default' })}|${p.language_code ?? ''}`);
        return { result: true };
      }
      case 'setWebhook': {
        const url = typeof p.url === 'string' ? p.url : '';
        if (url === '') {
          const had = webhook.url !== '';
          webhook = { url: '' };
          return {
            result: true,
            extra: { description: had ? 'Webhook was deleted' : 'Webhook is already deleted' },
          };
        }
        if (!/^https:\/\//i.test(url)) bad('bad webhook: An HTTPS URL must be provided for webhook');
        if (p.drop_pending_updates === true) updates = [];
        webhook = { url };
        if (typeof p.secret_token === 'string') webhook.secret_token = p.secret_token;
        if (typeof p.max_connections === 'number') webhook.max_connections = p.max_connections;
        if (Array.isArray(p.allowed_updates)) webhook.allowed_updates = p.allowed_updates;
        if (held) {
          const h = held;
          held = undefined;
          clearTimeout(h.timer);
          apiError(
            h.rec,
            h.res,
            new ApiError(
              409,
              "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ),
          );
        }
        return { result: true, extra: { description: 'Webhook was set' } };
      }
      case 'deleteWebhook': {
        const had = webhook.url !== '';
        webhook = { url: '' };
        if (p.drop_pending_updates === true) updates = [];
        return {
          result: true,
          extra: { description: had ? 'Webhook was deleted' : 'Webhook is already deleted' },
        };
      }
      case 'getWebhookInfo': {
        const r: Record<string, Json> = {
          url: webhook.url,
          has_custom_certificate: false,
          pending_update_count: updates.length,
        };
        if (webhook.url !== '') {
          r.max_connections = webhook.max_connections ?? 40;
          r.ip_address = '127.0.0.1';
          if (webhook.allowed_updates) r.allowed_updates = webhook.allowed_updates;
        }
        return { result: r };
      }
      case 'getUpdates':
        throw new Error('unreachable');
    }
  };

  const getUpdates = (rec: TelegramRequest, res: ServerResponse, p: Record<string, Json>): void => {
    if (webhook.url !== '') {
      throw new ApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
    }
    const offset = typeof p.offset === 'number' ? p.offset : 0;
    const lim = typeof p.limit === 'number' ? Math.min(100, Math.max(1, p.limit)) : 100;
    const timeout = typeof p.timeout === 'number' ? Math.max(0, p.timeout) : 0;
    if (Array.isArray(p.allowed_updates))
      allowed = p.allowed_updates.length > 0 ? p.allowed_updates : undefined;
    if (offset > 0) updates = updates.filter((u) => u.update_id >= offset);
    else if (offset < 0) updates = updates.slice(offset);
    if (held) {
      const h = held;
      held = undefined;
      clearTimeout(h.timer);
      apiError(h.rec, h.res, new ApiError(409, defaultDescription(409, 0)));
    }
    const batch = deliverable(lim);
    if (batch.length > 0 || timeout === 0 || closing) {
      ok(rec, res, batch);
      apiCalls.push({ method: 'getUpdates', params: p, result: batch, at: Date.now() });
      return;
    }
    const h: HeldPoll = {
      rec,
      res,
      limit: lim,
      timer: setTimeout(() => {
        if (held !== h) return;
        held = undefined;
        ok(rec, res, []);
        apiCalls.push({ method: 'getUpdates', params: p, result: [], at: Date.now() });
      }, timeout * 1000),
    };
    held = h;
    res.on('close', () => {
      if (held === h) {
        held = undefined;
        clearTimeout(h.timer);
      }
    });
  };

  const takeFailure = (method: string): TelegramFailAnswer | undefined => {
    const lower = method.toLowerCase();
    const i = queue.findIndex((a) =>
      a.method === undefined ? lower !== 'getupdates' : a.method.toLowerCase() === lower,
    );
    if (i < 0) return undefined;
    return queue.splice(i, 1)[0];
  };

  const parseParams = async (
    req: IncomingMessage,
    raw: Buffer,
    query: string,
  ): Promise<Record<string, Json>> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(query)) out[k] = v;
    const ctype = String(req.headers['content-type'] ?? '');
    if (raw.length > 0) {
      if (/^application\/json/i.test(ctype)) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch {
          bad("can't parse JSON encoded request body");
        }
        if (!isObj(parsed)) bad('request body must be a JSON object');
        Object.assign(out, parsed);
      } else if (/^application\/x-www-form-urlencoded/i.test(ctype)) {
        for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) out[k] = v;
      } else if (/^multipart\/form-data/i.test(ctype)) {
        const fd = await new Response(new Uint8Array(raw), { headers: { 'content-type': ctype } }).formData();
        for (const [k, v] of fd.entries()) {
          if (typeof v === 'string') out[k] = v;
          else out[k] = { filename: v.name, contentType: v.type, size: v.size };
        }
      }
    }
    const coerced: Record<string, Json> = {};
    for (const [k, v] of Object.entries(out)) coerced[k] = coerce(k, v);
    return coerced;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> => {
    const full = req.url ?? '/';
    const qi = full.indexOf('?');
    const path = qi < 0 ? full : full.slice(0, qi);
    const query = qi < 0 ? '' : full.slice(qi + 1);
    const m = /^\/bot([^/]*)\/([^/]+)\/?$/.exec(path);
    const rec: TelegramRequest = {
      httpMethod: req.method ?? '',
      path,
      method: m?.[2] ?? '',
      params: {},
      contentType: String(req.headers['content-type'] ?? ''),
      headers: { ...req.headers },
      at: Date.now(),
      response: 0,
    };
    requests.push(rec);
    try {
      if (!m) throw new ApiError(404, 'Not Found');
      if (decodeURIComponent(m[1] ?? '') !== token) throw new ApiError(401, 'Unauthorized');
      const method = CANONICAL.get((m[2] ?? '').toLowerCase());
      if (!method) throw new ApiError(404, 'Not Found');
      const p = await parseParams(req, raw, query);
      rec.params = p;

      const fail = takeFailure(method);
      if (fail) {
        if (resetOrHang(fail, req, res, hung)) return;
        const status = fail.status ?? 500;
        if (fail.body !== undefined) {
          send(rec, res, status, fail.body, fail.headers);
          return;
        }
        const retryAfter = fail.retryAfter ?? 1;
        const body: Record<string, Json> = {
          ok: false,
          error_code: status,
          description: fail.description ?? defaultDescription(status, retryAfter),
        };
        if (status === 429) body.parameters = { retry_after: retryAfter };
        send(rec, res, status, body, fail.headers);
        return;
      }

      if (method === 'getUpdates') {
        getUpdates(rec, res, p);
        return;
      }
      const { result, extra } = run(method, p);
      apiCalls.push({ method, params: p, result, at: Date.now() });
      ok(rec, res, result, extra);
    } catch (e) {
      if (e instanceof ApiError) {
        apiError(rec, res, e);
        return;
      }
      throw e;
    }
  };

  const server = bodyServer(handle, (e) => ({
    ok: false,
    error_code: 500,
    description: `Internal Server Error: fake crashed: ${String(e)}`,
  }));

  const url = await listenLoopback(server);
  let closed: Promise<void> | undefined;

  return {
    url,
    token,
    requests,
    pushUpdate,
    pendingUpdates: () => updates.map((u) => structuredClone(u)),
    sent: () => sentItems.map((s) => ({ ...s })),
    calls: (method) =>
      apiCalls.filter((c) => method === undefined || c.method.toLowerCase() === method.toLowerCase()),
    failNext: (...answers) => {
      queue.push(...answers);
    },
    waitFor: (pred, timeoutMs = 5000) =>
      pollUntil(
        () => sentItems.map((x) => ({ ...x })),
        pred,
        timeoutMs,
        (s) => {
          const last = s
            .slice(-3)
            .map((b) => JSON.stringify(b).slice(0, 300))
            .join('\n  ');
          const lastReq = requests
            .slice(-3)
            .map((r) => `${r.method} → ${r.response} ${JSON.stringify(r.answer ?? null).slice(0, 200)}`)
            .join('\n  ');
          return (
            `FakeTelegram.waitFor: condition not met within ${timeoutMs} ms; ` +
            `${s.length} item(s) sent, ${requests.length} request(s) seen` +
            (last ? `; last sent:\n  ${last}` : '') +
            (lastReq ? `\nlast requests:\n  ${lastReq}` : '')
          );
        },
      ),
    addChat,
    blockChat: (chatId) => {
      blocked.add(chatId);
    },
    webhookInfo: () => ({ ...webhook }),
    commands: () => [...(commandSets.get(`${JSON.stringify({ type: 'default' })}|`) ?? [])],
    getMe: () => ({ ...me }),
    close: () => {
      closed ??= (async () => {
        closing = true;
        const flushing: Array<Promise<void>> = [];
        if (held) {
          const h = held;
          held = undefined;
          clearTimeout(h.timer);
          flushing.push(
            new Promise<void>((resolve) => {
              h.res.once('finish', () => resolve());
              h.res.once('close', () => resolve());
            }),
          );
          ok(h.rec, h.res, []);
          apiCalls.push({ method: 'getUpdates', params: h.rec.params, result: [], at: Date.now() });
        }
        await Promise.all(flushing);
        await closeServer(server, hung);
      })();
      return closed;
    },
  };
}
