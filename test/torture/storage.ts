/**
 * Storage faults: a store that cannot be written while running (no file may grow, as on a full disk:
 * every log append fails), and broken files at start
 * (truncated, garbage, empty, wrong format, unreadable DATA_DIR): the service says exactly what is
 * wrong and refuses to run, and never overwrites the broken file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { textMessage } from '../../fixtures/whatsapp';
import { PARTITION_FILE } from '../../storage/layout';
import { SEGMENT } from '../../storage/wal';
import { eventually, sleep, spawnMain, tmpDataDir } from '../helpers/service';
import { killAll, type Profile, readStore, type Section, sigkill, sigterm, spawnTracked } from './common';
import { startTortureRig } from './rig';

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters of a garbage file are replaced for the report
const CONTROL = /[\u0000-\u001f]/g;

async function runToExit(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<{ code: number | null; output: string }> {
  const child = spawnMain(env);
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, output: child.output() };
}

/** A DATA_DIR with a few committed documents (written by a real service that then stopped). */
async function populated(): Promise<{ dataDir: string; partition: string }> {
  const { dataDir, svc } = await withUsers();
  assert.is(await sigterm(svc), 0);
  const partition = readdirSync(join(dataDir, 'store')).find((f) => PARTITION_FILE.test(f));
  assert.ok(partition, 'a partition file was written');
  return { dataDir, partition: partition as string };
}

/** The same, but the service was SIGKILLed: the commits are only in the log. */
async function crashed(): Promise<{ dataDir: string; log: string }> {
  const { dataDir, svc } = await withUsers();
  await sigkill(svc);
  const log = readdirSync(join(dataDir, 'store')).find((f) => SEGMENT.test(f));
  assert.ok(log, 'a log file is left');
  return { dataDir, log: join(dataDir, 'store', log as string) };
}

async function withUsers() {
  const dataDir = tmpDataDir();
  const svc = await spawnTracked({ DATA_DIR: dataDir });
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${svc.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(textMessage({ from: `7900444000${i}`, body: 'меню' })),
    });
    assert.is(res.status, 200);
  }
  return { dataDir, svc };
}

export async function run(_profile: Profile): Promise<Section> {
  const started = Date.now();
  const rows: Section['rows'] = [];
  try {
    // 1. Broken files at start: refused, named, untouched.
    const cases: Array<[string, (text: string) => string | null, RegExp]> = [
      ['truncated partition file', (t) => t.slice(0, Math.floor(t.length / 2)), /is not valid JSON/],
      ['garbage partition file', () => '\u0000\u0001garbage', /is not valid JSON/],
      ['empty (0-byte) partition file', () => '', /is not valid JSON/],
      [
        'partition of another format',
        () => JSON.stringify({ format: 9, collections: {} }),
        /is not a Switchboard store partition/,
      ],
    ];
    for (const [name, corrupt, expect] of cases) {
      const { dataDir, partition } = await populated();
      const file = join(dataDir, 'store', partition);
      const broken = corrupt(readFileSync(file, 'utf-8')) as string;
      writeFileSync(file, broken);
      const { code, output } = await runToExit({ DATA_DIR: dataDir });
      assert.is.not(code, 0, `${name}: must refuse to start\n${output}`);
      assert.match(output, expect, `${name}: says what is wrong`);
      assert.match(output, partition, `${name}: names the file`);
      assert.ok(!/switchboard started/.test(output), `${name}: never started`);
      assert.is(readFileSync(file, 'utf-8'), broken, `${name}: the broken file is left untouched`);
      rows.push([
        `start with ${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`,
        1,
        `exit ${code}: "${(/cannot start: (.*)/.exec(output)?.[1] ?? '')
          .replace(dataDir, '$DATA_DIR')
          .replace(CONTROL, '?')
          .slice(0, 110)}…"; file untouched`,
      ]);
    }
    {
      const { dataDir } = await populated();
      const meta = join(dataDir, 'store', 'meta.json');
      writeFileSync(meta, '{"format":1,"partit');
      const { code, output } = await runToExit({ DATA_DIR: dataDir });
      assert.is.not(code, 0);
      assert.match(output, /meta\.json is not valid JSON/);
      assert.is(readFileSync(meta, 'utf-8'), '{"format":1,"partit');
      rows.push(['start with a truncated meta.json', 1, `exit ${code}, names meta.json, file untouched`]);
    }
    {
      // A crash's torn last write is cut: the service starts with every acknowledged commit.
      const { dataDir, log } = await crashed();
      writeFileSync(log, Buffer.concat([readFileSync(log), Buffer.from('1234abcd [7,[["actors","wa:7')]));
      const svc = await spawnTracked({ DATA_DIR: dataDir });
      assert.is(await sigterm(svc), 0);
      const actors = Object.keys((await readStore(dataDir)).collections.actors ?? {});
      assert.is(actors.filter((k) => k.startsWith('wa:790044400')).length, 5, 'all 5 users kept');
      rows.push([
        'start after a SIGKILL with a torn last line in the log',
        1,
        'started; the line was cut; all 5 acknowledged users kept',
      ]);
    }
    {
      // Damage before a valid line is not a crash's torn end: refused, named, untouched.
      const { dataDir, log } = await crashed();
      const damaged = readFileSync(log, 'utf-8').replace('"wa:79004440000"', '"wa:79004440009"');
      writeFileSync(log, damaged);
      const { code, output } = await runToExit({ DATA_DIR: dataDir });
      assert.is.not(code, 0, `must refuse to start\n${output}`);
      assert.match(output, /is damaged at byte \d+/);
      assert.match(output, log.split('/').pop() as string);
      assert.is(readFileSync(log, 'utf-8'), damaged, 'the log is left untouched');
      rows.push([
        'start with a damaged line in the middle of the log',
        1,
        `exit ${code}: "${(/cannot start: (.*)/.exec(output)?.[1] ?? '').replace(dataDir, '$DATA_DIR').slice(0, 110)}…"; file untouched`,
      ]);
    }
    {
      // meta.json lost beside partition files: the partition count cannot be guessed (found by this suite).
      const { dataDir } = await populated();
      rmSync(join(dataDir, 'store', 'meta.json'));
      const { code, output } = await runToExit({ DATA_DIR: dataDir });
      assert.is.not(code, 0, `must refuse to start\n${output}`);
      assert.match(output, /meta\.json is missing but \d+ partition files are beside it/);
      assert.ok(!existsSync(join(dataDir, 'store', 'meta.json')), 'no meta.json made up');
      rows.push([
        'start with meta.json missing beside partition files',
        1,
        `exit ${code}: "meta.json is missing but N partition files are beside it…; restore meta.json from a backup"`,
      ]);
    }
    {
      // DATA_DIR unusable (runs as root here, so a chmod would not stop it: the store folder is a file).
      const dataDir = tmpDataDir();
      writeFileSync(join(dataDir, 'store'), 'not a folder');
      const { code, output } = await runToExit({ DATA_DIR: dataDir });
      assert.is.not(code, 0);
      assert.match(output, /data directory .* is not writable/);
      rows.push([
        'start with DATA_DIR/store not a writable folder',
        1,
        `exit ${code}: "data directory … is not writable: …"`,
      ]);
    }

    // 2. The disk refuses writes while running: no acknowledgement, /health 503, memory never ahead of disk;
    //    once writes work again the redelivered webhook takes effect once.
    const rig = await startTortureRig();
    try {
      // The disk is full: no file may grow past the current size of the log (a soft RLIMIT_FSIZE set with
      // prlimit on this process, where the rig's service runs), so every log append fails with EFBIG.
      const store = join(rig.dataDir, 'store');
      const logSize = Math.max(
        0,
        ...readdirSync(store)
          .filter((f) => SEGMENT.test(f))
          .map((f) => statSync(join(store, f)).size),
      );
      const limit = (value: string) =>
        execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${value}:`]);
      limit(String(logSize));
      const body = textMessage({ from: '79004440099', body: 'меню' });
      let refused = 0;
      for (let i = 0; i < 5; i++) {
        const res = await rig.postWa(body);
        assert.is(res.status, 500, 'no 200 without a durable commit');
        refused++;
      }
      const health = await rig.call('/health');
      assert.is(health.status, 503, '/health says the store cannot write');
      assert.ok(
        rig.logs.some((l) => /request failed .*cannot write/.test(l)),
        'logged with the reason',
      );
      assert.is(
        rig.svc.store.get('actors', 'wa:79004440099'),
        undefined,
        'memory did not keep the failed commit',
      );
      limit('unlimited');
      const res = await rig.postWa(body);
      assert.is(res.status, 200);
      await eventually(
        () => rig.d360.sent().filter((m: { to?: string }) => m.to === '79004440099').length >= 1,
        5000,
        'the reply',
      );
      await sleep(200);
      assert.is(
        rig.d360.sent().filter((m: { to?: string }) => m.to === '79004440099').length,
        1,
        'exactly one reply',
      );
      await eventually(async () => (await rig.call('/health')).status === 200, 5000, 'healthy again');
      rows.push([
        'webhooks while the disk is full (no file may grow: soft RLIMIT_FSIZE at the log size)',
        refused,
        '500 each (platform redelivers), /health 503, nothing kept in memory; after recovery the redelivery took effect once',
      ]);
      assert.equal(rig.leaks(), []);
    } finally {
      await rig.stop();
    }
  } finally {
    killAll();
  }
  return { name: 'storage', title: 'Storage faults', rows, ms: Date.now() - started };
}
