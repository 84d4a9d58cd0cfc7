import type { Logger } from '../lib/log';
import { DEDUPE_TTL_MS, type Engine } from './engine';
import type { Job } from './jobs';
import { isNewerSnapshot } from './snapshot-version';

/** Finished actors (a gate call, a voice-menu call) are kept this long for the inspector, then dropped. */
export const FINISHED_ACTOR_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * Turns stored deadlines into TIMEOUT events (dialog expiry, call timeouts) and forgets dedupe keys
 * older than the platforms redeliver, and finished actors after their retention. A job of the Ticker
 * (server/engine/jobs.ts): deadlines are data in the store, so they fire after a restart too, the first sweep
 * running at start.
 */
export class Sweeper implements Job {
  readonly name = 'sweeper';
  private lastPrune = 0;

  constructor(
    private readonly engine: Engine,
    private readonly log: Logger,
  ) {}

  async run(now: number): Promise<void> {
    await Promise.all(
      this.engine.due(now).map(({ key, deadline }) =>
        this.engine.timeout(key, deadline).catch((e) => {
          // An actor a newer instance stored waits for it (the engine said so once); anything else is news.
          if (!isNewerSnapshot(e))
            this.log.error('sweeper: timeout failed, will retry', { key, error: (e as Error).message });
        }),
      ),
    );
    if (now - this.lastPrune > 3600_000) {
      this.lastPrune = now;
      await this.engine.pruneDedupe(now - DEDUPE_TTL_MS).catch((e) => {
        this.log.error('sweeper: pruning dedupe keys failed', { error: (e as Error).message });
      });
      await this.engine.pruneFinished(now - FINISHED_ACTOR_TTL_MS).catch((e) => {
        this.log.error('sweeper: pruning finished actors failed', { error: (e as Error).message });
      });
    }
  }
}
