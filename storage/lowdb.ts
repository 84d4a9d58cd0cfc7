import { createHash } from 'node:crypto';
import { access, constants, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { DurableJsonFile } from './json-file';
import { type Doc, type DocWrite, type Store, StoreError } from './store';

interface PartitionData {
  format: 1;
  collections: Record<string, Record<string, Doc>>;
}

interface Meta {
  format: 1;
  partitions: number;
}

const FORMAT = 1;
export const DEFAULT_PARTITIONS = 16;
const META_FILE = 'meta.json';
export const partitionFile = (i: number) => `p-${String(i).padStart(2, '0')}.json`;

function isMeta(meta: unknown): meta is Meta {
  const m = meta as Partial<Meta> | null;
  return m?.format === FORMAT && Number.isInteger(m.partitions) && (m.partitions ?? 0) >= 1;
}

function isPartition(data: unknown): data is PartitionData {
  const d = data as Partial<PartitionData> | null | undefined;
  return d?.format === FORMAT && typeof d.collections === 'object' && d.collections !== null;
}

const formatOf = (data: unknown) => (data as { format?: unknown } | null | undefined)?.format;

interface Part {
  db: Low<PartitionData>;
  file: DurableJsonFile<PartitionData>;
  gen: number;
  /** Set while memory is being reloaded from disk after a failed write. */
  recovering: Promise<void> | null;
  /**
   * collection -> id -> `"id":{…}`, the JSON text of every document, kept up to date by each commit so
   * a write serialises only the documents that changed, not the whole partition (built at the
   * partition's first write; dropped when memory is reloaded).
   */
  texts: Map<string, Map<string, string>> | null;
}

const entryText = (id: string, doc: Doc) => `${JSON.stringify(id)}:${JSON.stringify(doc)}`;

function textsOf(texts: Map<string, Map<string, string>>, collection: string): Map<string, string> {
  let m = texts.get(collection);
  if (!m) {
    m = new Map();
    texts.set(collection, m);
  }
  return m;
}

/** The partition file's text, the same JSON as JSON.stringify(part.db.data), from the per-document texts. */
function serialise(part: Part): string {
  if (!part.texts) {
    part.texts = new Map();
    for (const [name, docs] of Object.entries(part.db.data.collections)) {
      const m = textsOf(part.texts, name);
      for (const [id, doc] of Object.entries(docs)) m.set(id, entryText(id, doc));
    }
  }
  const colls: string[] = [];
  for (const name of Object.keys(part.db.data.collections)) {
    const m = part.texts.get(name);
    colls.push(`${JSON.stringify(name)}:{${m ? [...m.values()].join(',') : ''}}`);
  }
  return `{"format":${FORMAT},"collections":{${colls.join(',')}}}`;
}

/** What `inspectStore` finds: documents per collection, and every file that would stop `open()`. */
export interface StoreReport {
  dir: string;
  /** False when `<dataDir>/store/` does not exist yet (the service creates it at start). */
  exists: boolean;
  partitions: number;
  documents: Record<string, number>;
  problems: string[];
}

/**
 * Reads the store's files the way `open()` does, without creating, writing or locking anything, so it
 * is safe next to a running service (`npm run doctor`).
 */
export async function inspectStore(dataDir: string): Promise<StoreReport> {
  const dir = join(dataDir, 'store');
  const report: StoreReport = { dir, exists: false, partitions: 0, documents: {}, problems: [] };
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
  for (let i = 0; i < meta.partitions; i++) {
    const file = new DurableJsonFile<PartitionData>(join(dir, partitionFile(i)));
    const data = await read(file);
    if (data === null) continue; // never written, or already reported
    if (!isPartition(data)) {
      report.problems.push(`${file.file} is not a Switchboard store partition (format ${formatOf(data)})`);
      continue;
    }
    for (const [name, docs] of Object.entries(data.collections))
      report.documents[name] = (report.documents[name] ?? 0) + Object.keys(docs ?? {}).length;
  }
  return report;
}

/**
 * The embedded store: lowdb JSON files under `<dataDir>/store/`, one per partition (`p-00.json`…).
 * A key is hashed to its partition, so a commit rewrites one partition file, not the whole store, and
 * commits of different partitions are written in parallel. The partition count is fixed when the store
 * is created (`meta.json`), so keys never move between files.
 */
export class LowdbStore implements Store {
  private parts: Part[] = [];
  /** collection -> id -> partition index; lets reads find a document without knowing its owner. */
  private index = new Map<string, Map<string, number>>();
  /** Partitions whose last write failed (healthy again after their next successful one). */
  private failing = new Set<number>();
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly partitionCount = DEFAULT_PARTITIONS,
    private readonly opts: { fsync?: boolean } = {},
  ) {
    this.dir = join(dataDir, 'store');
  }

  async open(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      await access(this.dir, constants.W_OK);
    } catch (e) {
      throw new StoreError(`data directory ${this.dir} is not writable: ${(e as Error).message}`);
    }
    const metaFile = new DurableJsonFile<Meta>(join(this.dir, META_FILE));
    let meta = await metaFile.read();
    if (!meta) {
      // Partition files without meta.json: their partition count is lost, and guessing it would put
      // keys in the wrong files (every commit of an existing user then fails). Refuse, say why.
      const orphans = (await readdir(this.dir)).filter((f) => /^p-\d+\.json$/.test(f));
      if (orphans.length > 0)
        throw new StoreError(
          `${metaFile.file} is missing but ${orphans.length} partition files are beside it (${orphans.slice(0, 3).join(', ')}…); restore meta.json from a backup`,
        );
      meta = { format: FORMAT, partitions: this.partitionCount };
      await metaFile.write(meta);
    }
    if (!isMeta(meta)) {
      throw new StoreError(`${metaFile.file} has an unknown format: ${JSON.stringify(meta)}`);
    }
    // Read the files a few dozen at a time (a large store has thousands), then check them in order, so
    // the error names the first bad file as a one-by-one read would.
    const count = meta.partitions;
    // Only files that exist are read (a partition never written has none; most of a small store's).
    const present = new Set(await readdir(this.dir));
    const loaded: Array<{ part: Part; error?: unknown }> = new Array(count);
    let next = 0;
    const reader = async () => {
      while (next < count) {
        const i = next++;
        const part = { gen: 0, recovering: null, texts: null } as unknown as Part;
        part.file = new DurableJsonFile<PartitionData>(join(this.dir, partitionFile(i)), {
          fsync: this.opts.fsync,
          serialize: () => serialise(part),
        });
        part.db = new Low<PartitionData>(part.file, { format: FORMAT, collections: {} });
        try {
          if (present.has(partitionFile(i))) await part.db.read();
          loaded[i] = { part };
        } catch (error) {
          loaded[i] = { part, error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(32, count) }, reader));
    for (let i = 0; i < count; i++) {
      const { part, error } = loaded[i] as { part: Part; error?: unknown };
      if (error) throw error;
      if (!isPartition(part.db.data)) {
        throw new StoreError(
          `${part.file.file} is not a Switchboard store partition (format ${formatOf(part.db.data)})`,
        );
      }
      this.parts.push(part);
      for (const [name, docs] of Object.entries(part.db.data.collections)) {
        const idx = this.collectionIndex(name);
        for (const id of Object.keys(docs)) idx.set(id, i);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.file.idle()));
  }

  get<T extends Doc>(collection: string, id: string): T | undefined {
    const part = this.index.get(collection)?.get(id);
    if (part === undefined) return undefined;
    return this.parts[part]?.db.data.collections[collection]?.[id] as T | undefined;
  }

  all<T extends Doc>(collection: string): T[] {
    const out: T[] = [];
    for (const p of this.parts) {
      const docs = p.db.data.collections[collection];
      if (docs) for (const d of Object.values(docs)) out.push(d as T);
    }
    return out;
  }

  entries<T extends Doc>(collection: string): Array<[string, T]> {
    const out: Array<[string, T]> = [];
    for (const p of this.parts) {
      const docs = p.db.data.collections[collection];
      if (docs) for (const [id, d] of Object.entries(docs)) out.push([id, d as T]);
    }
    return out;
  }

  async commit(partitionKey: string, writes: DocWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const i = this.partitionOf(partitionKey);
    const part = this.parts[i];
    if (!part) throw new StoreError('store is not open');
    // Changes made to memory while it is being reloaded would be lost by the reload: wait for it.
    while (part.recovering) await part.recovering;
    const data = part.db.data;
    const gen = part.gen;
    for (const w of writes) {
      const owner = this.index.get(w.collection)?.get(w.id);
      // A document lives in one partition for life: the one of the key that first wrote it.
      const target = owner ?? i;
      if (target !== i) throw new StoreError(`document ${w.collection}/${w.id} belongs to another partition`);
      data.collections[w.collection] ??= {};
      const docs = data.collections[w.collection] as Record<string, Doc>;
      const next = w.update(docs[w.id]);
      if (next === null) {
        delete docs[w.id];
        this.index.get(w.collection)?.delete(w.id);
        part.texts?.get(w.collection)?.delete(w.id);
      } else {
        docs[w.id] = next;
        this.collectionIndex(w.collection).set(w.id, i);
        if (part.texts) textsOf(part.texts, w.collection).set(w.id, entryText(w.id, next));
      }
    }
    try {
      await part.db.write();
    } catch (e) {
      this.failing.add(i);
      // The write did not reach the disk: go back to what the disk holds, so memory never claims
      // more than was committed. Commits whose changes were in memory at that moment are rejected too
      // (the generation check below), even if a later write of the reloaded data succeeds.
      if (part.gen === gen) {
        part.gen++;
        part.recovering = this.reload(i).finally(() => {
          part.recovering = null;
        });
      }
      await part.recovering;
      throw new StoreError(`cannot write ${part.file.file}: ${(e as Error).message}`);
    }
    if (part.gen !== gen) throw new StoreError(`a failed write of ${part.file.file} discarded this commit`);
    this.failing.delete(i);
  }

  healthy(): boolean {
    return this.parts.length > 0 && this.failing.size === 0;
  }

  private async reload(i: number): Promise<void> {
    const part = this.parts[i];
    if (!part) return;
    // What is on disk once no write is under way (the file rejects writes queued behind a failed one).
    await part.file.idle();
    for (const idx of this.index.values()) for (const [id, p] of idx) if (p === i) idx.delete(id);
    // A partition never written has no file: its disk state is empty (lowdb's read() would keep memory).
    part.db.data = (await part.file.read()) ?? { format: FORMAT, collections: {} };
    part.texts = null;
    for (const [name, docs] of Object.entries(part.db.data.collections)) {
      const idx = this.collectionIndex(name);
      for (const id of Object.keys(docs)) idx.set(id, i);
    }
  }

  private partitionOf(key: string): number {
    return createHash('sha1').update(key).digest().readUInt32BE(0) % this.parts.length;
  }

  private collectionIndex(name: string): Map<string, number> {
    let idx = this.index.get(name);
    if (!idx) {
      idx = new Map();
      this.index.set(name, idx);
    }
    return idx;
  }
}
