import type { Api } from 'node-telegram-bot-api';
import type { Logger } from '../../lib/log';
import { TELEGRAM_UPDATES } from './update-types';

const POLL_TIMEOUT_S = 25;

/**
 * Long polling that loses nothing: an update is confirmed to Telegram (by asking for the next offset)
 * only after it was committed; one that failed is asked for again (dedupe on update_id absorbs the
 * repeats). Updates are handled one after another, in Telegram's order.
 */
export class TelegramPoller {
  private abort = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly api: Api,
    private readonly handle: (update: unknown) => Promise<void>,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let offset: number | undefined;
    let failures = 0;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let updates: Array<{ update_id: number }>;
      try {
        updates = (await this.api.getUpdates(
          { offset, timeout: POLL_TIMEOUT_S, allowed_updates: TELEGRAM_UPDATES },
          signal,
        )) as Array<{ update_id: number }>;
        failures = 0;
      } catch (e) {
        if (signal.aborted) return;
        failures++;
        this.log.warn('telegram: getUpdates failed, will retry', { error: (e as Error).message, failures });
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)), signal);
        continue;
      }
      for (const u of updates) {
        try {
          await this.handle(u);
          offset = u.update_id + 1;
        } catch (e) {
          this.log.error('telegram: update not processed, will be fetched again', {
            update: u.update_id,
            error: (e as Error).message,
          });
          await sleep(1000, signal);
          break;
        }
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
