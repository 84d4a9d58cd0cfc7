import {
  ADMIN_ALERTS_KEY,
  type AdminAlertsContext,
  type AlertInfo,
  type AlertKind,
  type AlertNotice,
  POLICIES,
} from '../../machines/admin-alerts';
import { MACHINES } from '../../machines/index';
import type { Store } from '../../storage/store';
import { TELEGRAM_CHANNEL } from '../channels/telegram/client';
import type { Engine } from '../engine/engine';
import type { ActorRecord, Binding, EffectRunner, Plan } from '../engine/types';
import { clockTimeIn } from '../lib/clock';
import type { Logger } from '../lib/log';
import { uk } from '../texts/uk';
import { cleanAlertDetail } from './detail';

export const ADMIN_ALERTS_MACHINE = MACHINES['admin-alerts'].name;
/** Outbox channel that carries an occurrence (or a recovery) from the actor that saw it to the alerts actor. */
export const ALERT_CHANNEL = 'alert';

export interface AlertPayload {
  [k: string]: unknown;
  op: 'raise' | 'recover';
  cause: string;
  kind: AlertKind;
  /** `detail` is the outside text the alert quotes (an API's error, a failed send's error), as it came. */
  info?: AlertInfo;
  count?: number;
}

export type ReportAlert = (p: AlertPayload, dedupeKey?: string) => Promise<void>;

/**
 * An `alert` effect: committed with the step that saw the problem (a gate call, a dead letter), then
 * handed to the alerts actor by the outbox, so an alert is neither lost nor doubled by a crash.
 */
export function alertEffect(p: AlertPayload): { channel: string; payload: Record<string, unknown> } {
  return { channel: ALERT_CHANNEL, payload: p };
}

/** Is this cause on, as far as the stored alerts actor knows? (Recoveries are sent only then.) */
export function alertActive(store: Store, cause: string): boolean {
  const a = store.get<ActorRecord>('actors', ADMIN_ALERTS_KEY);
  const context = (a?.snapshot as { context?: AdminAlertsContext } | undefined)?.context;
  return context?.causes?.[cause]?.active === true;
}

/**
 * Feeds occurrences and recoveries to the alerts actor. Every cause comes in here (the `alert` runner,
 * the server's own checks), so this is where the `detail` an alert quotes is cleaned, for all of them.
 */
export function alertReporter(engine: Engine, secrets: readonly string[]): ReportAlert {
  return async (p, dedupeKey) => {
    const info =
      p.info && typeof p.info.detail === 'string'
        ? { ...p.info, detail: cleanAlertDetail(p.info.detail, secrets) }
        : p.info;
    await engine.dispatch({
      key: ADMIN_ALERTS_KEY,
      machine: ADMIN_ALERTS_MACHINE,
      ...(dedupeKey ? { dedupeKey } : {}),
      event: ({ now }) =>
        p.op === 'recover'
          ? { type: 'RECOVER', now, cause: p.cause, ...(info ? { info } : {}) }
          : {
              type: 'ALERT',
              now,
              cause: p.cause,
              kind: p.kind,
              info: info ?? {},
              ...(p.count ? { count: p.count } : {}),
            },
    });
  };
}

/** Carries out `alert` effects: one event for the alerts actor (deduplicated by the effect's id). */
export function alertRunner(report: ReportAlert): EffectRunner {
  return async (effect) => {
    await report(effect.payload as AlertPayload, `alert:${effect.id}`);
    return { ok: true };
  };
}

/**
 * How the alerts actor's `notify` actions become effects: one Telegram message per admin. Every alert is
 * also logged; with no admins (or Telegram off) the log line is all there is.
 */
export function adminAlertsBinding(deps: {
  adminIds: number[];
  telegram: boolean;
  timezone: string;
  log: Logger;
}): Binding {
  return {
    ...MACHINES['admin-alerts'],
    interpret(actions) {
      const plan: Plan = { effects: [], writes: [] };
      const to = deps.telegram ? deps.adminIds : [];
      for (const a of actions) {
        if (a.type !== 'notify') continue;
        const n = a.params as AlertNotice;
        const text = alertText(n, deps.timezone);
        deps.log.warn(to.length > 0 ? 'admin alert' : 'admin alert (no Telegram admins: logged only)', {
          cause: n.cause,
          what: n.what,
          text,
        });
        for (const chatId of to) {
          plan.effects.push({
            channel: TELEGRAM_CHANNEL,
            payload: { call: { method: 'sendMessage', params: { chat_id: chatId, text } } },
          });
        }
      }
      return plan;
    },
  };
}

const str = (info: AlertInfo, k: string) => String(info[k] ?? '');
const num = (info: AlertInfo, k: string) => Number(info[k] ?? 0);

/** The admins' text of one notice (Ukrainian, like the rest of the gate bot). */
export function alertText(n: AlertNotice, timezone: string): string {
  const t = uk.alerts;
  const i = n.info;
  const since = n.since === null ? '' : clockTimeIn(timezone, n.since);
  if (n.what === 'summary')
    return t.summary(title(n), n.more, since, POLICIES[n.kind].recovers ? (n.active ? 'on' : 'off') : null);
  const more = n.more > 0 ? `\n\n${t.more(n.more, since)}` : '';
  if (n.what === 'recovered') return recoveredText(n) + more;
  switch (n.kind) {
    case 'relayAnswered':
      return uk.admin.misconfigured(str(i, 'gate'), str(i, 'relay')) + more;
    case 'zadarmaApi':
      return uk.admin.apiFailed(str(i, 'gate'), str(i, 'detail')) + more;
    case 'zadarmaBalance':
      return t.balanceLow(money(i, 'balance'), money(i, 'threshold')) + more;
    case 'deadLetter':
      return t.deadLetter(str(i, 'channel'), str(i, 'key'), str(i, 'detail')) + more;
    case 'webhookAuth':
      return t.webhookProbe(str(i, 'route'), num(i, 'count'), num(i, 'minutes')) + more;
  }
}

function recoveredText(n: AlertNotice): string {
  const t = uk.alerts;
  const i = n.info;
  switch (n.kind) {
    case 'relayAnswered':
      return t.relayRecovered(str(i, 'gate'), str(i, 'relay'));
    case 'zadarmaApi':
      return t.apiRecovered;
    case 'zadarmaBalance':
      return t.balanceRecovered(money(i, 'balance'));
    case 'webhookAuth':
      return t.webhookQuiet(str(i, 'route'));
    case 'deadLetter':
      return '';
  }
}

function title(n: AlertNotice): string {
  const t = uk.alerts.titles;
  const i = n.info;
  switch (n.kind) {
    case 'relayAnswered':
      return t.relayAnswered(str(i, 'gate'));
    case 'zadarmaApi':
      return t.zadarmaApi;
    case 'zadarmaBalance':
      return t.zadarmaBalance;
    case 'deadLetter':
      return t.deadLetter(str(i, 'channel'));
    case 'webhookAuth':
      return t.webhookAuth(str(i, 'route'));
  }
}

/** `3.20 USD` */
function money(info: AlertInfo, k: string): string {
  const v = Number(info[k]);
  const amount = Number.isFinite(v) ? v.toFixed(2) : str(info, k);
  return `${amount} ${str(info, 'currency')}`.trim();
}
