import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { employeeSeen, recordShifts } from '../storage/attendance';
import { type BrowserCtx, browserSuite, downloadFrom, screenshotPath, signIn } from './helpers/browser';
import { startTestService } from './helpers/service';

/**
 * The managers' attendance page in a real browser: the seeded month as a table, the two CSV download
 * links (real downloads), month navigation on the sign-in cookie (no token in any URL), the sign-in
 * form without it, nothing fetched from elsewhere.
 */
const TOKEN = 'browser-attendance-token';
const AT = Date.UTC(2026, 10, 3, 7, 0, 0);

const { test, it } = browserSuite<BrowserCtx>('attendance page in a browser', {
  start: async () => {
    const svc = await startTestService({ ADMIN_TOKEN: TOKEN });
    const seed = (waId: string, name: string, days: Array<[string, 'day' | 'night' | 'off']>) =>
      svc.store.commit(`wa:${waId}`, [
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
    return svc;
  },
  viewport: { width: 1400, height: 600 },
  acceptDownloads: true,
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

/** Clicks `link` and keeps the download in test-output under the name the server gave it. */
async function saveDownload(page: Page, link: string) {
  const download = await downloadFrom(page, link);
  const file = screenshotPath(basename(download.suggestedFilename()));
  await download.saveAs(file);
  return { name: download.suggestedFilename(), url: download.url(), bytes: readFileSync(file) };
}

it('the download link gives the month as CSV (UTF-8 with BOM)', async (ctx) => {
  const { name, url, bytes } = await saveDownload(ctx.page, 'a.download');
  assert.is(name, 'attendance-2026-11.csv');
  assert.not.match(url, 'token', 'the download URL carries no token');
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
  const { name, url, bytes } = await saveDownload(ctx.page, 'a.download.excel');
  assert.is(name, 'attendance-2026-11-excel.csv');
  assert.not.match(url, 'token', 'the download URL carries no token');
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
