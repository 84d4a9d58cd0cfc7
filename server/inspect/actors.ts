import { createHash } from 'node:crypto';
import { MACHINES, type MachineName } from '../../machines/index';
import type { Store } from '../../storage/store';
import { migrate } from '../engine/snapshot-version';
import type { ActorRecord, HistoryEffect } from '../engine/types';
import { maskPhones } from '../lib/log';
import { toMermaid } from './mermaid';

/**
 * What the inspector shows of the stored actors (documents `actors/<key>`). Keys and contexts carry
 * phone numbers, so everything leaving here is masked to the last 4 digits; an actor is named by an
 * opaque `id` (a hash of its key) so that two masked keys that look alike can still be told apart.
 */
export interface ActorSummary {
  id: string;
  /** The actor key, phones masked: `wa:…4567`. */
  key: string;
  machine: string;
  state: string;
  status: string;
  lastEvent: string;
  updatedAt: string;
}

export interface ActorDetail extends ActorSummary {
  /** The last transitions kept by the engine, oldest first, with the effects each queued. */
  history: Array<{ at: string; event: string; from: string; to: string; effects?: HistoryEffect[] }>;
  context: unknown;
  /** The machine's diagram with the current state highlighted (Mermaid). */
  diagram?: string;
}

export interface ActorQuery {
  machine?: string;
  /** Exact key or a part of it (matched against the real key, so a full phone finds its actor). */
  key?: string;
  id?: string;
  /** Most recently updated first, at most this many per machine. */
  limit?: number;
}

export interface ActorList {
  actors: Array<ActorSummary | ActorDetail>;
  /** How many matched per machine (the list may show fewer). */
  totals: Record<string, number>;
}

export const actorId = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16);

/** Matching actors, newest first; when the query leaves exactly one, it comes with its history. */
export function listActors(store: Store, q: ActorQuery): ActorList {
  const limit = q.limit ?? 50;
  let records = store.all<ActorRecord>('actors');
  if (q.machine) records = records.filter((a) => a.machine === q.machine);
  if (q.id) records = records.filter((a) => actorId(a.key) === q.id);
  if (q.key) {
    const wanted = q.key;
    const exact = records.filter((a) => a.key === wanted);
    records = exact.length > 0 ? exact : records.filter((a) => a.key.includes(wanted));
  }
  records.sort((a, b) => b.updatedAt - a.updatedAt || a.key.localeCompare(b.key));
  const totals: Record<string, number> = {};
  const shown: ActorRecord[] = [];
  for (const a of records) {
    totals[a.machine] = (totals[a.machine] ?? 0) + 1;
    if ((totals[a.machine] ?? 0) <= limit) shown.push(asNow(a));
  }
  if (shown.length === 1) return { actors: [detailOf(shown[0] as ActorRecord)], totals };
  return { actors: shown.map(summaryOf), totals };
}

/**
 * An actor an earlier version stored, as its machine's migrations will carry it forward at its next
 * event (its states named as on today's diagram); any other as stored.
 */
function asNow(a: ActorRecord): ActorRecord {
  const entry = MACHINES[a.machine as MachineName];
  if (!entry || !(a.version < entry.version)) return a;
  const migrated = migrate(entry, a);
  return typeof migrated === 'string' ? a : { ...a, ...migrated };
}

export function summaryOf(a: ActorRecord): ActorSummary {
  return {
    id: actorId(a.key),
    key: maskPhones(a.key),
    machine: a.machine,
    state: a.state,
    status: typeof a.snapshot?.status === 'string' ? a.snapshot.status : 'active',
    lastEvent: a.lastEvent,
    updatedAt: iso(a.updatedAt),
  };
}

export function detailOf(a: ActorRecord): ActorDetail {
  const entry = MACHINES[a.machine as MachineName];
  return {
    ...summaryOf(a),
    // The delivery refs are left out: a wamid encodes the sender's phone.
    history: (a.history ?? []).map((h) => ({
      at: iso(h.at),
      event: h.event,
      from: h.from,
      to: h.to,
      ...(h.effects ? { effects: h.effects.map((e) => ({ ...e, summary: maskPhones(e.summary) })) } : {}),
    })),
    context: maskDeep(a.snapshot?.context),
    ...(entry ? { diagram: toMermaid(entry.logic, { highlight: a.state }) } : {}),
  };
}

/** Phones inside every string masked (numbers are left alone: they are times and Telegram ids). */
export function maskDeep(value: unknown): unknown {
  if (typeof value === 'string') return maskPhones(value);
  if (Array.isArray(value)) return value.map(maskDeep);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v)]));
  return value;
}

/** A stored time as ISO text ('' for a record without one). */
export const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : '');
