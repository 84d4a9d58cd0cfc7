import { ADMIN_ALERTS_KEY } from '../../machines/admin-alerts';
import {
  ALERT_CHANNEL,
  type AlertPayload,
  adminAlertsBinding,
  alertActive,
  alertEffect,
  alertReporter,
  alertRunner,
} from '../alerts/binding';
import { BALANCE_CAUSE, BalanceWatch, WebhookAuthWatch } from '../alerts/watch';
import { fetchBalance } from '../channels/zadarma/client';
import { type Config, secretsOf } from '../config/config';
import type { Engine } from '../engine/engine';
import type { Job } from '../engine/jobs';
import type { Binding, EffectRow, EffectRunner, Plan } from '../engine/types';
import { type Logger, maskPhones } from '../lib/log';

/**
 * Admin alerts: the alerts actor's machine, the `alert` runner that feeds it, the in-process checks
 * (refused webhooks, the Zadarma balance) and the dead-letter hook. Telegram messages go to
 * TELEGRAM_ADMIN_IDS through the outbox; with no admins or Telegram off, alerts are only logged.
 */
export function adminAlerts(config: Config, deps: { log: Logger; clock: () => number }) {
  const { log } = deps;
  const telegram = config.telegram.mode !== 'off';
  const bindings: Binding[] = [
    adminAlertsBinding({
      adminIds: config.telegram.adminIds,
      telegram,
      timezone: config.timezone,
      log,
    }),
  ];
  return {
    bindings,
    /** A dead letter of any channel becomes an alert in the same commit (not one about an alert). */
    onDeadLetter(effect: EffectRow, error: string): Plan['effects'] {
      if (effect.key === ADMIN_ALERTS_KEY || effect.channel === ALERT_CHANNEL) return [];
      const p: AlertPayload = {
        op: 'raise',
        cause: `deadLetter:${effect.channel}`,
        kind: 'deadLetter',
        info: {
          channel: effect.channel,
          key: maskPhones(effect.key),
          detail: error,
        },
      };
      return [alertEffect(p)];
    },
    attach(engine: Engine): {
      runners: Record<string, EffectRunner>;
      jobs: Job[];
      /** Routes call this when a webhook fails its signature or secret check. */
      refused: (route: string) => void;
    } {
      const report = alertReporter(engine, secretsOf(config));
      const webhooks = new WebhookAuthWatch(report, log, deps.clock);
      const jobs: Job[] = [webhooks];
      const z = config.zadarma;
      if (z.balanceAlert !== undefined) {
        if (z.mode === 'live' && z.apiKey && z.apiSecret) {
          const { baseUrl, apiKey, apiSecret } = z;
          jobs.push(
            new BalanceWatch({
              fetch: () => fetchBalance(baseUrl, apiKey, apiSecret),
              threshold: z.balanceAlert,
              report,
              active: () => alertActive(engine.store, BALANCE_CAUSE),
              log,
            }),
          );
        } else log.info('zadarma: balance not checked (the Zadarma channel is not live)');
      }
      return {
        runners: { [ALERT_CHANNEL]: alertRunner(report) },
        jobs,
        refused: (route) => webhooks.refused(route),
      };
    },
  };
}
