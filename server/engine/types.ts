import type { AnyStateMachine } from 'xstate';
import type { Doc, DocWrite } from '../../storage/store';

/** An event as machines see it: a `type` plus plain JSON data. */
export type MachineEvent = { type: string } & Record<string, unknown>;

/** A named action a machine emitted, as data (params already resolved). */
export interface EmittedAction {
  type: string;
  params: unknown;
}

/** An effect waiting in the outbox (document `outbox/<id>`). */
export interface EffectRow extends Doc {
  id: string;
  /** The actor that caused it; effects of one key are carried out in order. */
  key: string;
  /** Which runner carries it out (`whatsapp`, `telegram`, `zadarma`). */
  channel: string;
  payload: Record<string, unknown>;
  createdAt: number;
  attempts: number;
  nextAt: number;
  lastError?: string;
}

/** What a machine's actions turn into: outbox effects and store writes of the same commit. */
export interface Plan {
  effects: Array<{ channel: string; payload: Record<string, unknown> }>;
  writes: DocWrite[];
  /** The HTTP answer the platform waits for (a voice-menu instruction), if any. */
  response?: unknown;
}

/**
 * What a binding knows of one step: its own actor and the event, nothing of the store. Whatever else an
 * action needs reaches it through the event (built under the partition's lock) or the action's params.
 * `defineBinding` types the event and the context as the machine's own.
 */
export interface StepContext<E = MachineEvent, C = Record<string, unknown>> {
  key: string;
  now: number;
  event: E;
  /** The actor after this step: its state name, status and context (for domain records). */
  after: { state: string; done: boolean; context: C };
}

/** A machine as the engine runs it: the pure logic plus how its actions become effects. */
export interface Binding {
  name: string;
  /** Actor keys of this machine start with it (`wa:`, `call:`…). */
  keyPrefix: string;
  /**
   * The partition an actor's commits go to and the lock its events take; by default the key itself.
   * Actors that must change a shared record atomically share one (every call of a gate: `gate:<name>`).
   */
  partition?: (key: string) => string;
  /** Bumped when the stored snapshot changes shape; older ones are migrated (below) or reset politely. */
  version: number;
  logic: AnyStateMachine;
  /** version → the pure migration of a stored actor from it to the next version (machines/migrations.ts). */
  migrations?: Readonly<Record<number, (actor: PersistedActor) => PersistedActor>>;
  /** Input for a fresh actor (`reset` is true when an incompatible snapshot was dropped). */
  input?: (key: string, reset: boolean) => unknown;
  /**
   * A stored actor that cannot be resumed (no migration path, or a snapshot the machine cannot take)
   * starts afresh; what that must undo or tell, committed with the step that restarts it.
   */
  onReset?: (stored: ActorRecord, ctx: { key: string; now: number }) => Plan;
  interpret(actions: EmittedAction[], ctx: StepContext): Plan;
  /** The action names `interpret` carries out (a binding made by `defineBinding`: one handler each). */
  handles?: readonly string[];
}

/** What a migration rewrites of a stored actor: its snapshot, state label and history labels. */
export interface PersistedActor {
  snapshot: Record<string, unknown>;
  state: string;
  history: ActorRecord['history'];
}

/** A runner's verdict on one effect. */
export type EffectOutcome =
  | { ok: true; writes?: DocWrite[]; event?: MachineEvent }
  | { ok: false; permanent: boolean; error: string; retryAfterMs?: number; event?: MachineEvent };

/** Carries out one effect; `signal` aborts a send that is taking too long when the service stops. */
export type EffectRunner = (effect: EffectRow, signal: AbortSignal) => Promise<EffectOutcome>;

/** One stored actor (document `actors/<key>`). */
export interface ActorRecord extends Doc {
  key: string;
  machine: string;
  version: number;
  snapshot: Record<string, unknown>;
  /** When the machine wants a TIMEOUT (from its context.deadline), or null. */
  deadline: number | null;
  state: string;
  lastEvent: string;
  updatedAt: number;
  /**
   * The last transitions (bounded), for the inspector; `ref` is the delivery's dedupe key, `effects`
   * what the step queued (summarised, bounded: engine/effect-summary.ts).
   */
  history: Array<{
    at: number;
    event: string;
    from: string;
    to: string;
    ref?: string;
    effects?: HistoryEffect[];
  }>;
}

/** One effect a step queued, as its actor's history keeps it. */
export interface HistoryEffect {
  /** The start of the outbox row's id (a gate call's key carries the whole id). */
  id: string;
  channel: string;
  /** One line, phones masked. */
  summary: string;
}
