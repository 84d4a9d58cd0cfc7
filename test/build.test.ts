import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BLANK_ENV } from './helpers/env';
import { http, type ServiceProcess, spawnService, tmpDataDir } from './helpers/service';

/**
 * `npm run build` and what production runs from it (deploy/*.service, docs/DEPLOY.md): the compiled
 * service answers without credentials, serves the inspector's files, and the compiled operator commands
 * work. The build goes to a folder inside the package (test-output/), as dist/ is: the bundles import
 * their packages from node_modules and read package.json and the inspector's files from the package root.
 */
const root = new URL('..', import.meta.url).pathname;
const outParent = join(root, 'test-output');
mkdirSync(outParent, { recursive: true });
const out = mkdtempSync(join(outParent, 'build-'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf-8')) as {
  version: string;
  scripts: Record<string, string>;
};
const TOKEN = 'build-test-admin-token';
const dataDir = tmpDataDir();
let svc: ServiceProcess | undefined;

const node = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...BLANK_ENV, MODE: 'dev', DATA_DIR: dataDir, ...env },
    encoding: 'utf-8',
  });

test.after(async () => {
  if (svc && svc.proc.exitCode === null) {
    svc.proc.kill('SIGKILL');
    await svc.exited;
  }
  rmSync(out, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

test('npm run build writes one self-contained file for the service and each command production runs', () => {
  // In a variable: knip reads a literal `npm run build` here and looks for its entries under test/.
  const npmArgs = ['run', '--silent', 'build', '--', `--outdir=${out}`];
  const r = spawnSync('npm', npmArgs, { cwd: root, encoding: 'utf-8' });
  assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.is(`${r.stdout}${r.stderr}`.trim(), '', 'the build prints no warning');
  const built = readdirSync(out).sort();
  // Every `dist/<name>.js` that the units, docs/DEPLOY.md and the package scripts run is built.
  const named = new Set<string>();
  const sources = [
    ...readdirSync(join(root, 'deploy')).map((f) => readFileSync(join(root, 'deploy', f), 'utf-8')),
    readFileSync(join(root, 'docs', 'DEPLOY.md'), 'utf-8'),
    ...Object.values(pkg.scripts),
  ];
  for (const text of sources) for (const m of text.matchAll(/\bdist\/(\w+\.js)/g)) named.add(m[1] as string);
  assert.ok(named.has('main.js') && named.has('backup.js') && named.has('doctor.js'), [...named].join());
  for (const f of named) assert.ok(built.includes(f), `${f} is built (built: ${built.join(', ')})`);
  for (const f of built) {
    const code = readFileSync(join(out, f), 'utf-8');
    // Bundled: no relative import is left (Node would not find an extensionless .ts module)…
    assert.not.match(code, /^import [^;]*from\s*["']\.{1,2}\//m, `${f} imports a relative module`);
    // …and packages stay imports from node_modules (--packages=external), not copies.
    assert.not.match(code, /node_modules/, `${f} bundles a package`);
  }
  assert.match(readFileSync(join(out, 'main.js'), 'utf-8'), /^import [^;]*from\s*["']koa["']/m);
});

test('the compiled service starts without credentials: / and /health answer 200 with the package version', async () => {
  svc = await spawnService({ ...BLANK_ENV, DATA_DIR: dataDir, ADMIN_TOKEN: TOKEN }, 30_000, [
    join(out, 'main.js'),
  ]);
  const home = await http(`${svc.url}/`);
  assert.is(home.status, 200);
  const about = home.json as { service: string; version: string; channels: Record<string, string> };
  assert.is(about.service, 'switchboard');
  assert.is(about.version, pkg.version);
  assert.equal(about.channels, { whatsapp: 'dry', telegram: 'dry', zadarma: 'dry' });
  const health = await http(`${svc.url}/health`);
  assert.is(health.status, 200);
  assert.is((health.json as { status: string }).status, 'ok');
});

test("the compiled service serves the /inspect page's script, style and Mermaid: the files' own bytes", async () => {
  const s = svc as ServiceProcess;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const page = await http(`${s.url}/inspect`, { headers: auth });
  assert.is(page.status, 200);
  const urls = [...page.text.matchAll(/(?:src|href)="(\/inspect\/assets\/[^"]+)"/g)].map(
    (m) => m[1] as string,
  );
  const files: Record<string, string> = {
    'mermaid.min.js': join(root, 'node_modules', 'mermaid', 'dist', 'mermaid.min.js'),
    'inspect.js': join(root, 'server', 'inspect', 'static', 'inspect.js'),
    'inspect.css': join(root, 'server', 'inspect', 'static', 'inspect.css'),
  };
  assert.equal(urls.map((u) => u.split('/').pop()).sort(), Object.keys(files).sort());
  for (const u of urls) {
    const res = await fetch(`${s.url}${u}`, { headers: auth });
    assert.is(res.status, 200, u);
    const body = Buffer.from(await res.arrayBuffer());
    const file = files[u.split('/').pop() as string] as string;
    assert.ok(body.length > 0 && body.equals(readFileSync(file)), `${u} is ${file}`);
  }
  assert.is((await http(`${s.url}/inspect/assets/package.json`, { headers: auth })).status, 404);
});

test('the compiled service stops on SIGTERM with exit code 0', async () => {
  const s = svc as ServiceProcess;
  s.proc.kill('SIGTERM');
  assert.is(await s.exited, 0, s.output());
  assert.match(s.output(), /info\s+stopped/);
});

test('the compiled operator commands run: doctor, backup (with the package version), restore, webhooks, clients', () => {
  const doctor = node([join(out, 'doctor.js'), '--json']);
  assert.is(doctor.status, 0, `${doctor.stdout}${doctor.stderr}`);
  const checks = JSON.parse(doctor.stdout) as Array<{ check: string; ok: boolean }>;
  assert.ok(checks.some((c) => c.check === 'settings' && c.ok));
  assert.ok(
    checks.some((c) => c.check === 'store files' && c.ok),
    doctor.stdout,
  );

  const backups = mkdtempSync(join(tmpdir(), 'switchboard-build-backups-'));
  try {
    const backup = node([join(out, 'backup.js'), '--out', backups]);
    assert.is(backup.status, 0, `${backup.stdout}${backup.stderr}`);
    const [made] = readdirSync(backups);
    const manifest = JSON.parse(readFileSync(join(backups, made as string, 'manifest.json'), 'utf-8')) as {
      version: string;
      files: Array<{ path: string }>;
    };
    assert.is(manifest.version, pkg.version);
    assert.ok(manifest.files.length > 0, 'the service wrote its store');
    const restore = node([join(out, 'restore.js'), join(backups, made as string)]);
    assert.is(restore.status, 0, `${restore.stdout}${restore.stderr}`);
    assert.match(restore.stdout, `restored ${manifest.files.length} files`);
  } finally {
    rmSync(backups, { recursive: true, force: true });
  }

  const webhooks = node([join(out, 'webhooks.js'), 'show']);
  assert.is(webhooks.status, 0, `${webhooks.stdout}${webhooks.stderr}`);
  assert.match(webhooks.stdout, /whatsapp: skipped/);
  const clients = node([join(out, 'clients.js'), 'list'], { CLIENTS_FILE: join(dataDir, 'clients.csv') });
  assert.is(clients.status, 0, `${clients.stdout}${clients.stderr}`);
  assert.match(clients.stdout, /^0 clients in /m);
});

test.run();
