import type { Logger } from '../lib/log';

/** Work that is due at some time of day or every so often; `run` decides from `now` and stored data. */
export interface Job {
  name: string;
  run(now: number): Promise<void>;
}

/**
 * Runs every job at start and then every `intervalMs`, each job on its own loop (a slow one, such as a
 * balance check waiting on an API, never holds up the sweeper's deadlines), a job never overlapping
 * itself. Jobs keep what they must remember across restarts in the store (deadlines, the reminders'
 * last run) or redo it at start (the balance check), so these loops hold nothing worth losing.
 */
export class Ticker {
  private timers = new Map<Job, NodeJS.Timeout>();
  private running = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly jobs: Job[],
    private readonly log: Logger,
    private readonly intervalMs = 1000,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    for (const job of this.jobs) this.schedule(job, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.running]);
  }

  private schedule(job: Job, delay: number): void {
    if (this.stopped) return;
    this.timers.set(
      job,
      setTimeout(() => {
        const run = job
          .run(this.clock())
          .catch((e) =>
            this.log.error(`${job.name}: failed, will try again`, { error: (e as Error).message }),
          )
          .finally(() => {
            this.running.delete(run);
            this.schedule(job, this.intervalMs);
          });
        this.running.add(run);
      }, delay),
    );
  }
}
