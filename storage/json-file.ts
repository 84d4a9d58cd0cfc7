import { open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { StoreError } from './store';

/**
 * A lowdb adapter for one JSON file with two properties lowdb's own JSONFile lacks:
 * - durable: the text goes to a temp file, is fsync'ed, renamed over the original, and the folder is
 *   fsync'ed, so after a crash the file is either the old or the new version, never torn;
 * - coalesced: writes requested while one is running are merged into one next write, and the data is
 *   serialised only when that write starts (so a burst of N commits costs ~2 writes, not N).
 * Every caller's promise resolves only once a write that includes its data is on disk.
 */
export class DurableJsonFile<T> implements Adapter<T> {
  private writing: Promise<void> | null = null;
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private latest: T | null = null;
  /** Length of the file's text as last read or written (0 when there is none). */
  bytes = 0;

  constructor(
    readonly file: string,
    private readonly opts: {
      /** false: no fsync (unsafe against power loss; STORE_FSYNC=off, for benchmarks). */
      fsync?: boolean;
      /** Text of the data (JSON.stringify by default); called when a write starts. */
      serialize?: (data: T) => string;
    } = {},
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf-8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StoreError(`cannot read ${this.file}: ${(e as Error).message}`);
    }
    this.bytes = text.length;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new StoreError(
        `${this.file} is not valid JSON (${(e as Error).message}); it was left untouched — restore it from a backup or move it aside`,
      );
    }
  }

  write(data: T): Promise<void> {
    this.latest = data;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.kick();
    return done;
  }

  /** Resolves when no write is running or queued. */
  async idle(): Promise<void> {
    while (this.writing) await this.writing.catch(() => undefined);
  }

  private kick(): void {
    if (this.writing || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    const data = this.latest;
    let text: string;
    try {
      text = this.opts.serialize ? this.opts.serialize(data as T) : JSON.stringify(data);
    } catch (e) {
      for (const w of waiters) w.reject(e);
      return;
    }
    this.writing = writeAtomic(this.file, text, this.opts.fsync !== false)
      .then(
        () => {
          this.bytes = text.length;
          for (const w of waiters) w.resolve();
        },
        (e) => {
          // The writes queued behind a failed one fail too, rather than complete by a later write: each
          // caller learns of the failure and writes again itself (a checkpoint retries with fresh text).
          for (const w of [...waiters, ...this.waiters.splice(0)]) w.reject(e);
          this.latest = null;
        },
      )
      .finally(() => {
        this.writing = null;
        this.kick();
      });
  }
}

async function writeAtomic(file: string, text: string, fsync: boolean): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(text, 'utf-8');
    if (fsync) await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  if (fsync) await syncDirShared(dirname(file));
}

/**
 * One directory fsync serves every rename done before it started: writes of many partitions finishing
 * together share one (the one running, if it started after their rename, else the next), instead of
 * an open + fsync + close of the folder each.
 */
const dirSyncs = new Map<string, { running: Promise<void> | null; next: Promise<void> | null }>();

function syncDirShared(dir: string): Promise<void> {
  let s = dirSyncs.get(dir);
  if (!s) {
    s = { running: null, next: null };
    dirSyncs.set(dir, s);
  }
  const state = s;
  if (!state.running) {
    state.running = syncDir(dir).finally(() => {
      state.running = null;
    });
    return state.running;
  }
  // The running one may have started before this rename: wait for the next one.
  state.next ??= state.running.then(() => {
    state.next = null;
    return syncDirShared(dir);
  });
  return state.next;
}

/** Flushes a folder's entries (a rename is durable only then); best effort. */
export async function syncDir(dir: string): Promise<void> {
  // A rename is durable only once the folder entry is flushed; some file systems refuse, which is fine.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}
