/**
 * Pure parser for the date ranges employees type into the attendance bot
 * ("01.11-07.11", "с 28.12 по 03.01", "5/11", "28.12.2026 — 03.01.2027" ...).
 *
 * No I/O, no clock: the caller passes `today`. All arithmetic is done on integer
 * day numbers (proleptic Gregorian calendar), so time zones and DST never matter.
 *
 * Decisions worth knowing:
 * - The leading word "с" is only accepted in a range ("с 01.11 по 07.11", "с 01.11 - 07.11");
 *   "с 01.11" alone (an open-ended "from") is a `format` error. "с" / "по" are case-insensitive.
 * - A date uses one separator throughout: "01.11.2026" and "01/11/2026" are fine, "01/11.2026" is not.
 *   Spaces around "." / "/" are tolerated ("1 . 11").
 * - Years: 4 digits are taken as is, 2 digits mean 20YY; any other length is a `format` error.
 * - A day/month that can never exist (00.05, 31.04, 12.13, 30.02) is `invalidDate` before any year logic.
 * - 29.02 without a year: the year is picked by the same "nearest" rule as any other date (measuring
 *   as if 29.02 were the day after 28.02); if that year is not a leap year the result is `invalidDate`.
 *   The same applies when 29.02 lands in a non-leap year through the range year logic.
 * - A year-less end that falls before the start rolls into the next year only if the rolled span is
 *   ≤ maxDays; otherwise `endBeforeStart` (never `tooLong`). Mirror rule for a year-less start.
 * - Input longer than 100 characters is rejected as `format` without running the regex.
 * - A malformed `today` (or malformed arguments to the helpers) is a programming error: RangeError.
 */

/** ISO calendar date 'YYYY-MM-DD' (no time zone: a day on the employee's calendar). */
export type IsoDate = string;
export type PeriodError = 'format' | 'invalidDate' | 'endBeforeStart' | 'tooLong';
export type PeriodResult =
  | { ok: true; start: IsoDate; end: IsoDate; days: number } // days = inclusive count
  | { ok: false; error: PeriodError };

export const MAX_PERIOD_DAYS = 31;

const MAX_INPUT_LENGTH = 100;

// ---------------------------------------------------------------------------------------------
// Integer calendar arithmetic (H. Hinnant's days_from_civil / civil_from_days; day 0 = 1970-01-01).
// ---------------------------------------------------------------------------------------------

/** Day number of y-m-d. Does not validate: 29.02 of a non-leap year maps to 01.03. */
function toDayNumber(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function fromDayNumber(z: number): [number, number, number] {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return [y, m, d];
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Largest day of month `m`; without a year February allows 29. */
function daysInMonth(m: number, y?: number): number {
  if (m === 2 && y !== undefined) return isLeapYear(y) ? 29 : 28;
  return MONTH_DAYS[m - 1] ?? 0;
}

function isValidYmd(y: number, m: number, d: number): boolean {
  return Number.isInteger(m) && m >= 1 && m <= 12 && Number.isInteger(d) && d >= 1 && d <= daysInMonth(m, y);
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function dayNumberToIso(z: number): IsoDate {
  const [y, m, d] = fromDayNumber(z);
  if (y < 0 || y > 9999) throw new RangeError(`date out of the YYYY range: year ${y}`);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseIso(s: string): [number, number, number] | undefined {
  const match = ISO_RE.exec(s);
  if (!match) return undefined;
  const y = Number(match[1]);
  const m = Number(match[2]);
  const d = Number(match[3]);
  return isValidYmd(y, m, d) ? [y, m, d] : undefined;
}

function isoToDayNumber(s: IsoDate, what: string): number {
  const ymd = parseIso(s);
  if (!ymd) throw new RangeError(`${what} is not a valid YYYY-MM-DD date: ${JSON.stringify(s)}`);
  return toDayNumber(...ymd);
}

// ---------------------------------------------------------------------------------------------
// Public helpers
// ---------------------------------------------------------------------------------------------

/** True iff `s` is exactly 'YYYY-MM-DD' and names a real calendar day. */
export function isIsoDate(s: string): boolean {
  return typeof s === 'string' && parseIso(s) !== undefined;
}

/** `date` shifted by `n` (integer, may be negative) days. */
export function addDays(date: IsoDate, n: number): IsoDate {
  if (!Number.isInteger(n)) throw new RangeError(`addDays: n must be an integer, got ${n}`);
  return dayNumberToIso(isoToDayNumber(date, 'addDays: date') + n);
}

/** All dates from `start` to `end` inclusive, ascending; empty if end < start. */
export function datesInRange(start: IsoDate, end: IsoDate): IsoDate[] {
  const from = isoToDayNumber(start, 'datesInRange: start');
  const to = isoToDayNumber(end, 'datesInRange: end');
  const out: IsoDate[] = [];
  for (let z = from; z <= to; z++) out.push(dayNumberToIso(z));
  return out;
}

/** '2026-11-01' -> '01.11.2026'. */
export function formatRuDate(date: IsoDate): string {
  const ymd = parseIso(date);
  if (!ymd) throw new RangeError(`formatRuDate: not a valid YYYY-MM-DD date: ${JSON.stringify(date)}`);
  const [y, m, d] = ymd;
  return `${pad(d, 2)}.${pad(m, 2)}.${pad(y, 4)}`;
}

// ---------------------------------------------------------------------------------------------
// parsePeriod
// ---------------------------------------------------------------------------------------------

/** One date: day, separator (. or /), month, optional year using the same separator. */
function datePattern(sepGroup: number): string {
  const sameSep = `\\${sepGroup}`; // backreference to this date's own day/month separator
  return String.raw`(\d{1,2})\s*([./])\s*(\d{1,2})(?:\s*${sameSep}\s*(\d{4}|\d{2}))?`;
}

// Groups: 1 = "с", 2-5 = first date (day, sep, month, year), 6-9 = second date.
const PERIOD_RE = new RegExp(
  String.raw`^(с\s*)?${datePattern(3)}(?:\s*(?:[-–—]|по)\s*${datePattern(7)})?$`,
  'iu',
);

interface RawDate {
  d: number;
  m: number;
  y: number | undefined;
}

function rawDate(day: string | undefined, month: string | undefined, year: string | undefined): RawDate {
  let y: number | undefined;
  if (year !== undefined) y = year.length === 2 ? 2000 + Number(year) : Number(year);
  return { d: Number(day), m: Number(month), y };
}

/** Could this day/month exist in some year? (29.02 counts.) */
function dayMonthPossible(r: RawDate): boolean {
  return r.m >= 1 && r.m <= 12 && r.d >= 1 && r.d <= daysInMonth(r.m);
}

/** Year that puts d.m nearest to day number `ref` (ties -> the earlier year). */
function nearestYear(r: RawDate, ref: number, refYear: number): number {
  let bestYear = refYear - 1;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const y of [refYear - 1, refYear, refYear + 1]) {
    const dist = Math.abs(toDayNumber(y, r.m, r.d) - ref);
    if (dist < bestDist) {
      bestDist = dist;
      bestYear = y;
    }
  }
  return bestYear;
}

/** (m, d) of a before (m, d) of b, ignoring years. */
const monthDayBefore = (a: RawDate, b: RawDate): boolean => a.m < b.m || (a.m === b.m && a.d < b.d);

const fail = (error: PeriodError): PeriodResult => ({ ok: false, error });

function success(start: number, end: number, maxDays: number): PeriodResult {
  if (end < start) return fail('endBeforeStart');
  const days = end - start + 1;
  if (days > maxDays) return fail('tooLong');
  return { ok: true, start: dayNumberToIso(start), end: dayNumberToIso(end), days };
}

/**
 * Parse a user-typed period relative to `today` (see the module comment for accepted forms).
 * Throws RangeError if `today` is not a valid IsoDate.
 */
export function parsePeriod(input: string, today: IsoDate, maxDays: number = MAX_PERIOD_DAYS): PeriodResult {
  const todayYmd = parseIso(today);
  if (!todayYmd)
    throw new RangeError(`parsePeriod: today is not a valid YYYY-MM-DD date: ${JSON.stringify(today)}`);
  const ref = toDayNumber(...todayYmd);
  const refYear = todayYmd[0];

  if (typeof input !== 'string' || input.length > MAX_INPUT_LENGTH) return fail('format');
  const match = PERIOD_RE.exec(input.trim());
  if (!match) return fail('format');

  const hasPrefix = match[1] !== undefined;
  const first = rawDate(match[2], match[4], match[5]);

  // Single day.
  if (match[6] === undefined) {
    if (hasPrefix) return fail('format');
    if (!dayMonthPossible(first)) return fail('invalidDate');
    const y = first.y ?? nearestYear(first, ref, refYear);
    if (!isValidYmd(y, first.m, first.d)) return fail('invalidDate');
    const z = toDayNumber(y, first.m, first.d);
    return success(z, z, maxDays);
  }

  const second = rawDate(match[6], match[8], match[9]);
  if (!dayMonthPossible(first) || !dayMonthPossible(second)) return fail('invalidDate');

  let startYear: number;
  let endYear: number;
  let rolled = false; // a year-less side was moved across New Year to come after/before the other
  if (first.y !== undefined && second.y !== undefined) {
    startYear = first.y;
    endYear = second.y;
  } else if (second.y === undefined) {
    // End without a year (start explicit or resolved by the nearest rule): start's year, or the next one.
    startYear = first.y ?? nearestYear(first, ref, refYear);
    rolled = monthDayBefore(second, first);
    endYear = rolled ? startYear + 1 : startYear;
  } else {
    // Only the start lacks a year: end's year, or the previous one.
    endYear = second.y;
    rolled = monthDayBefore(second, first);
    startYear = rolled ? endYear - 1 : endYear;
  }

  if (!isValidYmd(startYear, first.m, first.d) || !isValidYmd(endYear, second.m, second.d)) {
    return fail('invalidDate');
  }
  const start = toDayNumber(startYear, first.m, first.d);
  const end = toDayNumber(endYear, second.m, second.d);

  // A range that only works by rolling a year-less side across New Year must fit in maxDays;
  // otherwise the user most likely swapped the dates.
  if (rolled && end - start + 1 > maxDays) return fail('endBeforeStart');
  return success(start, end, maxDays);
}
