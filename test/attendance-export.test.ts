import { parse } from 'csv-parse/sync';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type AttendanceRow,
  type CsvSeparator,
  daysOf,
  monthOf,
  separatorOf,
  shiftMonth,
  toCsv,
} from '../server/admin/attendance-export';
import { employeeSeen, recordShifts } from '../storage/attendance';
import { http, startTestService, type TestService } from './helpers/service';

/** Attendance for managers: the CSV export and the month page (the page in a browser: browser-attendance). */
const TOKEN = 'attendance-test-token';
const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
const T = Date.UTC(2026, 10, 20, 6, 30, 0);

interface Ctx {
  svc: TestService;
}
const test = suite<Ctx>('attendance export');

test.before(async (ctx) => {
  ctx.svc = await startTestService({ ADMIN_TOKEN: TOKEN }, { clock: () => Date.UTC(2026, 10, 22, 9) });
  const seed = async (waId: string, name: string, days: Array<[string, 'day' | 'night' | 'off']>) => {
    await ctx.svc.store.commit(`wa:${waId}`, [
      employeeSeen(waId, name, T),
      ...days.map(([d, s]) => recordShifts(waId, [d], s, T, `wamid.seed-${waId}-${d}`)),
    ]);
  };
  await seed('79990000002', 'Яна, "старшая"', [
    ['2026-11-02', 'night'],
    ['2026-11-01', 'day'],
  ]);
  await seed('79990000001', 'Антон', [
    ['2026-11-30', 'off'],
    ['2026-10-31', 'day'],
  ]);
  await seed('79990000003', '=HYPERLINK("x")', [['2026-11-05', 'day']]);
});
test.after(async (ctx) => {
  await ctx.svc.stop();
});

/** The record toCsv writes for one day of an employee of this name (the line after the header). */
function recordOf(name: string, sep: CsvSeparator = ','): string {
  const row: AttendanceRow = { name, phone: '79990000009', date: '2026-11-01', shift: 'day', recordedAt: 0 };
  return toCsv([row], sep).split('\r\n')[1] ?? '';
}
const REST = ['79990000009', '2026-11-01', 'Дневная', '1970-01-01T00:00:00.000Z'];

test('CSV cells: quoting as RFC 4180, and nothing a spreadsheet would run as a formula', () => {
  const rest = `,${REST.join(',')}`;
  assert.is(recordOf('plain'), `plain${rest}`);
  assert.is(recordOf('a,b'), `"a,b"${rest}`);
  assert.is(recordOf('say "hi"'), `"say ""hi"""${rest}`);
  assert.is(recordOf('two\nlines'), `"two\nlines"${rest}`);
  assert.is(recordOf('=1+1'), `'=1+1${rest}`);
  assert.is(recordOf('+7999'), `'+7999${rest}`);
  assert.is(recordOf('@SUM(A1)'), `'@SUM(A1)${rest}`);
  assert.is(recordOf('-1'), `'-1${rest}`);
  const csv = toCsv([]);
  assert.is(csv, '\uFEFFname,phone,date,shift,recorded_at\r\n');
});

test('CSV for Excel: semicolons between cells, quoting for semicolons and quotes, not for commas', () => {
  const rest = `;${REST.join(';')}`;
  assert.is(recordOf('plain', ';'), `plain${rest}`);
  assert.is(recordOf('a,b', ';'), `a,b${rest}`);
  assert.is(recordOf('a;b', ';'), `"a;b"${rest}`);
  assert.is(recordOf('say "hi"', ';'), `"say ""hi"""${rest}`);
  assert.is(recordOf('=1+1', ';'), `'=1+1${rest}`);
  assert.is(toCsv([], ';'), '\uFEFFname;phone;date;shift;recorded_at\r\n');
  assert.is(separatorOf(undefined), ',');
  assert.is(separatorOf('comma'), ',');
  assert.is(separatorOf('semicolon'), ';');
  assert.is(separatorOf(';'), ';');
  for (const bad of ['tab', 'SEMICOLON', ['semicolon', 'comma']])
    assert.throws(() => separatorOf(bad), /comma or semicolon/);
});

test('months: validated, defaulted to the current one, with their days', () => {
  assert.is(monthOf('2026-02', 'Europe/Moscow', 0), '2026-02');
  assert.is(monthOf(undefined, 'Europe/Moscow', Date.UTC(2026, 11, 31, 22)), '2027-01');
  for (const bad of ['2026-13', '2026-1', '26-01', '2026-00', 'x', '2026-01-01'])
    assert.throws(() => monthOf(bad, 'UTC', 0), /YYYY-MM/);
  assert.is(daysOf('2028-02').length, 29);
  assert.is(daysOf('2026-11').at(-1), '2026-11-30');
  assert.is(shiftMonth('2026-01', -1), '2025-12');
  assert.is(shiftMonth('2026-12', 1), '2027-01');
});

test('GET /admin/attendance.csv: one row per employee and day of the month, BOM, attachment', async (ctx) => {
  const res = await fetch(`${ctx.svc.url}/admin/attendance.csv?month=2026-11`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.is(res.headers.get('content-disposition'), 'attachment; filename=attendance-2026-11.csv');
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.equal([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte order mark');
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).slice(1);
  const at = new Date(T).toISOString();
  assert.equal(text.split('\r\n'), [
    'name,phone,date,shift,recorded_at',
    `"'=HYPERLINK(""x"")",79990000003,2026-11-05,Дневная,${at}`,
    `Антон,79990000001,2026-11-30,Выходной,${at}`,
    `"Яна, ""старшая""",79990000002,2026-11-01,Дневная,${at}`,
    `"Яна, ""старшая""",79990000002,2026-11-02,Ночная,${at}`,
    '',
  ]);
});

test('GET /admin/attendance.csv?sep=semicolon: the same rows with `;`, parsed back by a CSV library', async (ctx) => {
  const get = async (query: string) => {
    const res = await fetch(`${ctx.svc.url}/admin/attendance.csv?month=2026-11${query}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.is(res.status, 200, query);
    return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
  };
  const comma = await get('');
  const semi = await get('&sep=semicolon');
  assert.is(semi.res.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.is(semi.res.headers.get('content-disposition'), 'attachment; filename=attendance-2026-11-excel.csv');
  assert.equal([...semi.bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte order mark');
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(semi.bytes).slice(1);
  const at = new Date(T).toISOString();
  assert.equal(text.split('\r\n'), [
    'name;phone;date;shift;recorded_at',
    `"'=HYPERLINK(""x"")";79990000003;2026-11-05;Дневная;${at}`,
    `Антон;79990000001;2026-11-30;Выходной;${at}`,
    `"Яна, ""старшая""";79990000002;2026-11-01;Дневная;${at}`,
    `"Яна, ""старшая""";79990000002;2026-11-02;Ночная;${at}`,
    '',
  ]);
  const rows = parse(Buffer.from(semi.bytes), { bom: true, delimiter: ';' });
  assert.equal(rows, parse(Buffer.from(comma.bytes), { bom: true }), 'the same rows as the comma export');
  assert.is(rows.length, 5);
  assert.equal(rows[3], ['Яна, "старшая"', '79990000002', '2026-11-01', 'Дневная', at]);
  const encoded = await get('&sep=%3B');
  assert.equal([...encoded.bytes], [...semi.bytes], 'sep=; is the same');
  const bad = await http(`${ctx.svc.url}/admin/attendance.csv?month=2026-11&sep=tab`, auth);
  assert.is(bad.status, 400);
  assert.match(bad.text, 'comma or semicolon');
});

test('a bad month is a 400 naming the format; no month is the current one', async (ctx) => {
  const bad = await http(`${ctx.svc.url}/admin/attendance.csv?month=2026-13`, auth);
  assert.is(bad.status, 400);
  assert.match(bad.text, 'YYYY-MM');
  assert.is((await http(`${ctx.svc.url}/admin/attendance?month=nov`, auth)).status, 400);
  const now = await fetch(`${ctx.svc.url}/admin/attendance.csv`, auth);
  assert.is(now.headers.get('content-disposition'), 'attachment; filename=attendance-2026-11.csv');
});

test('GET /admin/attendance: the month as a table with full phones, navigation and the CSV links', async (ctx) => {
  const res = await http(`${ctx.svc.url}/admin/attendance?month=2026-11`, auth);
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', 'text/html');
  assert.match(res.text, '+79990000002');
  assert.match(res.text, 'Яна, &quot;старшая&quot;');
  assert.not.match(res.text, '=HYPERLINK("x")', 'names are escaped');
  assert.match(res.text, 'href="/admin/attendance.csv?month=2026-11"');
  assert.match(res.text, 'href="/admin/attendance.csv?month=2026-11&amp;sep=semicolon"');
  assert.match(res.text, '>CSV для Excel (;)</a>');
  assert.not.match(res.text, TOKEN, 'no link or field carries the token');
  assert.not.match(res.text, 'token=', 'no link carries a token');
  assert.match(res.text, 'href="/admin/attendance?month=2026-10"');
  assert.match(res.text, 'href="/admin/attendance?month=2026-12"');
  assert.match(res.text, 'data-date="2026-11-02" data-shift="night"');
  assert.not.match(res.text, '2026-10-31', 'other months are not shown');
  const empty = await http(`${ctx.svc.url}/admin/attendance?month=2025-01`, auth);
  assert.match(empty.text, 'За этот месяц записей нет');
});

test.run();
