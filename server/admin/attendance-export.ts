import { addDays, type IsoDate } from '../../machines/period';
import type { Shift } from '../../machines/whatsapp-menu';
import { EMPLOYEES, type EmployeeDoc } from '../../storage/attendance';
import type { Store } from '../../storage/store';
import { HttpError } from '../http/body';
import { dateIn } from '../lib/clock';
import { ru } from '../texts/ru';

/** One attendance record, as managers read it. Phones are NOT masked here: this is behind ADMIN_TOKEN. */
export interface AttendanceRow {
  name: string;
  phone: string;
  date: IsoDate;
  shift: Shift;
  recordedAt: number;
}

/** `YYYY-MM` from the query, or the current month in the service's time zone; 400 when malformed. */
export function monthOf(raw: unknown, timezone: string, now: number): string {
  if (raw === undefined || raw === '') return dateIn(timezone, now).slice(0, 7);
  if (typeof raw !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(raw))
    throw new HttpError(400, `month must look like 2026-11 (YYYY-MM), got "${String(raw).slice(0, 20)}"`);
  return raw;
}

/** Every date of a `YYYY-MM` month. */
export function daysOf(month: string): IsoDate[] {
  const days: IsoDate[] = [];
  for (let d = `${month}-01`; d.startsWith(month); d = addDays(d, 1)) days.push(d);
  return days;
}

/** The month before or after (`delta` months). */
export function shiftMonth(month: string, delta: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const total = y * 12 + (m - 1) + delta;
  return `${String(Math.floor(total / 12)).padStart(4, '0')}-${String((total % 12) + 1).padStart(2, '0')}`;
}

/** The month's records: one per employee and day, by name, then phone, then date. */
export function monthRows(store: Store, month: string): AttendanceRow[] {
  const rows: AttendanceRow[] = [];
  for (const e of store.all<EmployeeDoc>(EMPLOYEES)) {
    for (const [date, day] of Object.entries(e.days ?? {})) {
      if (!date.startsWith(`${month}-`)) continue;
      rows.push({ name: e.name, phone: e.waId, date, shift: day.shift, recordedAt: day.recordedAt });
    }
  }
  return rows.sort(
    (a, b) =>
      a.name.localeCompare(b.name, 'ru') || a.phone.localeCompare(b.phone) || a.date.localeCompare(b.date),
  );
}

export const CSV_HEADER = ['name', 'phone', 'date', 'shift', 'recorded_at'];

/**
 * RFC 4180 CSV with a UTF-8 byte order mark (so spreadsheet programs read the Cyrillic right) and CRLF
 * line ends. A cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`…: a WhatsApp profile
 * name is chosen by its owner) is prefixed with `'`.
 */
export function toCsv(rows: AttendanceRow[]): string {
  const lines = [CSV_HEADER, ...rows.map(csvCells)].map((cells) => cells.map(csvCell).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

function csvCells(r: AttendanceRow): string[] {
  return [r.name, r.phone, r.date, ru.shifts[r.shift] ?? r.shift, new Date(r.recordedAt).toISOString()];
}

export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
