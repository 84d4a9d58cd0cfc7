/**
 * `npm run clients -- import file.csv`: merges a list of clients (`phone,name` lines) into CLIENTS_FILE,
 * the list the running service re-reads when it changes (so no restart and no second writer of the
 * store). Phones are normalised; bad lines are reported and skipped. `npm run clients -- list` prints it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type ClientRow, clientMap, clientsCsv, readClientsCsv } from '../server/gate/clients-csv';
import { defineCli, startCli } from '../server/ops/cli';

const CLI = defineCli({
  name: 'clients',
  purpose: 'merges a list of clients into CLIENTS_FILE, which the running service re-reads',
  usage: ['import FILE.csv', 'list'],
  commands: { 'import FILE.csv': 'merge phone,name lines into CLIENTS_FILE', list: 'print CLIENTS_FILE' },
  options: {},
  examples: ['import clients.csv', 'list --env-file /etc/switchboard/env'],
});

function main(): void {
  const [command, file = ''] = startCli(CLI).positionals;
  const target = process.env.CLIENTS_FILE?.trim();
  if (!target) {
    process.stderr.write(
      'CLIENTS_FILE is not set: set it (in .env or the environment) to the CSV file the service should read\n',
    );
    process.exit(2);
  }
  const current = existsSync(target) ? clientMap(readCsv(target)) : new Map<string, string>();
  if (command === 'list') {
    process.stdout.write(
      clientsCsv(
        [...current].map(([phone, name]) => [`+${phone}`, name]),
        false,
      ),
    );
    process.stdout.write(`${current.size} clients in ${target}\n`);
    return;
  }
  const rows = readCsv(file);
  let added = 0;
  let updated = 0;
  const bad: string[] = [];
  for (const { line, phone, name, cells } of rows) {
    if (!phone) {
      if (line > 1) bad.push(`line ${line}: "${cells.join(',').slice(0, 60)}"`);
      continue;
    }
    if (!current.has(phone)) added++;
    else if (current.get(phone) !== name) updated++;
    current.set(phone, name);
  }
  const tmp = join(dirname(target), `.${basename(target)}.tmp`);
  writeFileSync(tmp, clientsCsv(current), 'utf-8');
  renameSync(tmp, target);
  process.stdout.write(
    `${added} added, ${updated} updated, ${bad.length} skipped; ${current.size} clients in ${target}\n`,
  );
  for (const b of bad) process.stdout.write(`  skipped ${b}: not a phone number\n`);
  if (bad.length > 0) process.exitCode = 1;
}

/**
 * The records of a clients CSV. One the CSV cannot be read past (an unclosed quote) stops the script
 * before anything is written: the records after it would be lost.
 */
function readCsv(path: string): ClientRow[] {
  const { rows, errors } = readClientsCsv(readFileSync(path, 'utf-8'));
  if (errors.length === 0) return rows;
  for (const e of errors) process.stderr.write(`${path}: ${e}\n`);
  process.stderr.write(`${path} is not valid CSV: fix it; nothing was changed\n`);
  process.exit(1);
}

main();
