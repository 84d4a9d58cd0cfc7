import { randomUUID } from 'node:crypto';
import type { AnyMachineSnapshot } from 'xstate';
import { type DocWrite, put, remove, type Store } from '../../storage/store';
import type { Logger } from '../lib/log';
import { summariseEffects } from './effect-summary';
import { KeyedLock } from './keyed-lock';
import { initialTransition, transition } from './machine-step';
import { migrate, NewerSnapshotError } from './snapshot-version';
import type {
  ActorRecord,
  Binding,
  EffectOutcome,
  EffectRow,
  EmittedAction,
  MachineEvent,
  PersistedActor,
  Plan,
} from './types';

/** Transitions kept per actor for the inspector (each ~100–150 bytes with a real wamid as `ref`, plus ~100 per effect summarised). */
export const HISTORY_LIMIT = 10;
/** How many actors' live snapshots are kept to skip `resolveState` on their next event. */
const SNAPSHOT_CACHE = 4096;
/** How long a dedupe key is remembered: past the platforms' longest redelivery (7 days). */
export const DEDUPE_TTL_MS = 8 * 24 * 3600 * 1000;

export interface DispatchRequest {
  key: string;
  machine: string;
  /** Platform id of this delivery (wamid, update_id…): a second delivery changes nothing. */
  dedupeKey?: string;
  /** Built under the key's lock, so it can read the store state this step will see. */
  event: (ctx: { now: number; context: Record<string, unknown> | undefined }) => MachineEvent;
  /** Extra writes of the same commit (e.g. "contact seen"), also built under the lock. */
  writes?: (now: number) => DocWrite[];
  /**
   * The event is the TIMEOUT of this stored deadline (the sweeper's): it is not fired a second time
   * before itself, and it is dropped when the actor no longer has that deadline (an event that took
   * the lock first moved or cleared it).
   */
  timeoutOf?: number;
}

export interface DispatchResult {
  duplicate: boolean;
  state?: string;
  /** The machine's answer for the platform (see Plan.response); a duplicate gets the first one again. */
  response?: unknown;
}

export interface EngineDeps {
  store: Store;
  bindings: Binding[];
  log: Logger;
  clock?: () => number;
  /** Called after a commit with the effects it queued (the outbox listens here). */
  onEffects?: (effects: EffectRow[]) => void;
  /** Effects to queue in the same commit that dead-letters `effect` (the admin alert about it). */
  onDeadLetter?: (effect: EffectRow, error: string) => Plan['effects'];
}

/**
 * The one path every inbound event takes, for every channel:
 *   dedupe → lock the actor key → restore (or start fresh) → step the pure machine with `transition()`
 *   → ONE store commit {snapshot, outbox effects, dedupe key, domain writes} → resolve (the caller
 *   answers HTTP). Effects run only after that commit, in the outbox; timers are stored deadlines that
 *   the sweeper turns into TIMEOUT events.
 */
export class Engine {
  readonly lock = new KeyedLock();
  private readonly bindings = new Map<string, Binding>();
  private readonly deadlines = new Map<string, number>();
  /**
   * actor key -> the record this engine last committed and the live snapshot it was made from. While
   * the store still holds that very record object, the snapshot is what `resolveState` would rebuild
   * from it; any other write of the record (a restore, a reload after a failed write, another version)
   * is another object, and the record is resolved again.
   */
  private readonly snapshots = new Map<string, { record: ActorRecord; snapshot: AnyMachineSnapshot }>();
  /** `key@version` of the newer stored actors refused so far: each is logged once. */
  private readonly refused = new Set<string>();
  private readonly clock: () => number;

  constructor(private readonly deps: EngineDeps) {
    this.clock = deps.clock ?? Date.now;
    for (const b of deps.bindings) this.bindings.set(b.name, b);
    for (const a of deps.store.all<ActorRecord>('actors'))
      if (a.deadline !== null) this.deadlines.set(a.key, a.deadline);
  }

  get store(): Store {
    return this.deps.store;
  }

  /** Feeds one event to the actor `key`; resolves after the commit is on disk. */
  dispatch(req: DispatchRequest, extra: DocWrite[] = []): Promise<DispatchResult> {
    return this.lock.run(this.partitionOf(req.key), () => this.step(req, extra));
  }

  /** A commit with no machine step (delivery statuses and the like), deduplicated and ordered like events. */
  record(req: {
    key: string;
    dedupeKey?: string;
    writes: (now: number) => DocWrite[];
  }): Promise<DispatchResult> {
    const partition = this.partitionOf(req.key);
    return this.lock.run(partition, async () => {
      if (req.dedupeKey && this.seen(req.dedupeKey)) return { duplicate: true };
      const now = this.clock();
      const writes = req.writes(now);
      if (req.dedupeKey) writes.push(this.dedupeWrite(req.dedupeKey, req.key, now));
      await this.store.commit(partition, writes);
      return { duplicate: false };
    });
  }

  /** The partition (and lock) of an actor key: its machine's choice, or the key itself. */
  partitionOf(key: string): string {
    for (const b of this.bindings.values()) {
      if (key.startsWith(b.keyPrefix)) return b.partition ? b.partition(key) : key;
    }
    return key;
  }

  /** Settles an outbox effect: removes (or dead-letters) it, applies the outcome's writes and event. */
  async settle(effect: EffectRow, outcome: EffectOutcome, deadLetter: boolean): Promise<void> {
    const writes: DocWrite[] = [remove('outbox', effect.id)];
    if (outcome.ok && outcome.writes) writes.push(...outcome.writes);
    let followUps: EffectRow[] = [];
    if (deadLetter && !outcome.ok) {
      const now = this.clock();
      writes.push(put('deadletters', effect.id, { ...effect, lastError: outcome.error, failedAt: now }));
      followUps = this.effectRows(effect.key, this.deps.onDeadLetter?.(effect, outcome.error) ?? [], now);
      writes.push(...followUps.map((e) => put('outbox', e.id, e)));
    }
    const machine = this.machineOf(effect.key);
    if (outcome.event && machine) {
      const result = await this.dispatch(
        {
          key: effect.key,
          machine,
          dedupeKey: `result:${effect.id}`,
          event: () => outcome.event as MachineEvent,
        },
        writes,
      );
      if (result.duplicate) return;
    } else await this.commitTo(effect.key, writes);
    if (followUps.length > 0) this.deps.onEffects?.(followUps);
  }

  /** Stores a failed attempt so the retry schedule survives a restart. */
  async reschedule(effect: EffectRow): Promise<void> {
    await this.commitTo(effect.key, [put('outbox', effect.id, effect)]);
  }

  /** Keys whose deadline has passed. */
  due(now = this.clock()): Array<{ key: string; deadline: number }> {
    const out: Array<{ key: string; deadline: number }> = [];
    for (const [key, deadline] of this.deadlines) if (deadline <= now) out.push({ key, deadline });
    return out;
  }

  /** Sends TIMEOUT to an actor whose deadline passed (at most once per deadline). */
  timeout(key: string, deadline: number): Promise<DispatchResult> {
    const machine = this.machineOf(key);
    if (!machine) {
      this.deadlines.delete(key);
      return Promise.resolve({ duplicate: true });
    }
    return this.dispatch({
      key,
      machine,
      dedupeKey: `timeout:${key}:${deadline}`,
      timeoutOf: deadline,
      event: ({ now }) => ({ type: 'TIMEOUT', now }),
    }).then((result) => {
      // Already fired (e.g. before a crash): forget it, or the sweeper would keep asking.
      if (result.duplicate && this.deadlines.get(key) === deadline) this.deadlines.delete(key);
      return result;
    });
  }

  /** Forgets finished actors (final state) not touched since `before`; their domain records stay. */
  async pruneFinished(before: number): Promise<number> {
    const gone: Array<{ key: string; write: DocWrite }> = [];
    for (const a of this.store.all<ActorRecord>('actors')) {
      // A newer instance's actor is its own business, finished or not.
      if (a.version > (this.bindings.get(a.machine)?.version ?? Number.POSITIVE_INFINITY)) continue;
      if (a.updatedAt < before && (a.snapshot as { status?: string }).status === 'done')
        gone.push({ key: a.key, write: remove('actors', a.key) });
    }
    return this.commitEach(gone);
  }

  /** Forgets dedupe keys seen before `before` (they can no longer be redelivered). */
  async pruneDedupe(before: number): Promise<number> {
    const gone: Array<{ key: string; write: DocWrite }> = [];
    for (const [id, d] of this.store.entries<{ key: string; at: number }>('dedupe'))
      if (d.at < before) gone.push({ key: d.key, write: remove('dedupe', id) });
    return this.commitEach(gone);
  }

  /** A commit with no machine step to the partition of actor `key`, under its lock. */
  private commitTo(key: string, writes: DocWrite[]): Promise<void> {
    const partition = this.partitionOf(key);
    return this.lock.run(partition, () => this.store.commit(partition, writes));
  }

  /** Writes that each belong to an actor key, one commit per partition; resolves to how many. */
  private async commitEach(writes: Array<{ key: string; write: DocWrite }>): Promise<number> {
    const byPartition = new Map<string, DocWrite[]>();
    for (const { key, write } of writes) {
      const partition = this.partitionOf(key);
      const list = byPartition.get(partition) ?? [];
      list.push(write);
      byPartition.set(partition, list);
    }
    for (const [partition, list] of byPartition)
      await this.lock.run(partition, () => this.store.commit(partition, list));
    return writes.length;
  }

  private effectRows(key: string, specs: Plan['effects'], now: number): EffectRow[] {
    return specs.map((e) => ({
      id: randomUUID(),
      key,
      channel: e.channel,
      payload: e.payload,
      createdAt: now,
      attempts: 0,
      nextAt: now,
    }));
  }

  private machineOf(key: string): string | undefined {
    return this.store.get<ActorRecord>('actors', key)?.machine;
  }

  private seen(dedupeKey: string): boolean {
    return this.store.get('dedupe', dedupeKey) !== undefined;
  }

  private dedupeWrite(dedupeKey: string, key: string, now: number, response?: unknown): DocWrite {
    return put('dedupe', dedupeKey, { key, at: now, ...(response === undefined ? {} : { response }) });
  }

  private async step(req: DispatchRequest, extra: DocWrite[]): Promise<DispatchResult> {
    if (req.dedupeKey) {
      const seen = this.store.get<{ response?: unknown }>('dedupe', req.dedupeKey);
      if (seen) return { duplicate: true, response: seen.response };
    }
    const binding = this.bindings.get(req.machine);
    if (!binding) throw new Error(`no machine named ${req.machine}`);
    const now = this.clock();
    const stored = this.store.get<ActorRecord>('actors', req.key);
    if (req.timeoutOf !== undefined && stored?.deadline !== req.timeoutOf) return { duplicate: true };
    const restored = this.restore(binding, req.key, stored, now);
    let { snapshot, actions } = restored;
    const fromState = stateLabel(snapshot);
    const history: ActorRecord['history'] = [];

    // A deadline that passed while nobody swept it (the server was down) fires before the event,
    // unless the event is that deadline's own TIMEOUT.
    if (req.timeoutOf === undefined && stored?.deadline != null && stored.deadline <= now) {
      const [afterTimeout, timeoutActions] = transition(binding.logic, snapshot, { type: 'TIMEOUT', now });
      history.push({ at: now, event: 'TIMEOUT', from: fromState, to: stateLabel(afterTimeout) });
      snapshot = afterTimeout;
      actions = actions.concat(emitted(timeoutActions));
    }

    const context = snapshot.context as Record<string, unknown> | undefined;
    const event = req.event({ now, context });
    const before = stateLabel(snapshot);
    const [next, stepActions] = transition(binding.logic, snapshot, event);
    actions = actions.concat(emitted(stepActions));
    const to = stateLabel(next);

    const plan: Plan = binding.interpret(actions, {
      key: req.key,
      now,
      event,
      after: { state: to, done: next.status === 'done', context: next.context as Record<string, unknown> },
    });
    const reset = restored.reset ?? { effects: [], writes: [] };
    const effects = this.effectRows(req.key, [...reset.effects, ...plan.effects], now);
    const queued = summariseEffects(effects);
    history.push({
      at: now,
      event: event.type,
      from: before,
      to,
      ...(req.dedupeKey ? { ref: req.dedupeKey } : {}),
      ...(queued ? { effects: queued } : {}),
    });
    const nextContext = next.context as { deadline?: unknown } | undefined;
    const deadline = typeof nextContext?.deadline === 'number' ? nextContext.deadline : null;
    const record: ActorRecord = {
      key: req.key,
      machine: binding.name,
      version: binding.version,
      snapshot: slimSnapshot(binding.logic.getPersistedSnapshot(next) as Record<string, unknown>),
      deadline,
      state: to,
      lastEvent: event.type,
      updatedAt: now,
      history: appendBounded(restored.history, history, HISTORY_LIMIT),
    };
    const writes: DocWrite[] = [
      ...(req.writes?.(now) ?? []),
      ...reset.writes,
      ...plan.writes,
      ...extra,
      put('actors', req.key, record),
      ...effects.map((e) => put('outbox', e.id, e)),
    ];
    if (req.dedupeKey) writes.push(this.dedupeWrite(req.dedupeKey, req.key, now, plan.response));

    await this.store.commit(this.partitionOf(req.key), writes);

    this.remember(binding, req.key, record, next);
    if (deadline === null) this.deadlines.delete(req.key);
    else this.deadlines.set(req.key, deadline);
    if (effects.length > 0) this.deps.onEffects?.(effects);
    return { duplicate: false, state: to, response: plan.response };
  }

  /**
   * Keeps the live snapshot of a committed record when `resolveState` of its persisted form gives the
   * same snapshot back: an active machine without children, history or parallel states (the order of
   * a parallel state's nodes may differ between a stepped and a resolved snapshot).
   */
  private remember(binding: Binding, key: string, record: ActorRecord, next: AnyMachineSnapshot): void {
    this.snapshots.delete(key);
    if (next.status !== 'active' || hasKeys(next.children) || hasKeys(next.historyValue)) return;
    if (typeof next.value !== 'string' && hasParallel(binding.logic)) return;
    if (this.snapshots.size >= SNAPSHOT_CACHE) {
      const oldest = this.snapshots.keys().next().value;
      if (oldest !== undefined) this.snapshots.delete(oldest);
    }
    this.snapshots.set(key, { record, snapshot: next });
  }

  /**
   * The stored snapshot (carried forward by the machine's migrations when it is of an earlier
   * version), or a fresh one when there is none or it cannot be resumed; then `reset` is what the
   * binding wants done about the actor dropped. A snapshot of a newer version is never touched: the
   * event is refused (NewerSnapshotError) and comes again later.
   */
  private restore(
    binding: Binding,
    key: string,
    stored: ActorRecord | undefined,
    now: number,
  ): {
    snapshot: AnyMachineSnapshot;
    actions: EmittedAction[];
    history: ActorRecord['history'];
    reset?: Plan;
  } {
    const cached = this.snapshots.get(key);
    if (cached) {
      if (cached.record === stored && stored.machine === binding.name && stored.version === binding.version)
        return { snapshot: cached.snapshot, actions: [], history: stored.history };
      this.snapshots.delete(key);
    }
    if (stored && stored.machine === binding.name) {
      if (stored.version > binding.version) throw this.refuse(binding, stored);
      const persisted: PersistedActor | string =
        stored.version === binding.version ? stored : migrate(binding, stored);
      if (typeof persisted === 'string') {
        this.deps.log.warn('stored snapshot is of another machine version; starting the dialog afresh', {
          key,
          stored: `${stored.machine}@${stored.version}`,
          current: `${binding.name}@${binding.version}`,
          why: persisted,
        });
      } else {
        try {
          const snapshot = resolve(binding, persisted.snapshot);
          if (persisted !== stored)
            this.deps.log.info('stored snapshot migrated', {
              key,
              from: `${stored.machine}@${stored.version}`,
              to: `${binding.name}@${binding.version}`,
              state: persisted.state,
            });
          return { snapshot, actions: [], history: persisted.history };
        } catch (e) {
          this.deps.log.warn('stored snapshot cannot be resumed; starting the dialog afresh', {
            key,
            version: stored.version,
            error: (e as Error).message,
          });
        }
      }
    } else if (stored) {
      this.deps.log.warn('stored snapshot is of another machine; starting the dialog afresh', {
        key,
        stored: `${stored.machine}@${stored.version}`,
        current: `${binding.name}@${binding.version}`,
      });
    }
    const [snapshot, actions] = initialTransition(binding.logic, binding.input?.(key, stored !== undefined));
    return {
      snapshot,
      actions: emitted(actions),
      history: stored?.history ?? [],
      ...(stored && binding.onReset ? { reset: binding.onReset(stored, { key, now }) } : {}),
    };
  }

  /** The refusal of an event for an actor a newer instance stored; logged once per actor and version. */
  private refuse(binding: Binding, stored: ActorRecord): NewerSnapshotError {
    const error = new NewerSnapshotError(stored.key, binding.name, stored.version, binding.version);
    const seen = `${stored.key}@${stored.version}`;
    if (!this.refused.has(seen)) {
      this.refused.add(seen);
      this.deps.log.warn(
        'stored snapshot is of a newer machine version; event refused, to come again later',
        {
          key: stored.key,
          machine: binding.name,
          stored: stored.version,
          current: binding.version,
        },
      );
    }
    return error;
  }
}

/** A live snapshot from its persisted form (throws when the machine has no such state). */
function resolve(binding: Binding, persisted: Record<string, unknown>): AnyMachineSnapshot {
  return binding.logic.resolveState({
    value: persisted.value,
    context: persisted.context,
    historyValue: persisted.historyValue,
  } as never);
}

/**
 * XState's persisted snapshot without its empty `children` and `historyValue` (`{}` for every actor of
 * these machines): `restore` reads neither when absent, and each actor stores ~33 bytes less.
 */
function slimSnapshot(snapshot: Record<string, unknown>): Record<string, unknown> {
  const { children, historyValue, ...rest } = snapshot;
  if (children !== undefined && hasKeys(children as object)) rest.children = children;
  if (historyValue !== undefined && hasKeys(historyValue as object)) rest.historyValue = historyValue;
  return rest;
}

/** The last `limit` entries of `prev` followed by `added`, in one new array. */
function appendBounded<T>(prev: readonly T[] | undefined, added: readonly T[], limit: number): T[] {
  const old = prev ?? [];
  const keep = Math.max(0, Math.min(old.length, limit - added.length));
  const out = old.slice(old.length - keep);
  for (const a of added.length > limit ? added.slice(added.length - limit) : added) out.push(a);
  return out;
}

const hasKeys = (o: object | undefined): boolean => {
  for (const _ in o) return true;
  return false;
};

const parallel = new WeakMap<Binding['logic'], boolean>();
/** Does the machine have a parallel state anywhere? */
function hasParallel(logic: Binding['logic']): boolean {
  let p = parallel.get(logic);
  if (p === undefined) {
    const walk = (node: Binding['logic']['root']): boolean =>
      node.type === 'parallel' || Object.values(node.states).some(walk);
    p = walk(logic.root);
    parallel.set(logic, p);
  }
  return p;
}

/** Keeps the named actions a channel interprets; XState's own bookkeeping actions are not effects. */
function emitted(actions: ReadonlyArray<{ type: string; params?: unknown }>): EmittedAction[] {
  const out: EmittedAction[] = [];
  for (const a of actions) if (!a.type.startsWith('xstate.')) out.push({ type: a.type, params: a.params });
  return out;
}

/** `idle`, `call.pending`: a readable name of the current state. */
export function stateLabel(snapshot: { value: unknown }): string {
  if (typeof snapshot.value === 'string') return snapshot.value;
  const walk = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object') {
      return Object.entries(v)
        .map(([k, child]) => `${k}.${walk(child)}`)
        .join(',');
    }
    return String(v);
  };
  return walk(snapshot.value);
}
