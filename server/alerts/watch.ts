import type { Balance } from '../channels/zadarma/client';
import type { Job } from '../engine/jobs';
import type { Logger } from '../lib/log';
import type { AlertPayload } from './binding';

/** Refused webhooks on one route within PROBE_WINDOW_MS that make an alert (someone probing). */
export const PROBE_THRESHOLD = 5;
export const PROBE_WINDOW_MS = 10 * 60 * 1000;
/** While probing goes on, further refusals are reported at most this often (counted in between). */
const PROBE_REPORT_MS = 60 * 1000;
export const BALANCE_CHECK_MS = 60 * 60 * 1000;
export const BALANCE_CAUSE = 'zadarmaBalance';
export const webhookCause = (route: string) => `webhookAuth:${route}`;

type Report = (p: AlertPayload) => Promise<void>;

/**
 * Counts webhooks refused for a wrong or missing signature/secret, per route. The 10-minute detection
 * window is kept in memory (a restart forgets at most a few refusals); what admins were told, the
 * hourly limit and the quiet-hour recovery live in the alerts actor. Reports are batched (at most one a
 * minute per route) so a flood of bad requests cannot flood the store.
 */
export class WebhookAuthWatch implements Job {
  readonly name = 'webhook auth watch';
  private readonly routes = new Map<
    string,
    { recent: number[]; lastReport: number | null; pending: number }
  >();

  constructor(
    private readonly report: Report,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** A webhook on `route` was refused for its signature or secret. */
  refused(route: string): void {
    const now = this.clock();
    const r = this.routes.get(route) ?? { recent: [], lastReport: null, pending: 0 };
    this.routes.set(route, r);
    r.recent = r.recent.filter((t) => now - t < PROBE_WINDOW_MS && t <= now);
    r.recent.push(now);
    if (r.recent.length > PROBE_THRESHOLD) r.recent.shift();
    if (r.recent.length < PROBE_THRESHOLD) return;
    if (r.lastReport === null || now - r.lastReport >= PROBE_WINDOW_MS) {
      // A new burst: the refusals that made it.
      this.send(route, r, r.recent.length, now);
      return;
    }
    r.pending++;
    if (now - r.lastReport >= PROBE_REPORT_MS) this.send(route, r, r.pending, now);
  }

  /** Reports refusals counted since the last report, once a minute has passed. */
  async run(now: number): Promise<void> {
    for (const [route, r] of this.routes) {
      if (r.pending > 0 && r.lastReport !== null && now - r.lastReport >= PROBE_REPORT_MS)
        this.send(route, r, r.pending, now);
    }
  }

  private send(route: string, r: { lastReport: number | null; pending: number }, count: number, now: number) {
    r.lastReport = now;
    r.pending = 0;
    this.report({
      op: 'raise',
      cause: webhookCause(route),
      kind: 'webhookAuth',
      info: { route, count, minutes: PROBE_WINDOW_MS / 60_000 },
      count,
    }).catch((e) =>
      this.log.error('alerts: cannot record refused webhooks', { route, error: (e as Error).message }),
    );
  }
}

/**
 * The Zadarma balance against ZADARMA_BALANCE_ALERT: at start and then hourly. Only a change is
 * reported (low while not alerted; above again while alerted), so a restart does not repeat it.
 */
export class BalanceWatch implements Job {
  readonly name = 'zadarma balance check';
  private lastAt: number | null = null;

  constructor(
    private readonly deps: {
      fetch: () => Promise<Balance>;
      threshold: number;
      report: Report;
      /** Whether admins were alerted about the balance and not yet told it recovered. */
      active: () => boolean;
      log: Logger;
    },
  ) {}

  async run(now: number): Promise<void> {
    if (this.lastAt !== null && now - this.lastAt < BALANCE_CHECK_MS) return;
    this.lastAt = now;
    const { log, threshold } = this.deps;
    let b: Balance;
    try {
      b = await this.deps.fetch();
    } catch (e) {
      log.warn('zadarma: balance check failed, next try in an hour', { error: (e as Error).message });
      return;
    }
    log.info('zadarma: balance checked', { balance: b.balance, currency: b.currency, threshold });
    const info = { balance: b.balance, currency: b.currency, threshold };
    const low = b.balance < threshold;
    if (low && !this.deps.active())
      await this.deps.report({ op: 'raise', cause: BALANCE_CAUSE, kind: 'zadarmaBalance', info });
    else if (!low && this.deps.active())
      await this.deps.report({ op: 'recover', cause: BALANCE_CAUSE, kind: 'zadarmaBalance', info });
  }
}
