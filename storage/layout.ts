import { createHash } from 'node:crypto';
import type { Doc } from './store';

/**
 * The store's files under `<dataDir>/store/`: `meta.json` (format, partition count), one lowdb JSON file
 * per partition (`p-00.json`…, written by checkpoints) and the write-ahead log (`wal-<seq>.log`,
 * storage/wal.ts) holding every commit since those files were written.
 */
export interface PartitionData {
  format: 1;
  collections: Record<string, Record<string, Doc>>;
}

export interface Meta {
  /** 1: partition files only (before the log); 2: partition files + log. Both are read. */
  format: 1 | 2;
  partitions: number;
}

export const META_FILE = 'meta.json';
export const META_FORMAT = 2;
export const PARTITION_FORMAT = 1;
export const partitionFile = (i: number) => `p-${String(i).padStart(2, '0')}.json`;
export const PARTITION_FILE = /^p-\d+\.json$/;

export function isMeta(meta: unknown): meta is Meta {
  const m = meta as Partial<Meta> | null;
  return (m?.format === 1 || m?.format === 2) && Number.isInteger(m.partitions) && (m.partitions ?? 0) >= 1;
}

export function isPartition(data: unknown): data is PartitionData {
  const d = data as Partial<PartitionData> | null | undefined;
  return d?.format === PARTITION_FORMAT && typeof d.collections === 'object' && d.collections !== null;
}

export const formatOf = (data: unknown) => (data as { format?: unknown } | null | undefined)?.format;

/** The partition of a key: fixed for the life of the store (the count is in meta.json). */
export function partitionIndex(key: string, count: number): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) % count;
}
