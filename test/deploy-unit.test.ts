import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('..', import.meta.url).pathname;
const UNITS = ['switchboard.service', 'switchboard-backup.service', 'switchboard-backup.timer'];

type Unit = Record<string, Record<string, string[]>>;

/** systemd's unit syntax, as far as these files use it: sections, `Key=value` (repeatable), comments. */
function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1] as string;
      unit[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section && eq > 0, `not a unit line: ${line}`);
    const key = line.slice(0, eq).trim();
    const keys = unit[section] as Record<string, string[]>;
    keys[key] = [...(keys[key] ?? []), line.slice(eq + 1).trim()];
  }
  return unit;
}

const read = (name: string) => readFileSync(join(root, 'deploy', name), 'utf-8');
const packageJson = () =>
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf-8')) as {
    dependencies: Record<string, string>;
    scripts: Record<string, string>;
  };
const value = (u: Unit, section: string, key: string) => u[section]?.[key]?.at(-1);

test('switchboard.service: user, env file, install dir, restart, writable DATA_DIR only, hardening, stop', () => {
  const u = parseUnit(read('switchboard.service'));
  const expected: Array<[string, string, string]> = [
    ['Unit', 'After', 'network-online.target'],
    ['Unit', 'Wants', 'network-online.target'],
    ['Service', 'Type', 'simple'],
    ['Service', 'User', 'switchboard'],
    ['Service', 'Group', 'switchboard'],
    ['Service', 'EnvironmentFile', '/etc/switchboard/env'],
    ['Service', 'WorkingDirectory', '/opt/switchboard'],
    ['Service', 'Restart', 'on-failure'],
    ['Service', 'RestartPreventExitStatus', '2'],
    ['Service', 'ReadWritePaths', '/var/lib/switchboard'],
    ['Service', 'StateDirectory', 'switchboard'],
    ['Service', 'NoNewPrivileges', 'yes'],
    ['Service', 'ProtectSystem', 'strict'],
    ['Service', 'ProtectHome', 'yes'],
    ['Service', 'PrivateTmp', 'yes'],
    ['Service', 'KillSignal', 'SIGTERM'],
    ['Service', 'TimeoutStopSec', '15'],
    ['Install', 'WantedBy', 'multi-user.target'],
  ];
  for (const [section, key, v] of expected) assert.is(value(u, section, key), v, `[${section}] ${key}`);
  assert.is(value(u, 'Service', 'MemoryDenyWriteExecute'), undefined, "V8's JIT needs it off");
  // The compiled service (`npm run build`; test/build.test.ts starts that file and talks HTTP to it).
  assert.is(value(u, 'Service', 'ExecStart'), '/usr/bin/node dist/main.js');
});

test('the backup service and timer: the backup command with retention, daily, caught up after downtime', () => {
  const s = parseUnit(read('switchboard-backup.service'));
  assert.is(value(s, 'Service', 'Type'), 'oneshot');
  assert.is(value(s, 'Service', 'User'), 'switchboard');
  assert.is(value(s, 'Service', 'EnvironmentFile'), '/etc/switchboard/env');
  assert.is(
    value(s, 'Service', 'ExecStart'),
    '/usr/bin/node dist/backup.js --out /var/backups/switchboard --keep 14',
  );
  assert.is(value(s, 'Service', 'ReadWritePaths'), '/var/backups/switchboard');
  const t = parseUnit(read('switchboard-backup.timer'));
  assert.ok(value(t, 'Timer', 'OnCalendar'));
  assert.is(value(t, 'Timer', 'Persistent'), 'true');
  assert.is(value(t, 'Install', 'WantedBy'), 'timers.target');
  // What the units run is what the build writes: dist/main.js from server/main.ts, dist/backup.js from
  // scripts/backup.ts (esbuild names each output after its entry).
  const build = packageJson().scripts.build as string;
  for (const f of ['server/main.ts', 'scripts/backup.ts']) {
    assert.ok(existsSync(join(root, f)), f);
    assert.ok(build.split(' ').includes(f), `npm run build bundles ${f}`);
  }
  assert.match(build, '--outdir=dist ');
  assert.match(build, '--entry-names=[name] ');
});

test('systemd-analyze verify accepts the units (when the tool is present)', () => {
  const which = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf-8' });
  if (which.error) {
    console.log('systemd-analyze not found: unit syntax checked above only, verify skipped');
    return;
  }
  // verify checks that ExecStart's program exists: point it at this machine's node when not /usr/bin/node.
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-units-'));
  try {
    for (const name of UNITS) {
      let text = read(name);
      if (!existsSync('/usr/bin/node')) text = text.replaceAll('/usr/bin/node', process.execPath);
      writeFileSync(join(dir, name), text);
    }
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...UNITS.map((n) => join(dir, n))], {
      encoding: 'utf-8',
    });
    const about = `${r.stdout}${r.stderr}`.split('\n').filter((l) => UNITS.some((n) => l.includes(n)));
    assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.equal(about, [], 'no warning about our units');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`npm ci --omit=dev` is enough to build and run: every package the service and the ops commands import is a dependency', () => {
  const pkg = packageJson();
  assert.ok(pkg.dependencies.esbuild, 'the server runs `npm run build` after `npm ci --omit=dev`');
  assert.match(pkg.scripts.build as string, /^esbuild /);
  // The doctor's hints say `npm run webhooks -- set` etc.: those run the source with tsx, on the server too.
  assert.ok(pkg.dependencies.tsx, 'tsx is needed on the server for the `npm run` operator commands');
  assert.is(pkg.scripts['start:prod'], 'node dist/main.js');
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  for (const d of ['server', 'storage', 'machines']) walk(d);
  files.push('scripts/doctor.ts', 'scripts/webhooks.ts', 'scripts/backup.ts', 'scripts/restore.ts');
  const missing = new Set<string>();
  for (const f of files) {
    const text = readFileSync(join(root, f), 'utf-8');
    for (const m of text.matchAll(/^import\s+(?!type\s)[^'"]*?from\s+'([^'.][^']*)'/gm)) {
      const spec = m[1] as string;
      if (spec.startsWith('node:')) continue;
      const name = spec.startsWith('@')
        ? spec.split('/').slice(0, 2).join('/')
        : (spec.split('/')[0] as string);
      if (!pkg.dependencies[name]) missing.add(`${name} (${f})`);
    }
  }
  assert.equal([...missing], []);
  for (const s of ['doctor', 'webhooks', 'backup', 'restore']) {
    assert.is(pkg.scripts[s], `tsx scripts/${s}.ts`);
    assert.ok(existsSync(join(root, 'scripts', `${s}.ts`)));
  }
});

test('docs/DEPLOY.md: linked from the README, names every setting, the units and the commands', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf-8');
  assert.match(readme, '(docs/DEPLOY.md)');
  const deploy = readFileSync(join(root, 'docs', 'DEPLOY.md'), 'utf-8');
  const settings = [
    ...readFileSync(join(root, 'env.example'), 'utf-8').matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm),
  ].map((m) => m[1] as string);
  assert.ok(settings.length > 30);
  const absent = settings.filter((s) => !deploy.includes(s));
  assert.equal(absent, [], 'add each new setting of env.example to the env file in docs/DEPLOY.md §4');
  for (const s of [
    'deploy/switchboard.service',
    'switchboard-backup.timer',
    'npm run build',
    'node dist/doctor.js',
    'node dist/webhooks.js set',
    'node dist/backup.js',
    'node dist/restore.js',
    'journalctl',
    'reverse_proxy 127.0.0.1:8000',
    'proxy_pass http://127.0.0.1:8000',
    'npm ci --omit=dev',
  ])
    assert.ok(deploy.includes(s), s);
});

test.run();
