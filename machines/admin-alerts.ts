import { setup } from 'xstate';
import { type ActionMap, effect } from './effects';

/**
 * Admin alerts (one actor, key `alerts:admin`): every cause the server reports is deduplicated and
 * rate-limited here, so the limits are stored with the actor and survive restarts.
 *
 * A cause is a string such as `zadarmaApi`, `relayAnswered:hvirtka` or `webhookAuth:/webhook`; its kind
 * says which rules apply. Per cause: at most one alert an hour; further occurrences in that hour are
 * counted and, an hour after the last alert, summarised ("… and N more since HH:MM"); a recovery is
 * announced once (only when the admins were told it is broken). Pure: the time arrives in the events;
 * what admins should read leaves as `notify` actions, which the server renders and sends through the
 * outbox. The summary and "quiet for an hour" timers are the context's `deadline` (the engine stores
 * it and the sweeper sends TIMEOUT).
 */
export const ADMIN_ALERTS_VERSION = 1;
export const ADMIN_ALERTS_KEY = 'alerts:admin';
/** At most one alert per cause this often. */
export const ALERT_INTERVAL_MS = 60 * 60 * 1000;

export type AlertKind = 'relayAnswered' | 'zadarmaApi' | 'zadarmaBalance' | 'deadLetter' | 'webhookAuth';

export interface AlertPolicy {
  /** The cause is a condition that ends (RECOVER, or a quiet spell), announced once with ✅. */
  recovers: boolean;
  /** A lasting state, not occurrences: an ALERT while it is on only refreshes its details. */
  condition: boolean;
  /** Ends by itself after this long without an ALERT. */
  quietMs?: number;
}

export const POLICIES: Record<AlertKind, AlertPolicy> = {
  relayAnswered: { recovers: true, condition: false },
  zadarmaApi: { recovers: true, condition: false },
  zadarmaBalance: { recovers: true, condition: true },
  deadLetter: { recovers: false, condition: false },
  webhookAuth: { recovers: true, condition: false, quietMs: 60 * 60 * 1000 },
};

/** Details of the latest occurrence, for the texts (plain JSON the server fills in). */
export type AlertInfo = Record<string, string | number | boolean | null>;

export interface CauseState {
  kind: AlertKind;
  /** The condition is on (never for kinds that do not recover). */
  active: boolean;
  /** Admins were told it is broken and not yet that it works again. */
  announced: boolean;
  /** When the last alert or summary of this cause was sent. */
  lastSentAt: number | null;
  lastSeenAt: number;
  /** Occurrences not sent yet, counted since `since`. */
  suppressed: number;
  since: number | null;
  info: AlertInfo;
}

export interface AdminAlertsContext {
  causes: Record<string, CauseState>;
  /** The next summary or quiet-spell recovery (epoch ms); the sweeper sends TIMEOUT then. */
  deadline: number | null;
}

export type AdminAlertsEvent =
  | {
      type: 'ALERT';
      now: number;
      cause: string;
      kind: AlertKind;
      info: AlertInfo;
      /** How many occurrences this event reports (default 1). */
      count?: number;
    }
  | { type: 'RECOVER'; now: number; cause: string; info?: AlertInfo }
  | { type: 'TIMEOUT'; now: number };

export interface AlertNotice {
  cause: string;
  kind: AlertKind;
  /** alert: a new occurrence; summary: what was held back in the last hour; recovered: works again. */
  what: 'alert' | 'summary' | 'recovered';
  info: AlertInfo;
  /** Occurrences held back since `since` (0: none). */
  more: number;
  since: number | null;
  /** Whether the condition is still on (summaries say so). */
  active: boolean;
}

const due = (c: CauseState, now: number) => c.lastSentAt === null || now - c.lastSentAt >= ALERT_INTERVAL_MS;

const notice = (cause: string, c: CauseState, what: AlertNotice['what']): AlertNotice => ({
  cause,
  kind: c.kind,
  what,
  info: c.info,
  more: c.suppressed,
  since: c.since,
  active: c.active,
});

/** Recovery of one cause: announced once when the admins had been told; held-back counts ride along. */
function recover(cause: string, c: CauseState, notes: AlertNotice[], info?: AlertInfo): CauseState {
  const off: CauseState = { ...c, active: false, info: info ?? c.info };
  if (!c.announced) return off; // never announced (all held back): the summary will say it
  notes.push(notice(cause, off, 'recovered'));
  return { ...off, announced: false, suppressed: 0, since: null };
}

/** The one pure step: the next causes and what admins should read. */
export function applyAlertEvent(
  context: AdminAlertsContext,
  event: AdminAlertsEvent,
): { context: AdminAlertsContext; notes: AlertNotice[] } {
  const causes = { ...context.causes };
  const notes: AlertNotice[] = [];
  const { now } = event;

  if (event.type === 'ALERT') {
    const policy = POLICIES[event.kind];
    const prev: CauseState = causes[event.cause] ?? {
      kind: event.kind,
      active: false,
      announced: false,
      lastSentAt: null,
      lastSeenAt: now,
      suppressed: 0,
      since: null,
      info: {},
    };
    const seen: CauseState = {
      ...prev,
      kind: event.kind,
      info: event.info,
      lastSeenAt: Math.max(prev.lastSeenAt, now),
      active: policy.recovers,
    };
    if (policy.condition && prev.active) causes[event.cause] = seen;
    else if (due(prev, now)) {
      notes.push(notice(event.cause, seen, 'alert'));
      causes[event.cause] = {
        ...seen,
        lastSentAt: now,
        suppressed: 0,
        since: null,
        announced: policy.recovers,
      };
    } else {
      causes[event.cause] = {
        ...seen,
        suppressed: prev.suppressed + Math.max(1, Math.floor(event.count ?? 1)),
        since: prev.since ?? now,
      };
    }
  } else if (event.type === 'RECOVER') {
    const prev = causes[event.cause];
    if (prev?.active) causes[event.cause] = recover(event.cause, prev, notes, event.info);
  } else {
    for (const [cause, prev] of Object.entries(causes)) {
      let c = prev;
      const quiet = POLICIES[c.kind].quietMs;
      if (quiet !== undefined && c.active && now - c.lastSeenAt >= quiet) c = recover(cause, c, notes);
      if (c.suppressed > 0 && due(c, now)) {
        notes.push(notice(cause, c, 'summary'));
        c = {
          ...c,
          lastSentAt: now,
          suppressed: 0,
          since: null,
          announced: c.active && POLICIES[c.kind].recovers,
        };
      }
      causes[cause] = c;
    }
  }
  return { context: { causes, deadline: nextDeadline(causes) }, notes };
}

/** The earliest pending summary or quiet-spell recovery. */
function nextDeadline(causes: Record<string, CauseState>): number | null {
  let next: number | null = null;
  const consider = (t: number) => {
    next = next === null ? t : Math.min(next, t);
  };
  for (const c of Object.values(causes)) {
    if (c.suppressed > 0 && c.lastSentAt !== null) consider(c.lastSentAt + ALERT_INTERVAL_MS);
    const quiet = POLICIES[c.kind].quietMs;
    if (quiet !== undefined && c.active) consider(c.lastSeenAt + quiet);
  }
  return next;
}

const anyActive = (context: AdminAlertsContext) => Object.values(context.causes).some((c) => c.active);

/** What the alerts actor asks the server to do (its binding carries these out). */
export const adminAlertsEffects = {
  /** Outbound: one message to every admin (Telegram), or a log line when there is none. */
  notify: effect<AlertNotice>(),
};
export type AdminAlertsActions = ActionMap<typeof adminAlertsEffects>;

const alertsSetup = setup({
  types: {
    context: {} as AdminAlertsContext,
    events: {} as AdminAlertsEvent,
  },
  actions: adminAlertsEffects,
  guards: {
    anyActive: ({ context }) => anyActive(context),
    allClear: ({ context }) => !anyActive(context),
  },
});

/** Every event takes the one pure step; each notice becomes a `notify`. */
const apply = alertsSetup.enqueueActions(({ context, event, enqueue }) => {
  const next = applyAlertEvent(context, event);
  enqueue.assign(next.context);
  for (const n of next.notes) enqueue({ type: 'notify', params: n });
});

export const adminAlertsMachine = alertsSetup.createMachine({
  id: 'admin-alerts',
  initial: 'ok',
  context: { causes: {}, deadline: null },
  on: {
    ALERT: { actions: apply },
    RECOVER: { actions: apply },
    TIMEOUT: { actions: apply },
  },
  states: {
    /** Nothing is broken right now (occurrences without a recovery, such as dead letters, pass by). */
    ok: { always: { guard: 'anyActive', target: 'alerting' } },
    /** Some cause is on: a relay answered, the API fails, the balance is low, someone probes. */
    alerting: { always: { guard: 'allClear', target: 'ok' } },
  },
});
