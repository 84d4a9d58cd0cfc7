/**
 * The suite every store must pass (storage/contract.ts): lowdb runs it in store-contract-lowdb.test.ts,
 * and a PostgreSQL store will run the same. A store is given by a factory of harnesses; a harness
 * starts a fresh, empty store and knows how to stop it cleanly, kill it, and make its next durable write
 * fail, where the store can be made to.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CALLS } from '../storage/calls';
import type { IndexHit, PartitionedStore } from '../storage/contract';
import {
  CALL_BY_PBX,
  CALLS_BY_TIME,
  CALLS_BY_USER,
  DEDUPE_BY_TIME,
  DUE_DEADLINES,
  FINISHED_ACTORS,
  type IndexSpec,
  PENDING_OUTBOX,
  SIGNED_EVENT_PREFIX,
  SIGNED_EVENTS,
  STORE_INDEXES,
} from '../storage/indexes';
import { type Doc, type DocWrite, put, remove } from '../storage/store';
import { rng } from './torture/common';

export interface StoreHarness {
  /** A fresh, open, empty store. */
  store: PartitionedStore;
  /** Stops the store cleanly (close) and opens a new one over the same data. */
  reopen(): Promise<PartitionedStore>;
  /**
   * The process dies now: the store object is dropped without close, with whatever its durable log
   * holds, and a new store is opened over that. Absent for a store without crash recovery of its own.
   */
  crash?(): Promise<PartitionedStore>;
  /** The next durable write fails (a full disk, a lost connection). Absent where it cannot be made to. */
  failNextWrite?(): void;
  /** Closes whatever store the harness has open now. */
  dispose(): Promise<void>;
}

/** Calls belong to their gate's partition, as the gate bindings commit them. */
const call = (id: string, c: { gate?: string; userId?: number | null; pbx?: string | null; at: number }) =>
  put(CALLS, id, {
    id,
    gate: c.gate ?? 'main',
    userId: c.userId ?? null,
    pbxCallId: c.pbx ?? null,
    requestedAt: c.at,
    status: 'pending',
  });

const actor = (key: string, a: { deadline?: number | null; done?: boolean; at: number }) =>
  put('actors', key, {
    key,
    deadline: a.deadline ?? null,
    updatedAt: a.at,
    snapshot: { status: a.done ? 'done' : 'active' },
  });

/** A write whose update throws: the commit that carries it must fail whole. */
const broken = (collection: string, id: string): DocWrite => ({
  collection,
  id,
  update: () => {
    throw new Error('broken update');
  },
});

/** Every entry of an index, paged through with `after` (small pages, so paging itself is exercised). */
async function lookupAll(store: PartitionedStore, index: string, key?: string): Promise<IndexHit[]> {
  const out: IndexHit[] = [];
  for (;;) {
    const last = out.at(-1);
    const page = await store.lookup(index, {
      ...(key === undefined ? {} : { key }),
      limit: 3,
      ...(last ? { after: { sort: last.sort, id: last.id } } : {}),
    });
    out.push(...page);
    if (page.length < 3) return out;
  }
}

/** What the registry says each index must hold for these documents: [id, key, sort], in (sort, id) order. */
function expectedIndexes(
  docs: Map<string, Map<string, Doc>>,
): Record<string, Array<[string, string, number[]]>> {
  const out: Record<string, Array<[string, string, number[]]>> = {};
  for (const spec of STORE_INDEXES) {
    const rows: Array<[string, string, number[]]> = [];
    for (const [id, doc] of docs.get(spec.collection) ?? []) {
      const e = spec.entry(id, doc);
      if (e) rows.push([id, e.key, e.sort]);
    }
    rows.sort((a, b) => {
      for (let i = 0; i < Math.max(a[2].length, b[2].length); i++) {
        const d = (a[2][i] ?? 0) - (b[2][i] ?? 0);
        if (d !== 0) return d;
      }
      return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
    });
    out[spec.name] = rows;
  }
  return out;
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.unreachable('the promise resolved');
  throw new Error('unreachable');
}

async function scanAll(store: PartitionedStore, collection: string, pageSize: number, after?: string) {
  const pages: Array<Array<{ id: string; doc: Doc }>> = [];
  for await (const page of store.scan(collection, { pageSize, ...(after === undefined ? {} : { after }) }))
    pages.push(page);
  return pages;
}

export function storeContract(name: string, make: () => Promise<StoreHarness>): void {
  const test = suite(`store contract: ${name}`);
  let h: StoreHarness;
  test.before.each(async () => {
    h = await make();
  });
  test.after.each(async () => {
    await h.dispose();
  });

  test('a commit writes all its documents of one partition at once, and they stay after a restart', async () => {
    const s = h.store;
    const writes = [
      actor('wa:1', { at: 1, deadline: 500 }),
      put('outbox', 'e1', { key: 'wa:1', createdAt: 1, seq: 0 }),
      put('dedupe', 'wamid.1', { key: 'wa:1', at: 1 }),
      put('employees', '79001', { waId: '79001', days: {} }),
    ];
    const done = s.commit('wa:1', writes);
    // Whoever reads while it is under way sees all of it or none of it.
    const seen: number[] = [];
    let settled = false;
    void done.finally(() => {
      settled = true;
    });
    while (!settled) {
      const got = await Promise.all(writes.map((w) => s.read('wa:1', w.collection, w.id)));
      seen.push(got.filter(Boolean).length);
      await new Promise((r) => setImmediate(r));
    }
    await done;
    assert.ok(
      seen.every((n) => n === 0 || n === writes.length),
      `never half a commit: ${seen.join(',')}`,
    );
    const r = await h.reopen();
    for (const w of writes) assert.ok(await r.read('wa:1', w.collection, w.id), `${w.collection}/${w.id}`);
    assert.equal(
      (await r.lookup(DUE_DEADLINES, { limit: 10 })).map((x) => x.id),
      ['wa:1'],
    );
  });

  test('a commit whose write fails is rejected whole: no document, no index entry, not after a restart either', async () => {
    const s = h.store;
    await s.commit('gate:main', [call('c0', { userId: 7, pbx: 'pbx-0', at: 10 })]);
    const failing = broken('gates', 'main');
    const bad = s.commit('gate:main', [
      call('c1', { userId: 7, pbx: 'pbx-1', at: 20 }),
      put(CALLS, 'c0', { id: 'c0', gate: 'main', userId: 8, pbxCallId: 'pbx-moved', requestedAt: 10 }),
      failing,
    ]);
    const good = s.commit('gate:other', [call('c2', { gate: 'other', userId: 9, at: 30 })]);
    const [rb, rg] = await Promise.allSettled([bad, good]);
    assert.is(rb.status, 'rejected');
    assert.is(rg.status, 'fulfilled', 'a commit of another partition made together persists');
    const check = async (store: PartitionedStore, when: string) => {
      assert.is(
        await store.read('gate:main', CALLS, 'c1'),
        undefined,
        `${when}: no document of the failed commit`,
      );
      assert.equal(
        (await store.read<Doc>('gate:main', CALLS, 'c0'))?.pbxCallId,
        'pbx-0',
        `${when}: c0 unchanged`,
      );
      assert.equal((await store.lookup(CALL_BY_PBX, { key: 'pbx-1', limit: 5 })).length, 0, when);
      assert.equal((await store.lookup(CALL_BY_PBX, { key: 'pbx-moved', limit: 5 })).length, 0, when);
      assert.equal(
        (await store.lookup(CALL_BY_PBX, { key: 'pbx-0', limit: 5 })).map((x) => x.id),
        ['c0'],
        `${when}: the old entry is back`,
      );
      assert.equal(
        (await store.lookup(CALLS_BY_USER, { key: '7', limit: 5 })).map((x) => x.id),
        ['c0'],
        when,
      );
      assert.equal((await store.lookup(CALLS_BY_USER, { key: '8', limit: 5 })).length, 0, when);
      assert.equal(
        (await store.lookup(CALLS_BY_USER, { key: '9', limit: 5 })).map((x) => x.id),
        ['c2'],
        when,
      );
    };
    await check(s, 'live');
    await check(await h.reopen(), 'reopened');
  });

  test('a commit whose durable write fails is rejected whole, and the next one works', async () => {
    if (!h.failNextWrite) return;
    const s = h.store;
    await s.commit('wa:1', [actor('wa:1', { at: 1, deadline: 100 })]);
    h.failNextWrite();
    const err = await rejects(
      s.commit('wa:1', [
        actor('wa:1', { at: 2, deadline: 200 }),
        put('outbox', 'e1', { key: 'wa:1', createdAt: 2, seq: 0 }),
      ]),
    );
    assert.ok(err instanceof Error);
    assert.equal((await s.read<Doc>('wa:1', 'actors', 'wa:1'))?.deadline, 100, 'the document went back');
    assert.equal(
      (await s.lookup(DUE_DEADLINES, { limit: 5 })).map((x) => x.sort),
      [[100]],
      'so did its index',
    );
    assert.equal(await s.lookup(PENDING_OUTBOX, { limit: 5 }), []);
    await s.commit('wa:1', [put('outbox', 'e2', { key: 'wa:1', createdAt: 3, seq: 0 })]);
    const r = await h.reopen();
    assert.equal((await r.read<Doc>('wa:1', 'actors', 'wa:1'))?.deadline, 100);
    assert.is(await r.read('wa:1', 'outbox', 'e1'), undefined);
    assert.equal(
      (await r.lookup(PENDING_OUTBOX, { limit: 5 })).map((x) => x.id),
      ['e2'],
    );
    assert.equal(
      (await r.lookup(DUE_DEADLINES, { limit: 5 })).map((x) => x.sort),
      [[100]],
    );
  });

  test('read-your-writes: reads, scopes, lookups and scans see a commit once it resolved', async () => {
    const s = h.store;
    await s.commit('tg:5', [
      actor('tg:5', { at: 1, deadline: 50 }),
      put('tgusers', '5', { userId: 5, phone: '380' }),
    ]);
    assert.equal(await s.read('tg:5', 'tgusers', '5'), { userId: 5, phone: '380' });
    await s.commit('tg:5', [
      { collection: 'tgusers', id: '5', update: (prev) => ({ ...prev, phone: '381' }) },
    ]);
    assert.equal(
      (await s.read<Doc>('tg:5', 'tgusers', '5'))?.phone,
      '381',
      'an update gets the current document',
    );
    const scope = await s.scope('tg:5', [
      { collection: 'actors', id: 'tg:5' },
      { collection: 'tgusers', id: '5' },
      { collection: 'dedupe', id: 'u1' },
    ]);
    assert.is(scope.partition, 'tg:5');
    assert.equal(scope.get<Doc>('tgusers', '5')?.phone, '381');
    assert.equal(scope.get<Doc>('actors', 'tg:5')?.deadline, 50);
    assert.is(scope.get('dedupe', 'u1'), undefined, 'asked for and absent');
    assert.throws(() => scope.get('tgusers', '6'), /not loaded/, 'a document not asked for is an error');
    assert.equal(
      (await s.lookup(DUE_DEADLINES, { max: 50, limit: 5 })).map((x) => x.doc.key),
      ['tg:5'],
    );
    await s.commit('tg:5', [remove('tgusers', '5'), actor('tg:5', { at: 2, deadline: null })]);
    assert.is(await s.read('tg:5', 'tgusers', '5'), undefined, 'a delete is seen');
    assert.equal(await s.lookup(DUE_DEADLINES, { limit: 5 }), [], 'and so is a cleared deadline');
    assert.equal((await scanAll(s, 'tgusers', 10)).flat(), []);
    assert.equal(
      (await scanAll(s, 'actors', 10)).flat().map((d) => d.id),
      ['tg:5'],
    );
    assert.is(await s.read('tg:5', 'nothing', 'x'), undefined);
  });

  test('commits to one partition apply in the order they were made, also after a restart', async () => {
    const s = h.store;
    const n = 60;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        s.commit('wa:order', [
          {
            collection: 'log',
            id: 'wa:order',
            update: (prev) => ({ seq: [...((prev?.seq as number[]) ?? []), i] }),
          },
          put('last', 'wa:order', { i }),
        ]),
      ),
    );
    const expected = Array.from({ length: n }, (_, i) => i);
    assert.equal((await s.read<Doc>('wa:order', 'log', 'wa:order'))?.seq, expected);
    assert.equal(await s.read('wa:order', 'last', 'wa:order'), { i: n - 1 }, 'the last commit wins');
    const r = await h.reopen();
    assert.equal((await r.read<Doc>('wa:order', 'log', 'wa:order'))?.seq, expected);
    assert.equal(await r.read('wa:order', 'last', 'wa:order'), { i: n - 1 });
  });

  test('the named indexes answer their questions', async () => {
    const s = h.store;
    // Due deadlines, earliest first; finished actors by last update.
    await s.commit('wa:a', [actor('wa:a', { at: 5, deadline: 300 })]);
    await s.commit('wa:b', [actor('wa:b', { at: 6, deadline: 100 })]);
    await s.commit('wa:c', [actor('wa:c', { at: 7, deadline: 200, done: false })]);
    await s.commit('wa:d', [actor('wa:d', { at: 1, done: true })]);
    const due = await s.lookup(DUE_DEADLINES, { max: 250, limit: 10 });
    assert.equal(
      due.map((x) => [x.id, x.sort[0]]),
      [
        ['wa:b', 100],
        ['wa:c', 200],
      ],
    );
    assert.equal(
      (await s.lookup(FINISHED_ACTORS, { max: 3, limit: 10 })).map((x) => x.id),
      ['wa:d'],
    );
    assert.equal(await s.lookup(FINISHED_ACTORS, { max: 0, limit: 10 }), []);
    // Pending outbox rows: in creation order per key, `seq` ordering one step's effects.
    await s.commit('wa:a', [
      put('outbox', 'zz', { key: 'wa:a', createdAt: 10, seq: 0 }),
      put('outbox', 'aa', { key: 'wa:a', createdAt: 10, seq: 1 }),
      put('outbox', 'mm', { key: 'wa:a', createdAt: 5, seq: 0 }),
    ]);
    await s.commit('wa:b', [put('outbox', 'b1', { key: 'wa:b', createdAt: 7, seq: 0 })]);
    assert.equal(
      (await s.lookup(PENDING_OUTBOX, { key: 'wa:a', limit: 10 })).map((x) => x.id),
      ['mm', 'zz', 'aa'],
    );
    assert.equal(
      (await lookupAll(s, PENDING_OUTBOX)).map((x) => x.id),
      ['mm', 'b1', 'zz', 'aa'],
    );
    // Calls by pbx_call_id, by user (newest first), by time.
    await s.commit('gate:main', [
      call('c1', { userId: 7, pbx: 'p1', at: 1000 }),
      call('c2', { userId: 7, at: 2000 }),
      call('c3', { userId: 8, pbx: 'p3', at: 3000 }),
    ]);
    await s.commit('gate:main', [call('c2', { userId: 7, pbx: 'p2', at: 2000 })]);
    assert.equal(
      (await s.lookup(CALL_BY_PBX, { key: 'p2', limit: 2 })).map((x) => x.doc.id),
      ['c2'],
    );
    assert.equal(await s.lookup(CALL_BY_PBX, { key: 'p9', limit: 2 }), []);
    assert.equal(
      (await s.lookup(CALLS_BY_USER, { key: '7', descending: true, limit: 5 })).map((x) => x.id),
      ['c2', 'c1'],
    );
    assert.equal(
      (await s.lookup(CALLS_BY_USER, { key: '7', descending: true, limit: 1 })).map((x) => x.id),
      ['c2'],
    );
    assert.equal(
      (await s.lookup(CALLS_BY_TIME, { min: 1500, limit: 10 })).map((x) => x.id),
      ['c2', 'c3'],
    );
    assert.equal(
      (await s.lookup(CALLS_BY_TIME, { min: 1500, max: 2500, descending: true, limit: 10 })).map((x) => x.id),
      ['c2'],
    );
    // The signed-event replay key, found from another call's partition; dedupe keys by time.
    const signed = `${SIGNED_EVENT_PREFIX}NOTIFY_START:380|0800|2024`;
    await s.commit('ivr:pbx-1', [
      put('dedupe', signed, { key: 'ivr:pbx-1', at: 50 }),
      put('dedupe', 'zd:x', { at: 40 }),
    ]);
    assert.equal(
      (await s.lookup(SIGNED_EVENTS, { key: signed, limit: 1 })).map((x) => x.doc.key),
      ['ivr:pbx-1'],
    );
    assert.equal(
      (await s.lookup(DEDUPE_BY_TIME, { max: 45, limit: 10 })).map((x) => x.id),
      ['zd:x'],
    );
    // Paging, both ways: every entry once.
    const desc: string[] = [];
    for (let after: IndexHit | undefined; ; ) {
      const page = await s.lookup(CALLS_BY_TIME, { descending: true, limit: 2, ...(after ? { after } : {}) });
      desc.push(...page.map((x) => x.id));
      after = page.at(-1);
      if (page.length < 2) break;
    }
    assert.equal(desc, ['c3', 'c2', 'c1']);
    await rejects(s.lookup('no-such-index', { limit: 1 }));
  });

  test('every index stays in step with its documents through commits, failures, restarts and crashes', async () => {
    let s = h.store;
    // A fixed seed: the same sequence every run, so a failure can be replayed.
    const rnd = rng(13).int;
    /** The documents as the test believes they are: collection -> id -> doc. */
    const model = new Map<string, Map<string, Doc>>();
    const docsOf = (c: string) => {
      const docs = model.get(c) ?? new Map<string, Doc>();
      model.set(c, docs);
      return docs;
    };
    // Each document id belongs to one partition for life, as the contract requires.
    const pick = (): { partition: string; w: DocWrite } => {
      const n = rnd(12);
      const at = 1000 + rnd(50);
      switch (rnd(5)) {
        case 0: {
          const key = `wa:${n}`;
          return {
            partition: key,
            w:
              rnd(4) === 0
                ? remove('actors', key)
                : actor(key, { at, deadline: rnd(2) ? at + rnd(9) : null, done: rnd(3) === 0 }),
          };
        }
        case 1: {
          // An outbox row is committed to its actor's partition, and keeps its actor for life.
          const key = `wa:${n % 4}`;
          const id = `e${n}`;
          return {
            partition: key,
            w: rnd(3) === 0 ? remove('outbox', id) : put('outbox', id, { key, createdAt: at, seq: rnd(3) }),
          };
        }
        case 2: {
          const id = `c${n}`;
          return {
            partition: 'gate:main',
            w:
              rnd(4) === 0
                ? remove(CALLS, id)
                : call(id, { userId: rnd(3) ? rnd(3) : null, pbx: rnd(2) ? `p${rnd(4)}` : null, at }),
          };
        }
        case 3: {
          const id = rnd(2) ? `${SIGNED_EVENT_PREFIX}${n}` : `m${n}`;
          return {
            partition: `ivr:${id}`,
            w: rnd(4) === 0 ? remove('dedupe', id) : put('dedupe', id, { key: 'k', at }),
          };
        }
        default: {
          const id = `x${n}`;
          return { partition: `wa:${id}`, w: put('employees', id, { waId: id, at }) };
        }
      }
    };
    const applyToModel = (w: DocWrite) => {
      const docs = docsOf(w.collection);
      const next = w.update(docs.get(w.id));
      if (next === null) docs.delete(w.id);
      else docs.set(w.id, next);
    };
    const same = async (store: PartitionedStore, when: string) => {
      const hits = new Map<IndexSpec, IndexHit[]>();
      for (const spec of STORE_INDEXES) hits.set(spec, await lookupAll(store, spec.name));
      // Every entry (ids, keys and sorts) as the registry derives it, then the documents they point to.
      const entries = Object.fromEntries(
        [...hits].map(([spec, list]) => [spec.name, list.map((h) => [h.id, h.key, h.sort])]),
      );
      assert.equal(entries, expectedIndexes(model), `indexes ${when}`);
      for (const [spec, list] of hits)
        for (const hit of list)
          assert.equal(hit.doc, model.get(spec.collection)?.get(hit.id), `${spec.name} → ${hit.id} ${when}`);
    };
    for (let round = 0; round < 6; round++) {
      // A burst of commits made together (one partition per commit: group the writes by partition).
      const commits = new Map<string, DocWrite[]>();
      for (let i = 0; i < 25; i++) {
        const { partition, w } = pick();
        const list = commits.get(partition) ?? [];
        if (list.some((x) => x.collection === w.collection && x.id === w.id)) continue;
        list.push(w);
        commits.set(partition, list);
      }
      const entries = [...commits];
      // In round 2 one commit of the burst fails (its last write throws): none of its writes count.
      const failAt = round === 2 ? 0 : -1;
      const results = await Promise.allSettled(
        entries.map(([partition, writes], i) =>
          s.commit(partition, i === failAt ? [...writes, broken('broken', 'b')] : writes),
        ),
      );
      entries.forEach(([, writes], i) => {
        if (results[i]?.status === 'fulfilled') for (const w of writes) applyToModel(w);
        else
          assert.is(i, failAt, `commit ${i} failed: ${String((results[i] as PromiseRejectedResult).reason)}`);
      });
      await same(s, `after round ${round}`);
      if (round === 1) {
        s = await h.reopen();
        await same(s, 'after a restart');
      }
      if (round === 3 && h.crash) {
        s = await h.crash();
        await same(s, 'after a crash');
      }
    }
    if (h.crash) {
      s = await h.crash();
      await same(s, 'after the last crash');
    }
  });

  test('scans yield every document exactly once, in pages, in id order', async () => {
    const s = h.store;
    const ids = Array.from({ length: 53 }, (_, i) => `d${String(i).padStart(3, '0')}`);
    for (let i = 0; i < ids.length; i += 10)
      await Promise.all(ids.slice(i, i + 10).map((id) => s.commit(`wa:${id}`, [put('docs', id, { id })])));
    await s.commit('wa:other', [put('others', 'o', { id: 'o' })]);
    const pages = await scanAll(s, 'docs', 7);
    assert.ok(pages.length >= 8, `pages: ${pages.length}`);
    assert.ok(
      pages.every((p) => p.length >= 1 && p.length <= 7),
      'no page is empty or larger than asked',
    );
    const got = pages.flat();
    assert.equal(
      got.map((d) => d.id),
      ids,
      'every document once, ascending by id',
    );
    assert.ok(got.every((d) => d.doc.id === d.id));
    assert.equal(
      (await scanAll(s, 'docs', 100, 'd049')).flat().map((d) => d.id),
      ['d050', 'd051', 'd052'],
      '`after` resumes behind an id',
    );
    assert.equal(await scanAll(s, 'nothing', 5), []);
  });

  test('a scan while commits happen: documents there throughout come exactly once, others at most once', async () => {
    const s = h.store;
    const ids = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    await Promise.all(ids.map((id) => s.commit(`wa:${id}`, [put('docs', id, { v: 0 })])));
    const seen = new Map<string, number>();
    let page = 0;
    for await (const docs of s.scan<Doc>('docs', { pageSize: 4 })) {
      for (const d of docs) seen.set(d.id, (seen.get(d.id) ?? 0) + 1);
      page++;
      // Between pages: every document changes, new ones arrive (before and after the cursor), the last
      // document of the collection is deleted and re-created, and an unseen one is deleted.
      await Promise.all(ids.map((id) => s.commit(`wa:${id}`, [put('docs', id, { v: page })])));
      await s.commit('wa:new', [
        put('docs', `k${page}-new`, { v: page }),
        put('docs', `a${page}`, { v: page }),
      ]);
      if (page === 2) await s.commit('wa:k39', [remove('docs', 'k39')]);
      if (page === 3) await s.commit('wa:k39', [put('docs', 'k39', { v: page })]);
      if (page === 4) await s.commit('wa:k30', [remove('docs', 'k30')]);
    }
    for (const id of ids) {
      if (id === 'k30' || id === 'k39') assert.ok((seen.get(id) ?? 0) <= 1, id);
      else assert.is(seen.get(id), 1, `${id} seen once`);
    }
    for (const [id, n] of seen) assert.ok(n === 1, `${id} seen ${n} times`);
  });

  test('after a crash every acknowledged commit is there, a rejected one is not', async () => {
    if (!h.crash) return;
    const s = h.store;
    const acked: string[] = [];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        s
          .commit(`wa:${i % 6}`, [
            put('records', `r${i}`, { i }),
            actor(`wa:${i % 6}`, { at: i, deadline: i }),
          ])
          .then(() => {
            acked.push(`r${i}`);
          }),
      ),
    );
    await rejects(s.commit('wa:0', [put('records', 'never', { i: -1 }), broken('records', 'bad')]));
    await s.commit('wa:0', [remove('records', 'r0')]);
    const r = await h.crash();
    for (const id of acked.filter((x) => x !== 'r0')) {
      const i = Number(id.slice(1));
      assert.equal(await r.read(`wa:${i % 6}`, 'records', id), { i }, id);
    }
    assert.is(await r.read('wa:0', 'records', 'r0'), undefined, 'a delete survives the crash');
    assert.is(await r.read('wa:0', 'records', 'never'), undefined);
    assert.equal(
      (await r.lookup(DUE_DEADLINES, { limit: 10 })).map((x) => x.id),
      ['wa:0', 'wa:1', 'wa:2', 'wa:3', 'wa:4', 'wa:5'],
    );
    assert.equal(
      (await r.lookup(DUE_DEADLINES, { limit: 10 })).map((x) => x.sort[0]),
      [24, 25, 26, 27, 28, 29],
    );
    await r.commit('wa:0', [put('records', 'after', { i: 99 })]);
    const again = await h.reopen();
    assert.equal(
      await again.read('wa:0', 'records', 'after'),
      { i: 99 },
      'the recovered store takes commits',
    );
  });

  test.run();
}
