/**
 * Reads a 360dialog / WhatsApp webhook body into the items Switchboard acts on. Accepts the Cloud API
 * envelope (every entry, change, message and status) and the older top-level {contacts, messages,
 * statuses} shape. Never throws: what it cannot use is listed in `ignored` for a log line.
 */
export type UserInput =
  | { type: 'TEXT'; text: string }
  | { type: 'BUTTON'; id: string }
  | { type: 'LIST'; id: string }
  | { type: 'UNSUPPORTED'; kind: string };

export interface InboundMessage {
  kind: 'message';
  waId: string;
  name?: string;
  messageId: string;
  input: UserInput;
}

export interface InboundStatus {
  kind: 'status';
  messageId: string;
  status: string;
  recipient: string;
  timestamp: number;
  errors: Array<{ code: number; title?: string }>;
}

export interface ParsedWebhook {
  /** False when the body is neither shape at all (answered 200 with a warning). */
  recognised: boolean;
  items: Array<InboundMessage | InboundStatus>;
  ignored: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
/** Ids and names longer than this are not WhatsApp's: refuse them instead of storing them. */
const MAX_ID = 256;

/** Message types that are not a user talking to the bot: recorded in the log, no reply. */
const SILENT_TYPES = new Set(['system', 'revoke', 'edit', 'request_welcome', 'ephemeral', 'errors']);

export function parseWebhook(body: unknown): ParsedWebhook {
  const out: ParsedWebhook = { recognised: false, items: [], ignored: [] };
  if (!isObj(body)) return out;
  if (body.object === 'whatsapp_business_account' || Array.isArray(body.entry)) {
    out.recognised = true;
    for (const entry of arr(body.entry)) {
      if (!isObj(entry)) {
        out.ignored.push('entry is not an object');
        continue;
      }
      for (const change of arr(entry.changes)) {
        if (!isObj(change) || !isObj(change.value)) {
          out.ignored.push('change without value');
          continue;
        }
        const field = str(change.field) ?? 'messages';
        if (field !== 'messages') {
          out.ignored.push(`field ${field}`);
          continue;
        }
        readValue(change.value, out);
      }
    }
    return out;
  }
  if (Array.isArray(body.messages) || Array.isArray(body.statuses)) {
    out.recognised = true;
    readValue(body, out);
  }
  return out;
}

function readValue(value: Obj, out: ParsedWebhook): void {
  const names = new Map<string, string>();
  for (const c of arr(value.contacts)) {
    if (!isObj(c)) continue;
    const waId = str(c.wa_id);
    const name = isObj(c.profile) ? str(c.profile.name) : undefined;
    if (waId && name) names.set(waId, name.slice(0, 256));
  }
  for (const m of arr(value.messages)) {
    const item = readMessage(m, names);
    if (typeof item === 'string') out.ignored.push(item);
    else out.items.push(item);
  }
  for (const s of arr(value.statuses)) {
    const item = readStatus(s);
    if (typeof item === 'string') out.ignored.push(item);
    else out.items.push(item);
  }
  for (const key of Object.keys(value)) {
    if (!['contacts', 'messages', 'statuses', 'metadata', 'messaging_product', 'errors'].includes(key)) {
      out.ignored.push(`value.${key}`);
    }
  }
}

function readMessage(m: unknown, names: Map<string, string>): InboundMessage | string {
  if (!isObj(m)) return 'message is not an object';
  const waId = str(m.from);
  const messageId = str(m.id);
  const type = str(m.type) ?? 'unknown';
  if (!waId || !messageId) return `message of type ${type} without from/id`;
  if (!/^\d{5,20}$/.test(waId)) return `message from a non-phone id (${type})`;
  if (messageId.length > MAX_ID) return 'message id too long';
  if (SILENT_TYPES.has(type)) return `message of type ${type}`;
  const input = readInput(m, type);
  if (typeof input === 'string') return input;
  return { kind: 'message', waId, name: names.get(waId), messageId, input };
}

function readInput(m: Obj, type: string): UserInput | string {
  if (type === 'text') {
    const body = isObj(m.text) ? m.text.body : undefined;
    return typeof body === 'string'
      ? { type: 'TEXT', text: body.slice(0, 4096) }
      : { type: 'UNSUPPORTED', kind: 'text' };
  }
  if (type === 'interactive' && isObj(m.interactive)) {
    const i = m.interactive;
    const button = isObj(i.button_reply) ? str(i.button_reply.id) : undefined;
    if (i.type === 'button_reply' && button) return { type: 'BUTTON', id: button.slice(0, MAX_ID) };
    const row = isObj(i.list_reply) ? str(i.list_reply.id) : undefined;
    if (i.type === 'list_reply' && row) return { type: 'LIST', id: row.slice(0, MAX_ID) };
  }
  // A template's quick-reply button carries its payload instead of an interactive reply.
  if (type === 'button' && isObj(m.button)) {
    const payload = str(m.button.payload);
    if (payload) return { type: 'BUTTON', id: payload.slice(0, MAX_ID) };
  }
  if (type === 'reaction' && isObj(m.reaction) && !str(m.reaction.emoji)) return 'reaction removed';
  return { type: 'UNSUPPORTED', kind: type.slice(0, 40) };
}

function readStatus(s: unknown): InboundStatus | string {
  if (!isObj(s)) return 'status is not an object';
  const messageId = str(s.id);
  const status = str(s.status);
  const recipient = str(s.recipient_id);
  if (!messageId || !status || !recipient) return 'status without id/status/recipient_id';
  if (messageId.length > MAX_ID || recipient.length > MAX_ID || status.length > 40)
    return 'status with oversized fields';
  const errors = arr(s.errors)
    .filter(isObj)
    .map((e) => ({
      code: typeof e.code === 'number' ? e.code : num(e.code) || 0,
      title: str(e.title)?.slice(0, 200),
    }));
  const ts = num(s.timestamp);
  return { kind: 'status', messageId, status, recipient, timestamp: Number.isFinite(ts) ? ts : 0, errors };
}

/**
 * A number from a string or number; NaN for anything else. `Number()` of a hostile object (one whose
 * `toString` is not a function) throws, which answered 500 (found by the torture suite's fuzzing).
 */
function num(v: unknown): number {
  return typeof v === 'number' || typeof v === 'string' ? Number(v) : Number.NaN;
}
