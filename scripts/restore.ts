/**
 * `npm run restore -- BACKUP_DIR [--env-file FILE]`: checks the backup against its manifest and puts
 * it into DATA_DIR. Refuses while a service runs on DATA_DIR (stop it first); what was in DATA_DIR is
 * moved to `DATA_DIR/replaced-<time>/`, never deleted.
 */
import { resolve } from 'node:path';
import { dataDirSetting, die, startCli } from '../server/ops/cli';
import { RestoreRefused, restoreBackup } from '../server/ops/restore';
import { LockHeldError } from '../storage/service-lock';

async function main(): Promise<void> {
  const { positionals } = startCli({
    name: 'restore',
    purpose: 'checks a backup against its manifest and puts it into DATA_DIR (stop the service first)',
    usage: ['BACKUP_DIR'],
    args: { min: 1 },
    options: {},
    notes: ['What was in DATA_DIR is moved to DATA_DIR/replaced-<time>/, never deleted.'],
    examples: ['/var/backups/switchboard/switchboard-20261122-031500Z'],
  });
  const backup = resolve(positionals[0] as string);
  const dataDir = dataDirSetting();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const r = await restoreBackup(backup, dataDir, say);
    say(`restored ${r.files} files (${r.bytes} bytes) into ${dataDir}`);
    say(
      r.aside
        ? `the data that was there is in ${r.aside} (delete it when you no longer need it)`
        : 'DATA_DIR was empty',
    );
    say('start the service now (sudo systemctl start switchboard), then: npm run doctor');
  } catch (e) {
    if (e instanceof LockHeldError || e instanceof RestoreRefused) die(e.message, 1);
    die(`restore failed: ${(e as Error).message}`, 1);
  }
}

void main();
