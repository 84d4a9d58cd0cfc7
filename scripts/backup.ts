/**
 * `npm run backup [-- --out DIR] [--keep N] [--env-file FILE]`: writes a consistent copy of DATA_DIR
 * into a new folder `DIR/switchboard-<UTC time>/` (default DIR: ./backups) while the service runs, with a
 * manifest of every file's size and sha256. `--keep N` then deletes all but the newest N backups in DIR.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pruneBackups, writeBackup } from '../server/ops/backup';
import { dataDirSetting, defineCli, die, failUsage, opt, startCli } from '../server/ops/cli';
import { describeHolder, lockStatus } from '../storage/service-lock';

const CLI = defineCli({
  name: 'backup',
  purpose: 'writes a consistent copy of DATA_DIR, with a manifest, while the service runs',
  usage: ['[--out DIR] [--keep N]'],
  options: {
    out: opt.value('DIR', 'the backup goes into DIR/switchboard-<UTC time>/', { default: 'backups' }),
    keep: opt.value('N', 'then delete all but the newest N backups in DIR'),
  },
  examples: ['--out /var/backups/switchboard --keep 14'],
});

async function main(): Promise<void> {
  const { values } = startCli(CLI);
  const out = resolve(values.out);
  const keep = values.keep === undefined ? undefined : Number(values.keep);
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1))
    failUsage(CLI, `--keep must be a whole number ≥ 1, got "${values.keep}"`);
  const dataDir = dataDirSetting();
  if (!existsSync(dataDir)) die(`DATA_DIR ${dataDir} does not exist: nothing to back up`, 1);
  const lock = lockStatus(dataDir);
  if (lock.state !== 'free' && lock.info?.purpose === 'restore')
    die(
      `not backing up ${dataDir}: a restore is running or was interrupted (${describeHolder(lock.info)})`,
      1,
    );

  const { dir, manifest } = await writeBackup(dataDir, out);
  const moment = manifest.attempts > 1 ? ` (one moment, found after ${manifest.attempts} attempts)` : '';
  process.stdout.write(
    `backup written: ${dir}\n  ${manifest.files.length} files, ${manifest.totalBytes} bytes of ${dataDir}${moment}\n`,
  );
  if (keep !== undefined)
    for (const old of await pruneBackups(out, keep)) process.stdout.write(`removed old backup ${old}\n`);
}

main().catch((e) => die(`backup failed: ${(e as Error).message}`, 1));
