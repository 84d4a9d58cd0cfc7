/**
 * `npm run backup`: a copy of DATA_DIR that is consistent while the service runs, with a manifest.
 *
 * Why it is consistent without pausing the service: the store changes files in two ways only. A
 * partition file is replaced whole (temp file + rename, storage/json-file.ts), so one open file is one
 * whole version, and a name that still points at the inode we opened has not been written since. A log
 * file (`store/wal-*.log`, storage/wal.ts) is only ever appended to, and its every prefix is a valid log
 * (a torn last line is cut at start). A snapshot therefore (1) opens and reads every file — the log files
 * last — keeping each open so its inode cannot be reused, then (2) lists and stats every path again: if
 * each path still names the inode we read, no file came or went, the partition files are unchanged and
 * the log files only grew, then what we read is the state a crash at the moment we finished reading the
 * partition files would have left (or a later one): partition files never hold a commit the log does
 * not, and the log was read after them. The service recovers from such a state by design. If anything
 * else changed, the attempt is thrown away and repeated after a short pause (under constant load the
 * command gives up after `maxAttempts` and says so).
 */
import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { isLockFile } from '../../storage/service-lock';
import { SEGMENT } from '../../storage/wal';
import { VERSION } from '../lib/version';

export const MANIFEST = 'manifest.json';
/** Backups are folders named `switchboard-<UTC time>` inside the output folder. */
export const BACKUP_PREFIX = 'switchboard-';

export interface ManifestFile {
  /** Relative to DATA_DIR, with `/` separators. */
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: 1;
  app: 'switchboard';
  version: string;
  createdAt: string;
  host: string;
  dataDir: string;
  /** Snapshot attempts it took to find a moment with no write (see above). */
  attempts: number;
  totalBytes: number;
  files: ManifestFile[];
}

/**
 * Not part of a backup: the lock, temp files of writes under way, doctor's probe files, and what a
 * restore moved aside (`replaced-*`) or is staging (`.restore-*`).
 */
export function excluded(rel: string): boolean {
  const parts = rel.split('/');
  const name = parts[parts.length - 1] ?? '';
  if (parts.length > 1 && (parts[0]?.startsWith('replaced-') || parts[0]?.startsWith('.restore-')))
    return true;
  if (rel.startsWith('store/') && isLockFile(rel.slice('store/'.length))) return true;
  return name.endsWith('.tmp');
}

interface Read {
  path: string;
  data: Buffer;
  ino: bigint;
  dev: bigint;
  size: bigint;
  mtimeNs: bigint;
}

/** Every file of `dataDir` at one moment (see the top of this file); throws when it never held still. */
export async function snapshot(
  dataDir: string,
  opts: {
    maxAttempts?: number;
    pauseMs?: number;
    /** Tests: runs between reading the files and checking them again. */
    beforeCheck?: (attempt: number) => Promise<void>;
  } = {},
): Promise<{ files: Array<{ path: string; data: Buffer }>; attempts: number }> {
  const maxAttempts = opts.maxAttempts ?? 50;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const files = await tryOnce(dataDir, () => opts.beforeCheck?.(attempt));
    if (files) return { files: files.map(({ path, data }) => ({ path, data })), attempts: attempt };
    const pause = opts.pauseMs ?? 20;
    await new Promise((r) => setTimeout(r, pause + Math.random() * pause));
  }
  throw new Error(
    `the data in ${dataDir} kept changing during ${maxAttempts} attempts to copy it at one moment; ` +
      'try again (or stop the service for the moment of the backup)',
  );
}

async function tryOnce(
  dataDir: string,
  beforeCheck: () => Promise<void> | undefined,
): Promise<Read[] | null> {
  const paths = await listFiles(dataDir);
  const handles: FileHandle[] = [];
  try {
    const reads: Read[] = [];
    // The log files after everything else (see the top of this file).
    for (const path of [...paths.filter((p) => !isLog(p)), ...paths.filter(isLog)]) {
      let handle: FileHandle;
      try {
        handle = await open(join(dataDir, path), 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; // replaced or removed meanwhile
        throw e;
      }
      handles.push(handle);
      const st = await handle.stat({ bigint: true });
      const data = await handle.readFile();
      reads.push({ path, data, ino: st.ino, dev: st.dev, size: st.size, mtimeNs: st.mtimeNs });
    }
    await beforeCheck();
    // Still the same files, each path still the inode we hold open, unchanged: nothing was written.
    const again = await listFiles(dataDir);
    if (again.length !== paths.length || again.some((p, i) => p !== paths[i])) return null;
    for (const r of reads) {
      const st = await stat(join(dataDir, r.path), { bigint: true }).catch(() => null);
      if (!st || st.ino !== r.ino || st.dev !== r.dev) return null;
      // A log file may have grown (appends after our read); we keep the prefix we read.
      if (isLog(r.path) ? st.size < BigInt(r.data.length) : st.size !== r.size || st.mtimeNs !== r.mtimeNs)
        return null;
      if (!isLog(r.path) && BigInt(r.data.length) !== st.size) return null;
    }
    return reads;
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
}

/** A write-ahead log file of the store: only ever appended to while the service runs. */
const isLog = (rel: string) => rel.startsWith('store/') && SEGMENT.test(rel.slice('store/'.length));

/** Regular files under `root`, relative with `/`, sorted, without the excluded ones. */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && prefix !== '') return; // removed meanwhile
      throw e;
    }
    for (const e of entries) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!excluded(`${rel}/x`)) await walk(join(dir, e.name), rel);
      } else if (e.isFile() && !excluded(rel)) out.push(rel);
    }
  };
  await walk(root, '');
  return out.sort();
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Writes `data` to `file` and flushes it to disk. */
export async function writeDurably(file: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** A UTC time for a file name, sorting by age: `20240131-235959Z`. */
export const fileStamp = (t: Date): string =>
  t
    .toISOString()
    .replace(/[-:]/g, '')
    .replace('T', '-')
    .replace(/\.\d+Z$/, 'Z');

/**
 * Writes a backup of `dataDir` as a new folder in `outDir` (files under `data/`, plus `manifest.json`).
 * It is built as `<name>.partial` and renamed when complete, so a folder with a manifest is whole.
 */
export async function writeBackup(
  dataDir: string,
  outDir: string,
  opts: { now?: Date; maxAttempts?: number } = {},
): Promise<{ dir: string; manifest: Manifest }> {
  const now = opts.now ?? new Date();
  const shot = await snapshot(dataDir, { maxAttempts: opts.maxAttempts });
  const stamp = fileStamp(now);
  await mkdir(outDir, { recursive: true });
  let dir = join(outDir, `${BACKUP_PREFIX}${stamp}`);
  for (let n = 2; await exists(dir); n++) dir = join(outDir, `${BACKUP_PREFIX}${stamp}-${n}`);
  const partial = `${dir}.partial`;
  await rm(partial, { recursive: true, force: true });
  const files: ManifestFile[] = [];
  for (const f of shot.files) {
    await writeDurably(join(partial, 'data', ...f.path.split('/')), f.data);
    files.push({ path: f.path, size: f.data.length, sha256: sha256(f.data) });
  }
  const manifest: Manifest = {
    format: 1,
    app: 'switchboard',
    version: VERSION,
    createdAt: now.toISOString(),
    host: hostname(),
    dataDir,
    attempts: shot.attempts,
    totalBytes: files.reduce((n, f) => n + f.size, 0),
    files,
  };
  await mkdir(join(partial, 'data'), { recursive: true });
  await writeDurably(join(partial, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(partial, dir);
  return { dir, manifest };
}

/** Keeps the newest `keep` complete backups in `outDir` and deletes the older ones; returns those. */
export async function pruneBackups(outDir: string, keep: number): Promise<string[]> {
  const names: string[] = [];
  for (const e of await readdir(outDir, { withFileTypes: true })) {
    if (!e.isDirectory() || !e.name.startsWith(BACKUP_PREFIX) || e.name.endsWith('.partial')) continue;
    if (await exists(join(outDir, e.name, MANIFEST))) names.push(e.name);
  }
  // The names are UTC times, so they sort by age.
  const old = names.sort().slice(0, Math.max(0, names.length - keep));
  for (const name of old) await rm(join(outDir, name), { recursive: true, force: true });
  return old.map((name) => join(outDir, name));
}

/** Reads a backup's manifest and checks every file against it; the problems found (none = intact). */
export async function verifyBackup(dir: string): Promise<{ manifest?: Manifest; problems: string[] }> {
  const problems: string[] = [];
  let manifest: Manifest;
  try {
    manifest = JSON.parse(
      (await readFileOrNull(join(dir, MANIFEST)))?.toString('utf-8') ?? 'null',
    ) as Manifest;
  } catch (e) {
    return { problems: [`${join(dir, MANIFEST)} is not valid JSON: ${(e as Error).message}`] };
  }
  if (!manifest)
    return { problems: [`${dir} has no ${MANIFEST}: not a Switchboard backup (or an unfinished one)`] };
  if (manifest.format !== 1 || manifest.app !== 'switchboard' || !Array.isArray(manifest.files))
    return { problems: [`${join(dir, MANIFEST)} is not a Switchboard backup manifest (format 1)`] };
  for (const f of manifest.files) {
    if (!isSafePath(f.path)) {
      problems.push(`unsafe path in the manifest: ${JSON.stringify(f.path)}`);
      continue;
    }
    const data = await readFileOrNull(join(dir, 'data', ...f.path.split('/')));
    if (!data) problems.push(`${f.path}: missing`);
    else if (data.length !== f.size)
      problems.push(`${f.path}: ${data.length} bytes, the manifest says ${f.size}`);
    else if (sha256(data) !== f.sha256) problems.push(`${f.path}: checksum differs from the manifest`);
  }
  return { manifest, problems };
}

/** A relative path inside the data folder that a backup may hold (no `..`, not absolute, not excluded). */
function isSafePath(p: unknown): p is string {
  if (typeof p !== 'string' || p === '' || p.startsWith('/') || p.includes('\\') || p.includes('\0'))
    return false;
  const parts = p.split('/');
  return parts.every((x) => x !== '' && x !== '.' && x !== '..') && !excluded(p);
}

async function readFileOrNull(file: string): Promise<Buffer | null> {
  try {
    const handle = await open(file, 'r');
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
