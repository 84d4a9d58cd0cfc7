import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_PARTITIONS } from '../../server/config/config';
import type { ActorRecord } from '../../server/engine/types';
import { gateOfKey } from '../../server/gate/call-binding';
import { LowdbStore } from '../../storage/lowdb';
import { type Doc, put } from '../../storage/store';

/** A stored actor of fixtures/snapshots/<folder>/ and the documents its steps wrote (`collection/id` → doc). */
export interface SnapshotFixture {
  file: string;
  key: string;
  machine: string;
  version: number;
  state: string;
  docs: Record<string, Doc>;
  record: ActorRecord;
}

export interface SnapshotManifest {
  capturedAt: number;
  env: Record<string, string>;
  telegram: { lastUpdateId: number; admin: number };
  fixtures: SnapshotFixture[];
}

/** The manifest of fixtures/snapshots/<folder>/ with each actor's record read from its file. */
export function readSnapshots(folder: string): SnapshotManifest {
  const dir = new URL(`../../fixtures/snapshots/${folder}/`, import.meta.url).pathname;
  const manifest = JSON.parse(readFileSync(join(dir, 'MANIFEST.json'), 'utf8')) as SnapshotManifest;
  for (const f of manifest.fixtures)
    f.record = JSON.parse(readFileSync(join(dir, f.file), 'utf8')) as ActorRecord;
  return manifest;
}

/** The manifest's stored actor of `machine` in `state`. */
export function snapshotFixture(manifest: SnapshotManifest, machine: string, state: string): SnapshotFixture {
  const f = manifest.fixtures.find((x) => x.machine === machine && x.state === state);
  if (!f) throw new Error(`no fixture of ${machine} in ${state}`);
  return f;
}

/** The partition the service keeps an actor in: every call of a gate shares the gate's (call-binding.ts). */
const partitionOf = (key: string) => (key.startsWith('call:') ? `gate:${gateOfKey(key)}` : key);

/**
 * Writes stored actors and their documents into a DATA_DIR no service has open (a stopped one), each
 * actor in one commit to its partition, as the service that wrote them would have.
 */
export async function seedStore(
  dataDir: string,
  actors: ReadonlyArray<{ record: ActorRecord; docs?: Record<string, Doc> }>,
): Promise<void> {
  const store = new LowdbStore(dataDir, SERVICE_PARTITIONS, { fsync: false });
  await store.open();
  try {
    for (const { record, docs } of actors) {
      const writes = Object.entries(docs ?? {}).map(([path, doc]) => {
        const [collection, id] = path.split(/\/(.*)/s) as [string, string];
        return put(collection, id, doc);
      });
      await store.commit(partitionOf(record.key), [...writes, put('actors', record.key, record)]);
    }
  } finally {
    await store.close();
  }
}
