/**
 * How a stored actor of an earlier machine version is carried forward. A machine whose states or
 * context change bumps its version and declares, next to itself, one pure migration per earlier
 * version (`{ 1: v1 → v2, 2: v2 → v3 }`); the engine applies them in a chain up to the current version
 * before it resumes the snapshot. A version with no migration restarts the actor (politely).
 */

/** One remembered transition: the engine labels states like `live.pending`. */
export interface Transition {
  from: string;
  to: string;
}

/** What a migration rewrites: the persisted snapshot and the labels the engine stores next to it. */
export interface PersistedActor<H extends Transition = Transition> {
  /** XState's persisted snapshot: `status`, `value`, `context`… */
  snapshot: Record<string, unknown>;
  /** The label of the current state (the inspector shows it). */
  state: string;
  /** The last transitions, their `from` and `to` labelled the same way. */
  history: H[];
}

/** From one version to the next. Pure: no I/O, no clock; it gets a copy it may not keep. */
export type Migration = <H extends Transition>(actor: PersistedActor<H>) => PersistedActor<H>;

/** version → the migration from it to the next version. */
export type Migrations = Readonly<Record<number, Migration>>;

/** A nested state value from its label: `live.pending` → `{ live: 'pending' }`. */
function stateValueOf(label: string): unknown {
  const [head, ...rest] = label.split('.');
  return rest.length === 0 ? head : { [head as string]: stateValueOf(rest.join('.')) };
}

/** The label of a state value that is one state (not parallel), else undefined. */
function labelOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const entries = value && typeof value === 'object' ? Object.entries(value) : [];
  if (entries.length !== 1) return undefined;
  const [key, child] = entries[0] as [string, unknown];
  const inner = labelOf(child);
  return inner === undefined ? undefined : `${key}.${inner}`;
}

/**
 * A migration that moves states (`{ pending: 'live.pending' }`, old label → new label) and, when
 * given, reshapes the context. The state value, the stored label and every history label move alike;
 * a label the map does not name stays as it is.
 */
export function moveStates(
  moves: Readonly<Record<string, string>>,
  context: (c: Record<string, unknown>) => Record<string, unknown> = (c) => c,
): Migration {
  const move = (label: string) => (Object.hasOwn(moves, label) ? (moves[label] as string) : label);
  const moved = (value: unknown) => {
    const label = labelOf(value);
    return label !== undefined && Object.hasOwn(moves, label) ? stateValueOf(move(label)) : value;
  };
  return (actor) => {
    const { value, context: ctx, ...rest } = actor.snapshot;
    return {
      snapshot: {
        ...rest,
        value: moved(value),
        context: context((ctx ?? {}) as Record<string, unknown>),
      },
      state: move(actor.state),
      history: actor.history.map((h) => ({ ...h, from: move(h.from), to: move(h.to) })),
    };
  };
}
