/**
 * The storage contract the engine needs: a document store split into partitions, where one commit
 * writes any number of documents of ONE partition atomically (all or nothing, on disk before the
 * promise resolves). Everything the engine keeps — actor snapshots, outbox rows, dedupe keys and the
 * domain records (attendance, outbound messages) — is a document, so a webhook's whole effect is one
 * commit and a crash can never leave half of it behind.
 *
 * Reads are synchronous and served from memory: the embedded store keeps every partition loaded.
 *
 * Where the move to storage/contract.ts stands (issue 13): `PartitionedStore` there is the contract
 * that does not assume everything is in memory — async `read(partition, …)`, `scope` (a step's
 * documents preloaded), named indexes (`lookup`, storage/indexes.ts) and paged `scan`. The lowdb store
 * implements both, and test/store-contract.ts is the suite every store must pass. server/ and scripts/
 * still use only this synchronous `Store` (`get`, `all`, `entries`) plus `commit`, which both contracts
 * share; none of the new methods yet. Stage 2 moves the engine and every reader onto the new contract,
 * then this interface's reads go.
 */
export type Doc = Record<string, unknown>;

/** Replace (or delete, by returning null) one document; `update` gets the current value. */
export interface DocWrite {
  collection: string;
  id: string;
  update: (prev: Doc | undefined) => Doc | null;
}

export interface Store {
  /** Load everything; throws StoreError naming the file when something cannot be read. */
  open(): Promise<void>;
  /** Wait for pending writes, then release files. */
  close(): Promise<void>;
  get<T extends Doc>(collection: string, id: string): T | undefined;
  /** Every document of a collection (any order). */
  all<T extends Doc>(collection: string): T[];
  /** Every [id, document] pair of a collection (any order). */
  entries<T extends Doc>(collection: string): Array<[string, T]>;
  /** Apply the writes to the partition that owns `partitionKey`; resolves once they are on disk. */
  commit(partitionKey: string, writes: DocWrite[]): Promise<void>;
  /** Health probe: the last write succeeded and the data directory is usable. */
  healthy(): boolean;
}

/** A storage failure that the operator must see: the message names the file and what is wrong. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/** Builds a write that sets a document to a fixed value. */
export function put(collection: string, id: string, doc: Doc): DocWrite {
  return { collection, id, update: () => doc };
}

/** Builds a write that deletes a document. */
export function remove(collection: string, id: string): DocWrite {
  return { collection, id, update: () => null };
}
