/**
 * `npm run clients -- import file.csv`: merges a list of clients (`phone,name` lines) into CLIENTS_FILE,
 * the list the running service re-reads when it changes (so no restart and no second writer of the
 * store). Phones are normalised; bad lines are reported and skipped. `npm run clients -- list` prints it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseClients } from '../server/gate/access';
import { normalisePhone } from '../server/gate/phone';
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
  const current = existsSync(target)
    ? parseClients(readFileSync(target, 'utf-8'))
    : new Map<string, string>();
  if (command === 'list') {
    for (const [phone, name] of current) process.stdout.write(`+${phone},${name}\n`);
    process.stdout.write(`${current.size} clients in ${target}\n`);
    return;
  }
  const lines = readFileSync(file, 'utf-8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
  let added = 0;
  let updated = 0;
  const bad: string[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const [rawPhone = '', ...rest] = line.split(',');
    const phone = normalisePhone(rawPhone.trim().replace(/^"|"$/g, ''));
    if (!phone) {
      if (i > 0) bad.push(`line ${i + 1}: "${line.slice(0, 60)}"`);
      return;
    }
    const name = rest.join(',').trim().replace(/^"|"$/g, '');
    if (!current.has(phone)) added++;
    else if (current.get(phone) !== name) updated++;
    current.set(phone, name);
  });
  const csv = [
    'phone,name',
    ...[...current].map(([phone, name]) => `${phone},${name.includes(',') ? `"${name}"` : name}`),
  ].join('\n');
  const tmp = join(dirname(target), `.${basename(target)}.tmp`);
  writeFileSync(tmp, `${csv}\n`, 'utf-8');
  renameSync(tmp, target);
  process.stdout.write(
    `${added} added, ${updated} updated, ${bad.length} skipped; ${current.size} clients in ${target}\n`,
  );
  for (const b of bad) process.stdout.write(`  skipped ${b}: not a phone number\n`);
  if (bad.length > 0) process.exitCode = 1;
}

main();
