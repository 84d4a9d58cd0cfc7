/**
 * The gate bot's half of `npm run simulate` (pure, like ./simulate-args.ts): Telegram updates for
 * `POST /telegram/webhook` and Zadarma notifications for `POST /zadarma/webhook`.
 */
import {
  commandUpdate,
  contactUpdate,
  nextUpdateId,
  textUpdate,
  callbackQueryUpdate as tgCallback,
} from '../fixtures/telegram';
import {
  dtmf,
  formatCallStart,
  nextPbxCallId,
  notifyEnd,
  notifyOutEnd,
  notifyOutStart,
  notifyStart,
  signed,
  type ZadarmaFields,
} from '../fixtures/zadarma';
import { DEV_CALLER, DEV_GATES, GATE_NAMES, readGates } from '../server/config/config';
import { normalisePhone } from '../server/lib/phone';
import { type Step, UsageError } from './simulate-common';

/** Telegram user id used when --user is not given. */
export const DEFAULT_TG_USER = 42;
export const TG_SECRET_HEADER = 'X-Telegram-Bot-Api-Secret-Token';
/** The `name` our voice menu gives its wait_dtmf (server/gate/ivr-binding.ts). */
export const IVR_MENU_NAME = 'main_menu';
export const ZADARMA_SUBCOMMANDS = ['start', 'end', 'ivr'] as const;
const START_EVENTS = ['NOTIFY_START', 'NOTIFY_OUT_START'];
const END_EVENTS = ['NOTIFY_END', 'NOTIFY_OUT_END'];

export interface GateOptions {
  /** Telegram user id (tg, tg-button, tg-contact); default 42 */
  user?: number;
  /** Telegram first name; default the fixtures' */
  name?: string;
  /** tg-contact: the phone on the card */
  phone?: string;
  /** tg-contact: contact.user_id when the card is someone else's (null: no user_id at all) */
  fromUser?: number | null;
  /** gate name → relay number, as in GATES; default the dev relays */
  gates?: Record<string, string>;
  /** our number (ZADARMA_CALLER); default the dev one */
  caller?: string;
  /** zadarma start/end */
  gate?: string;
  /** overrides the gate's relay number */
  relay?: string;
  disposition?: string;
  duration?: number;
  /** NOTIFY_START | NOTIFY_OUT_START (start), NOTIFY_END | NOTIFY_OUT_END (end) */
  event?: string;
  pbx?: string;
  /** zadarma ivr: one NOTIFY_IVR per entry */
  digits?: string[];
  /** the outside caller of `zadarma ivr` */
  from?: string;
  /** ZADARMA_API_SECRET: sign every Zadarma body */
  zadarmaSecret?: string;
  /** TELEGRAM_WEBHOOK_SECRET: sent as X-Telegram-Bot-Api-Secret-Token */
  telegramSecret?: string;
  /** epoch seconds; default now */
  timestamp?: number;
}

/** GATES as the server reads it: `hvirtka=0500000001,…` → { hvirtka: '380500000001', … }; throws UsageError. */
export function parseGates(text: string, source = 'GATES'): Record<string, string> {
  const gates = readGates(text);
  if ('problem' in gates) throw new UsageError(`${source} ${gates.problem}`);
  return gates.relays;
}

/** `NOTIFY_OUT_END`, `out_end`, `OUT-END` → NOTIFY_OUT_END; checked against the subcommand. */
export function normaliseEvent(raw: string, sub: 'start' | 'end'): string {
  const up = raw.trim().toUpperCase().replaceAll('-', '_');
  const event = up.startsWith('NOTIFY_') ? up : `NOTIFY_${up}`;
  const allowed = sub === 'start' ? START_EVENTS : END_EVENTS;
  if (!allowed.includes(event)) {
    throw new UsageError(`bad --event "${raw}" for zadarma ${sub}: expected ${allowed.join(' or ')}`);
  }
  return event;
}

/** `5,1` → ['5', '1']: one NOTIFY_IVR per attempt. */
export function parseDigits(raw: string): string[] {
  const list = raw.split(',').map((d) => d.trim());
  if (list.length === 0 || list.some((d) => !/^[0-9*#]{1,16}$/.test(d))) {
    throw new UsageError(`bad --digits "${raw}": expected keys pressed, e.g. 1 or 5,1 for two attempts`);
  }
  return list;
}

/** A positive whole number (Telegram user ids). */
export function parseUserId(raw: string, option: string): number {
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`bad ${option} "${raw}": expected a Telegram user id, e.g. 42`);
  }
  return n;
}

/** A fresh update_id: increasing within the process and, being clock-based, across runs too (the
 * server deduplicates on update_id, so a second run must not reuse the first one's ids). */
function freshUpdateId(): number {
  return Math.max(nextUpdateId(), Date.now());
}

function international(phone: string, what: string): string {
  const n = normalisePhone(phone);
  if (!n) throw new UsageError(`${what} "${phone}" is not a phone number`);
  return n;
}

/** tg, tg-button, tg-contact. */
export function planTelegram(command: string, args: string[], o: GateOptions): Step[] {
  const userId = o.user ?? DEFAULT_TG_USER;
  const who = {
    userId,
    ...(o.name !== undefined ? { firstName: o.name } : {}),
    date: o.timestamp ?? Math.floor(Date.now() / 1000),
  };
  const headers = o.telegramSecret ? { [TG_SECRET_HEADER]: o.telegramSecret } : undefined;
  const step = (label: string, body: Record<string, unknown>): Step => ({
    channel: 'telegram',
    label,
    body,
    ...(headers ? { headers } : {}),
  });
  switch (command) {
    case 'tg': {
      const text = args.join(' ');
      if (text.trim() === '') throw new UsageError('tg needs the message text, e.g. tg "/hvirtka"');
      const updateId = freshUpdateId();
      const body = text.startsWith('/')
        ? commandUpdate({ ...who, text, updateId })
        : textUpdate({ ...who, text, updateId });
      return [step(`tg ${JSON.stringify(text)}`, body)];
    }
    case 'tg-button': {
      const [data, ...rest] = args;
      if (data === undefined || data.trim() === '' || rest.length > 0) {
        throw new UsageError('tg-button takes the button data, e.g. tg-button gate:vorota');
      }
      return [step(`tg-button ${data}`, tgCallback({ ...who, data, updateId: freshUpdateId() }))];
    }
    case 'tg-contact': {
      if (args.length > 0) throw new UsageError(`tg-contact takes no arguments (got ${args.join(' ')})`);
      const phone = o.phone?.trim();
      if (!phone)
        throw new UsageError('tg-contact needs --phone, e.g. tg-contact --user 42 --phone 0501112233');
      const forwarded = o.fromUser !== undefined && o.fromUser !== userId;
      const body = contactUpdate({
        ...who,
        phone,
        updateId: freshUpdateId(),
        ...(forwarded ? { contactUserId: o.fromUser, contactFirstName: 'Someone' } : {}),
      });
      const whose = !forwarded
        ? 'own card'
        : o.fromUser === null
          ? 'card without user_id'
          : `card of user ${o.fromUser}`;
      return [step(`tg-contact ${phone} (${whose})`, body)];
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** zadarma start | end | ivr. */
export function planZadarma(args: string[], o: GateOptions): Step[] {
  const [subRaw, ...rest] = args;
  const sub = ZADARMA_SUBCOMMANDS.find((s) => s === subRaw);
  if (sub === undefined) {
    throw new UsageError(
      `zadarma needs one of ${ZADARMA_SUBCOMMANDS.join(', ')}, e.g. zadarma end --gate hvirtka` +
        (subRaw === undefined ? '' : ` (got "${subRaw}")`),
    );
  }
  if (rest.length > 0) throw new UsageError(`zadarma ${sub} takes no more arguments (got ${rest.join(' ')})`);

  const ts = o.timestamp ?? Math.floor(Date.now() / 1000);
  const when = new Date(ts * 1000);
  const call_start = formatCallStart(when, -when.getTimezoneOffset());
  const caller = (o.caller ?? DEV_CALLER).trim();
  const ours = normalisePhone(caller) ?? caller;
  const step = (label: string, fields: ZadarmaFields): Step => ({
    channel: 'zadarma',
    label,
    body: fields,
    ...(o.zadarmaSecret ? { headers: { Signature: signed(fields, o.zadarmaSecret).signature } } : {}),
  });

  if (sub === 'ivr') {
    const from = international(o.from ?? '', '--from');
    const call = {
      pbx_call_id: o.pbx ?? nextPbxCallId('in'),
      caller_id: `+${from}`,
      called_did: ours,
      call_start,
    };
    return [
      step(`zadarma NOTIFY_START from +${from}`, notifyStart(call)),
      ...(o.digits ?? []).map((d) =>
        step(`zadarma NOTIFY_IVR from +${from} digits ${d}`, dtmf(d, { ...call, name: IVR_MENU_NAME })),
      ),
    ];
  }

  const gates = o.gates ?? parseGates(DEV_GATES);
  const gate = o.gate;
  if (gate !== undefined && !(GATE_NAMES as readonly string[]).includes(gate)) {
    throw new UsageError(`unknown --gate "${gate}": expected ${GATE_NAMES.join(' or ')}`);
  }
  if (gate === undefined && o.relay === undefined) {
    throw new UsageError(`zadarma ${sub} needs --gate ${GATE_NAMES.join('|')} (or --relay NUMBER)`);
  }
  const configured = gate === undefined ? undefined : gates[gate];
  const relayRaw = o.relay ?? configured;
  if (relayRaw === undefined) {
    throw new UsageError(`gate ${gate} has no relay number in GATES; set GATES or give --relay NUMBER`);
  }
  const relay = international(relayRaw, '--relay');
  const pbx_call_id = o.pbx ?? nextPbxCallId('out');
  const event = normaliseEvent(o.event ?? (sub === 'start' ? 'NOTIFY_START' : 'NOTIFY_END'), sub);
  const what = `${gate ?? 'relay'} +${relay}`;

  if (sub === 'start') {
    const fields =
      event === 'NOTIFY_OUT_START'
        ? notifyOutStart({ call_start, pbx_call_id, internal: caller, destination: relay })
        : notifyStart({ call_start, pbx_call_id, caller_id: `+${relay}`, called_did: ours });
    return [step(`zadarma ${event} ${what}`, fields)];
  }

  const disposition = o.disposition ?? 'cancel';
  const duration = o.duration ?? 5;
  const end = { call_start, pbx_call_id, disposition, duration };
  const fields =
    event === 'NOTIFY_OUT_END'
      ? notifyOutEnd({ ...end, caller_id: ours, destination: relay, internal: caller })
      : notifyEnd({ ...end, caller_id: `+${relay}`, called_did: ours });
  return [step(`zadarma ${event} ${what} ${disposition} ${duration} s`, fields)];
}
