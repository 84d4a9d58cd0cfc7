import type { Logger } from '../lib/log';
import type { Engine } from './engine';
import { isNewerSnapshot } from './snapshot-version';
import type { EffectOutcome, EffectRow, EffectRunner } from './types';

export interface RetryPolicy {
  /** First retry delay; doubles each attempt up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** After this many failed attempts a transient failure is dead-lettered too. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 5 * 60_000, maxAttempts: 12 };

/**
 * Carries out committed effects. Effects of one actor key run strictly in order (a reply never
 * overtakes the one before it); different keys run in parallel. A transient failure (network, 5xx,
 * 429) is retried with capped exponential backoff, honouring Retry-After; a permanent one (other
 * 4xx) goes to the dead letters with a log line. Attempts are stored, so a restart resumes the
 * schedule: `start()` reloads every pending effect from the store.
 */
export class Outbox {
  private queues = new Map<string, EffectRow[]>();
  private running = new Set<string>();
  private timers = new Set<NodeJS.Timeout>();
  private inFlight = new Set<Promise<void>>();
  private stopped = false;
  /** Aborts sends still under way when a drain has waited long enough. */
  private readonly abort = new AbortController();
  /**
   * Outcomes of effects carried out whose result could not be recorded (the store refused the write, or
   * an actor a newer instance stored refused the result's step): the next try records the result
   * instead of carrying the effect out a second time.
   */
  private readonly unsettled = new Map<string, EffectOutcome>();

  constructor(
    private readonly engine: Engine,
    private readonly runners: Record<string, EffectRunner>,
    private readonly log: Logger,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Queues every effect the store still holds (after a restart), oldest first. */
  start(): void {
    const pending = this.engine.store.all<EffectRow>('outbox').sort((a, b) => a.createdAt - b.createdAt);
    if (pending.length > 0) this.log.info('outbox: resuming pending effects', { count: pending.length });
    this.enqueue(pending);
  }

  enqueue(effects: EffectRow[]): void {
    for (const e of effects) {
      const q = this.queues.get(e.key) ?? [];
      q.push(e);
      this.queues.set(e.key, q);
      this.pump(e.key);
    }
  }

  /** Effects not yet carried out (queued or retrying). */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /**
   * Stops taking new work and waits for the sends under way to finish and be recorded; a send still
   * running after `graceMs` is aborted (it stays pending in the store and is resumed at the next start).
   */
  async drain(graceMs = 3000): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const timer = setTimeout(() => this.abort.abort(), graceMs);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    clearTimeout(timer);
  }

  private pump(key: string): void {
    if (this.stopped || this.running.has(key)) return;
    const head = this.queues.get(key)?.[0];
    if (!head) {
      this.queues.delete(key);
      return;
    }
    const wait = head.nextAt - this.clock();
    if (wait > 0) {
      this.running.add(key);
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.running.delete(key);
        this.pump(key);
      }, wait);
      this.timers.add(t);
      return;
    }
    this.running.add(key);
    const job = this.runOne(head).finally(() => {
      this.inFlight.delete(job);
      this.running.delete(key);
      this.pump(key);
    });
    this.inFlight.add(job);
  }

  private async runOne(effect: EffectRow): Promise<void> {
    const runner = this.runners[effect.channel];
    // An effect this process carried out already, whose result could not be recorded: only that is left.
    let outcome = this.unsettled.get(effect.id);
    if (outcome) this.unsettled.delete(effect.id);
    else if (!runner)
      outcome = { ok: false, permanent: true, error: `no runner for channel ${effect.channel}` };
    else {
      try {
        outcome = await runner(effect, this.abort.signal);
      } catch (e) {
        // The runner's own step was refused (a newer instance's actor): not an attempt, nothing done.
        if (isNewerSnapshot(e)) return this.later(effect);
        outcome = { ok: false, permanent: false, error: `runner crashed: ${(e as Error).message}` };
      }
    }
    let settling = false;
    try {
      if (outcome.ok) {
        settling = true;
        await this.engine.settle(effect, outcome, false);
        this.shift(effect);
        return;
      }
      if (this.abort.signal.aborted) {
        // Cut short by a stop: not the API's fault, so not an attempt; it stays pending as it was.
        this.log.warn('outbox: send aborted by shutdown, resumes at next start', {
          id: effect.id,
          key: effect.key,
        });
        return;
      }
      const attempts = effect.attempts + 1;
      if (outcome.permanent || attempts >= this.retry.maxAttempts) {
        this.log.error('outbox: effect dead-lettered', {
          id: effect.id,
          key: effect.key,
          channel: effect.channel,
          attempts,
          error: outcome.error,
        });
        settling = true;
        await this.engine.settle(effect, outcome, true);
        this.shift(effect);
        return;
      }
      const delay = outcome.retryAfterMs ?? this.backoff(attempts);
      this.log.warn('outbox: attempt failed, will retry', {
        id: effect.id,
        key: effect.key,
        attempt: attempts,
        inMs: delay,
        error: outcome.error,
      });
      const updated: EffectRow = {
        ...effect,
        attempts,
        nextAt: this.clock() + delay,
        lastError: outcome.error,
      };
      await this.engine.reschedule(updated);
      this.replaceHead(effect, updated);
    } catch (e) {
      // Its result is recorded on the next try, and the effect is not carried out again (a second
      // Zadarma callback would ring the relay twice).
      if (settling) this.unsettled.set(effect.id, outcome);
      if (isNewerSnapshot(e)) return this.later(effect);
      // The store refused the write: keep the effect queued and try again later; nothing is lost,
      // because the store still holds the effect as pending.
      this.log.error('outbox: cannot record the outcome of an effect', {
        id: effect.id,
        error: (e as Error).message,
      });
      this.replaceHead(effect, { ...effect, nextAt: this.clock() + this.backoff(effect.attempts + 1) });
    }
  }

  /**
   * Tries an effect again after the longest backoff without counting an attempt: an actor stored by a
   * newer instance refused its step (the engine logged why), and only a newer instance can take it.
   */
  private async later(effect: EffectRow): Promise<void> {
    const updated: EffectRow = { ...effect, nextAt: this.clock() + this.retry.maxDelayMs };
    try {
      await this.engine.reschedule(updated);
    } catch (e) {
      this.log.error('outbox: cannot record the outcome of an effect', {
        id: effect.id,
        error: (e as Error).message,
      });
    }
    this.replaceHead(effect, updated);
  }

  /** The queue's head, when it is still `effect`, becomes `updated` (its next try). */
  private replaceHead(effect: EffectRow, updated: EffectRow): void {
    const q = this.queues.get(effect.key);
    if (q && q[0] === effect) q[0] = updated;
  }

  private shift(effect: EffectRow): void {
    const q = this.queues.get(effect.key);
    if (q && q[0]?.id === effect.id) q.shift();
  }

  private backoff(attempt: number): number {
    const exp = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    // ±20 % jitter so that many effects failing together do not retry in lockstep.
    return Math.round(exp * (0.8 + Math.random() * 0.4));
  }
}
