import type { Logger } from './log';

/** Work that is due at some time of day or every so often; `run` decides from `now` and stored data. */
export interface Job {
  name: string;
  run(now: number): Promise<void>;
}

/**
 * Runs every job once at start and then every `intervalMs`, one after the other. Jobs keep what they
 * must remember across restarts in the store (the reminders' last run) or redo it at start (the balance
 * check), so this loop itself holds nothing worth losing.
 */
export class Ticker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly jobs: Job[],
    private readonly log: Logger,
    private readonly intervalMs = 1000,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    if (this.jobs.length === 0) return;
    const tick = () => {
      this.running = this.runAll().finally(() => {
        this.running = null;
        if (this.timer) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private async runAll(): Promise<void> {
    for (const job of this.jobs) {
      try {
        await job.run(this.clock());
      } catch (e) {
        this.log.error(`${job.name}: failed, will try again`, { error: (e as Error).message });
      }
    }
  }
}
