import { stringify } from 'csv-stringify/sync';
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

/** `,` (RFC 4180, the default) or `;`, which Excel in a Russian locale expects when opening a CSV file. */
export type CsvSeparator = ',' | ';';

/** The separator asked for in the query (`sep=semicolon` or `sep=;`); a comma when none; 400 otherwise. */
export function separatorOf(raw: unknown): CsvSeparator {
  if (raw === undefined || raw === '' || raw === 'comma' || raw === ',') return ',';
  if (raw === 'semicolon' || raw === ';') return ';';
  throw new HttpError(400, `sep must be comma or semicolon, got "${String(raw).slice(0, 20)}"`);
}

/**
 * CSV with a UTF-8 byte order mark (so spreadsheet programs read the Cyrillic right), CRLF line ends
 * and RFC 4180 quoting. A cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`…: a
 * WhatsApp profile name is chosen by its owner) is prefixed with `'`.
 */
export function toCsv(rows: AttendanceRow[], delimiter: CsvSeparator = ','): string {
  return stringify([CSV_HEADER, ...rows.map(csvCells)], {
    bom: true,
    delimiter,
    record_delimiter: 'windows',
    quote_record_delimiter: true, // a lone `\n` in a name too, not only `\r\n`
    escape_formulas: true,
  });
}

function csvCells(r: AttendanceRow): string[] {
  return [r.name, r.phone, r.date, ru.shifts[r.shift] ?? r.shift, new Date(r.recordedAt).toISOString()];
}
