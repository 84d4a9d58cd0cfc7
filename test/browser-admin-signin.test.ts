import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import {
  adminWithLiveWhatsApp,
  browserSuite,
  downloadFrom,
  type LiveWhatsAppCtx,
  screenshotPath,
} from './helpers/browser';

/**
 * Signing in as an admin in a real browser (Debian's chromium): the form a browser is sent to, a
 * wrong token refused, the right one giving an HttpOnly SameSite=Strict cookie that opens the
 * inspector and the attendance export, no token in any URL the browser asks for, signing out.
 * A live WhatsApp (the fake 360dialog) makes this a deployment where the inspector is not open.
 */
const TOKEN = 'browser-signin-token-41c9';
const D360_KEY = 'browser-signin-d360';

const { test, it } = browserSuite<LiveWhatsAppCtx>('admin sign-in in a browser', {
  ...adminWithLiveWhatsApp(TOKEN, D360_KEY),
  viewport: { width: 1200, height: 800 },
  acceptDownloads: true,
});

const path = (page: Page) => new URL(page.url()).pathname;

it('opening /inspect without signing in shows the sign-in form', async (ctx) => {
  await ctx.page.goto(`${ctx.svc.url}/inspect`);
  assert.is(path(ctx.page), '/admin/login');
  assert.is(new URL(ctx.page.url()).searchParams.get('next'), '/inspect');
  assert.is(await ctx.page.textContent('h1'), 'Вход для администратора');
  assert.is(await ctx.page.getAttribute('input[name=token]', 'type'), 'password');
  await ctx.page.screenshot({ path: screenshotPath('admin-signin-form.png') });
});

it('a wrong token is refused on the form, and no cookie is set', async (ctx) => {
  await ctx.page.fill('input[name=token]', 'not-the-token');
  const [answer] = await Promise.all([
    ctx.page.waitForResponse((r) => r.url().endsWith('/admin/login') && r.request().method() === 'POST'),
    ctx.page.click('button[type=submit]'),
  ]);
  assert.is(answer.status(), 401);
  assert.is(await ctx.page.textContent('.problem'), 'Неверный токен.');
  assert.equal(await ctx.context.cookies(), []);
  await ctx.page.screenshot({ path: screenshotPath('admin-signin-wrong.png') });
});

it('the right token: an HttpOnly SameSite=Strict cookie, back on the inspector', async (ctx) => {
  await ctx.page.fill('input[name=token]', TOKEN);
  await Promise.all([
    ctx.page.waitForURL((u) => u.pathname === '/inspect'),
    ctx.page.click('button[type=submit]'),
  ]);
  await ctx.page.waitForSelector('section[data-machine="whatsapp-menu"] .diagram svg', { timeout: 15_000 });
  const cookies = await ctx.context.cookies();
  assert.is(cookies.length, 1);
  const [cookie] = cookies;
  assert.is(cookie?.name, 'switchboard_admin');
  assert.is(cookie?.httpOnly, true);
  assert.is(cookie?.sameSite, 'Strict');
  assert.is(cookie?.path, '/');
  assert.not.match(cookie?.value ?? '', TOKEN);
  assert.is(await ctx.page.evaluate('document.cookie'), '', 'scripts cannot read it');
  await ctx.page.screenshot({ path: screenshotPath('admin-signin-inspector.png') });
});

it('the attendance page and its CSV export open on the cookie; no URL carries the token', async (ctx) => {
  await Promise.all([
    ctx.page.waitForURL((u) => u.pathname === '/admin/attendance'),
    ctx.page.click('text=Attendance'),
  ]);
  assert.match((await ctx.page.textContent('h1')) ?? '', 'Табель');
  const download = await downloadFrom(ctx.page, 'a.download');
  assert.match(download.suggestedFilename(), /^attendance-\d{4}-\d\d\.csv$/);
  assert.not.match(download.url(), 'token');
  assert.is(await download.failure(), null);
  await ctx.page.screenshot({ path: screenshotPath('admin-signin-attendance.png') });
  const withToken = ctx.watch.requests.filter((u) => /token=/i.test(u) || u.includes(TOKEN));
  assert.equal(withToken, [], 'no request URL names a token');
  assert.ok(ctx.watch.requests.length > 5, `the browser made requests: ${ctx.watch.requests.length}`);
  assert.equal(ctx.watch.foreign(), []);
});

it('signing out clears the cookie: the pages send to the form again', async (ctx) => {
  await Promise.all([
    ctx.page.waitForURL((u) => u.pathname === '/admin/login'),
    ctx.page.click('text=Выйти'),
  ]);
  assert.equal(await ctx.context.cookies(), []);
  await ctx.page.goto(`${ctx.svc.url}/admin/attendance`);
  assert.is(path(ctx.page), '/admin/login');
  const status = await ctx.page.evaluate(async () => (await fetch('/admin/attendance.csv')).status);
  assert.is(status, 401);
});

test.run();
