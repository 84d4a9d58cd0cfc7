/**
 * The lowdb store's files under test: where they are, the copy a crash leaves, and a disk that can be
 * made to fail. The store writes through node:fs/promises; importing this module wraps its `rename` and
 * `open` (and re-syncs the ESM bindings), so the tests count real file writes and log flushes and inject
 * failures through `storeDisk`. Each test file runs in its own process, so the wrap stays within it.
 */
import { cpSync, readdirSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { basename, join } from 'node:path';
import { LowdbStore, type LowdbStoreOptions } from '../../storage/lowdb';
import { logFiles, SEGMENT } from '../../storage/wal';
import { tmpDataDir } from './service';

export const storeDisk = {
  /** Every partition file replaced (the target of each rename). */
  renamed: [] as string[],
  /** Flushes of log files. */
  flushes: 0,
  /** The next write to a log file fails (as on a full disk), after writing `partial` bytes of it. */
  failLogWrite: null as { error: string; partial: number; onFail?: () => void } | null,
  /** This many truncations of a log file fail (cutting a failed write off, on a failing disk). */
  failLogTruncate: 0,
  /** The next rename onto a partition file waits for `release`, then fails (a failing checkpoint). */
  holdRename: null as { reached: () => void; release: Promise<void> } | null,
};

const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
const realRename = fsp.rename;
const realOpen = fsp.open;
type Handle = Awaited<ReturnType<typeof realOpen>>;
Object.assign(fsp, {
  rename: async (from: string, to: string) => {
    const hold = storeDisk.holdRename;
    if (hold && /p-\d+\.json$/.test(String(to))) {
      storeDisk.holdRename = null;
      hold.reached();
      await hold.release;
      throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    }
    storeDisk.renamed.push(String(to));
    return realRename(from, to);
  },
  open: async (path: string, ...rest: unknown[]) => {
    const handle = (await (realOpen as (...a: unknown[]) => Promise<Handle>)(path, ...rest)) as Handle;
    if (!SEGMENT.test(basename(String(path)))) return handle;
    const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<{ bytesWritten: number }>;
    const datasync = handle.datasync.bind(handle);
    const truncate = handle.truncate.bind(handle);
    return Object.assign(handle, {
      write: async (buf: Buffer, offset: number, length: number, position: number) => {
        const fail = storeDisk.failLogWrite;
        if (!fail) return write(buf, offset, length, position);
        storeDisk.failLogWrite = null;
        fail.onFail?.();
        if (fail.partial > 0) await write(buf, offset, Math.min(fail.partial, length), position);
        throw Object.assign(new Error(fail.error), { code: 'ENOSPC' });
      },
      datasync: () => {
        storeDisk.flushes++;
        return datasync();
      },
      truncate: async (len?: number) => {
        if (storeDisk.failLogTruncate > 0) {
          storeDisk.failLogTruncate--;
          throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
        }
        return truncate(len);
      },
    });
  },
});
syncBuiltinESMExports();

export const storeDir = (dataDir: string) => join(dataDir, 'store');
/** The store's log files, oldest first. */
export const logs = (dataDir: string) => logFiles(readdirSync(storeDir(dataDir)));

export async function openStore(dataDir: string, opts: LowdbStoreOptions = {}): Promise<LowdbStore> {
  const s = new LowdbStore(dataDir, undefined, opts);
  await s.open();
  return s;
}

/**
 * A "crash": the store's files as they are now, copied into a fresh DATA_DIR, without close(). Call it
 * while the store is idle; cpSync blocks, so nothing runs meanwhile.
 */
export function copyStore(dataDir: string): string {
  const copy = tmpDataDir();
  cpSync(storeDir(dataDir), storeDir(copy), { recursive: true });
  return copy;
}
