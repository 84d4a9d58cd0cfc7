/**
 * `npm run restore -- BACKUP_DIR`: puts a backup (server/ops/backup.ts) back into DATA_DIR.
 *
 * It checks every file against the manifest first, then takes the data folder's lock for the whole
 * restore (so it refuses while a service runs there, and no service can start during it), copies the
 * backup into a staging folder inside DATA_DIR, moves what was there aside into `replaced-<time>/`
 * (never deleting it) and renames the staged files into place. If it is interrupted after it started
 * moving, the lock stays behind marked as a restore, and the service refuses to start until the restore
 * is run again.
 */
import { chown, mkdir, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir } from '../../storage/json-file';
import { acquireLock, describeHolder, isLockFile } from '../../storage/service-lock';
import { fileStamp, type Manifest, sha256, verifyBackup, writeDurably } from './backup';

export class RestoreRefused extends Error {
  override name = 'RestoreRefused';
}

export interface RestoreResult {
  manifest: Manifest;
  files: number;
  bytes: number;
  /** Where the data that was in DATA_DIR went; undefined when there was none. */
  aside?: string;
}

export async function restoreBackup(
  backupDir: string,
  dataDir: string,
  say: (line: string) => void = () => undefined,
): Promise<RestoreResult> {
  const { manifest, problems } = await verifyBackup(backupDir);
  if (!manifest || problems.length > 0)
    throw new RestoreRefused(
      `refusing to restore ${backupDir}: it is damaged:\n  - ${problems.join('\n  - ')}`,
    );
  say(`backup verified: ${manifest.files.length} files, taken ${manifest.createdAt} on ${manifest.host}`);

  await mkdir(dataDir, { recursive: true });
  const lock = acquireLock(dataDir, 'restore'); // throws LockHeldError while a service runs there
  if (lock.tookOver)
    say(`took over a stale lock of ${describeHolder(lock.tookOver.info)} (${lock.tookOver.why})`);
  const stamp = fileStamp(new Date());
  const staging = join(dataDir, `.restore-${stamp}`);
  const aside = join(dataDir, `replaced-${stamp}`);
  const owner = process.getuid?.() === 0 ? await stat(dataDir) : undefined;
  // Staging folders of earlier, interrupted restores: nothing else uses them (we hold the lock).
  for (const name of await readdir(dataDir))
    if (name.startsWith('.restore-')) await rm(join(dataDir, name), { recursive: true, force: true });

  // 1. Copy into staging, checking each file again as it is read. Nothing in DATA_DIR has changed yet.
  let bytes = 0;
  try {
    for (const f of manifest.files) {
      const data = await readFile(join(backupDir, 'data', ...f.path.split('/')));
      if (sha256(data) !== f.sha256)
        throw new RestoreRefused(`${f.path} changed while it was being restored`);
      await writeDurably(join(staging, ...f.path.split('/')), data);
      bytes += data.length;
    }
    await mkdir(join(staging, 'store'), { recursive: true });
    if (owner) await chownTree(staging, owner.uid, owner.gid);
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    lock.release();
    throw e;
  }

  // 2. Move the current data aside and the staged data in. From here an interruption leaves the lock.
  lock.annotate(`the data that was in ${dataDir} before is in ${aside}`);
  let moved = 0;
  try {
    await mkdir(join(aside, 'store'), { recursive: true });
    for (const name of await readdir(dataDir)) {
      if (name.startsWith('replaced-') || name.startsWith('.restore-') || name === 'store') continue;
      await rename(join(dataDir, name), join(aside, name));
      moved++;
    }
    const storeDir = join(dataDir, 'store');
    for (const name of await readdir(storeDir)) {
      if (isLockFile(name)) continue;
      await rename(join(storeDir, name), join(aside, 'store', name));
      moved++;
    }
    for (const name of await readdir(staging)) {
      if (name !== 'store') await rename(join(staging, name), join(dataDir, name));
    }
    for (const name of await readdir(join(staging, 'store')))
      await rename(join(staging, 'store', name), join(storeDir, name));
    await syncDir(storeDir);
    await syncDir(dataDir);
  } catch (e) {
    lock.abandon();
    throw new Error(
      `the restore stopped half-way: ${(e as Error).message}. The service will not start on ${dataDir} until ` +
        `the restore is run again; the data that was there is in ${aside}, the staged copy in ${staging}`,
    );
  }
  await rm(staging, { recursive: true, force: true });
  if (moved === 0) {
    await rmdir(join(aside, 'store'));
    await rmdir(aside);
  } else if (owner) {
    await chown(aside, owner.uid, owner.gid);
    await chown(join(aside, 'store'), owner.uid, owner.gid);
  }
  lock.release();
  return { manifest, files: manifest.files.length, bytes, aside: moved > 0 ? aside : undefined };
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await chownTree(p, uid, gid);
    else await chown(p, uid, gid);
  }
}
