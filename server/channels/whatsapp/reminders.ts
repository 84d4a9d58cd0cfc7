import type { IsoDate } from '../../../machines/period';
import type { WhatsAppMenuEvent } from '../../../machines/whatsapp-menu';
import { EMPLOYEES, type EmployeeDoc, getEmployee, windowOpen } from '../../../storage/attendance';
import { put } from '../../../storage/store';
import type { Engine } from '../../engine/engine';
import type { Job } from '../../engine/jobs';
import { isNewerSnapshot } from '../../engine/snapshot-version';
import { dateIn, minutesIn } from '../../lib/clock';
import type { Logger } from '../../lib/log';
import { WHATSAPP_MACHINE, waKey } from './channel';

/** Where the reminder's last run is stored (its own partition). */
export const REMINDER_RUN_KEY = 'reminders:run';
export const JOBS = 'jobs';
const RUN_DOC = 'reminders';

/** What one day's run did (document `jobs/reminders`, the last run only). */
export interface ReminderRun {
  [k: string]: unknown;
  date: IsoDate;
  finishedAt: number;
  /** Session message with the menu buttons (inside the 24-hour window). */
  session: number;
  /** The approved template (outside the window). */
  template: number;
  /** Outside the window with no REMINDER_TEMPLATE: nothing sent. */
  noTemplate: number;
  /** Today already recorded. */
  recorded: number;
  /** Reminders stopped ("стоп"). */
  stopped: number;
  /** Reminded earlier today (a run cut short by a restart). */
  already: number;
  /** Skipped: their dialog was stored by a newer version of the service (present only when any). */
  newer?: number;
}

type Outcome = 'session' | 'template' | 'noTemplate' | 'recorded' | 'stopped';

/**
 * The daily shift reminder: once local time (APP_TIMEZONE) reaches REMINDER_TIME, every employee with
 * no record for today and reminders not stopped gets a REMIND event (the dialog decides: the menu
 * inside the window, the template outside it). At most once per employee per day, across restarts:
 * each REMIND carries the dedupe key `remind:<wa_id>:<date>`, and the finished run is stored, so a
 * restart later that day sends nothing again, and a service that was down at REMINDER_TIME reminds
 * when it starts (the same day).
 */
export class ShiftReminders implements Job {
  readonly name = 'shift reminders';

  constructor(
    private readonly deps: {
      engine: Engine;
      time: { hour: number; minute: number };
      hasTemplate: boolean;
      timezone: string;
      log: Logger;
    },
  ) {}

  async run(now: number): Promise<void> {
    const { engine, timezone, time, log } = this.deps;
    const store = engine.store;
    const today = dateIn(timezone, now);
    if (minutesIn(timezone, now) < time.hour * 60 + time.minute) return;
    if (store.get<ReminderRun>(JOBS, RUN_DOC)?.date === today) return;

    const counts = { session: 0, template: 0, noTemplate: 0, recorded: 0, stopped: 0, already: 0 };
    let newer = 0;
    for (const employee of store.all<EmployeeDoc>(EMPLOYEES)) {
      if (employee.days[today]) {
        counts.recorded++;
        continue;
      }
      if (employee.remindersStopped) {
        counts.stopped++;
        continue;
      }
      const waId = employee.waId;
      let outcome: Outcome = 'recorded';
      const result = await engine
        .dispatch({
          key: waKey(waId),
          machine: WHATSAPP_MACHINE,
          dedupeKey: `remind:${waId}:${today}`,
          // Read again under the employee's lock: they may have recorded the day a moment ago.
          event: ({ now: at }): WhatsAppMenuEvent => {
            const e = getEmployee(store, waId);
            const recorded = e?.days[today] !== undefined;
            const stopped = e?.remindersStopped === true;
            const open = windowOpen(e, at);
            outcome = recorded
              ? 'recorded'
              : stopped
                ? 'stopped'
                : open
                  ? 'session'
                  : this.deps.hasTemplate
                    ? 'template'
                    : 'noTemplate';
            return {
              type: 'REMIND',
              now: at,
              today,
              name: e?.name ?? '',
              windowOpen: open,
              recorded,
              stopped,
            };
          },
        })
        // Theirs is a newer version's dialog (the engine said so): the others still get theirs.
        .catch((e: unknown) => {
          if (isNewerSnapshot(e)) return undefined;
          throw e;
        });
      if (!result) newer++;
      else if (result.duplicate) counts.already++;
      else counts[outcome]++;
    }
    const run: ReminderRun = { date: today, finishedAt: now, ...counts, ...(newer > 0 ? { newer } : {}) };
    await engine.record({ key: REMINDER_RUN_KEY, writes: () => [put(JOBS, RUN_DOC, run)] });
    log.info('whatsapp: shift reminders done for today', run);
    if (counts.noTemplate > 0)
      log.warn(
        'whatsapp: employees outside the 24-hour window got no reminder: REMINDER_TEMPLATE is not set',
        {
          count: counts.noTemplate,
        },
      );
  }
}
