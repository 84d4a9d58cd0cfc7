import { randomUUID } from 'node:crypto';
import { callbackQueryUpdate, commandUpdate, contactUpdate, textUpdate } from '../../fixtures/telegram';
import { buttonReply, listReply, textMessage } from '../../fixtures/whatsapp';
import {
  formatCallStart,
  nextPbxCallId,
  notifyEnd,
  notifyStart,
  signed,
  type ZadarmaFields,
} from '../../fixtures/zadarma';
import { pendingCallOf } from '../../storage/calls';
import type { Config } from '../config/config';
import type { Engine } from '../engine/engine';
import type { ActorRecord } from '../engine/types';
import { normalisePhone } from '../lib/phone';
import { actorId } from './actors';
import { machineInfo } from './machines';

/**
 * The inspector's playground (open development mode only): plays a WhatsApp employee, a Telegram user
 * or Zadarma's webhooks through the service's own webhook routes (what `npm run simulate` does, with
 * the same payload builders), or sends a typed event straight to an actor. Answers with the actor it
 * moved and its state after the commit.
 */
export type PlaygroundRequest =
  | { kind: 'whatsapp'; from?: string; text?: string; button?: string; list?: string }
  | { kind: 'telegram'; user?: number; text?: string; button?: string; contact?: string }
  | { kind: 'zadarma'; gate: string; event: 'start' | 'end'; disposition?: string; duration?: number }
  | { kind: 'event'; key?: string; id?: string; type: string; fields?: Record<string, unknown> };

export interface PlaygroundResult {
  /** The webhook's HTTP status (an event sent directly: 200). */
  status: number;
  actor?: { id: string; machine: string; state: string };
}

export const PLAYGROUND_EMPLOYEE = '79990000001';
export const PLAYGROUND_TG_USER = 42;

/** A request the playground cannot carry out (400). */
export class PlaygroundError extends Error {}

export interface PlaygroundDeps {
  engine: Engine;
  config: Config;
  /** The service's own origin (known once it listens). */
  selfUrl: () => string;
}

let lastUpdateId = 0;

export async function play(deps: PlaygroundDeps, req: PlaygroundRequest): Promise<PlaygroundResult> {
  const { config, engine } = deps;
  const post = async (path: string, body: string, headers: Record<string, string>) => {
    const res = await fetch(`${deps.selfUrl()}${path}`, { method: 'POST', headers, body });
    await res.arrayBuffer();
    return res.status;
  };
  const json = { 'content-type': 'application/json' };
  const after = (status: number, key: string | null): PlaygroundResult => {
    const a = key ? engine.store.get<ActorRecord>('actors', key) : undefined;
    return { status, ...(a ? { actor: { id: actorId(a.key), machine: a.machine, state: a.state } } : {}) };
  };

  switch (req.kind) {
    case 'whatsapp': {
      const from = normalisePhone(req.from ?? PLAYGROUND_EMPLOYEE);
      if (!from) throw new PlaygroundError('from must be a phone number');
      const who = { from, timestamp: Math.floor(Date.now() / 1000) };
      const body = req.button
        ? buttonReply({ ...who, buttonId: req.button })
        : req.list
          ? listReply({ ...who, rowId: req.list })
          : textMessage({ ...who, body: required(req.text, 'text, button or list') });
      const secret = config.whatsapp.secretHeader;
      const status = await post('/webhook', JSON.stringify(body), {
        ...json,
        ...(secret ? { [secret.name]: secret.value } : {}),
      });
      return after(status, `wa:${from}`);
    }
    case 'telegram': {
      const userId = req.user ?? PLAYGROUND_TG_USER;
      if (!Number.isSafeInteger(userId) || userId <= 0) throw new PlaygroundError('user must be a user id');
      lastUpdateId = Math.max(lastUpdateId + 1, Date.now());
      const who = { userId, updateId: lastUpdateId };
      const body = req.button
        ? callbackQueryUpdate({ ...who, data: req.button })
        : req.contact
          ? contactUpdate({ ...who, phone: req.contact })
          : required(req.text, 'text, button or contact').startsWith('/')
            ? commandUpdate({ ...who, text: req.text as string })
            : textUpdate({ ...who, text: req.text as string });
      const secret = config.telegram.webhookSecret;
      const status = await post('/telegram/webhook', JSON.stringify(body), {
        ...json,
        ...(secret ? { 'X-Telegram-Bot-Api-Secret-Token': secret } : {}),
      });
      return after(status, `tg:${userId}`);
    }
    case 'zadarma': {
      const relay = config.gates.relays[req.gate as keyof Config['gates']['relays']];
      if (!relay) throw new PlaygroundError(`no gate "${String(req.gate).slice(0, 40)}"`);
      const call = pendingCallOf(engine.store, req.gate);
      if (!call) throw new PlaygroundError(`gate ${req.gate} has no call under way: ask for it first`);
      const callRecord = engine.store.get<ActorRecord>('actors', call);
      const ctx = callRecord?.snapshot.context as { pbxCallId?: unknown } | undefined;
      const pbx_call_id = typeof ctx?.pbxCallId === 'string' ? ctx.pbxCallId : nextPbxCallId('out');
      const now = new Date();
      const common = {
        pbx_call_id,
        call_start: formatCallStart(now, -now.getTimezoneOffset()),
        caller_id: `+${relay}`,
        called_did: normalisePhone(config.zadarma.caller ?? '') ?? config.zadarma.caller ?? '',
      };
      const fields: ZadarmaFields =
        req.event === 'start'
          ? notifyStart(common)
          : notifyEnd({
              ...common,
              disposition: req.disposition ?? 'cancel',
              duration: req.duration ?? 5,
            });
      const secret = config.zadarma.apiSecret;
      const s = signed(fields, secret ?? 'unsigned');
      const status = await post(
        '/zadarma/webhook',
        s.body,
        secret ? s.headers : { 'content-type': s.headers['content-type'] as string },
      );
      return after(status, call);
    }
    case 'event': {
      const all = engine.store.all<ActorRecord>('actors');
      const actor = all.find((a) => (req.key ? a.key === req.key : actorId(a.key) === req.id));
      if (!actor) throw new PlaygroundError('no such actor (give its key or id)');
      const known = machineInfo().find((m) => m.name === actor.machine)?.events ?? [];
      if (!known.includes(req.type))
        throw new PlaygroundError(`${actor.machine} knows the events ${known.join(', ')}`);
      const fields = req.fields && typeof req.fields === 'object' ? req.fields : {};
      // Nothing is committed when the machine or its binding cannot take the event as typed.
      await engine
        .dispatch({
          key: actor.key,
          machine: actor.machine,
          dedupeKey: `playground:${randomUUID()}`,
          event: ({ now }) => ({ now, ...fields, type: req.type }),
        })
        .catch((e: Error) => {
          throw new PlaygroundError(
            `${actor.machine} cannot take this ${req.type}: ${e.message}`.slice(0, 300),
          );
        });
      return after(200, actor.key);
    }
    default:
      throw new PlaygroundError('kind must be whatsapp, telegram, zadarma or event');
  }
}

function required(value: string | undefined, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new PlaygroundError(`give ${what}`);
  return value;
}
