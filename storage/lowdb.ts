import { access, constants, mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type {
  DocRef,
  IndexHit,
  IndexQuery,
  PartitionedStore,
  PartitionScope,
  ScannedDoc,
  ScanOptions,
} from './contract';
import { STORE_INDEXES } from './indexes';
import { DurableJsonFile, syncDir } from './json-file';
import {
  formatOf,
  isMeta,
  isPartition,
  META_FILE,
  META_FORMAT,
  type Meta,
  PARTITION_FILE,
  PARTITION_FORMAT,
  type PartitionData,
  partitionFile,
  partitionIndex,
} from './layout';
import { IndexTables } from './lowdb-indexes';
import { type Doc, type DocWrite, type Store, StoreError } from './store';
import { encodeRecord, type LogRecord, type LogWrite, logFiles, readSegment, SEGMENT, Segment } from './wal';

export { partitionFile } from './layout';

export const DEFAULT_PARTITIONS = 16;
/**
 * A log file is checkpointed (and then removed) once it is this big AND at least as big as the
 * partition files: a checkpoint rewrites every partition the log touched (under load, with keys spread
 * over all partitions, the whole store), so tying it to the store's size keeps the disk writes and the
 * serialising at most ~1 byte per byte logged whatever the number of users, and a start after a crash
 * replays at most about as much log as it reads partition files.
 */
const MAX_LOG_BYTES = 64 * 1024 * 1024;
/** …or this old, so a quiet store's partition files become current and its log short. */
const MAX_LOG_AGE_MS = 10 * 60_000;
/**
 * Partition files a checkpoint writes at the same time: few, so its fsyncs leave libuv's thread pool
 * (4 threads) free for the log's appends, which acknowledgements wait on.
 */
const CHECKPOINT_PARALLEL = 2;
const RETRY_MS = 1000;

interface Part {
  db: Low<PartitionData>;
  file: DurableJsonFile<PartitionData>;
  /** The partition's text as a checkpoint captured it (see `checkpointStep`). */
  text: string;
}

interface Pending {
  partition: number;
  writes: DocWrite[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Undo {
  partition: number;
  collection: string;
  id: string;
  prev: Doc | undefined;
}

/** One checkpoint: the partitions changed in the retired log files are rewritten, then those files go. */
interface Checkpoint {
  /** Every partition of the retired log files (put back in `dirty` if the checkpoint fails). */
  partitions: number[];
  todo: number[];
  inflight: number;
  /** Failed partition writes waiting for their retry: the checkpoint is not done while there are any. */
  retrying: number;
  retired: Segment[];
  /** A write failed while stopping: the retired log files are kept. */
  failed: boolean;
  finishing?: boolean;
}

export interface LowdbStoreOptions {
  /** false: no fsync (unsafe against power loss; STORE_FSYNC=off, for benchmarks). */
  fsync?: boolean;
  maxLogBytes?: number;
  maxLogAgeMs?: number;
  clock?: () => number;
}

/**
 * The embedded store: lowdb JSON files under `<dataDir>/store/`, one per partition of the keys, plus a
 * write-ahead log (storage/wal.ts).
 *
 * A commit is applied to memory and appended to the log as one line; commits arriving together share
 * one write + fdatasync (group commit), and each resolves only once that flush is done — so the
 * acknowledge-after-commit rule holds while the disk does one flush per batch, not one file replacement
 * per commit. If the flush fails, the batch is undone in memory, cut off the log, and every commit of it
 * is rejected.
 *
 * A checkpoint rewrites the partition files a log file touched (durably: temp file, fsync, rename) and
 * then removes that log file. A partition's text is captured between two batches, when memory holds
 * exactly what the log holds, so a partition file never contains a commit that could still be undone.
 * On start, partition files are read and the log replayed over them; a clean stop checkpoints
 * everything, leaving partition files only.
 *
 * It serves both the synchronous contract the engine uses today (`Store`) and the partitioned one
 * (`PartitionedStore`, storage/contract.ts), still from memory: named indexes are kept in memory and
 * changed wherever a document is (`set`: commits, undoing a failed batch, replaying the log, loading),
 * so they are rebuilt from the files at start and always match the documents.
 */
export class LowdbStore implements Store, PartitionedStore {
  private parts: Part[] = [];
  /** collection -> id -> partition index; lets reads find a document without knowing its owner. */
  private index = new Map<string, Map<string, number>>();
  private readonly dir: string;
  private readonly opts: Required<LowdbStoreOptions>;
  private readonly indexes = new IndexTables(STORE_INDEXES);
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
  private segment: Segment | null = null;
  /** Partitions changed by commits in the current log file. */
  private dirty = new Set<number>();
  /** Log files written before the current one (read at start, or closed by a rotation). */
  private sealed: Segment[] = [];
  private checkpoint: Checkpoint | null = null;
  private checkpointDone: Promise<void> | null = null;
  private endCheckpoint: (() => void) | null = null;
  private logFailing = false;
  /** Partitions whose last checkpoint write failed. */
  private checkpointFailing = new Set<number>();
  private closing: Promise<void> | null = null;
  private closed = false;
  /** Size of the partition files, as last read or written by a finished checkpoint. */
  private storeBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Partition writes to try again (unref'ed while running; close() waits for them). */
  private retries = new Set<NodeJS.Timeout>();

  constructor(
    dataDir: string,
    private readonly partitionCount = DEFAULT_PARTITIONS,
    opts: LowdbStoreOptions = {},
  ) {
    this.dir = join(dataDir, 'store');
    this.opts = {
      fsync: opts.fsync ?? true,
      maxLogBytes: opts.maxLogBytes ?? MAX_LOG_BYTES,
      maxLogAgeMs: opts.maxLogAgeMs ?? MAX_LOG_AGE_MS,
      clock: opts.clock ?? Date.now,
    };
  }

  async open(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      await access(this.dir, constants.W_OK);
    } catch (e) {
      throw new StoreError(`data directory ${this.dir} is not writable: ${(e as Error).message}`);
    }
    const names = await readdir(this.dir);
    const meta = await this.openMeta(names);
    await this.readPartitions(meta.partitions, new Set(names));
    this.measure();
    const replayed = await this.replayLog(logFiles(names));
    const last = this.sealed.at(-1)?.seq ?? 0;
    this.segment = await Segment.create(this.dir, last + 1, this.opts.clock());
    await syncDir(this.dir);
    // Log files found at start are checkpointed right away, in the background.
    if (this.sealed.length > 0) this.startCheckpoint([...replayed]);
    this.timer = setInterval(() => this.kick(), Math.min(5000, this.opts.maxLogAgeMs));
    this.timer.unref();
    this.kick();
  }

  /** Flushes, checkpoints everything and stops; every call waits for the same stop. */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    // A checkpoint waiting to retry a write must keep the process alive, or close() never returns.
    for (const t of this.retries) t.ref();
    while (this.running || this.queue.length > 0) await (this.running ?? this.kick());
    await this.checkpointDone;
    // Everything the log holds goes into partition files, so a clean stop leaves no log to replay.
    const current = this.segment;
    if (!current) return;
    await current.close();
    this.segment = null;
    this.sealed.push(current);
    const done = this.startCheckpoint([...this.dirty]);
    this.dirty.clear();
    void this.kick();
    await done;
  }

  /** Resolves once no batch, rotation or checkpoint is under way (tests and benchmarks). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      else if (this.checkpoint) await this.checkpointDone;
      else return;
    }
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

  async read<T extends Doc>(partition: string, collection: string, id: string): Promise<T | undefined> {
    return this.inPartition<T>(partition, collection, id);
  }

  async scope(partition: string, wants: readonly DocRef[]): Promise<PartitionScope> {
    const loaded = new Map<string, Doc | undefined>();
    for (const w of wants)
      loaded.set(refKey(w.collection, w.id), this.inPartition(partition, w.collection, w.id));
    return {
      partition,
      get<T extends Doc>(collection: string, id: string): T | undefined {
        const k = refKey(collection, id);
        if (!loaded.has(k))
          throw new StoreError(`${collection}/${id} was not loaded into the scope of partition ${partition}`);
        return loaded.get(k) as T | undefined;
      },
    };
  }

  async lookup<T extends Doc>(index: string, query: IndexQuery): Promise<Array<IndexHit<T>>> {
    return this.indexes.query(index, query).map((r) => ({
      id: r.id,
      key: r.key,
      sort: [...r.sort],
      doc: this.indexedDoc(index, r.id) as T,
    }));
  }

  /**
   * Pages in id order over the ids the collection had when the scan started (this store holds them in
   * memory anyway); each page reads the documents as they are then, skipping ones deleted meanwhile.
   */
  async *scan<T extends Doc>(collection: string, opts: ScanOptions): AsyncIterable<Array<ScannedDoc<T>>> {
    if (!Number.isInteger(opts.pageSize) || opts.pageSize < 1)
      throw new StoreError(`scan of ${collection}: pageSize must be ≥ 1`);
    const after = opts.after;
    const ids = [...(this.index.get(collection)?.keys() ?? [])]
      .filter((id) => after === undefined || id > after)
      .sort();
    for (let n = 0; n < ids.length; n += opts.pageSize) {
      const page: Array<ScannedDoc<T>> = [];
      for (const id of ids.slice(n, n + opts.pageSize)) {
        const doc = this.get<T>(collection, id);
        if (doc) page.push({ id, doc });
      }
      if (page.length > 0) yield page;
    }
  }

  /** A document, only if it lives in the file of `partition`. */
  private inPartition<T extends Doc>(partition: string, collection: string, id: string): T | undefined {
    const unusable = this.unusable();
    if (unusable) throw unusable;
    const owner = this.index.get(collection)?.get(id);
    return owner === partitionIndex(partition, this.parts.length) ? this.get<T>(collection, id) : undefined;
  }

  /** Why the store cannot be read or written now (closed, or not open yet); null when it can. */
  private unusable(): StoreError | null {
    if (this.closed) return new StoreError('store is closed');
    return this.parts.length === 0 ? new StoreError('store is not open') : null;
  }

  private indexedDoc(index: string, id: string): Doc {
    const collection = this.indexes.collectionOf(index);
    const doc = this.get(collection, id);
    if (!doc) throw new StoreError(`index ${index} points to ${collection}/${id}, which does not exist`);
    return doc;
  }

  commit(partitionKey: string, writes: DocWrite[]): Promise<void> {
    if (writes.length === 0) return Promise.resolve();
    const unusable = this.unusable();
    if (unusable) return Promise.reject(unusable);
    const partition = partitionIndex(partitionKey, this.parts.length);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ partition, writes, resolve, reject });
      this.kick();
    });
  }

  healthy(): boolean {
    return this.parts.length > 0 && !this.closed && !this.logFailing && this.checkpointFailing.size === 0;
  }

  /** Starts the writer if it is not running; resolves when it has nothing left to do. */
  private kick(): Promise<void> {
    this.running ??= this.write().finally(() => {
      this.running = null;
      // A partition write that finished after the writer's last look found it still running: look again.
      if (this.queue.length > 0 || this.checkpointCanProceed()) void this.kick();
    });
    return this.running;
  }

  /** The writer: checkpoint work, rotation and batches of commits, one at a time. */
  private async write(): Promise<void> {
    // Commits made in the same tick join the first batch.
    await null;
    for (;;) {
      await this.rotateIfDue();
      this.checkpointStep();
      if (this.queue.length === 0) return;
      const batch = this.queue.splice(0);
      await this.writeBatch(batch);
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const segment = this.segment;
    if (!segment) {
      for (const c of batch) c.reject(new StoreError('store is closed'));
      return;
    }
    const undo: Undo[] = [];
    const lines: Buffer[] = [];
    const applied: Pending[] = [];
    for (const c of batch) {
      const mark = undo.length;
      try {
        lines.push(encodeRecord(this.apply(c, undo)));
        applied.push(c);
      } catch (e) {
        this.undo(undo, mark);
        c.reject(e);
      }
    }
    if (applied.length === 0) return;
    try {
      await segment.append(lines.length === 1 ? (lines[0] as Buffer) : Buffer.concat(lines), this.opts.fsync);
    } catch (e) {
      // Not on disk: memory goes back to what the log holds, and nobody is told "done".
      this.undo(undo, 0);
      this.logFailing = true;
      const error = new StoreError(`cannot write ${segment.file}: ${(e as Error).message}`);
      for (const c of applied) c.reject(error);
      return;
    }
    this.logFailing = false;
    for (const c of applied) {
      this.dirty.add(c.partition);
      c.resolve();
    }
  }

  /** Applies one commit to memory (recording how to undo it) and returns its log line. */
  private apply(c: Pending, undo: Undo[]): LogRecord {
    const i = c.partition;
    for (const w of c.writes) {
      // A document lives in one partition for life: the one of the key that first wrote it.
      const owner = this.index.get(w.collection)?.get(w.id);
      if (owner !== undefined && owner !== i)
        throw new StoreError(`document ${w.collection}/${w.id} belongs to another partition`);
    }
    const data = (this.parts[i] as Part).db.data;
    const logged: LogWrite[] = [];
    for (const w of c.writes) {
      data.collections[w.collection] ??= {};
      const docs = data.collections[w.collection] as Record<string, Doc>;
      const prev = docs[w.id];
      const next = w.update(prev);
      undo.push({ partition: i, collection: w.collection, id: w.id, prev });
      this.set(i, w.collection, w.id, next);
      logged.push([w.collection, w.id, next]);
    }
    return [i, logged];
  }

  private undo(undo: Undo[], mark: number): void {
    for (let n = undo.length - 1; n >= mark; n--) {
      const u = undo[n] as Undo;
      this.set(u.partition, u.collection, u.id, u.prev ?? null);
    }
    undo.length = mark;
  }

  private set(i: number, collection: string, id: string, doc: Doc | null): void {
    const collections = (this.parts[i] as Part).db.data.collections;
    if (doc === null) {
      const docs = collections[collection];
      if (docs) delete docs[id];
      this.index.get(collection)?.delete(id);
    } else {
      collections[collection] ??= {};
      (collections[collection] as Record<string, Doc>)[id] = doc;
      this.collectionIndex(collection).set(id, i);
    }
    this.indexes.update(collection, id, doc);
  }

  /** A new log file once the current one is big or old enough, and a checkpoint of the old one. */
  private async rotateIfDue(): Promise<void> {
    const segment = this.segment;
    if (!segment || this.closed || this.checkpoint || segment.size === 0) return;
    const age = this.opts.clock() - segment.openedAt;
    const big = segment.size >= Math.max(this.opts.maxLogBytes, this.storeBytes);
    if (!big && age < this.opts.maxLogAgeMs) return;
    let next: Segment;
    try {
      // A failed write whose cut failed too left bytes past the flushed size: cut them now, or this
      // file is sealed with a torn tail, which a start refuses in any log file but the newest.
      await segment.trim();
      next = await Segment.create(this.dir, segment.seq + 1, this.opts.clock());
      await syncDir(this.dir);
    } catch {
      return; // keep appending to the current file; tried again after the next batch
    }
    await segment.close();
    this.sealed.push(segment);
    this.segment = next;
    const changed = [...this.dirty];
    this.dirty.clear();
    this.startCheckpoint(changed);
  }

  /** The checkpoint has partitions to start or is ready to finish (see checkpointStep). */
  private checkpointCanProceed(): boolean {
    const cp = this.checkpoint;
    if (!cp) return false;
    if (cp.todo.length > 0) return cp.inflight < CHECKPOINT_PARALLEL;
    return cp.inflight === 0 && cp.retrying === 0 && !cp.finishing;
  }

  /** Sums the partition files' sizes (at start, and when a checkpoint has written them). */
  private measure(): void {
    this.storeBytes = 0;
    for (const p of this.parts) this.storeBytes += p.file.bytes;
  }

  private startCheckpoint(partitions: number[]): Promise<void> {
    this.checkpoint = {
      partitions: [...partitions],
      todo: partitions,
      inflight: 0,
      retrying: 0,
      retired: this.sealed.splice(0),
      failed: false,
    };
    this.checkpointDone = new Promise<void>((resolve) => {
      this.endCheckpoint = resolve;
    });
    return this.checkpointDone;
  }

  /**
   * Captures partition texts and starts their writes. Runs only between batches (memory = log), so
   * a captured text holds no commit that could still be undone.
   */
  private checkpointStep(): void {
    const cp = this.checkpoint;
    if (!cp) return;
    while (cp.inflight < CHECKPOINT_PARALLEL && cp.todo.length > 0) {
      const i = cp.todo.pop() as number;
      const part = this.parts[i] as Part;
      part.text = JSON.stringify(part.db.data);
      cp.inflight++;
      part.db.write().then(
        () => {
          cp.inflight--;
          this.checkpointFailing.delete(i);
          void this.kick(); // the next partitions are captured between batches, by the writer
        },
        () => {
          cp.inflight--;
          this.checkpointFailing.add(i);
          if (this.closed) {
            // Stopping: the log files stay (they hold the data) and are replayed at the next start.
            cp.failed = true;
            cp.todo.length = 0;
            void this.kick();
            return;
          }
          // Tried again shortly; the log keeps the data meanwhile, and /health says it.
          cp.retrying++;
          const retry = setTimeout(() => {
            this.retries.delete(retry);
            cp.retrying--;
            cp.todo.push(i);
            void this.kick();
          }, RETRY_MS).unref();
          this.retries.add(retry);
        },
      );
    }
    if (cp.todo.length > 0 || cp.inflight > 0 || cp.retrying > 0 || cp.finishing) return;
    cp.finishing = true;
    // Every partition of the retired log files is in its file: the files can go.
    void (async () => {
      if (!cp.failed) {
        for (const s of cp.retired) await unlink(s.file).catch(() => undefined);
        await syncDir(this.dir);
      } else {
        // The kept files go back in front of any newer one, with their partitions: the next checkpoint
        // (close's) removes them together with the newer files, or none. Removing only a newer file
        // would let the replay of an older one put old documents over newer partition files.
        this.sealed.unshift(...cp.retired);
        for (const i of cp.partitions) this.dirty.add(i);
      }
      this.checkpoint = null;
      this.measure();
      this.endCheckpoint?.();
      void this.kick();
    })();
  }

  private async openMeta(names: string[]): Promise<Meta> {
    const metaFile = new DurableJsonFile<Meta>(join(this.dir, META_FILE));
    let meta = await metaFile.read();
    if (!meta) {
      // Partition or log files without meta.json: their partition count is lost, and guessing it
      // would put keys in the wrong files (every commit of an existing user then fails). Refuse.
      const orphans = names.filter((f) => PARTITION_FILE.test(f) || SEGMENT.test(f));
      if (orphans.length > 0)
        throw new StoreError(
          `${metaFile.file} is missing but ${orphans.length} partition files are beside it (${orphans.slice(0, 3).join(', ')}…); restore meta.json from a backup`,
        );
      meta = { format: META_FORMAT, partitions: this.partitionCount };
      await metaFile.write(meta);
    }
    if (!isMeta(meta))
      throw new StoreError(`${metaFile.file} has an unknown format: ${JSON.stringify(meta)}`);
    if (meta.format !== META_FORMAT) {
      // A store of the format before the log: marked, so an older version refuses it rather than
      // ignoring the log files it cannot read.
      meta = { format: META_FORMAT, partitions: meta.partitions };
      await metaFile.write(meta);
    }
    return meta;
  }

  private async readPartitions(count: number, present: Set<string>): Promise<void> {
    // Read the files a few dozen at a time (a large store has thousands), then check them in order, so
    // the error names the first bad file as a one-by-one read would. Only files that exist are read.
    const loaded: Array<{ part: Part; error?: unknown }> = new Array(count);
    let next = 0;
    const reader = async () => {
      while (next < count) {
        const i = next++;
        const part = { text: '' } as Part;
        part.file = new DurableJsonFile<PartitionData>(join(this.dir, partitionFile(i)), {
          fsync: this.opts.fsync,
          serialize: () => part.text,
        });
        part.db = new Low<PartitionData>(part.file, { format: PARTITION_FORMAT, collections: {} });
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
        for (const [id, doc] of Object.entries(docs)) {
          idx.set(id, i);
          this.indexes.load(name, id, doc);
        }
      }
    }
    this.indexes.loaded();
  }

  /** Replays the log files found at start; returns the partitions they changed (checkpointed right after). */
  private async replayLog(files: string[]): Promise<Set<number>> {
    const changed = new Set<number>();
    for (const [n, name] of files.entries()) {
      const file = join(this.dir, name);
      const last = n === files.length - 1;
      const { records, goodBytes, size } = await readSegment(file, last);
      if (goodBytes < size) await this.cutTail(file, goodBytes); // the unfinished last write of a crash
      for (const [i, writes] of records) {
        if (i >= this.parts.length)
          throw new StoreError(`${file} names partition ${i}, but the store has ${this.parts.length}`);
        for (const [collection, id, doc] of writes) this.set(i, collection, id, doc);
        changed.add(i);
      }
      this.sealed.push(Segment.sealed(file, Number(SEGMENT.exec(name)?.[1]), goodBytes));
    }
    return changed;
  }

  /**
   * Cuts a torn tail durably: this file stops being the newest once the new log file is created (and
   * its folder entry flushed), and a torn tail that came back after a power loss would stop the start.
   */
  private async cutTail(file: string, size: number): Promise<void> {
    const handle = await open(file, 'r+');
    try {
      await handle.truncate(size);
      if (this.opts.fsync) await handle.datasync();
    } finally {
      await handle.close();
    }
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

const refKey = (collection: string, id: string) => `${collection}\u0000${id}`;
