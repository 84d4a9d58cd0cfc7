import { CALLS } from './calls';
import type { Doc } from './store';

/**
 * The named indexes of the store contract (storage/contract.ts), declared once per collection: a store
 * derives each document's entries from the document itself, in the same commit that writes it. Declared
 * here rather than carried by each write so that no write can forget an entry, a delete removes its
 * entries by itself, and a database store can create them as indexes (or index tables written in the
 * commit's transaction) from this one list.
 *
 * An entry is `{ key, sort }`: lookups pick one key (or all) and return entries ordered by `sort`
 * (numbers, compared in order), then by document id. A document has at most one entry per index.
 * Extractors must be total: a document of an unexpected shape has no entry, it never throws.
 */
export interface IndexSpec {
  name: string;
  collection: string;
  entry(id: string, doc: Doc): IndexEntry | null;
}

export interface IndexEntry {
  key: string;
  sort: number[];
}

/** Actors with a stored deadline, earliest first (the sweeper's "what is due"). */
export const DUE_DEADLINES = 'due-deadlines';
/** Finished actors by last update (pruning). */
export const FINISHED_ACTORS = 'finished-actors';
/** Outbox rows per actor key, in creation order (`seq` orders the effects of one step). */
export const PENDING_OUTBOX = 'pending-outbox';
/** Dedupe keys by time (pruning). */
export const DEDUPE_BY_TIME = 'dedupe-by-time';
/** The Zadarma signed-event replay key, whatever partition recorded it. */
export const SIGNED_EVENTS = 'signed-events';
/** A gate call by Zadarma's `pbx_call_id` (its webhooks name no call of ours). */
export const CALL_BY_PBX = 'call-by-pbx';
/** A Telegram user's calls by request time (/status). */
export const CALLS_BY_USER = 'calls-by-user';
/** Every call by request time (/stats over the last 7 days). */
export const CALLS_BY_TIME = 'calls-by-time';

/**
 * Dedupe keys of signed Zadarma events start with this: the signature does not cover `pbx_call_id`, so
 * a replay is recognised by the signed fields, across the partitions of different calls.
 */
export const SIGNED_EVENT_PREFIX = 'zd:signed:';

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const str = (v: unknown): v is string => typeof v === 'string' && v !== '';

export const STORE_INDEXES: readonly IndexSpec[] = [
  {
    name: DUE_DEADLINES,
    collection: 'actors',
    entry: (_id, d) => (num(d.deadline) ? { key: '', sort: [d.deadline] } : null),
  },
  {
    name: FINISHED_ACTORS,
    collection: 'actors',
    entry: (_id, d) =>
      (d.snapshot as { status?: unknown } | undefined)?.status === 'done' && num(d.updatedAt)
        ? { key: '', sort: [d.updatedAt] }
        : null,
  },
  {
    name: PENDING_OUTBOX,
    collection: 'outbox',
    entry: (_id, d) =>
      str(d.key) && num(d.createdAt) ? { key: d.key, sort: [d.createdAt, num(d.seq) ? d.seq : 0] } : null,
  },
  {
    name: DEDUPE_BY_TIME,
    collection: 'dedupe',
    entry: (_id, d) => (num(d.at) ? { key: '', sort: [d.at] } : null),
  },
  {
    name: SIGNED_EVENTS,
    collection: 'dedupe',
    entry: (id, d) => (id.startsWith(SIGNED_EVENT_PREFIX) ? { key: id, sort: [num(d.at) ? d.at : 0] } : null),
  },
  {
    name: CALL_BY_PBX,
    collection: CALLS,
    entry: (_id, d) =>
      str(d.pbxCallId) ? { key: d.pbxCallId, sort: [num(d.requestedAt) ? d.requestedAt : 0] } : null,
  },
  {
    name: CALLS_BY_USER,
    collection: CALLS,
    entry: (_id, d) =>
      num(d.userId) && num(d.requestedAt) ? { key: String(d.userId), sort: [d.requestedAt] } : null,
  },
  {
    name: CALLS_BY_TIME,
    collection: CALLS,
    entry: (_id, d) => (num(d.requestedAt) ? { key: '', sort: [d.requestedAt] } : null),
  },
];
