import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LowdbStore } from '../storage/lowdb';
import { type Doc, put, remove, StoreError } from '../storage/store';
import { tmpDataDir } from './helpers/service';
import { copyStore, logs, openStore, storeDir, storeDisk } from './helpers/store-files';

const partFiles = (dataDir: string) =>
  readdirSync(storeDir(dataDir))
    .filter((f) => /^p-\d\d\.json$/.test(f))
    .sort();

/** The bytes and mtime of every partition file. */
function snapshotFiles(dataDir: string): Map<string, { text: string; mtime: number }> {
  const out = new Map<string, { text: string; mtime: number }>();
  for (const f of partFiles(dataDir)) {
    const p = join(storeDir(dataDir), f);
    out.set(f, { text: readFileSync(p, 'utf8'), mtime: statSync(p).mtimeMs });
  }
  return out;
}

function changedFiles(
  before: Map<string, { text: string; mtime: number }>,
  after: Map<string, { text: string; mtime: number }>,
): string[] {
  const out: string[] = [];
  for (const [f, a] of after) {
    const b = before.get(f);
    if (!b || b.text !== a.text || b.mtime !== a.mtime) out.push(f);
  }
  for (const f of before.keys()) if (!after.has(f)) out.push(f);
  return out.sort();
}

async function openError(dataDir: string): Promise<StoreError> {
  try {
    const s = await openStore(dataDir);
    await s.close();
  } catch (e) {
    assert.instance(e, StoreError, `expected a StoreError, got ${String(e)}`);
    return e as StoreError;
  }
  assert.unreachable('the store opened');
  throw new Error('unreachable');
}

test('a commit is on disk: a reopened store has the same documents, deletes included', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  await s.commit('wa:1', [
    put('actors', 'wa:1', { state: 'menu', n: 1 }),
    put('outbox', 'e1', { key: 'wa:1' }),
  ]);
  await s.commit('wa:2', [put('actors', 'wa:2', { state: 'idle', nested: { a: [1, 2] } })]);
  await s.commit('wa:1', [remove('outbox', 'e1'), put('dedupe', 'wamid.1', { key: 'wa:1', at: 5 })]);
  await s.commit('wa:1', [{ collection: 'actors', id: 'wa:1', update: (prev) => ({ ...prev, n: 2 }) }]);
  assert.ok(s.healthy());
  await s.close();

  const r = await openStore(dir);
  assert.equal(r.get('actors', 'wa:1'), { state: 'menu', n: 2 });
  assert.equal(r.get('actors', 'wa:2'), { state: 'idle', nested: { a: [1, 2] } });
  assert.is(r.get('outbox', 'e1'), undefined, 'deleted document stays deleted');
  assert.equal(r.get('dedupe', 'wamid.1'), { key: 'wa:1', at: 5 });
  assert.is(r.all('actors').length, 2);
  assert.equal(r.entries('dedupe'), [['wamid.1', { key: 'wa:1', at: 5 }]]);
  assert.equal(r.all('nothing'), []);
  assert.ok(existsSync(join(storeDir(dir), 'meta.json')));
  assert.not.ok(
    readdirSync(storeDir(dir)).some((f) => f.endsWith('.tmp')),
    'no temp file is left behind',
  );
  await r.close();
});

test('a commit is one line in the log; a clean stop writes only the changed partition files', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  let before = snapshotFiles(dir);
  await s.commit('wa:first', [put('actors', 'wa:first', { v: 1 })]);
  assert.equal(changedFiles(before, snapshotFiles(dir)), [], 'no partition file rewritten per commit');
  const [log] = logs(dir);
  const line = readFileSync(join(storeDir(dir), log ?? ''), 'utf8');
  assert.match(line, /^[0-9a-f]{8} \[\d+,\[\["actors","wa:first",\{"v":1\}\]\]\]\n$/, line);
  await s.commit('wa:first', [put('actors', 'wa:first', { v: 2 })]);
  await s.close();
  assert.equal(logs(dir), [], 'a clean stop leaves no log');
  const fileA = partFiles(dir);
  assert.is(fileA.length, 1);

  // A key of another partition (observed, not computed from the hash).
  let keyB = '';
  let fileB: string[] = [];
  for (let n = 0; n < 50 && (fileB.length === 0 || fileB[0] === fileA[0]); n++) {
    keyB = `wa:other-${n}`;
    before = snapshotFiles(dir);
    const r = await openStore(dir);
    await r.commit(keyB, [put('actors', keyB, { v: n })]);
    await r.close();
    fileB = changedFiles(before, snapshotFiles(dir));
    assert.is(fileB.length, 1, `one file written, got ${fileB.join(', ')}`);
  }
  assert.is.not(fileB[0], fileA[0], 'some key lands in another partition');

  // Give the mtime a chance to differ, then commit to A only: B's file keeps its bytes and mtime.
  await new Promise((r) => setTimeout(r, 20));
  before = snapshotFiles(dir);
  const r = await openStore(dir);
  await r.commit('wa:first', [put('actors', 'wa:first', { v: 3 })]);
  await r.close();
  assert.equal(changedFiles(before, snapshotFiles(dir)), fileA);
  const textA = readFileSync(join(storeDir(dir), fileA[0] ?? ''), 'utf8');
  const textB = readFileSync(join(storeDir(dir), fileB[0] ?? ''), 'utf8');
  assert.ok(textA.includes('wa:first') && !textA.includes(keyB), 'A lives in its own file');
  assert.ok(textB.includes(keyB) && !textB.includes('wa:first'), 'B lives in its own file');
  const again = await openStore(dir);
  assert.equal(again.get('actors', 'wa:first'), { v: 3 });
  assert.ok(again.get('actors', keyB), 'documents of every partition are readable');
  await again.close();
});

test('a document stays in the partition of the key that first wrote it', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  await s.commit('wa:owner', [put('employees', '79001234567', { name: 'A' })]);
  // A key of another partition may not write that document; one of the same partition may.
  let refused: Error | undefined;
  let allowed = 0;
  for (let n = 0; n < 50 && !refused; n++) {
    try {
      await s.commit(`wa:intruder-${n}`, [put('employees', '79001234567', { name: `B${n}` })]);
      allowed++;
    } catch (e) {
      refused = e as Error;
    }
  }
  assert.instance(refused, StoreError);
  assert.match(refused?.message ?? '', 'employees/79001234567 belongs to another partition');
  const kept = s.get('employees', '79001234567');
  assert.equal(kept, { name: allowed === 0 ? 'A' : `B${allowed - 1}` }, 'the refused commit changed nothing');
  await s.close();
  const r = await openStore(dir);
  assert.equal(r.get('employees', '79001234567'), kept);
  assert.is(partFiles(dir).length, 1, "the document is in its owner's file only");
  await r.close();
});

test('200 parallel commits all persist, in a handful of log flushes (group commit)', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  storeDisk.renamed.length = 0;
  storeDisk.flushes = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      s.commit(i % 2 ? 'wa:busy' : `wa:${i}`, [put('records', `r${i}`, { i })]),
    ),
  );
  const ms = Date.now() - started;
  assert.ok(storeDisk.flushes >= 1, 'the log was flushed');
  assert.ok(storeDisk.flushes <= 10, `commits share flushes: ${storeDisk.flushes} for 200 commits`);
  assert.equal(storeDisk.renamed, [], 'no partition file is replaced per commit');
  assert.is(s.all('records').length, 200);
  await s.close();

  const r = await openStore(dir);
  const got = r
    .all<Doc & { i: number }>('records')
    .map((d) => d.i)
    .sort((a, b) => a - b);
  assert.equal(
    got,
    Array.from({ length: 200 }, (_, i) => i),
    `all 200 documents on disk (took ${ms} ms)`,
  );
  await r.close();
});

test('parallel commits to many partitions all persist', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      s.commit(`wa:${i}`, [
        put('actors', `wa:${i}`, { i }),
        put('dedupe', `m${i}`, { key: `wa:${i}`, at: i }),
      ]),
    ),
  );
  await s.close();
  assert.ok(partFiles(dir).length > 1, 'several partition files');
  const r = await openStore(dir);
  assert.is(r.all('actors').length, 100);
  assert.is(r.all('dedupe').length, 100);
  for (let i = 0; i < 100; i++) assert.equal(r.get('actors', `wa:${i}`), { i });
  await r.close();
});

test('a corrupted partition file: StoreError naming the file, file left byte for byte', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  await s.commit('wa:1', [put('actors', 'wa:1', { v: 1 })]);
  await s.close();
  const [file] = partFiles(dir);
  assert.ok(file, 'a partition file was written');
  const path = join(storeDir(dir), file ?? '');
  const garbage = Buffer.from('{"format":1,"collections":{"actors":{"wa:1":{"v"\u0000\xff garbage');
  writeFileSync(path, garbage);
  const mtime = statSync(path).mtimeMs;

  const err = await openError(dir);
  assert.match(err.message, path);
  assert.match(err.message, 'not valid JSON');
  assert.ok(readFileSync(path).equals(garbage), 'the file was not rewritten');
  assert.is(statSync(path).mtimeMs, mtime);

  // Valid JSON that is not a partition is refused too, naming the file.
  writeFileSync(path, '[1,2,3]');
  const err2 = await openError(dir);
  assert.match(err2.message, path);
  assert.is(readFileSync(path, 'utf8'), '[1,2,3]');
});

test('a store of the previous format (partition files, meta format 1, no log) opens with its data', async () => {
  // As the version before the log left it: every commit already in its partition file.
  const dir = tmpDataDir();
  mkdirSync(storeDir(dir), { recursive: true });
  writeFileSync(join(storeDir(dir), 'meta.json'), JSON.stringify({ format: 1, partitions: 16 }));
  // Find the file of key wa:old the way the store does: write it with a fresh store of 16 partitions.
  const probe = tmpDataDir();
  const p = await openStore(probe);
  await p.commit('wa:old', [put('actors', 'wa:old', { v: 'old' })]);
  await p.close();
  const [file] = partFiles(probe);
  writeFileSync(
    join(storeDir(dir), file ?? ''),
    JSON.stringify({ format: 1, collections: { actors: { 'wa:old': { v: 'old' } } } }),
  );
  const s = await openStore(dir);
  assert.equal(s.get('actors', 'wa:old'), { v: 'old' });
  await s.commit('wa:old', [put('actors', 'wa:old', { v: 'new' })]);
  await s.close();
  assert.equal(JSON.parse(readFileSync(join(storeDir(dir), 'meta.json'), 'utf8')), {
    format: 2,
    partitions: 16,
  });
  const r = await openStore(dir);
  assert.equal(r.get('actors', 'wa:old'), { v: 'new' });
  assert.equal(partFiles(dir), [file], 'the same partition file');
  await r.close();
});

test('a corrupted meta.json is refused naming it', async () => {
  const dir = tmpDataDir();
  await (await openStore(dir)).close();
  const meta = join(storeDir(dir), 'meta.json');
  writeFileSync(meta, '{"format":1,"partitions":0}');
  assert.match((await openError(dir)).message, meta);
  writeFileSync(meta, 'nope');
  assert.match((await openError(dir)).message, meta);
  assert.is(readFileSync(meta, 'utf8'), 'nope');
});

test('a DATA_DIR that is a file: clear StoreError', async () => {
  const dir = tmpDataDir();
  const file = join(dir, 'not-a-folder');
  writeFileSync(file, 'x');
  const err = await openError(file);
  assert.match(err.message, 'not writable');
  assert.match(err.message, file);
});

test('an unwritable DATA_DIR: clear StoreError (skipped where permissions do not apply)', async () => {
  const dir = tmpDataDir();
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o500);
  try {
    let writable = false;
    try {
      writeFileSync(join(ro, 'probe'), 'x');
      writable = true;
    } catch {
      writable = false;
    }
    if (writable) {
      console.log(
        '  note: running as root (or permissions ignored): chmod 0o500 does not stop writes, skipped',
      );
      return;
    }
    const err = await openError(ro);
    assert.match(err.message, 'not writable');
    assert.match(err.message, ro);
  } finally {
    chmodSync(ro, 0o700);
  }
});

test('a failed log write rejects its whole batch, memory and log go back, the next commit works', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  await s.commit('wa:1', [put('actors', 'wa:1', { v: 1 })]);
  const [log] = logs(dir);
  const logPath = join(storeDir(dir), log ?? '');
  const size = statSync(logPath).size;
  storeDisk.failLogWrite = { error: 'ENOSPC: no space left on device', partial: 7 };
  // Both in one batch: the first writes 7 bytes, then the disk is full.
  const a = s.commit('wa:1', [put('actors', 'wa:1', { v: 2 }), put('outbox', 'e1', { key: 'wa:1' })]);
  const b = s.commit('wa:2', [put('actors', 'wa:2', { v: 1 })]);
  const [ra, rb] = await Promise.allSettled([a, b]);
  assert.is(storeDisk.failLogWrite, null, 'the failure was injected');
  for (const r of [ra, rb]) {
    assert.is(r?.status, 'rejected');
    const e = (r as PromiseRejectedResult).reason as Error;
    assert.instance(e, StoreError);
    assert.match(e.message, `cannot write ${logPath}: ENOSPC`);
  }
  assert.equal(s.get('actors', 'wa:1'), { v: 1 }, 'memory holds the logged value again');
  assert.is(s.get('outbox', 'e1'), undefined, 'no document of the failed batch is visible');
  assert.is(s.get('actors', 'wa:2'), undefined);
  assert.equal(s.all('outbox'), []);
  assert.not.ok(s.healthy(), 'health reports the failure');
  assert.is(statSync(logPath).size, size, 'the half-written bytes were cut off the log');

  // A commit after the failure succeeds, and health comes back.
  await s.commit('wa:1', [put('actors', 'wa:1', { v: 3 })]);
  assert.ok(s.healthy());
  await s.close();
  const r = await openStore(dir);
  assert.equal(r.get('actors', 'wa:1'), { v: 3 });
  assert.is(r.get('outbox', 'e1'), undefined);
  assert.is(r.all('actors').length, 1, 'none of the failed commits reached the disk');
  await r.close();
});

test('a commit arriving during a failing flush goes into the next batch and succeeds; memory = disk', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  await s.commit('wa:k', [put('c', 'base', { v: 0 })]);
  storeDisk.failLogWrite = { error: 'ENOSPC: no space left on device', partial: 0 };
  const a = s.commit('wa:k', [put('c', 'A', { v: 1 })]);
  const b = s.commit('wa:k', [
    { collection: 'c', id: 'A', update: (prev) => ({ v: 2, prev: prev ?? null }) },
  ]);
  const c = new Promise((r) => setTimeout(r, 0)).then(() => s.commit('wa:k', [put('c', 'C', { v: 3 })]));
  const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
  assert.is(ra?.status, 'rejected');
  assert.match(String((ra as PromiseRejectedResult).reason), 'ENOSPC');
  assert.is(rb?.status, 'rejected', 'a commit built on the failed one in the same batch fails too');
  assert.is(rc?.status, 'fulfilled', 'a commit after the failure succeeds');
  const memory = { A: s.get('c', 'A'), C: s.get('c', 'C'), base: s.get('c', 'base') };
  await s.close();
  const r = await openStore(dir);
  const disk = { A: r.get('c', 'A'), C: r.get('c', 'C'), base: r.get('c', 'base') };
  assert.equal(memory, disk, 'memory and disk agree');
  assert.equal(disk, { A: undefined, C: { v: 3 }, base: { v: 0 } });
  await r.close();
});

test('a commit whose update throws is rejected alone; the others of its batch persist', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  const bad = s.commit('wa:1', [
    put('c', 'x', { v: 1 }),
    {
      collection: 'c',
      id: 'y',
      update: () => {
        throw new Error('broken update');
      },
    },
  ]);
  const good = s.commit('wa:1', [put('c', 'z', { v: 1 })]);
  const [rb, rg] = await Promise.allSettled([bad, good]);
  assert.is(rb?.status, 'rejected');
  assert.is(rg?.status, 'fulfilled');
  assert.is(s.get('c', 'x'), undefined, 'the half-applied commit was undone');
  await s.close();
  const r = await openStore(dir);
  assert.equal([r.get('c', 'x'), r.get('c', 'z')], [undefined, { v: 1 }]);
  await r.close();
});

test('after a crash the log is replayed; a torn last line is cut; damage before a valid line stops the start', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  for (let i = 0; i < 20; i++)
    await s.commit(`wa:${i % 5}`, [put('actors', `wa:${i % 5}`, { i }), put('dedupe', `m${i}`, { i })]);
  await s.commit('wa:0', [remove('dedupe', 'm0')]);
  // "Crash": the store's files as they are, without close(); its log holds everything.
  await s.idle();
  const crashed = copyStore(dir);
  const [log] = logs(crashed);
  const logPath = join(storeDir(crashed), log ?? '');
  const good = readFileSync(logPath);
  assert.equal(partFiles(crashed), [], 'nothing was checkpointed yet');

  // A write that never finished: half a line at the end.
  const torn = Buffer.concat([good, Buffer.from('0badc0de [3,[["actors","wa:9",{"i"')]);
  writeFileSync(logPath, torn);
  const r = await openStore(crashed);
  for (let k = 0; k < 5; k++) assert.equal(r.get('actors', `wa:${k}`), { i: 15 + k });
  assert.is(r.get('actors', 'wa:9'), undefined, 'the torn commit is not there');
  assert.is(r.all('dedupe').length, 19, 'deletes replay too');
  await r.close();
  assert.equal(logs(crashed), [], 'replayed log checkpointed and removed at the clean stop');
  const reopened = await openStore(crashed);
  assert.is(reopened.all('dedupe').length, 19);
  await reopened.close();

  // A damaged line with good ones after it is not a torn tail: refused, named, untouched.
  const dir2 = tmpDataDir();
  const t = await openStore(dir2);
  for (let i = 0; i < 3; i++) await t.commit('wa:1', [put('c', `d${i}`, { i })]);
  const [log2] = logs(dir2);
  const path2 = join(storeDir(dir2), log2 ?? '');
  const lines = readFileSync(path2, 'utf8').split('\n');
  lines[1] = (lines[1] ?? '').replace('"i":1', '"i":7');
  const damaged = lines.join('\n');
  writeFileSync(path2, damaged);
  const err = await openError(dir2);
  assert.match(err.message, path2);
  assert.match(err.message, /damaged at byte \d+/);
  assert.is(readFileSync(path2, 'utf8'), damaged, 'left untouched');
});

test('checkpoints: a full log goes into the partition files and is removed while commits go on', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir, { maxLogBytes: 2000 });
  const expected = new Map<string, number>();
  for (let round = 0; round < 40; round++) {
    await Promise.all(
      Array.from({ length: 10 }, (_, k) => {
        const key = `wa:${(round * 7 + k) % 37}`;
        expected.set(key, round);
        return s.commit(key, [put('actors', key, { round, pad: 'x'.repeat(40) })]);
      }),
    );
  }
  // The checkpoints run in the background: wait until the old log files are gone.
  for (let n = 0; n < 200 && logs(dir).length > 1; n++) await new Promise((r) => setTimeout(r, 10));
  assert.is(logs(dir).length, 1, `old log files removed (${logs(dir).join(', ')})`);
  assert.ok(partFiles(dir).length > 1, 'partition files were written by checkpoints');
  const logged = statSync(join(storeDir(dir), logs(dir)[0] ?? '')).size;
  // 400 commits of ~95 bytes were logged; most of them are now only in partition files.
  assert.ok(logged < 19_000, `the log stays short: ${logged} bytes`);
  for (const [key, round] of expected) assert.is(s.get<Doc>('actors', key)?.round, round);
  assert.ok(s.healthy());
  // "Crash" (no close): the files as they are now — partition files + the current log — give back
  // every document.
  await s.idle();
  const copy = copyStore(dir);
  const r = await openStore(copy);
  for (const [key, round] of expected) assert.is(r.get<Doc>('actors', key)?.round, round, key);
  assert.is(r.all('actors').length, expected.size);
  await r.close();
});

/** A store's files as a crash leaves them: D = 1 committed, only in the log (copied, never closed). */
async function crashedWithD1(): Promise<string> {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  await s.commit('wa:1', [put('c', 'D', { v: 1 })]);
  await s.idle();
  const crashed = copyStore(dir);
  await s.close();
  return crashed;
}

/** Holds the next partition file rename until `fail()`, which makes it fail. */
function holdNextRename(): { reached: Promise<void>; fail: () => void } {
  let reached!: () => void;
  let fail!: () => void;
  const hit = new Promise<void>((r) => {
    reached = r;
  });
  storeDisk.holdRename = { reached, release: new Promise<void>((r) => (fail = r)) };
  return { reached: hit, fail };
}

test('a checkpoint failing while the store stops keeps its log AND every newer one', async () => {
  const crashed = await crashedWithD1();

  // The start checkpoints the replayed log; its partition write is held, then fails during close().
  const hold = holdNextRename();
  const r = await openStore(crashed);
  await hold.reached;
  await r.commit('wa:1', [put('c', 'D', { v: 2 })]); // acknowledged: in the new log
  const closing = r.close();
  hold.fail();
  await closing;
  const again = await openStore(crashed);
  assert.equal(again.get('c', 'D'), { v: 2 }, 'the acknowledged commit survives the restart');
  await again.close();
  assert.equal(logs(crashed), [], 'the next clean stop checkpoints everything');
});

test('a failed write whose cut failed too is cut before its log file is sealed by a rotation', async () => {
  const dir = tmpDataDir();
  let now = 1_000_000;
  const s = await openStore(dir, { clock: () => now, maxLogAgeMs: 60_000 });
  await s.commit('wa:1', [put('c', 'A', { v: 1 })]);
  // Half a line is written, the disk fails, the cut fails; the log is then old enough to rotate.
  storeDisk.failLogWrite = { error: 'EIO: i/o error', partial: 7, onFail: () => (now += 120_000) };
  storeDisk.failLogTruncate = 1;
  const failed = await s.commit('wa:1', [put('c', 'A', { v: 2 })]).then(
    () => 'resolved',
    (e: Error) => e.message,
  );
  assert.match(failed, 'EIO');
  const hold = holdNextRename(); // the checkpoint of the sealed file does not finish before the "crash"
  await s.commit('wa:1', [put('c', 'B', { v: 1 })]);
  await hold.reached;
  assert.is(logs(dir).length, 2, 'the log was rotated');
  const crashed = copyStore(dir);
  const r = await openStore(crashed);
  assert.equal([r.get('c', 'A'), r.get('c', 'B')], [{ v: 1 }, { v: 1 }]);
  await r.close();
  hold.fail();
  await s.close();
});

/**
 * A store started on crashedWithD1's files whose start checkpoint (of D's partition) fails while it
 * runs: tried again in a second, on an unref'ed timer. Returns once the store reports it (or ~0.5 s).
 */
async function openWithFailedCheckpoint(): Promise<{ crashed: string; r: LowdbStore }> {
  const crashed = await crashedWithD1();
  const hold = holdNextRename();
  const r = await openStore(crashed);
  await hold.reached;
  hold.fail();
  for (let n = 0; n < 100 && r.healthy(); n++) await new Promise((ok) => setTimeout(ok, 5));
  return { crashed, r };
}

test('a checkpoint never finishes (nor removes its log) while a failed partition write waits to be retried', async () => {
  const { crashed, r } = await openWithFailedCheckpoint();
  assert.not.ok(r.healthy());
  // Commits meanwhile run the writer, which also moves checkpoints on.
  for (let i = 0; i < 5; i++) await r.commit(`wa:other-${i}`, [put('c', `o${i}`, { i })]);
  const log = logs(crashed);
  // A crash now: D = 1 must still be somewhere on disk.
  const copy = copyStore(crashed);
  const after = await openStore(copy);
  assert.equal(
    after.get('c', 'D'),
    { v: 1 },
    `D survives a crash during the retry (logs: ${log.join(', ')})`,
  );
  await after.close();
  await r.close();
});

test('close() waits for a checkpoint write that is being retried (the process does not just exit)', async () => {
  const { crashed, r } = await openWithFailedCheckpoint();
  assert.not.ok(r.healthy(), 'the failed checkpoint write shows');
  await r.close(); // nothing else keeps this process alive now
  assert.equal(logs(crashed), [], 'the retried checkpoint and the stop completed');
  const again = await openStore(crashed);
  assert.equal(again.get('c', 'D'), { v: 1 });
  await again.close();
});

test.run();
