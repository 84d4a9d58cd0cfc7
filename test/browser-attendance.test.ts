import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { employeeSeen, recordShifts } from '../storage/attendance';
import { browserMissing, launchBrowser, screenshotPath, signIn, watchPage } from './helpers/browser';
import { startTestService, type TestService } from './helpers/service';

/**
 * The managers' attendance page in a real browser: the seeded month as a table, the two CSV download
 * links (real downloads), month navigation on the sign-in cookie (no token in any URL), the sign-in
 * form without it, nothing fetched from elsewhere.
 */
const TOKEN = 'browser-attendance-token';
const AT = Date.UTC(2026, 10, 3, 7, 0, 0);

interface Ctx {
  svc: TestService;
  browser: Browser;
  page: Page;
  watch: ReturnType<typeof watchPage>;
}

const test = suite<Ctx>('attendance page in a browser');
const missing = browserMissing();
const it = missing ? test.skip : test;

test.before(async (ctx) => {
  if (missing) return;
  ctx.svc = await startTestService({ ADMIN_TOKEN: TOKEN });
  const seed = (waId: string, name: string, days: Array<[string, 'day' | 'night' | 'off']>) =>
    ctx.svc.store.commit(`wa:${waId}`, [
      employeeSeen(waId, name, AT),
      ...days.map(([d, s]) => recordShifts(waId, [d], s, AT, `wamid.seed-${d}`)),
    ]);
  await seed('79991110001', 'Ольга Петрова', [
    ['2026-11-01', 'day'],
    ['2026-11-02', 'night'],
    ['2026-11-03', 'off'],
  ]);
  await seed('79991110002', 'Иван', [
    ['2026-11-02', 'day'],
    ['2026-10-31', 'night'],
  ]);
  ctx.browser = await launchBrowser();
  const context = await ctx.browser.newContext({
    viewport: { width: 1400, height: 600 },
    acceptDownloads: true,
  });
  ctx.page = await context.newPage();
  ctx.watch = watchPage(ctx.page, ctx.svc.url);
});

test.after(async (ctx) => {
  if (missing) return;
  await ctx.browser?.close();
  await ctx.svc?.stop();
});

it('without signing in the page is refused: the browser is sent to the sign-in form, a fetch gets 401', async (ctx) => {
  const res = await ctx.page.goto(`${ctx.svc.url}/admin/attendance?month=2026-11`);
  assert.is(new URL(ctx.page.url()).pathname, '/admin/login');
  assert.is(new URL(ctx.page.url()).searchParams.get('next'), '/admin/attendance?month=2026-11');
  assert.ok(await ctx.page.isVisible('input[name=token][type=password]'));
  assert.not.match((await res?.text()) ?? '', '79991110001', 'no attendance data before signing in');
  const status = await ctx.page.evaluate(async () => (await fetch('/admin/attendance.csv')).status);
  assert.is(status, 401);
  const query = await ctx.page.goto(`${ctx.svc.url}/admin/attendance?month=2026-11&token=${TOKEN}`);
  assert.is(new URL(ctx.page.url()).pathname, '/admin/login', 'a token in the URL is not read');
  assert.is(query?.status(), 200);
});

it('the month as a table: employees × days with the seeded shifts and full phones', async (ctx) => {
  await signIn(ctx.page, ctx.svc.url, TOKEN, '/admin/attendance?month=2026-11');
  assert.is(new URL(ctx.page.url()).pathname, '/admin/attendance');
  const rows = await ctx.page.$$eval('#attendance tbody tr', (trs) =>
    trs.map((tr) => ({
      who: tr.querySelector('th')?.textContent ?? '',
      cells: [...tr.querySelectorAll('td[data-shift]')].map(
        (td) => `${td.getAttribute('data-date')}=${td.textContent}`,
      ),
    })),
  );
  assert.equal(rows, [
    { who: 'Иван+79991110002', cells: ['2026-11-02=Д'] },
    { who: 'Ольга Петрова+79991110001', cells: ['2026-11-01=Д', '2026-11-02=Н', '2026-11-03=В'] },
  ]);
  const days = await ctx.page.$$eval('#attendance thead th', (ths) => ths.length);
  assert.is(days, 1 + 30 + 3, 'a column per day of November, plus name and totals');
  await ctx.page.screenshot({ path: screenshotPath('attendance-2026-11.png'), fullPage: true });
});

it('the download link gives the month as CSV (UTF-8 with BOM)', async (ctx) => {
  const [download] = await Promise.all([ctx.page.waitForEvent('download'), ctx.page.click('a.download')]);
  assert.is(download.suggestedFilename(), 'attendance-2026-11.csv');
  assert.not.match(download.url(), 'token', 'the download URL carries no token');
  const file = screenshotPath('attendance-2026-11.csv');
  await download.saveAs(file);
  const bytes = readFileSync(file);
  assert.equal([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const lines = bytes.subarray(3).toString('utf8').trimEnd().split('\r\n');
  assert.equal(lines, [
    'name,phone,date,shift,recorded_at',
    `Иван,79991110002,2026-11-02,Дневная,${new Date(AT).toISOString()}`,
    `Ольга Петрова,79991110001,2026-11-01,Дневная,${new Date(AT).toISOString()}`,
    `Ольга Петрова,79991110001,2026-11-02,Ночная,${new Date(AT).toISOString()}`,
    `Ольга Петрова,79991110001,2026-11-03,Выходной,${new Date(AT).toISOString()}`,
  ]);
});

it('the Excel link gives the same rows separated by `;` (UTF-8 with BOM)', async (ctx) => {
  assert.is(await ctx.page.textContent('a.download.excel'), 'CSV для Excel (;)');
  const [download] = await Promise.all([
    ctx.page.waitForEvent('download'),
    ctx.page.click('a.download.excel'),
  ]);
  assert.is(download.suggestedFilename(), 'attendance-2026-11-excel.csv');
  assert.not.match(download.url(), 'token', 'the download URL carries no token');
  const file = screenshotPath('attendance-2026-11-excel.csv');
  await download.saveAs(file);
  const bytes = readFileSync(file);
  assert.equal([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const at = new Date(AT).toISOString();
  assert.equal(parse(bytes, { bom: true, delimiter: ';' }), [
    ['name', 'phone', 'date', 'shift', 'recorded_at'],
    ['Иван', '79991110002', '2026-11-02', 'Дневная', at],
    ['Ольга Петрова', '79991110001', '2026-11-01', 'Дневная', at],
    ['Ольга Петрова', '79991110001', '2026-11-02', 'Ночная', at],
    ['Ольга Петрова', '79991110001', '2026-11-03', 'Выходной', at],
  ]);
});

it('month navigation works on the sign-in cookie (no token in any URL)', async (ctx) => {
  await Promise.all([ctx.page.waitForURL(/month=2026-10/), ctx.page.click('text=← предыдущий месяц')]);
  assert.not.match(ctx.page.url(), 'token');
  const cells = await ctx.page.$$eval('#attendance td[data-shift]', (tds) =>
    tds.map((td) => td.getAttribute('data-date')),
  );
  assert.equal(cells, ['2026-10-31']);
  await ctx.page.fill('input[name=month]', '2026-12');
  await Promise.all([ctx.page.waitForURL(/month=2026-12/), ctx.page.click('form[method=get] button')]);
  assert.not.match(ctx.page.url(), 'token');
  assert.match((await ctx.page.textContent('body')) ?? '', 'За этот месяц записей нет');
});

it('the page made no request to any other host', async (ctx) => {
  assert.equal(ctx.watch.foreign(), []);
  assert.equal(
    ctx.watch.failed().filter((f) => !f.endsWith(' 401') && !f.includes('/favicon.ico')),
    [],
  );
});

test.run();
