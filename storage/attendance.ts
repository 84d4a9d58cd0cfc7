import type { IsoDate } from '../machines/period';
import type { Shift, ShiftRecord } from '../machines/whatsapp-menu';
import type { DocWrite, Store } from './store';

/** What the platform says about one employee's 24-hour window, and their attendance days. */
export interface EmployeeDoc {
  [k: string]: unknown;
  waId: string;
  name: string;
  lastInboundAt: number;
  /** Set when a send failed with 131047 (window closed); cleared by the next inbound message. */
  windowClosedAt: number | null;
  days: Record<IsoDate, DayRecord>;
  /** Set when the employee answered "стоп" (no daily reminder), cleared by "старт"; absent in older docs. */
  remindersStopped?: boolean;
}

export interface DayRecord {
  [k: string]: unknown;
  shift: Shift;
  recordedAt: number;
  /** The wamid of the message that chose this shift. */
  sourceMessageId: string;
}

export const EMPLOYEES = 'employees';
/** WhatsApp allows free-form messages this long after the user's last message. */
export const WINDOW_MS = 24 * 3600 * 1000;

const blank = (waId: string): EmployeeDoc => ({
  waId,
  name: '',
  lastInboundAt: 0,
  windowClosedAt: null,
  days: {},
});
const change = (waId: string, fn: (d: EmployeeDoc) => EmployeeDoc): DocWrite => ({
  collection: EMPLOYEES,
  id: waId,
  update: (prev) => fn((prev as EmployeeDoc | undefined) ?? blank(waId)),
});

/** An inbound message: remember the profile name and reopen the 24-hour window. */
export function employeeSeen(waId: string, name: string | undefined, now: number): DocWrite {
  return change(waId, (d) => ({ ...d, name: name || d.name, lastInboundAt: now, windowClosedAt: null }));
}

/** One record per date; a date that had one is replaced. */
export function recordShifts(
  waId: string,
  dates: IsoDate[],
  shift: Shift,
  recordedAt: number,
  sourceMessageId: string,
): DocWrite {
  return change(waId, (d) => {
    const days = { ...d.days };
    for (const date of dates) days[date] = { shift, recordedAt, sourceMessageId };
    return { ...d, days };
  });
}

/** "стоп" / "старт": the daily shift reminder off / on. */
export function setRemindersStopped(waId: string, stopped: boolean): DocWrite {
  return change(waId, (d) => ({ ...d, remindersStopped: stopped }));
}

export function markWindowClosed(waId: string, at: number): DocWrite {
  return change(waId, (d) => ({ ...d, windowClosedAt: at }));
}

export function getEmployee(store: Store, waId: string): EmployeeDoc | undefined {
  return store.get<EmployeeDoc>(EMPLOYEES, waId);
}

/** The latest records, newest date first. */
export function recentRecords(store: Store, waId: string, n = 3): ShiftRecord[] {
  const days = getEmployee(store, waId)?.days ?? {};
  return Object.keys(days)
    .sort()
    .reverse()
    .slice(0, n)
    .map((date) => ({ date, shift: (days[date] as DayRecord).shift }));
}

/** Which of `dates` already have a record. */
export function takenDates(store: Store, waId: string, dates: IsoDate[]): IsoDate[] {
  const days = getEmployee(store, waId)?.days ?? {};
  return dates.filter((d) => d in days);
}

/** May a free-form (session) message be sent to this employee now? */
export function windowOpen(employee: EmployeeDoc | undefined, now: number): boolean {
  if (!employee) return false;
  if (employee.windowClosedAt !== null && employee.windowClosedAt >= employee.lastInboundAt) return false;
  return now - employee.lastInboundAt < WINDOW_MS;
}
