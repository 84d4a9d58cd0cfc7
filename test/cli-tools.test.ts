/**
 * The command line every tool shares (server/ops/cli.ts): the parser and the help in-process, then each
 * script spawned the way an operator runs it: `--help`, an unknown option, and `--env-file`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeBackup } from '../server/ops/backup';
import { type CliSpec, defineCli, opt, parseCli, UsageError } from '../server/ops/cli';
import { helpText } from '../server/ops/cli-help';
import { runCli } from './helpers/ops';

const tmp = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));

const SPEC = defineCli({
  name: 'demo',
  purpose: 'shows the shared command line',
  usage: ['put FILE [--out DIR]', 'list'],
  commands: { 'put FILE': 'store FILE', list: 'list what is stored' },
  options: {
    out: opt.value('DIR', 'where it goes', { default: 'backups' }),
    keep: opt.value('N', 'how many to keep'),
    json: opt.flag('print JSON'),
  },
  examples: ['put a.txt --out /tmp'],
});

function usageError(argv: string[], spec: CliSpec = SPEC): string {
  try {
    parseCli(spec, argv);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

test('parseCli: values typed and defaulted, --name=value, --env-file repeatable, commands', () => {
  const p = parseCli(SPEC, ['put', 'a.txt', '--keep=3', '--json', '--env-file', 'x', '--env-file=y']);
  assert.ok(p !== 'help');
  assert.equal(p.positionals, ['put', 'a.txt']);
  assert.is(p.values.out, 'backups');
  assert.is(p.values.keep, '3');
  assert.is(p.values.json, true);
  assert.equal(p.values['env-file'], ['x', 'y']);
  const list = parseCli(SPEC, ['list', '--out', '/b']);
  assert.ok(list !== 'help');
  assert.is(list.values.out, '/b');
  assert.is(list.values.json, undefined);
});

test('parseCli: --help or -h wins over anything else; after -- it is an argument', () => {
  assert.is(parseCli(SPEC, ['--help']), 'help');
  assert.is(parseCli(SPEC, ['put', '--bogus', '-h']), 'help');
  assert.is(usageError(['list', '--', '--help']), 'unexpected argument "--help"');
});

test('parseCli: each mistake named in one line', () => {
  const cases: [string[], string][] = [
    [['list', '--bogus'], 'unknown option --bogus'],
    [['list', '-x'], 'unknown option -x'],
    [['list', '--keep'], '--keep needs a value'],
    [['list', '--keep', '--json'], '--keep needs a value'],
    [['list', '--json=yes'], '--json takes no value'],
    [[], 'give a command: put or list'],
    [['get'], 'unknown command "get" (expected put or list)'],
    [['put'], 'put needs FILE'],
    [['put', 'a', 'b'], 'unexpected argument "b"'],
    [['list', 'extra'], 'unexpected argument "extra"'],
  ];
  for (const [argv, message] of cases) assert.is(usageError(argv), message, argv.join(' '));
  const plain = defineCli({
    name: 'p',
    purpose: 'p',
    usage: ['X'],
    args: { min: 1 },
    options: {},
    examples: [],
  });
  assert.is(usageError([], plain), 'an argument is missing');
  assert.is(usageError(['a', 'b'], plain), 'unexpected argument "b"');
});

test('helpText: name and purpose, usage lines, commands, options with defaults, examples', () => {
  const lines = helpText(SPEC).split('\n');
  assert.is(lines[0], 'demo: shows the shared command line');
  assert.is(lines[2], 'Usage: npm run demo -- put FILE [--out DIR]');
  assert.is(lines[3], '       npm run demo -- list');
  const at = (title: string) => lines.indexOf(title);
  assert.ok(at('Commands:') > 3 && at('Options:') > at('Commands:') && at('Examples:') > at('Options:'));
  assert.match(helpText(SPEC), /^ {2}put FILE +store FILE$/m);
  assert.match(helpText(SPEC), /^ {2}--out DIR +where it goes; default backups$/m);
  assert.match(helpText(SPEC), /^ {2}--env-file FILE +read settings from FILE first, then \.\/\.env;/m);
  assert.match(helpText(SPEC), /^ {2}-h, --help +print this help$/m);
  assert.is(lines.at(-2), '  npm run demo -- put a.txt --out /tmp');
  const noDotEnv = helpText({ ...SPEC, dotEnv: false });
  assert.match(noDotEnv, /--env-file FILE +read settings from FILE first; it never overrides/);
});

// ---------------------------------------------------------------- the scripts

/** Runs a script with no setting from this shell or `.env` except those `unset` leaves out. */
const run = (script: string, args: string[], opts: { unset?: string[]; cwd?: string } = {}) =>
  runCli(script, args, { SIM_URL: '' }, { ...opts, timeoutMs: 60_000 });

function envFile(name: string, settings: Record<string, string>): string {
  const file = join(tmp, name);
  writeFileSync(
    file,
    Object.entries(settings)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  return file;
}

/** Each tool's script under scripts/; its name (what its help starts with) is the file's. */
const TOOLS = [
  'simulate',
  'doctor',
  'webhooks',
  'backup',
  'restore',
  'clients',
  'machines',
  'bench',
  'torture',
  'bench/profile',
].map((script) => [script.split('/').pop() as string, script] as const);

test('every tool: --help prints its usage on stdout and exits 0', async () => {
  for (const [name, script] of TOOLS) {
    const r = await run(script, ['--help']);
    assert.is(r.code, 0, `${name}: ${r.stderr}`);
    assert.ok(r.stdout.startsWith(`${name}: `), `${name}: ${r.stdout.slice(0, 80)}`);
    for (const part of ['\nUsage: ', '\nOptions:\n', '--env-file FILE', '-h, --help', '\nExamples:\n'])
      assert.ok(r.stdout.includes(part), `${name} --help has ${part.trim()}`);
    assert.is(r.stderr, '', name);
  }
});

test('every tool: an unknown option is named, with the usage and where the help is; exit 2', async () => {
  for (const [name, script] of TOOLS) {
    const r = await run(script, ['--no-such-option']);
    assert.is(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
    const [first, ...rest] = r.stderr.trimEnd().split('\n');
    assert.is(first, 'unknown option --no-such-option', name);
    assert.ok(rest[0]?.startsWith('usage: '), `${name}: ${r.stderr}`);
    assert.match(rest.at(-1) ?? '', /^see .* --help$/, name);
    assert.is(r.stdout, '', name);
  }
});

test('--env-file FILE is read before anything else, by every tool that reads settings', async () => {
  const simulate = await run(
    'simulate',
    ['curl', '--env-file', envFile('sim.env', { SIM_URL: 'http://127.0.0.1:9' })],
    { unset: ['SIM_URL'] },
  );
  assert.is(simulate.code, 0, simulate.stderr);
  assert.match(simulate.stdout, "'http://127.0.0.1:9/webhook'");

  const doctorDir = join(tmp, 'doctor-data');
  const doctor = await run(
    'doctor',
    ['--json', '--env-file', envFile('doctor.env', { DATA_DIR: doctorDir })],
    {
      unset: ['DATA_DIR'],
    },
  );
  assert.match(doctor.stdout, `${doctorDir} does not exist yet`);

  const webhooks = await run(
    'webhooks',
    ['show', '--env-file', envFile('hooks.env', { PORT: 'not-a-port' })],
    {
      unset: ['PORT'],
    },
  );
  assert.is(webhooks.code, 2);
  assert.match(webhooks.stderr, /^cannot read the settings: /);
  assert.match(webhooks.stderr, 'PORT must be a whole number from 0 to 65535, got "not-a-port"');

  const missing = join(tmp, 'no-data');
  const backup = await run('backup', [`--env-file=${envFile('backup.env', { DATA_DIR: missing })}`], {
    unset: ['DATA_DIR'],
  });
  assert.is(backup.code, 1);
  assert.match(backup.stderr, `DATA_DIR ${missing} does not exist: nothing to back up`);

  const source = join(tmp, 'source');
  mkdirSync(join(source, 'store'), { recursive: true });
  writeFileSync(join(source, 'store', 'file.json'), '{}\n');
  const { dir } = await writeBackup(source, join(tmp, 'backups'));
  const target = join(tmp, 'restored');
  const restore = await run('restore', [dir, '--env-file', envFile('restore.env', { DATA_DIR: target })], {
    unset: ['DATA_DIR'],
  });
  assert.is(restore.code, 0, restore.stderr);
  assert.match(restore.stdout, `restored 1 files (3 bytes) into ${target}`);

  const machines = await run('machines', ['--check', '--env-file', envFile('none.env', {})]);
  assert.is(machines.code, 0, `machines reads no settings but takes the option: ${machines.stderr}`);
});

test('clients: --env-file first, then ./.env as before; neither overrides the environment', async () => {
  const cwd = join(tmp, 'install');
  mkdirSync(cwd);
  writeFileSync(join(cwd, '.env'), `CLIENTS_FILE=${join(cwd, 'from-dot-env.csv')}\n`);
  const fromFile = envFile('clients.env', { CLIENTS_FILE: join(tmp, 'from-env-file.csv') });
  const unset = ['CLIENTS_FILE'];
  const dotEnv = await run('clients', ['list'], { cwd, unset });
  assert.is(dotEnv.code, 0, dotEnv.stderr);
  assert.match(dotEnv.stdout, `0 clients in ${join(cwd, 'from-dot-env.csv')}`);
  const both = await run('clients', ['list', '--env-file', fromFile], { cwd, unset });
  assert.match(both.stdout, `0 clients in ${join(tmp, 'from-env-file.csv')}`);
  const env = await run('clients', ['list', '--env-file', fromFile], { cwd });
  assert.is(env.code, 2, 'CLIENTS_FILE= (empty) in the environment wins, and counts as not set');
  assert.match(env.stderr, 'CLIENTS_FILE is not set');
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
