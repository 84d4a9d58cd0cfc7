/**
 * The data folder's lock: `<DATA_DIR>/store/service.lock`, held by a running service (or a restore)
 * and removed when it stops. It keeps a second service off a folder that is in use (two writers would
 * overwrite each other's partition files) and a restore off a running service's data.
 *
 * The file is created complete in one step (written to a temp file, then hard-linked to its name, which
 * fails when the name exists), so a reader never sees a half-written lock. It names its holder: pid,
 * host, start time and, on Linux, the boot id and the process's start tick, so a lock whose process is
 * gone (SIGKILL, crash, reboot) — or whose pid now belongs to another process — is known to be stale and
 * is taken over. A stale lock of an interrupted restore is never taken over by a service: the folder may
 * hold half of a restore.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StoreError } from './store';

export const LOCK_NAME = 'service.lock';

/** The lock and its passing files (`service.lock.<pid>….tmp`, `.stale-…`), by name inside `store/`. */
export const isLockFile = (name: string): boolean => name === LOCK_NAME || name.startsWith(`${LOCK_NAME}.`);

export type LockPurpose = 'service' | 'restore';

export interface LockInfo {
  pid: number;
  purpose: LockPurpose;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** Linux: /proc/sys/kernel/random/boot_id when the lock was taken. */
  bootId?: string;
  /** Linux: the holder's start time in clock ticks after boot (/proc/<pid>/stat field 22). */
  procStart?: string;
  /** Free text for the operator (a restore says where the previous data went). */
  note?: string;
}

export type LockStatus =
  | { state: 'free' }
  | { state: 'held'; info: LockInfo }
  | { state: 'stale'; info: LockInfo | null; why: string };

export interface HeldLock {
  file: string;
  info: LockInfo;
  /** Set when a stale lock was replaced: whose it was and why it was stale (worth a log line). */
  tookOver?: { info: LockInfo | null; why: string };
  /** Adds a note to the lock file (still held). */
  annotate(note: string): void;
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): void;
  /**
   * Leaves the lock file behind even when this process exits: an interrupted restore stays marked, so no
   * service starts on a half-restored folder.
   */
  abandon(): void;
}

export class LockHeldError extends StoreError {
  override name = 'LockHeldError';
}

export function lockFile(dataDir: string): string {
  return join(dataDir, 'store', LOCK_NAME);
}

/** Lock files held by this process (a second service in the same process must be refused too). */
const heldHere = new Map<string, string>();
let exitHookInstalled = false;

/** Who holds the lock of `dataDir`, read-only (doctor, backup). */
export function lockStatus(dataDir: string): LockStatus {
  const file = lockFile(dataDir);
  const text = readText(file);
  if (text === null) return { state: 'free' };
  return judge(file, text);
}

/** "a Switchboard service (pid 123 on host, since …)" for messages. */
export function describeHolder(info: LockInfo | null): string {
  if (!info) return 'an unreadable lock';
  const what = info.purpose === 'restore' ? 'a restore' : 'a Switchboard service';
  return `${what} (pid ${info.pid} on ${info.host}, since ${info.since})`;
}

/**
 * Takes the lock of `dataDir` for `purpose`, creating `<dataDir>/store/` when needed. Throws
 * LockHeldError naming the file and its holder when a live process holds it.
 */
export function acquireLock(dataDir: string, purpose: LockPurpose): HeldLock {
  const dir = join(dataDir, 'store');
  const file = join(dir, LOCK_NAME);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new StoreError(`data directory ${dir} is not writable: ${(e as Error).message}`);
  }
  const info: LockInfo = {
    pid: process.pid,
    purpose,
    host: hostname(),
    since: new Date().toISOString(),
    bootId: bootId(),
    procStart: procStat(process.pid)?.start,
  };
  let text = `${JSON.stringify(info)}\n`;
  let tookOver: HeldLock['tookOver'];
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(file, text)) {
      heldHere.set(file, text);
      installExitHook();
      let released = false;
      return {
        file,
        info,
        tookOver,
        annotate(note: string) {
          if (released) return;
          const next = `${JSON.stringify({ ...info, note })}\n`;
          const tmp = `${file}.${process.pid}.tmp`;
          writeDurably(tmp, next);
          renameSync(tmp, file);
          text = next;
          heldHere.set(file, text);
        },
        release() {
          if (released) return;
          released = true;
          heldHere.delete(file);
          if (readText(file) === text) unlinkQuietly(file);
        },
        abandon() {
          released = true;
          heldHere.delete(file);
        },
      };
    }
    const current = readText(file);
    if (current === null) continue; // released meanwhile: try again
    const status = judge(file, current);
    if (status.state === 'held') throw heldError(dataDir, file, status.info, purpose);
    if (status.state === 'free') continue;
    if (purpose === 'service' && status.info?.purpose === 'restore') {
      throw new LockHeldError(
        `a restore into ${dataDir} was interrupted (${describeHolder(status.info)}, ${status.why}): the data ` +
          `folder may hold half of it. Run the restore again (npm run restore -- BACKUP_DIR)` +
          (status.info.note ? `; ${status.info.note}` : '') +
          `; then start the service. Lock file: ${file}`,
      );
    }
    // Stale: move it aside by rename (only one contender wins), then check we moved what we judged.
    const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(file, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new StoreError(`cannot replace the stale lock ${file}: ${(e as Error).message}`);
    }
    if (readText(aside) !== current) {
      // Someone took the lock between our read and the rename: give it back.
      try {
        linkSync(aside, file);
      } catch {
        /* a third process has it now; the next round reads who */
      }
      unlinkQuietly(aside);
      continue;
    }
    unlinkQuietly(aside);
    tookOver = { info: status.info, why: status.why };
  }
  throw new StoreError(`could not take the lock ${file}: it keeps changing (another process is starting?)`);
}

function heldError(dataDir: string, file: string, holder: LockInfo, purpose: LockPurpose): LockHeldError {
  const who = describeHolder(holder);
  if (purpose === 'restore')
    return new LockHeldError(
      `refusing to restore into ${dataDir}: it is in use by ${who} (lock file ${file}). ` +
        'Stop it first (sudo systemctl stop switchboard), then run the restore again.',
    );
  return new LockHeldError(
    `data directory ${dataDir} is in use by ${who}: lock file ${file}. Two services must never share a ` +
      'DATA_DIR: stop the other one, or give this one its own DATA_DIR (if that process is surely gone, ' +
      'delete the lock file).',
  );
}

function judge(file: string, text: string): LockStatus {
  let info: LockInfo | null = null;
  try {
    const v = JSON.parse(text) as LockInfo;
    if (Number.isInteger(v.pid) && v.pid > 0 && typeof v.host === 'string') info = v;
  } catch {
    info = null;
  }
  if (!info) return { state: 'stale', info: null, why: 'the lock file is unreadable' };
  if (info.host !== hostname()) return { state: 'held', info }; // another machine's process: cannot tell
  const boot = bootId();
  if (info.bootId && boot && info.bootId !== boot)
    return { state: 'stale', info, why: 'the machine has rebooted since' };
  if (info.pid === process.pid) {
    return heldHere.get(file) === text
      ? { state: 'held', info }
      : { state: 'stale', info, why: 'left by an earlier process with this pid' };
  }
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH')
      return { state: 'stale', info, why: `process ${info.pid} is gone` };
    // EPERM: it exists but belongs to another user; go on with /proc when readable.
  }
  const stat = procStat(info.pid);
  if (stat) {
    if (stat.state === 'Z' || stat.state === 'X')
      return { state: 'stale', info, why: `process ${info.pid} has exited` };
    if (info.procStart && stat.start !== info.procStart)
      return { state: 'stale', info, why: `pid ${info.pid} now belongs to another process` };
  }
  return { state: 'held', info };
}

/** Creates `file` with `text` in one step; false when it exists. */
function create(file: string, text: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeDurably(tmp, text);
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return createExclusive(file, text);
    throw new StoreError(`cannot create the lock ${file}: ${(e as Error).message}`);
  } finally {
    unlinkQuietly(tmp);
  }
}

/** For file systems without hard links: O_EXCL create (a reader may briefly see it empty). */
function createExclusive(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreError(`cannot create the lock ${file}: ${(e as Error).message}`);
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function writeDurably(file: string, text: string): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf-8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StoreError(`cannot read the lock ${file}: ${(e as Error).message}`);
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf-8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** State letter and start tick of a process from /proc (Linux); undefined elsewhere or when gone. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf-8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const start = fields[19]; // field 22 of the whole line
    return state && start ? { state, start } : undefined;
  } catch {
    return undefined;
  }
}

/** A process that ends without stopping its service still removes its lock (a crash cannot). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [file, text] of heldHere) {
      try {
        if (readText(file) === text) unlinkQuietly(file);
      } catch {
        /* exiting anyway */
      }
    }
  });
}
