import type { IndexQuery } from './contract';
import type { IndexEntry, IndexSpec } from './indexes';
import type { Doc } from './store';
import { StoreError } from './store';

/** One index entry as the lowdb store keeps it. */
export interface IndexRow extends IndexEntry {
  id: string;
}

interface Indexed {
  spec: IndexSpec;
  table: Table;
}

/**
 * The lowdb store's named indexes, in memory: per index and key, the entries sorted by (sort, id).
 * They are a pure function of the documents — `update` is called on every change of a document (commit,
 * undo of a failed batch, log replay, load) — so a store rebuilt from partition files plus the log has
 * exactly the index state the live store had.
 */
export class IndexTables {
  private readonly byName = new Map<string, Indexed>();
  private readonly byCollection = new Map<string, Indexed[]>();

  constructor(specs: readonly IndexSpec[]) {
    for (const spec of specs) {
      if (this.byName.has(spec.name)) throw new StoreError(`index ${spec.name} is declared twice`);
      const indexed = { spec, table: new Table() };
      this.byName.set(spec.name, indexed);
      this.byCollection.set(spec.collection, [...(this.byCollection.get(spec.collection) ?? []), indexed]);
    }
  }

  /** The document `collection/id` is now `doc` (null: deleted). */
  update(collection: string, id: string, doc: Doc | null): void {
    for (const { spec, table } of this.byCollection.get(collection) ?? [])
      table.set(id, doc && rowOf(spec, id, doc));
  }

  /**
   * A document read from a partition file at start: entered unsorted (each id is loaded once), then
   * `loaded()` sorts every table once — inserting one by one would move half a table per document.
   */
  load(collection: string, id: string, doc: Doc): void {
    for (const { spec, table } of this.byCollection.get(collection) ?? []) {
      const row = rowOf(spec, id, doc);
      if (row) table.append(row);
    }
  }

  loaded(): void {
    for (const { table } of this.byName.values()) table.sortAll();
  }

  /** The collection an index points into. */
  collectionOf(name: string): string {
    return this.named(name).spec.collection;
  }

  query(name: string, q: IndexQuery): IndexRow[] {
    const { table } = this.named(name);
    if (!Number.isInteger(q.limit) || q.limit < 1) throw new StoreError(`index ${name}: limit must be ≥ 1`);
    return table.query(q);
  }

  private named(name: string): Indexed {
    const indexed = this.byName.get(name);
    if (!indexed) throw new StoreError(`no index named ${name}`);
    return indexed;
  }
}

function rowOf(spec: IndexSpec, id: string, doc: Doc): IndexRow | null {
  const entry = spec.entry(id, doc);
  return entry && { id, key: entry.key, sort: entry.sort };
}

class Table {
  private readonly byId = new Map<string, IndexRow>();
  private readonly byKey = new Map<string, IndexRow[]>();

  set(id: string, row: IndexRow | null): void {
    const old = this.byId.get(id);
    // Most rewrites keep their entry (an actor stepping without a new deadline): nothing to move.
    if (old && row && old.key === row.key && compare(old, row) === 0) return;
    if (old) {
      const rows = this.byKey.get(old.key) as IndexRow[];
      const at = lowerBound(rows, (r) => compare(r, old) >= 0);
      rows.splice(at, 1);
      if (rows.length === 0) this.byKey.delete(old.key);
      this.byId.delete(id);
    }
    if (!row) return;
    const rows = this.rowsOf(row.key);
    rows.splice(
      lowerBound(rows, (r) => compare(r, row) > 0),
      0,
      row,
    );
    this.byId.set(id, row);
  }

  append(row: IndexRow): void {
    this.rowsOf(row.key).push(row);
    this.byId.set(row.id, row);
  }

  private rowsOf(key: string): IndexRow[] {
    let rows = this.byKey.get(key);
    if (!rows) {
      rows = [];
      this.byKey.set(key, rows);
    }
    return rows;
  }

  sortAll(): void {
    for (const rows of this.byKey.values()) rows.sort(compare);
  }

  query(q: IndexQuery): IndexRow[] {
    const rows = q.key !== undefined ? (this.byKey.get(q.key) ?? []) : this.allRows();
    const min = q.min ?? Number.NEGATIVE_INFINITY;
    const max = q.max ?? Number.POSITIVE_INFINITY;
    const first = (r: IndexRow) => r.sort[0] ?? 0;
    const out: IndexRow[] = [];
    if (!q.descending) {
      let i = lowerBound(rows, (r) => first(r) >= min);
      if (q.after) {
        const after = q.after;
        i = Math.max(
          i,
          lowerBound(rows, (r) => compare(r, after) > 0),
        );
      }
      for (; i < rows.length && out.length < q.limit; i++) {
        const r = rows[i] as IndexRow;
        if (first(r) > max) break;
        out.push(r);
      }
    } else {
      let i = lowerBound(rows, (r) => first(r) > max) - 1;
      if (q.after) {
        const after = q.after;
        i = Math.min(i, lowerBound(rows, (r) => compare(r, after) >= 0) - 1);
      }
      for (; i >= 0 && out.length < q.limit; i--) {
        const r = rows[i] as IndexRow;
        if (first(r) < min) break;
        out.push(r);
      }
    }
    return out;
  }

  /** Every entry, in (sort, id) order: one key's array as it is, several merged. */
  private allRows(): IndexRow[] {
    if (this.byKey.size === 1) return this.byKey.values().next().value as IndexRow[];
    return [...this.byKey.values()].flat().sort(compare);
  }
}

/** Orders entries by their sort values, then by id. */
function compare(
  a: { sort: readonly number[]; id: string },
  b: { sort: readonly number[]; id: string },
): number {
  const n = Math.max(a.sort.length, b.sort.length);
  for (let i = 0; i < n; i++) {
    const d = (a.sort[i] ?? 0) - (b.sort[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The first position where `pred` holds (`pred` false then true along the array). */
function lowerBound<T>(arr: readonly T[], pred: (t: T) => boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(arr[mid] as T)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
