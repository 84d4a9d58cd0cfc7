import { appendFileSync, cpSync, readdirSync, statSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LowdbStore } from '../storage/lowdb';
import { put } from '../storage/store';
import { tmpDataDir } from './helpers/service';
import { type StoreHarness, storeContract } from './store-contract';

// A failing disk, as in store.test.ts: the next write to a log file fails (ENOSPC).
const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
const realOpen = fsp.open;
let failLogWrite = false;
type Handle = Awaited<ReturnType<typeof realOpen>>;
Object.assign(fsp, {
  open: async (path: string, ...rest: unknown[]) => {
    const handle = (await (realOpen as (...a: unknown[]) => Promise<Handle>)(path, ...rest)) as Handle;
    if (!/wal-\d+\.log$/.test(String(path))) return handle;
    const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<{ bytesWritten: number }>;
    return Object.assign(handle, {
      write: async (...args: unknown[]) => {
        if (!failLogWrite) return write(...args);
        failLogWrite = false;
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    });
  },
});
syncBuiltinESMExports();

const storeDir = (dataDir: string) => join(dataDir, 'store');
const logs = (dataDir: string) => readdirSync(storeDir(dataDir)).filter((f) => /^wal-\d+\.log$/.test(f));

async function openStore(dataDir: string): Promise<LowdbStore> {
  const s = new LowdbStore(dataDir);
  await s.open();
  return s;
}

async function lowdbHarness(): Promise<StoreHarness> {
  let dir = tmpDataDir();
  let store = await openStore(dir);
  return {
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = await openStore(dir);
      return store;
    },
    /**
     * A kill: the store's files as they are at this moment (copied while it is idle: cpSync blocks, so
     * nothing runs meanwhile), plus half a line at the end of the newest log — a write that never
     * finished — and a new store opened over them. The old store object is dropped without close (it
     * is closed afterwards only to stop its timers; that writes its own folder, not the copy).
     */
    async crash() {
      await store.idle();
      const crashed = tmpDataDir();
      cpSync(storeDir(dir), storeDir(crashed), { recursive: true });
      const newest = logs(crashed).sort().at(-1);
      assert.ok(newest, 'the crash leaves a log');
      const path = join(storeDir(crashed), newest ?? '');
      assert.ok(statSync(path).size > 0, 'and the log holds commits: the reopen replays them');
      appendFileSync(path, '0badc0de [3,[["actors","wa:torn",{"deadline":1');
      const dropped = store;
      dir = crashed;
      store = await openStore(dir);
      await dropped.close();
      return store;
    },
    failNextWrite() {
      failLogWrite = true;
    },
    async dispose() {
      failLogWrite = false;
      await store.close();
    },
  };
}

storeContract('lowdb', lowdbHarness);

test('lowdb: a read names its partition: a document is not found through another partition', async () => {
  const dir = tmpDataDir();
  const s = await openStore(dir);
  await s.commit('wa:owner', [put('employees', '79001', { name: 'A' })]);
  assert.equal(await s.read('wa:owner', 'employees', '79001'), { name: 'A' });
  // Some key lands in another partition file (observed: the first whose read misses).
  let misses = 0;
  for (let n = 0; n < 50; n++)
    if ((await s.read(`wa:other-${n}`, 'employees', '79001')) === undefined) misses++;
  assert.ok(misses > 0, 'a read through another partition finds nothing');
  await s.close();
  const closed = await s.read('wa:owner', 'employees', '79001').then(
    () => 'resolved',
    (e: Error) => e.message,
  );
  assert.is(closed, 'store is closed');
});

test.run();
