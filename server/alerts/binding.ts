import {
  ADMIN_ALERTS_KEY,
  type AdminAlertsContext,
  type AdminAlertsEvent,
  type AlertInfo,
  type AlertKind,
  type AlertNotice,
  POLICIES,
} from '../../machines/admin-alerts';
import { MACHINES } from '../../machines/index';
import type { Store } from '../../storage/store';
import { TELEGRAM_CHANNEL } from '../channels/telegram/client';
import { defineBinding } from '../engine/define-binding';
import type { Engine } from '../engine/engine';
import type { ActorRecord, Binding, EffectRunner } from '../engine/types';
import { clockTimeIn } from '../lib/clock';
import type { Logger } from '../lib/log';
import { cleanOutsideText } from '../lib/outside-text';
import { uk } from '../texts/uk';

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

/** Is this cause on, as far as the stored alerts actor knows? (Only then is a recovery worth a step.) */
export function alertActive(store: Store, cause: string): boolean {
  const a = store.get<ActorRecord>('actors', ADMIN_ALERTS_KEY);
  // The stored snapshot of the alerts actor, as its machine persisted it.
  const context = (a?.snapshot as { context?: AdminAlertsContext } | undefined)?.context;
  return context?.causes?.[cause]?.active === true;
}

/**
 * Feeds occurrences and recoveries to the alerts actor. Every cause comes in here (the `alert` runner,
 * the server's own checks), so this is where the `detail` an alert quotes is cleaned, for all of them.
 * Actors report a recovery whenever something works (every accepted gate call): one for a cause that
 * is not on would change nothing in the alerts actor, so it is dropped here rather than stored as a step.
 */
export function alertReporter(engine: Engine, secrets: readonly string[]): ReportAlert {
  return async (p, dedupeKey) => {
    if (p.op === 'recover' && !alertActive(engine.store, p.cause)) return;
    const info =
      p.info && typeof p.info.detail === 'string'
        ? { ...p.info, detail: cleanOutsideText(p.info.detail, secrets) }
        : p.info;
    await engine.dispatch({
      key: ADMIN_ALERTS_KEY,
      machine: ADMIN_ALERTS_MACHINE,
      ...(dedupeKey ? { dedupeKey } : {}),
      event: ({ now }): AdminAlertsEvent =>
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
    // The payload is what `alertEffect` stored.
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
  const to = deps.telegram ? deps.adminIds : [];
  return defineBinding(MACHINES['admin-alerts'], {
    actions: {
      notify(n, _step, plan) {
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
      },
    },
  });
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
