/**
 * `npm run clients -- import | list` as an operator runs it, and the gate service reading the
 * CLIENTS_FILE it wrote: names with quotes and commas survive the trip, bad lines are reported, a file
 * that is not valid CSV changes nothing.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseClients } from '../server/gate/clients-csv';
import { startRig } from './helpers/gate-harness';
import { runCli } from './helpers/ops';
import { tmpDataDir } from './helpers/service';

let dir: string;
let target: string;

test.before.each(() => {
  dir = tmpDataDir();
  target = join(dir, 'clients.csv');
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

const clients = (...args: string[]) => runCli('clients', args, { CLIENTS_FILE: target });

/** A list as a spreadsheet program saves it: BOM, CRLF, a header, quoted cells. */
const LIST =
  '\uFEFFphone,name\r\n' +
  '"+380 50 111-22-33","Яна, ""старшая"""\r\n' +
  '0671234567,"Кум ""Петро"", кв. 5"\r\n' +
  '\r\n' +
  '0931112233,Марія\r\n';
const NAMES = [
  ['380501112233', 'Яна, "старшая"'],
  ['380671234567', 'Кум "Петро", кв. 5'],
  ['380931112233', 'Марія'],
];

test('import: names with quotes and commas round-trip through CLIENTS_FILE, list and a second import', async () => {
  const input = join(dir, 'list.csv');
  writeFileSync(input, LIST);
  const first = await clients('import', input);
  assert.is(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, `3 added, 0 updated, 0 skipped; 3 clients in ${target}`);
  assert.equal([...parseClients(readFileSync(target, 'utf-8'))], NAMES);
  assert.equal(
    parse(readFileSync(target, 'utf-8')),
    [['phone', 'name'], ...NAMES],
    'the file is plain RFC 4180 CSV',
  );

  // The script reads back what it wrote: nothing changes.
  const again = await clients('import', input);
  assert.match(again.stdout, `0 added, 0 updated, 0 skipped; 3 clients in ${target}`);

  const list = await clients('list');
  assert.is(list.code, 0, list.stderr);
  const printed = list.stdout.slice(0, list.stdout.lastIndexOf('3 clients in'));
  assert.equal(
    parse(printed),
    NAMES.map(([phone, name]) => [`+${phone}`, name]),
  );
});

test('import: lines that are not a phone are reported by line and skipped; the rest is merged', async () => {
  writeFileSync(target, 'phone,name\n380501112233,Old name\n');
  const input = join(dir, 'list.csv');
  writeFileSync(input, 'phone,name\n0501112233,"New, name"\nnot a phone,Хтось\n\n0631112233\n');
  const r = await clients('import', input);
  assert.is(r.code, 1, 'a skipped line is an error for scripts');
  assert.match(r.stdout, `1 added, 1 updated, 1 skipped; 2 clients in ${target}`);
  assert.match(r.stdout, 'skipped line 3: "not a phone,Хтось": not a phone number');
  assert.equal(
    [...parseClients(readFileSync(target, 'utf-8'))],
    [
      ['380501112233', 'New, name'],
      ['380631112233', ''],
    ],
  );
});

test('import: a list that is not valid CSV (an unclosed quote) changes nothing', async () => {
  const before = 'phone,name\n380501112233,Яна\n';
  writeFileSync(target, before);
  const input = join(dir, 'list.csv');
  writeFileSync(input, '0671234567,Петро\n0931112233,"Марія\n0941112233,Ігор\n');
  const r = await clients('import', input);
  assert.is(r.code, 1);
  assert.match(r.stderr, 'Quote Not Closed');
  assert.match(r.stderr, 'the last good record ends on line 1');
  assert.match(r.stderr, 'is not valid CSV: fix it; nothing was changed');
  assert.is(readFileSync(target, 'utf-8'), before);
});

test('the gate service reads the imported file: its phones are allowed, with no CSV warning', async () => {
  const input = join(dir, 'list.csv');
  writeFileSync(input, LIST);
  assert.is((await clients('import', input)).code, 0);
  const rig = await startRig({ CLIENTS_FILE: target });
  try {
    const yana = rig.user(7101, 'Яна');
    assert.match(String((await yana.contact('0501112233')).text), /^🎉 Вітаємо, Яна!\n\n✅ Ви авторизовані/);
    const kum = rig.user(7102, 'Петро');
    assert.match(
      String((await kum.contact('+380671234567')).text),
      /^🎉 Вітаємо, Петро!\n\n✅ Ви авторизовані/,
    );
    const stranger = rig.user(7103, 'Гість');
    assert.match(String((await stranger.contact('0681112233')).text), /^⚠️ Доступ обмежено/);
    assert.ok(
      rig.svc.logs.some((l) => /CLIENTS_FILE loaded/.test(l) && /"?clients"?[=:]3\b/.test(l)),
      rig.svc.logs.filter((l) => l.includes('CLIENTS_FILE')).join('\n'),
    );
    assert.not.ok(rig.svc.logs.some((l) => l.includes('not valid CSV')));
  } finally {
    await rig.stop();
  }
});

test.run();
