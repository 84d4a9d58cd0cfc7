import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addDays,
  datesInRange,
  formatRuDate,
  type IsoDate,
  isIsoDate,
  MAX_PERIOD_DAYS,
  type PeriodError,
  type PeriodResult,
  parsePeriod,
} from '../machines/period';

const ok = (start: IsoDate, end: IsoDate, days: number): PeriodResult => ({ ok: true, start, end, days });
const err = (error: PeriodError): PeriodResult => ({ ok: false, error });

type Row = [input: string, today: IsoDate, expected: PeriodResult];

const T = '2026-06-15'; // a neutral mid-year "today"

const rows: Row[] = [
  // --- ДД.ММ-ДД.ММ ---
  ['01.11-07.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['1.11 - 7.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['1.1-2.1', '2026-01-10', ok('2026-01-01', '2026-01-02', 2)],
  ['01/11-07/11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['1/11 - 7.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['10.06-10.06', T, ok('2026-06-10', '2026-06-10', 1)],
  // --- dash variants, "по", "с" ---
  ['01.11–07.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['01.11—07.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['01.11 – 07.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['01.11 — 07.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['01.11 по 07.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['с 01.11 по 07.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['С 01.11 ПО 07.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['с 01.11 - 07.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['с01.11по07.11', T, ok('2026-11-01', '2026-11-07', 7)],
  // --- whitespace ---
  ['   01.11-07.11   ', T, ok('2026-11-01', '2026-11-07', 7)],
  ['\t01.11  -  07.11\n', T, ok('2026-11-01', '2026-11-07', 7)],
  ['01.11\u00a0-\u00a007.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['1 . 11 - 7 . 11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['  с   01.11   по   07.11  ', T, ok('2026-11-01', '2026-11-07', 7)],
  // --- explicit years ---
  ['28.12.2026-03.01.2027', T, ok('2026-12-28', '2027-01-03', 7)],
  ['28.12.2026 — 03.01.2027', T, ok('2026-12-28', '2027-01-03', 7)],
  ['с 28.12.2026 по 03.01.2027', T, ok('2026-12-28', '2027-01-03', 7)],
  ['28/12/2026-03/01/2027', T, ok('2026-12-28', '2027-01-03', 7)],
  ['28.12.26-03.01.27', T, ok('2026-12-28', '2027-01-03', 7)],
  ['28.12.26-03.01.2027', T, ok('2026-12-28', '2027-01-03', 7)],
  ['1.2.30-3.2.30', T, ok('2030-02-01', '2030-02-03', 3)],
  ['01.11.2026-07.11.2026', '2020-01-01', ok('2026-11-01', '2026-11-07', 7)], // explicit year ignores today
  // --- mixed: only one side has a year ---
  ['28.12.2026-03.01', T, ok('2026-12-28', '2027-01-03', 7)],
  ['28.12-03.01.2027', T, ok('2026-12-28', '2027-01-03', 7)],
  ['01.11.2027-07.11', T, ok('2027-11-01', '2027-11-07', 7)],
  ['01.11-07.11.2027', T, ok('2027-11-01', '2027-11-07', 7)],
  ['01.11.26-07.11', T, ok('2026-11-01', '2026-11-07', 7)],
  ['07.11.2026-01.11', T, err('endBeforeStart')],
  ['07.11-01.11.2026', T, err('endBeforeStart')],
  ['01.01.2026-31.01', T, ok('2026-01-01', '2026-01-31', 31)],
  ['01.01.2026-01.02', T, err('tooLong')],
  // --- single day ---
  ['01.11', T, ok('2026-11-01', '2026-11-01', 1)],
  ['1.11', T, ok('2026-11-01', '2026-11-01', 1)],
  ['1/11', T, ok('2026-11-01', '2026-11-01', 1)],
  ['01.11.2026', T, ok('2026-11-01', '2026-11-01', 1)],
  ['01.11.26', T, ok('2026-11-01', '2026-11-01', 1)],
  ['01/11/2026', T, ok('2026-11-01', '2026-11-01', 1)],
  ['15.06', T, ok('2026-06-15', '2026-06-15', 1)],
  // --- nearest-year rule ---
  ['29.12', '2027-01-03', ok('2026-12-29', '2026-12-29', 1)],
  ['02.01', '2026-12-30', ok('2027-01-02', '2027-01-02', 1)],
  ['01.11', '2026-06-15', ok('2026-11-01', '2026-11-01', 1)],
  ['01.01', '2026-06-15', ok('2026-01-01', '2026-01-01', 1)], // 165 days back beats 200 ahead
  ['31.12', '2026-06-15', ok('2025-12-31', '2025-12-31', 1)], // 166 back vs 199 ahead
  ['01.01', '2028-07-02', ok('2028-01-01', '2028-01-01', 1)], // 183 days either way: tie -> earlier
  ['01.01', '2028-07-03', ok('2029-01-01', '2029-01-01', 1)], // 184 back vs 182 ahead
  // --- New Year crossing, no years ---
  ['29.12-02.01', '2026-12-20', ok('2026-12-29', '2027-01-02', 5)],
  ['29.12-02.01', '2027-01-01', ok('2026-12-29', '2027-01-02', 5)],
  ['29.12-02.01', '2027-01-05', ok('2026-12-29', '2027-01-02', 5)],
  ['с 28.12 по 3.1', '2026-11-30', ok('2026-12-28', '2027-01-03', 7)],
  ['02.01-05.01', '2026-12-30', ok('2027-01-02', '2027-01-05', 4)],
  ['28.12-31.12', '2027-01-03', ok('2026-12-28', '2026-12-31', 4)],
  ['15.12-14.01', '2026-12-01', ok('2026-12-15', '2027-01-14', 31)], // rolled, exactly 31 days
  ['15.12-15.01', '2026-12-01', err('endBeforeStart')], // rolling would give 32 days
  // --- endBeforeStart ---
  ['07.11-01.11', T, err('endBeforeStart')],
  ['07.11.2026-01.11.2026', T, err('endBeforeStart')],
  ['03.01.2027-28.12.2026', T, err('endBeforeStart')],
  ['01.11.2027-01.11.2026', T, err('endBeforeStart')],
  // --- 31 vs 32 days, tooLong ---
  ['01.01-31.01', '2026-01-10', ok('2026-01-01', '2026-01-31', 31)],
  ['01.01-01.02', '2026-01-10', err('tooLong')],
  ['01.03-31.03', T, ok('2026-03-01', '2026-03-31', 31)],
  ['01.03-01.04', T, err('tooLong')],
  ['01.02.2028-02.03.2028', T, ok('2028-02-01', '2028-03-02', 31)], // leap February
  ['01.02.2028-03.03.2028', T, err('tooLong')],
  ['01.02.2027-03.03.2027', T, ok('2027-02-01', '2027-03-03', 31)], // plain February
  ['01.11-30.11', T, ok('2026-11-01', '2026-11-30', 30)],
  ['01.06-31.12', T, err('tooLong')],
  ['02.01-29.12', '2026-12-30', err('tooLong')], // 2027-01-02..2027-12-29: same year, in order, too long
  ['01.11.2026-07.11.2027', T, err('tooLong')],
  // --- invalidDate ---
  ['31.02', T, err('invalidDate')],
  ['30.02', T, err('invalidDate')],
  ['00.05', T, err('invalidDate')],
  ['05.00', T, err('invalidDate')],
  ['12.13', T, err('invalidDate')],
  ['32.01', T, err('invalidDate')],
  ['31.04', T, err('invalidDate')],
  ['29.02.2027', T, err('invalidDate')],
  ['29.02.2100', T, err('invalidDate')], // century, not leap
  ['31.02-07.03', T, err('invalidDate')],
  ['01.11-31.11', T, err('invalidDate')],
  ['01.11.2026-12.13.2026', T, err('invalidDate')],
  // --- leap years ---
  ['29.02.2028', T, ok('2028-02-29', '2028-02-29', 1)],
  ['29.02.28', T, ok('2028-02-29', '2028-02-29', 1)],
  ['29.02.2000', T, ok('2000-02-29', '2000-02-29', 1)], // divisible by 400
  ['29.02', '2028-01-10', ok('2028-02-29', '2028-02-29', 1)], // nearest year is leap
  ['29.02', '2026-06-15', err('invalidDate')], // nearest year 2026 is not leap
  ['28.02-01.03', '2028-02-10', ok('2028-02-28', '2028-03-01', 3)],
  ['28.02-01.03', '2027-02-10', ok('2027-02-28', '2027-03-01', 2)],
  ['25.02-29.02', '2028-02-10', ok('2028-02-25', '2028-02-29', 5)],
  ['25.02-29.02', '2027-02-10', err('invalidDate')],
  ['20.02.2028-05.03', T, ok('2028-02-20', '2028-03-05', 15)],
  // --- format (garbage) ---
  ['', T, err('format')],
  ['   ', T, err('format')],
  ['abc', T, err('format')],
  ['01.11-', T, err('format')],
  ['-07.11', T, err('format')],
  ['1-2', T, err('format')],
  ['01.11.2026.5', T, err('format')],
  ['01.11.202', T, err('format')], // 3-digit year
  ['01.11.2', T, err('format')],
  ['001.11', T, err('format')],
  ['01.011', T, err('format')],
  ['01-11', T, err('format')],
  ['01,11', T, err('format')],
  ['0111', T, err('format')],
  ['01/11.2026', T, err('format')], // mixed separators inside one date
  ['с 01.11', T, err('format')], // open-ended "from"
  ['по 07.11', T, err('format')],
  ['01.11 с 07.11', T, err('format')],
  ['01.11 до 07.11', T, err('format')],
  ['01.11--07.11', T, err('format')],
  ['01.11-07.11-09.11', T, err('format')],
  ['01.11 07.11', T, err('format')],
  ['завтра', T, err('format')],
  ['01.11 abc', T, err('format')],
  ['１.１１', T, err('format')], // full-width digits
  ['1'.repeat(10_000), T, err('format')],
  [`01.11-07.11${' '.repeat(10_000)}`, T, err('format')],
];

const label = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…(${s.length})` : s);

for (const [input, today, expected] of rows) {
  test(`parsePeriod ${label(input)} @ ${today}`, () => {
    assert.equal(parsePeriod(input, today), expected);
  });
}

test('MAX_PERIOD_DAYS is 31 and is the default', () => {
  assert.is(MAX_PERIOD_DAYS, 31);
  assert.equal(
    parsePeriod('01.01-31.01', '2026-01-10', MAX_PERIOD_DAYS),
    parsePeriod('01.01-31.01', '2026-01-10'),
  );
});

const maxDaysRows: [input: string, today: IsoDate, maxDays: number, expected: PeriodResult][] = [
  ['01.11-07.11', T, 7, ok('2026-11-01', '2026-11-07', 7)],
  ['01.11-08.11', T, 7, err('tooLong')],
  ['01.06-31.12', T, 366, ok('2026-06-01', '2026-12-31', 214)],
  ['07.11-01.11', T, 400, ok('2026-11-07', '2027-11-01', 360)], // roll allowed because span ≤ maxDays
  ['29.12-02.01', '2026-12-20', 4, err('endBeforeStart')], // roll would be 5 > 4
  ['01.11', T, 1, ok('2026-11-01', '2026-11-01', 1)],
];

for (const [input, today, maxDays, expected] of maxDaysRows) {
  test(`parsePeriod ${label(input)} @ ${today} maxDays=${maxDays}`, () => {
    assert.equal(parsePeriod(input, today, maxDays), expected);
  });
}

test('parsePeriod throws on a malformed today', () => {
  assert.throws(() => parsePeriod('01.11', '2026-13-01'), RangeError);
  assert.throws(() => parsePeriod('01.11', '15.06.2026'), RangeError);
});

// --- datesInRange ---

const rangeRows: [start: IsoDate, end: IsoDate, expected: IsoDate[]][] = [
  ['2026-11-01', '2026-11-01', ['2026-11-01']],
  ['2026-11-01', '2026-11-03', ['2026-11-01', '2026-11-02', '2026-11-03']],
  ['2026-10-30', '2026-11-02', ['2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02']],
  ['2026-12-30', '2027-01-02', ['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']],
  ['2028-02-27', '2028-03-01', ['2028-02-27', '2028-02-28', '2028-02-29', '2028-03-01']],
  ['2027-02-27', '2027-03-01', ['2027-02-27', '2027-02-28', '2027-03-01']],
  ['2026-11-02', '2026-11-01', []],
];

for (const [start, end, expected] of rangeRows) {
  test(`datesInRange ${start}..${end}`, () => {
    assert.equal(datesInRange(start, end), expected);
  });
}

test('datesInRange: a long range has the right length and ends', () => {
  const all = datesInRange('2026-01-01', '2026-12-31');
  assert.is(all.length, 365);
  assert.is(all[0], '2026-01-01');
  assert.is(all[all.length - 1], '2026-12-31');
  assert.is(datesInRange('2028-01-01', '2028-12-31').length, 366);
});

test('datesInRange agrees with parsePeriod days', () => {
  const r = parsePeriod('29.12-02.01', '2026-12-20');
  if (!r.ok) throw new Error('expected ok');
  assert.is(datesInRange(r.start, r.end).length, r.days);
});

test('datesInRange throws on invalid dates', () => {
  assert.throws(() => datesInRange('2026-02-30', '2026-03-01'), RangeError);
  assert.throws(() => datesInRange('2026-03-01', 'x'), RangeError);
});

// --- addDays ---

const addRows: [date: IsoDate, n: number, expected: IsoDate][] = [
  ['2026-11-01', 0, '2026-11-01'],
  ['2026-11-01', 6, '2026-11-07'],
  ['2026-11-30', 1, '2026-12-01'],
  ['2026-12-31', 1, '2027-01-01'],
  ['2027-01-01', -1, '2026-12-31'],
  ['2028-02-28', 1, '2028-02-29'],
  ['2027-02-28', 1, '2027-03-01'],
  ['2100-02-28', 1, '2100-03-01'],
  ['2000-02-28', 1, '2000-02-29'],
  ['2026-03-01', -1, '2026-02-28'],
  ['2026-01-01', 365, '2027-01-01'],
  ['2028-01-01', 366, '2029-01-01'],
  ['1970-01-01', -1, '1969-12-31'],
  ['2026-03-29', 1, '2026-03-30'], // DST change date in Europe: no effect
];

for (const [date, n, expected] of addRows) {
  test(`addDays ${date} ${n >= 0 ? '+' : ''}${n}`, () => {
    assert.is(addDays(date, n), expected);
  });
}

test('addDays throws on bad input', () => {
  assert.throws(() => addDays('2026-02-30', 1), RangeError);
  assert.throws(() => addDays('2026-11-01', 1.5), RangeError);
});

// --- formatRuDate ---

const formatRows: [date: IsoDate, expected: string][] = [
  ['2026-11-01', '01.11.2026'],
  ['2027-01-03', '03.01.2027'],
  ['2028-02-29', '29.02.2028'],
  ['2026-12-31', '31.12.2026'],
];

for (const [date, expected] of formatRows) {
  test(`formatRuDate ${date}`, () => {
    assert.is(formatRuDate(date), expected);
  });
}

test('formatRuDate throws on invalid dates', () => {
  assert.throws(() => formatRuDate('2026-02-30'), RangeError);
  assert.throws(() => formatRuDate('01.11.2026'), RangeError);
});

// --- isIsoDate ---

const isoRows: [s: string, expected: boolean][] = [
  ['2026-11-01', true],
  ['2028-02-29', true],
  ['2000-02-29', true],
  ['2027-02-29', false],
  ['2100-02-29', false],
  ['2026-02-30', false],
  ['2026-04-31', false],
  ['2026-13-01', false],
  ['2026-00-10', false],
  ['2026-01-00', false],
  ['2026-1-01', false],
  ['2026-01-1', false],
  ['26-01-01', false],
  ['2026/01/01', false],
  ['01.11.2026', false],
  [' 2026-11-01', false],
  ['2026-11-01 ', false],
  ['2026-11-01T00:00:00Z', false],
  ['', false],
  ['abc', false],
];

for (const [s, expected] of isoRows) {
  test(`isIsoDate ${JSON.stringify(s)}`, () => {
    assert.is(isIsoDate(s), expected);
  });
}

test('round trip: every parsed start/end is an IsoDate', () => {
  for (const [input, today] of rows) {
    const r = parsePeriod(input, today);
    if (r.ok) {
      assert.ok(isIsoDate(r.start), `${input} start`);
      assert.ok(isIsoDate(r.end), `${input} end`);
    }
  }
});

test.run();
