import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buttonReply, listReply, nextMessageId, textMessage } from '../fixtures/whatsapp';
import { type Manifest, snapshot, verifyBackup } from '../server/ops/backup';
import { type FakeD360, startFakeD360 } from './fakes/d360';
import { bodyText, Chat } from './helpers/chat';
import { runCli } from './helpers/ops';
import {
  eventually,
  http,
  type ServiceProcess,
  sleep,
  spawnMain,
  spawnService,
  tmpDataDir,
} from './helpers/service';

const root = new URL('..', import.meta.url).pathname;
const KEY = 'backup-test-key';
const children = new Set<ChildProcess>();
const dirs: string[] = [];
const fakes: FakeD360[] = [];

function dir(): string {
  const d = tmpDataDir();
  dirs.push(d);
  return d;
}

test.after.each(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function service(env: Record<string, string>): Promise<ServiceProcess> {
  const svc = await spawnService(env);
  children.add(svc.proc);
  return svc;
}

/** A service start that is expected to fail: its exit code and output. */
function startToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawnMain(env);
  children.add(child.proc);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not exit:\n${child.output()}`)), 15_000);
    void child.exited.then((code) => {
      clearTimeout(timer);
      resolve({ code, output: child.output() });
    });
  });
}

async function terminate(svc: ServiceProcess): Promise<number | null> {
  // main.ts installs its SIGTERM handler in the same tick as it logs "started"; a request answered
  // means that tick is over (a SIGTERM before it would kill the process outright).
  await http(`${svc.url}/health`);
  svc.proc.kill('SIGTERM');
  return svc.exited;
}

function backupsIn(out: string): string[] {
  return existsSync(out) ? readdirSync(out).filter((n) => n.startsWith('switchboard-')) : [];
}

function manifestOf(backup: string): Manifest {
  return JSON.parse(readFileSync(join(backup, 'manifest.json'), 'utf-8')) as Manifest;
}

/** Every file under `d` with its content (the lock included), for "nothing changed" checks. */
function tree(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string, rel: string) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(p, e.name), r);
      else out[r] = readFileSync(join(p, e.name), 'utf-8');
    }
  };
  walk(d, '');
  return out;
}

// ---------------------------------------------------------------------------------------------
// The snapshot: one moment across all files

test('snapshot under constant writes: every copy holds the files as they were at one moment', async () => {
  const d = dir();
  const writer = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/churn-writer.ts', d], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(writer);
  await new Promise<void>((resolve) => writer.stdout?.once('data', () => resolve()));
  const n = (data: Buffer | string) => (JSON.parse(String(data)) as { n: number }).n;

  let attempts = 0;
  for (let i = 0; i < 40; i++) {
    const shot = await snapshot(d, { pauseMs: 1, maxAttempts: 500 });
    attempts += shot.attempts;
    const files = Object.fromEntries(shot.files.map((f) => [f.path, n(f.data)]));
    const a = files['store/p-00.json'] as number;
    const b = files['store/p-01.json'] as number;
    assert.ok(a === b || a === b + 1, `copy #${i}: p-00 = ${a}, p-01 = ${b} never existed together`);
  }
  // The check above can fail: a plain copy, file after file, catches states that never existed.
  let torn = false;
  for (let i = 0; i < 100 && !torn; i++) {
    const a = n(readFileSync(join(d, 'store', 'p-00.json')));
    await sleep(15);
    const b = n(readFileSync(join(d, 'store', 'p-01.json')));
    torn = !(a === b || a === b + 1);
  }
  assert.ok(torn, 'a file-by-file copy should have been torn at least once');
  assert.ok(attempts >= 40);
});

test('snapshot: a write between reading and checking throws the attempt away', async () => {
  const d = dir();
  mkdirSync(join(d, 'store'));
  writeFileSync(join(d, 'store', 'p-00.json'), '{"n":1}');
  writeFileSync(join(d, 'store', 'p-01.json'), '{"n":1}');
  writeFileSync(join(d, 'store', 'service.lock'), '{"pid":1}');
  writeFileSync(join(d, 'store', '.p-00.json.tmp'), 'half');
  const shot = await snapshot(d, {
    beforeCheck: async (attempt) => {
      if (attempt > 2) return;
      // as the store writes: a new file renamed over the old one
      writeFileSync(join(d, 'store', 'next.tmp'), `{"n":${attempt + 1}}`);
      renameSync(join(d, 'store', 'next.tmp'), join(d, 'store', 'p-00.json'));
    },
  });
  assert.is(shot.attempts, 3);
  assert.equal(
    shot.files.map((f) => [f.path, String(f.data)]),
    [
      ['store/p-00.json', '{"n":3}'],
      ['store/p-01.json', '{"n":1}'],
    ],
    'the lock and temp files are not copied',
  );
  try {
    await snapshot(d, {
      maxAttempts: 3,
      pauseMs: 1,
      beforeCheck: async () => writeFileSync(join(d, 'store', 'p-02.json'), String(Math.random())),
    });
    assert.unreachable('never still');
  } catch (e) {
    assert.match((e as Error).message, 'kept changing during 3 attempts');
  }
});

test('snapshot: a log file that grew meanwhile is kept as read (a prefix); one that shrank is not', async () => {
  const d = dir();
  mkdirSync(join(d, 'store'));
  writeFileSync(join(d, 'store', 'p-00.json'), '{"n":1}');
  writeFileSync(join(d, 'store', 'wal-00000001.log'), 'line 1\n');
  const shot = await snapshot(d, {
    beforeCheck: async () => appendFileSync(join(d, 'store', 'wal-00000001.log'), 'line 2\n'),
  });
  assert.is(shot.attempts, 1, 'appends to the log do not make the copy retry');
  assert.equal(
    shot.files.map((f) => [f.path, String(f.data)]),
    [
      ['store/p-00.json', '{"n":1}'],
      ['store/wal-00000001.log', 'line 1\n'],
    ],
  );
  const cut = await snapshot(d, {
    maxAttempts: 5,
    pauseMs: 1,
    beforeCheck: async (attempt) => {
      if (attempt === 1) truncateSync(join(d, 'store', 'wal-00000001.log'), 3);
    },
  });
  assert.is(cut.attempts, 2, 'a log cut shorter throws the attempt away');
});

// ---------------------------------------------------------------------------------------------
// backup → restore with the real service

test('backup while the service runs and takes messages; restore into a fresh DATA_DIR; the service there sees the data', async () => {
  const fake = await startFakeD360({ apiKey: KEY });
  fakes.push(fake);
  const data = dir();
  const out = join(dir(), 'backups');
  const svc = await service({ D360_API_KEY: KEY, D360_BASE_URL: fake.url, DATA_DIR: data });

  // An employee records a shift before the backup.
  const anna = new Chat(svc.url, fake, '79001234001');
  const firstId = nextMessageId();
  await anna.say('меню', firstId);
  await anna.tap('FILL_TODAY');
  assert.match(bodyText(await anna.pick('SHIFT_DAY')), 'Смена записана ✅');

  // Others keep writing while the backup is taken.
  let traffic = true;
  let sent = 0;
  const others = (async () => {
    for (let i = 0; traffic; i++) {
      const from = `7900900${String(i % 40).padStart(4, '0')}`;
      await http(`${svc.url}/webhook`, { body: textMessage({ from, body: 'меню' }) });
      await http(`${svc.url}/webhook`, { body: buttonReply({ from, buttonId: 'FILL_TODAY' }) });
      await http(`${svc.url}/webhook`, { body: listReply({ from, rowId: 'SHIFT_NIGHT' }) });
      sent += 3;
    }
  })();
  await eventually(() => sent >= 15, 10_000, 'traffic');
  const sentBefore = sent;
  const b = await runCli('backup', ['--out', out], { DATA_DIR: data });
  const sentDuring = sent - sentBefore;
  traffic = false;
  await others;
  assert.is(b.code, 0, b.stdout + b.stderr);
  assert.ok(sentDuring > 0, 'messages were taken while the backup ran');
  const [name] = backupsIn(out);
  assert.ok(name, `a backup folder in ${out}: ${b.stdout}`);
  const backup = join(out, name as string);
  assert.match(b.stdout, `backup written: ${backup}`);

  const manifest = manifestOf(backup);
  const paths = manifest.files.map((f) => f.path);
  assert.ok(paths.includes('store/meta.json'));
  // The store's data: partition files written by checkpoints and/or the log of the commits since.
  assert.ok(
    paths.some((p) => /^store\/(p-\d+\.json|wal-\d+\.log)$/.test(p)),
    paths.join(', '),
  );
  assert.not.ok(
    paths.some((p) => p.includes('service.lock') || p.endsWith('.tmp')),
    paths.join(', '),
  );
  assert.equal(Object.keys(manifest).sort(), [
    'app',
    'attempts',
    'createdAt',
    'dataDir',
    'files',
    'format',
    'host',
    'totalBytes',
    'version',
  ]);
  for (const f of manifest.files) assert.match(f.sha256, /^[0-9a-f]{64}$/);
  assert.equal((await verifyBackup(backup)).problems, []);
  for (const f of manifest.files)
    if (f.path.endsWith('.json')) JSON.parse(readFileSync(join(backup, 'data', f.path), 'utf-8'));

  // Restore into a folder that does not exist yet, and start a service on it.
  const fresh = join(dir(), 'restored');
  const r = await runCli('restore', [backup], { DATA_DIR: fresh });
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, `restored ${manifest.files.length} files`);
  assert.match(r.stdout, 'DATA_DIR was empty');
  const fake2 = await startFakeD360({ apiKey: KEY });
  fakes.push(fake2);
  const svc2 = await service({ D360_API_KEY: KEY, D360_BASE_URL: fake2.url, DATA_DIR: fresh });
  const anna2 = new Chat(svc2.url, fake2, anna.waId);
  const status = await anna2.tap('MY_STATUS');
  assert.match(bodyText(status), /^\d\d\.\d\d\.\d{4} — Дневная$/m, 'the shift recorded before the backup');
  // the first message's id is remembered (dedupe): sent again, it changes nothing
  assert.is(await anna2.post(textMessage({ from: anna.waId, body: 'меню', id: firstId })), 200);
  await sleep(300);
  assert.is(anna2.replies().length, 1);
  assert.is(await terminate(svc2), 0);
  assert.is(await terminate(svc), 0);
});

test('restore refuses while a service holds DATA_DIR; after it stops, the old data is moved aside, not deleted', async () => {
  const data = dir();
  const out = join(dir(), 'b');
  const svc = await service({ DATA_DIR: data });
  assert.is((await runCli('backup', ['--out', out], { DATA_DIR: data })).code, 0);
  const backup = join(out, backupsIn(out)[0] as string);
  const before = tree(data);

  const refused = await runCli('restore', [backup], { DATA_DIR: data });
  assert.is(refused.code, 1);
  assert.match(
    refused.stderr,
    `refusing to restore into ${data}: it is in use by a Switchboard service (pid ${svc.proc.pid}`,
  );
  assert.match(refused.stderr, `${data}/store/service.lock`);
  assert.match(refused.stderr, 'systemctl stop switchboard');
  assert.equal(tree(data), before, 'nothing changed, the lock included');

  assert.is(await terminate(svc), 0);
  assert.not.ok(existsSync(join(data, 'store', 'service.lock')), 'the lock is removed at stop');
  writeFileSync(join(data, 'clients.csv'), 'phone,name\n');
  const r = await runCli('restore', [backup], { DATA_DIR: data });
  assert.is(r.code, 0, r.stderr);
  const aside = readdirSync(data).find((n) => n.startsWith('replaced-')) as string;
  assert.ok(aside, readdirSync(data).join(', '));
  assert.match(r.stdout, `the data that was there is in ${join(data, aside)}`);
  assert.ok(existsSync(join(data, aside, 'clients.csv')), 'moved aside');
  assert.ok(existsSync(join(data, aside, 'store', 'meta.json')));
  assert.not.ok(existsSync(join(data, 'clients.csv')), 'not part of the backup');
  assert.equal(
    readdirSync(data).filter((n) => n.startsWith('.restore-')),
    [],
    'no staging folder left',
  );
  assert.not.ok(existsSync(join(data, 'store', 'service.lock')), 'the restore released its lock');
  const again = await service({ DATA_DIR: data });
  assert.is(await terminate(again), 0);
});

test('two services on one DATA_DIR: the second stops at start naming the lock file', async () => {
  const data = dir();
  const first = await service({ DATA_DIR: data });
  const second = await startToExit({ DATA_DIR: data });
  assert.is(second.code, 1);
  assert.match(
    second.output,
    `cannot start: data directory ${data} is in use by a Switchboard service (pid ${first.proc.pid}`,
  );
  assert.match(second.output, `lock file ${data}/store/service.lock`);
  assert.is((await http(`${first.url}/health`)).status, 200, 'the first one is untouched');
  assert.is(await terminate(first), 0);
});

test('a stale lock (SIGKILL) is taken over with a log line; an interrupted restore blocks the start', async () => {
  const data = dir();
  const first = await service({ DATA_DIR: data });
  first.proc.kill('SIGKILL');
  await first.exited;
  assert.ok(existsSync(join(data, 'store', 'service.lock')), 'a killed service leaves its lock');
  const second = await service({ DATA_DIR: data });
  assert.match(
    second.output(),
    new RegExp(
      `warn  store: took over a stale lock file=${data}/store/service.lock was=a Switchboard service \\(pid ${first.proc.pid} .*why=process ${first.proc.pid} (is gone|has exited)`,
    ),
  );
  assert.is(await terminate(second), 0);

  // A restore that died half-way leaves a restore lock: the service must not start on half a restore.
  assert.not.ok(existsSync(join(data, 'store', 'service.lock')), 'no lock after a clean stop');
  writeFileSync(
    join(data, 'store', 'service.lock'),
    JSON.stringify({
      pid: 999_999_999,
      purpose: 'restore',
      host: (await import('node:os')).hostname(),
      since: 'x',
    }),
  );
  const blocked = await startToExit({ DATA_DIR: data });
  assert.is(blocked.code, 1);
  assert.match(blocked.output, `a restore into ${data} was interrupted`);
  assert.match(blocked.output, 'Run the restore again');
  const doctor = await runCli('doctor', [], { DATA_DIR: data });
  assert.is(doctor.code, 1);
  assert.match(doctor.stdout, /✘ store files: a restore was interrupted/);
});

test('restore refuses a damaged backup and changes nothing; backup --keep prunes old ones', async () => {
  const data = dir();
  const out = join(dir(), 'b');
  const svc = await service({ DATA_DIR: data });
  for (let i = 0; i < 3; i++) {
    const b = await runCli('backup', ['--out', out, '--keep', '2'], { DATA_DIR: data });
    assert.is(b.code, 0, b.stderr);
    if (i === 2) assert.match(b.stdout, 'removed old backup');
  }
  assert.is(await terminate(svc), 0);
  const names = backupsIn(out).sort();
  assert.is(names.length, 2, names.join(', '));
  const backup = join(out, names[1] as string);
  const before = tree(data);

  const meta = join(backup, 'data', 'store', 'meta.json');
  // Same size, other bytes (one digit of the partition count changed, whatever the count is).
  writeFileSync(
    meta,
    readFileSync(meta, 'utf-8').replace(
      /"partitions":(\d)/,
      (_m, d) => `"partitions":${(Number(d) + 1) % 10}`,
    ),
  );
  const r = await runCli('restore', [backup], { DATA_DIR: data });
  assert.is(r.code, 1);
  assert.match(r.stderr, `refusing to restore ${backup}: it is damaged`);
  assert.match(r.stderr, 'store/meta.json: checksum differs from the manifest');
  assert.equal(tree(data), before);

  rmSync(join(backup, 'manifest.json'));
  const none = await runCli('restore', [backup], { DATA_DIR: data });
  assert.is(none.code, 1);
  assert.match(none.stderr, 'has no manifest.json');
  assert.equal(tree(data), before);
});

test.run();
