import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DurableJsonFile } from './json-file';
import {
  formatOf,
  isMeta,
  isPartition,
  META_FILE,
  type Meta,
  type PartitionData,
  partitionFile,
} from './layout';
import { logFiles, readSegment } from './wal';

/** What `inspectStore` finds: documents per collection, and every file that would stop `open()`. */
export interface StoreReport {
  dir: string;
  /** False when `<dataDir>/store/` does not exist yet (the service creates it at start). */
  exists: boolean;
  partitions: number;
  documents: Record<string, number>;
  /** Commits in the log not yet checkpointed into partition files. */
  logCommits: number;
  problems: string[];
}

/**
 * Reads the store's files the way `open()` does (partition files, then the log replayed over them),
 * without creating, writing or locking anything, so it is safe next to a running service
 * (`npm run doctor`). A torn end of the newest log file is what a crash leaves and is not a problem.
 */
export async function inspectStore(dataDir: string): Promise<StoreReport> {
  const dir = join(dataDir, 'store');
  const report: StoreReport = {
    dir,
    exists: false,
    partitions: 0,
    documents: {},
    logCommits: 0,
    problems: [],
  };
  const read = async <T>(file: DurableJsonFile<T>): Promise<T | null> => {
    try {
      return await file.read();
    } catch (e) {
      report.problems.push((e as Error).message);
      return null;
    }
  };
  const metaFile = new DurableJsonFile<Meta>(join(dir, META_FILE));
  const meta = await read(metaFile);
  report.exists =
    meta !== null ||
    (await access(dir).then(
      () => true,
      () => false,
    ));
  if (meta === null) return report;
  if (!isMeta(meta)) {
    report.problems.push(`${metaFile.file} has an unknown format: ${JSON.stringify(meta)}`);
    return report;
  }
  report.partitions = meta.partitions;
  // collection -> ids, over all partitions (an id lives in one partition).
  const ids = new Map<string, Set<string>>();
  const idsOf = (name: string) => {
    let s = ids.get(name);
    if (!s) {
      s = new Set();
      ids.set(name, s);
    }
    return s;
  };
  for (let i = 0; i < meta.partitions; i++) {
    const file = new DurableJsonFile<PartitionData>(join(dir, partitionFile(i)));
    const data = await read(file);
    if (data === null) continue; // never written, or already reported
    if (!isPartition(data)) {
      report.problems.push(`${file.file} is not a Switchboard store partition (format ${formatOf(data)})`);
      continue;
    }
    for (const [name, docs] of Object.entries(data.collections)) {
      const s = idsOf(name);
      for (const id of Object.keys(docs ?? {})) s.add(id);
    }
  }
  const segments = logFiles(await readdir(dir).catch(() => [] as string[]));
  for (const [n, name] of segments.entries()) {
    try {
      const { records } = await readSegment(join(dir, name), n === segments.length - 1);
      report.logCommits += records.length;
      for (const [, writes] of records)
        for (const [collection, id, doc] of writes) {
          if (doc === null) ids.get(collection)?.delete(id);
          else idsOf(collection).add(id);
        }
    } catch (e) {
      // A log file checkpointed and removed by the running service between listing and reading it.
      if ((e as Error).message.includes('ENOENT')) continue;
      report.problems.push((e as Error).message);
    }
  }
  for (const [name, s] of ids) if (s.size > 0) report.documents[name] = s.size;
  return report;
}
