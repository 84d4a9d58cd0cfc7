import type { Doc, DocWrite } from './store';

/**
 * The store contract that does not assume everything is in memory (issue 13). Every read is async, or
 * is served from a scope loaded asynchronously beforehand; nothing hands out a whole collection.
 *
 * A **partition** is the unit that one commit writes atomically and that one lock serialises: an actor
 * key (`wa:<wa_id>`, `tg:<user id>`), or the choice of its binding when several actors must change a
 * shared record together (every call of a gate commits to `gate:<name>`). A document belongs to the
 * partition that first wrote it, for life. How a store lays partitions out — lowdb's hashed files, a
 * database's rows — is its private business; callers only ever name the partition.
 *
 * Why each part exists:
 * - `read` names its partition so that a store may keep only some partitions loaded (or shard them):
 *   a read that does not say where to look would force every partition to be reachable at once.
 * - `scope` loads, in one round trip, the documents a step is about to need (the actor, its dedupe key,
 *   the domain documents its binding reads) so that the machine step, the event builders and the
 *   bindings stay synchronous and pure while the store behind them is not.
 * - `lookup` answers the questions that have no owning key (which deadlines are due, which effects are
 *   pending, which call has this `pbx_call_id`…) from named indexes that the store maintains in the same
 *   commit as their documents, so nothing on a webhook's path scans a collection and an index can never
 *   disagree with the documents it points to, not even after a crash.
 * - `scan` walks a collection in pages for the jobs that really must see everything (reminders, the
 *   attendance CSV, backups), so memory stays bounded by a page, not by the collection.
 */
export interface PartitionedStore {
  /** Loads what is needed to serve; throws StoreError naming the file or table that cannot be read. */
  open(): Promise<void>;
  /** Waits for pending writes, then releases files or connections. */
  close(): Promise<void>;
  /** Health probe: the last write succeeded and the storage is usable. */
  healthy(): boolean;
  /**
   * Applies the writes to `partition`, all or nothing, with the index entries they imply; resolves once
   * they are durable. Commits to one partition are applied in the order they were called.
   */
  commit(partition: string, writes: DocWrite[]): Promise<void>;
  /** One document of `partition`; undefined when it does not exist (in that partition). */
  read<T extends Doc>(partition: string, collection: string, id: string): Promise<T | undefined>;
  /**
   * The documents `wants` of `partition`, loaded now and then read synchronously. Named documents
   * rather than "the whole partition": a partition grows without bound (an employee's message records),
   * and a database answers a list of keys in one query.
   */
  scope(partition: string, wants: readonly DocRef[]): Promise<PartitionScope>;
  /** Entries of a named index (see storage/indexes.ts), with the documents they point to. */
  lookup<T extends Doc>(index: string, query: IndexQuery): Promise<Array<IndexHit<T>>>;
  /**
   * Every document of a collection, in pages of at most `pageSize`, ascending by id (JavaScript string
   * order). A document present for the whole scan is yielded exactly once even while commits happen;
   * one created or deleted meanwhile is yielded at most once. `after` resumes behind that id.
   */
  scan<T extends Doc>(collection: string, opts: ScanOptions): AsyncIterable<Array<ScannedDoc<T>>>;
}

/** A document named by collection and id (its partition is the scope's). */
export interface DocRef {
  collection: string;
  id: string;
}

/**
 * What `scope` loaded: a snapshot taken under the partition's lock, so nothing else changes it until
 * the step's commit. Reading a document that was not asked for throws, so a binding that starts to
 * need another document fails in its tests instead of silently seeing "absent".
 */
export interface PartitionScope {
  readonly partition: string;
  get<T extends Doc>(collection: string, id: string): T | undefined;
}

/**
 * A query of one index. `key` picks the entries of one key (a `pbx_call_id`, a Telegram user); without
 * it every entry of the index is considered. Entries come in `sort` order (then id), ascending unless
 * `descending`; `min`/`max` bound the first sort value (a time), inclusive; `after` resumes behind an
 * entry of a previous answer (paging); at most `limit` entries are returned.
 */
export interface IndexQuery {
  key?: string;
  min?: number;
  max?: number;
  descending?: boolean;
  after?: { sort: readonly number[]; id: string };
  limit: number;
}

export interface IndexHit<T extends Doc = Doc> {
  id: string;
  key: string;
  sort: number[];
  doc: T;
}

export interface ScanOptions {
  pageSize: number;
  after?: string;
}

export interface ScannedDoc<T extends Doc = Doc> {
  id: string;
  doc: T;
}
