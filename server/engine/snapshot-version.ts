import type { ActorRecord, Binding, PersistedActor } from './types';

/**
 * An actor stored by a newer version of its machine than this instance runs (a rolling deploy, or a
 * rollback): this instance must not overwrite it, so the event is refused and must come again later,
 * to a newer instance. HTTP answers it 503 (the platforms redeliver); the outbox and the sweeper try
 * again later.
 */
export class NewerSnapshotError extends Error {
  override name = 'NewerSnapshotError';
  /** The HTTP status the error boundary answers. */
  readonly status = 503;

  constructor(
    readonly key: string,
    readonly machine: string,
    readonly stored: number,
    readonly current: number,
  ) {
    super(
      `the actor was stored by version ${stored} of ${machine} and this instance runs version ${current}: not processed, try again later`,
    );
  }
}

export const isNewerSnapshot = (e: unknown): e is NewerSnapshotError => e instanceof NewerSnapshotError;

/**
 * The stored actor carried forward to the binding's version by its migrations, one version at a time;
 * a string says why it cannot be (a version with no migration, or a migration that failed on it). The
 * stored record is not touched: the migrations get a copy.
 */
export function migrate(
  binding: Pick<Binding, 'version' | 'migrations'>,
  stored: ActorRecord,
): PersistedActor | string {
  if (!Number.isInteger(stored.version) || stored.version < 1)
    return `no migration from version ${String(stored.version)}`;
  let actor: PersistedActor = structuredClone({
    snapshot: stored.snapshot,
    state: stored.state,
    history: stored.history ?? [],
  });
  for (let v = stored.version; v < binding.version; v++) {
    const step = binding.migrations?.[v];
    if (!step) return `no migration from version ${v}`;
    try {
      actor = step(actor);
    } catch (e) {
      return `the migration from version ${v} failed: ${(e as Error).message}`;
    }
  }
  return actor;
}
