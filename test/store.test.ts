import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LowdbStore } from '../storage/lowdb';
import { type Doc, put, remove, StoreError } from '../storage/store';
import { tmpDataDir } from './helpers/service';

// The store writes through node:fs/promises; wrapping its `rename` and `open` (and re-syncing the ESM
// bindings) lets the tests count real file writes and inject a transient write failure.
const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
const realRename = fsp.rename;
const realOpen = fsp.open;
const renamed: string[] = [];
let failOpens: { match: (path: string) => boolean; error: string } | null = null;
Object.assign(fsp, {
  rename: (from: string, to: string) => {
    renamed.push(String(to));
    return realRename(from, to);
  },
  open: (path: string, ...rest: unknown[]) => {
    if (failOpens?.match(String(path))) {
      const err = Object.assign(new Error(failOpens.error), { code: 'ENOSPC' });
      failOpens = null;
      return Promise.reject(err);
    }
    return (realOpen as (...a: unknown[]) => unknown)(path, ...rest);
  },
});
syncBuiltinESMExports();

const storeDir = (dataDir: string) => join(dataDir, 'store');
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

async function openStore(dataDir: string): Promise<LowdbStore> {
  const s = new LowdbStore(dataDir);
  await s.open();
  return s;
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

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.unreachable('the promise resolved');
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

test('a commit rewrites only its own partition file; keys spread over several partitions', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  let before = snapshotFiles(dir);
  await s.commit('wa:first', [put('actors', 'wa:first', { v: 1 })]);
  const fileA = changedFiles(before, snapshotFiles(dir));
  assert.is(fileA.length, 1, `one file written, got ${fileA.join(', ')}`);

  // Find a key whose commit lands in another file (observed, not computed from the hash).
  let fileB: string[] = [];
  let keyB = '';
  for (let n = 0; n < 50 && (fileB.length === 0 || fileB[0] === fileA[0]); n++) {
    keyB = `wa:other-${n}`;
    before = snapshotFiles(dir);
    await s.commit(keyB, [put('actors', keyB, { v: n })]);
    fileB = changedFiles(before, snapshotFiles(dir));
    assert.is(fileB.length, 1, `one file written per commit, got ${fileB.join(', ')}`);
  }
  assert.is.not(fileB[0], fileA[0], 'some key lands in another partition');

  // Give the mtime a chance to differ, then commit to A only: B's file keeps its bytes and mtime.
  await new Promise((r) => setTimeout(r, 20));
  before = snapshotFiles(dir);
  await s.commit('wa:first', [put('actors', 'wa:first', { v: 2 })]);
  assert.equal(changedFiles(before, snapshotFiles(dir)), fileA);
  const textA = readFileSync(join(storeDir(dir), fileA[0] ?? ''), 'utf8');
  const textB = readFileSync(join(storeDir(dir), fileB[0] ?? ''), 'utf8');
  assert.ok(textA.includes('wa:first') && !textA.includes(keyB), 'A lives in its own file');
  assert.ok(textB.includes(keyB) && !textB.includes('wa:first'), 'B lives in its own file');
  assert.equal(s.get('actors', 'wa:first'), { v: 2 });
  assert.ok(s.get('actors', keyB), 'documents of every partition are readable');
  await s.close();
});

test('a document stays in the partition of the key that first wrote it', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  await s.commit('wa:owner', [put('employees', '79001234567', { name: 'A' })]);
  const ownerFile = partFiles(dir);
  // A key of another partition may not write that document.
  let refused: Error | undefined;
  for (let n = 0; n < 50 && !refused; n++) {
    const before = snapshotFiles(dir);
    try {
      await s.commit(`wa:intruder-${n}`, [put('employees', '79001234567', { name: 'B' })]);
      // Same partition as the owner: allowed, and it went to the owner's file.
      assert.equal(changedFiles(before, snapshotFiles(dir)), ownerFile);
    } catch (e) {
      refused = e as Error;
    }
  }
  assert.instance(refused, StoreError);
  assert.match(refused?.message ?? '', 'employees/79001234567 belongs to another partition');
  await s.close();
});

test('200 parallel commits to one partition all persist, in a handful of file writes', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  renamed.length = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 200 }, (_, i) => s.commit('wa:busy', [put('records', `r${i}`, { i })])),
  );
  const ms = Date.now() - started;
  const writes = renamed.filter((p) => /p-\d\d\.json$/.test(p));
  assert.ok(writes.length >= 1, 'the partition was written');
  assert.ok(writes.length <= 10, `commits are coalesced: ${writes.length} file writes for 200 commits`);
  assert.is(new Set(writes).size, 1, 'all in one partition file');
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

test('a failed write rejects the commit and memory goes back to what is on disk', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  await s.commit('wa:1', [put('actors', 'wa:1', { v: 1 })]);
  const [file] = partFiles(dir);
  const onDisk = readFileSync(join(storeDir(dir), file ?? ''), 'utf8');
  // Every partition's temp path becomes a folder: the next write of any partition fails.
  const tmps = Array.from({ length: 16 }, (_, i) =>
    join(storeDir(dir), `.p-${String(i).padStart(2, '0')}.json.tmp`),
  );
  for (const t of tmps) mkdirSync(t);
  const failedKeys: string[] = [];
  try {
    const err = await rejection(
      s.commit('wa:1', [put('actors', 'wa:1', { v: 2 }), put('outbox', 'e1', { key: 'wa:1' })]),
    );
    assert.instance(err, StoreError);
    assert.match(err.message, `cannot write ${join(storeDir(dir), file ?? '')}`);
    assert.equal(s.get('actors', 'wa:1'), { v: 1 }, 'memory holds the disk value again');
    assert.is(s.get('outbox', 'e1'), undefined, 'no document of the failed commit is visible');
    assert.equal(s.all('outbox'), []);
    assert.not.ok(s.healthy(), 'health reports the failure');
    assert.is(readFileSync(join(storeDir(dir), file ?? ''), 'utf8'), onDisk, 'disk unchanged');

    // A partition that was never written has nothing on disk: its memory goes back to empty.
    let fresh = '';
    for (let n = 0; n < 50 && !fresh; n++) {
      const key = `wa:fresh-${n}`;
      failedKeys.push(key);
      const before = new Set(partFiles(dir));
      const e = await rejection(s.commit(key, [put('actors', key, { v: 1 })]));
      assert.instance(e, StoreError);
      const target = /cannot write (\S+)/.exec(e.message)?.[1] ?? '';
      if (!before.has(target.split('/').pop() ?? '')) fresh = key;
      assert.is(s.get('actors', key), undefined, `${key}: failed commit not visible`);
    }
    assert.ok(fresh, 'some key fell into a never-written partition');
  } finally {
    for (const t of tmps) rmSync(t, { recursive: true, force: true });
  }
  await s.commit('wa:1', [put('actors', 'wa:1', { v: 3 })]);
  assert.not.ok(s.healthy(), 'other partitions whose last write failed still count');
  for (const key of failedKeys) await s.commit(key, [put('actors', key, { v: 'ok' })]);
  for (const key of failedKeys) await s.commit(key, [remove('actors', key)]);
  assert.ok(s.healthy(), 'good writes to every failed partition make the store healthy again');
  await s.close();
  const r = await openStore(dir);
  assert.equal(r.get('actors', 'wa:1'), { v: 3 });
  assert.is(r.get('outbox', 'e1'), undefined);
  assert.is(r.all('actors').length, 1, 'none of the failed commits reached the disk');
  await r.close();
});

test('a transient write failure: commits queued behind it fail too, later ones succeed, memory = disk', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  await s.commit('wa:k', [put('c', 'base', { v: 0 })]);
  failOpens = { match: (p) => p.endsWith('.json.tmp'), error: 'ENOSPC: no space left on device' };
  const a = s.commit('wa:k', [put('c', 'A', { v: 1 })]);
  const b = s.commit('wa:k', [put('c', 'B', { v: 2 })]);
  // A commit that arrives while the store recovers from the failure.
  const c = new Promise((r) => setTimeout(r, 0)).then(() => s.commit('wa:k', [put('c', 'C', { v: 3 })]));
  const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
  assert.is(failOpens, null, 'the failure was injected');
  assert.is(ra?.status, 'rejected');
  assert.match(String((ra as PromiseRejectedResult).reason), 'ENOSPC');
  assert.is(rb?.status, 'rejected', 'a commit whose change was in memory during the failed write fails');
  assert.is(rc?.status, 'fulfilled', 'a commit after the failure succeeds');
  const memory = { A: s.get('c', 'A'), B: s.get('c', 'B'), C: s.get('c', 'C'), base: s.get('c', 'base') };
  await s.close();
  const r = await openStore(dir);
  const disk = { A: r.get('c', 'A'), B: r.get('c', 'B'), C: r.get('c', 'C'), base: r.get('c', 'base') };
  assert.equal(memory, disk, 'memory and disk agree');
  assert.equal(disk, { A: undefined, B: undefined, C: { v: 3 }, base: { v: 0 } });
  await r.close();
});

test.run();
