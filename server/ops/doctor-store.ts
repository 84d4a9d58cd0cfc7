import { randomBytes } from 'node:crypto';
import { open, stat, statfs, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { inspectStore } from '../../storage/inspect-store';
import { describeHolder, lockFile, lockStatus } from '../../storage/service-lock';
import { type CheckResult, fail, pass } from './check';

/**
 * The data folder is writable and every store file parses. Read-only apart from one probe file that is
 * created and removed at once; it takes no lock, so it is safe next to a running service.
 */
export async function storeChecks(dataDir: string): Promise<CheckResult[]> {
  const folder = await folderCheck(dataDir);
  if (!folder.ok) return [folder];
  return [folder, await filesCheck(dataDir)];
}

async function folderCheck(dataDir: string): Promise<CheckResult> {
  const check = 'data folder';
  const ownIt = `sudo install -d -o switchboard -g switchboard -m 750 ${dataDir} (the user the service runs as must own it)`;
  const st = await stat(dataDir).catch((e: NodeJS.ErrnoException) => e);
  if (st instanceof Error && st.code !== 'ENOENT')
    return fail(check, `${dataDir} cannot be read: ${st.message}`, ownIt);
  if (st instanceof Error) {
    // Not there yet: the service creates it at start if the nearest existing parent lets it.
    let parent = dirname(dataDir);
    while (parent !== dirname(parent) && !(await stat(parent).catch(() => null))) parent = dirname(parent);
    const probe = await probeWrite(parent);
    if (probe) return fail(check, `${dataDir} does not exist and cannot be created: ${probe}`, ownIt);
    return pass(check, `${dataDir} does not exist yet; the service creates it at start`);
  }
  if (!st.isDirectory()) return fail(check, `${dataDir} is not a folder`, 'point DATA_DIR at a folder');
  for (const dir of [dataDir, join(dataDir, 'store')]) {
    if (!(await stat(dir).catch(() => null))) continue;
    const probe = await probeWrite(dir);
    if (probe) return fail(check, `${dir} is not writable: ${probe}`, ownIt);
  }
  const fs = await statfs(dataDir).catch(() => null);
  const free = fs ? `; ${formatBytes(fs.bavail * fs.bsize)} free` : '';
  return pass(check, `${dataDir} is writable${free}`);
}

async function filesCheck(dataDir: string): Promise<CheckResult> {
  const check = 'store files';
  const report = await inspectStore(dataDir);
  if (report.problems.length > 0)
    return fail(
      check,
      report.problems.join('; '),
      'the service leaves a broken file untouched and will not start: restore the last backup ' +
        '(npm run restore -- BACKUP_DIR, docs/DEPLOY.md) or move the broken file aside',
    );
  const lock = lockStatus(dataDir);
  let running: string;
  switch (lock.state) {
    case 'free':
      running = 'no service is running on it';
      break;
    case 'held':
      if (lock.info.purpose === 'restore')
        return fail(check, `a restore is running: ${describeHolder(lock.info)}`, 'wait for it to finish');
      running = `in use by ${describeHolder(lock.info)}`;
      break;
    case 'stale':
      if (lock.info?.purpose === 'restore')
        return fail(
          check,
          `a restore was interrupted: ${describeHolder(lock.info)}, ${lock.why}`,
          `run the restore again (npm run restore -- BACKUP_DIR); the service will not start before (lock ${lockFile(dataDir)})`,
        );
      running = `a stale lock of ${describeHolder(lock.info)} (${lock.why}): the next start takes it over`;
      break;
  }
  if (!report.exists) return pass(check, `no store yet (created at the first start); ${running}`);
  const docs = Object.entries(report.documents);
  const total = docs.reduce((n, [, c]) => n + c, 0);
  const list = docs.map(([name, c]) => `${name} ${c}`).join(', ');
  const dead = report.documents.deadletters
    ? `; ${report.documents.deadletters} dead letter(s): sends the platforms refused, see the log`
    : '';
  const logged = report.logCommits
    ? `, ${report.logCommits} commits in the log not yet checkpointed (replayed at start)`
    : '';
  return pass(
    check,
    `${report.partitions} partitions parse${logged}, ${total} documents${list ? ` (${list})` : ''}${dead}; ${running}`,
  );
}

/** Creates and removes a probe file; the error message when that fails. */
async function probeWrite(dir: string): Promise<string | undefined> {
  const probe = join(dir, `.doctor-${process.pid}-${randomBytes(3).toString('hex')}.tmp`);
  try {
    const handle = await open(probe, 'wx');
    await handle.close();
    await unlink(probe);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${Math.round(n / 1e3)} kB`;
}
