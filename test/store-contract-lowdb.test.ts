import { appendFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { put } from '../storage/store';
import { tmpDataDir } from './helpers/service';
import { copyStore, logs, openStore, storeDir, storeDisk } from './helpers/store-files';
import { type StoreHarness, storeContract } from './store-contract';

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
     * A kill: the store's files as they are at this moment (`copyStore`), plus half a line at the end
     * of the newest log — a write that never finished — and a new store opened over them. The old store
     * object is dropped without close (it is closed afterwards only to stop its timers; that writes its
     * own folder, not the copy).
     */
    async crash() {
      await store.idle();
      const crashed = copyStore(dir);
      const newest = logs(crashed).at(-1);
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
      storeDisk.failLogWrite = { error: 'ENOSPC: no space left on device', partial: 0 };
    },
    async dispose() {
      storeDisk.failLogWrite = null;
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
