import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { type BrowserCtx, browserSuite, screenshotPath } from './helpers/browser';
import { drawnAt, highlighted, sequenceActors } from './helpers/inspector-page';
import { eventually, startTestService } from './helpers/service';

/**
 * The inspector's playground in a real browser, on a service in the open development mode (dev,
 * every channel dry, loopback): a WhatsApp period dialog played to its confirmation, a gate command
 * played from Telegram through Zadarma's webhook to the opened gate, the sequence view of that command
 * across every actor it crossed, and a typed event sent to an actor.
 */
const TOKEN = 'browser-playground-token';
const PHONE = '79990000001';

const { test, it, missing } = browserSuite<BrowserCtx>('inspector playground in a browser', {
  start: () => startTestService({ ADMIN_TOKEN: TOKEN, ALLOWED_PHONES: '0501112233' }),
  viewport: { width: 1400, height: 1000 },
});

test.before(async (ctx) => {
  if (missing) return;
  await ctx.page.goto(`${ctx.svc.url}/inspect`);
  await ctx.page.waitForSelector('#playground form.play-whatsapp', { timeout: 15_000 });
  await ctx.page.waitForSelector('section[data-machine="gate-call"] .diagram svg', { timeout: 15_000 });
});

/** How many answers the playground has shown. */
const playedCount = (page: Page) =>
  page.$eval('#playground .play-result', (e) => e.getAttribute('data-played') ?? '0');
/** Waits until the playground shows another answer than the one counted `before`. */
const answered = (page: Page, before: string) =>
  eventually(async () => (await playedCount(page)) !== before, 5000, 'an answer');

/** Fills one playground form, sends it and waits for its answer; returns the answer line. */
async function play(page: Page, kind: string, fields: Record<string, string>): Promise<string> {
  const form = `#playground form.play-${kind}`;
  for (const [name, value] of Object.entries(fields)) {
    const tag = await page.$eval(`${form} [name="${name}"]`, (e) => e.tagName);
    if (tag === 'SELECT') await page.selectOption(`${form} select[name="${name}"]`, value);
    else await page.fill(`${form} input[name="${name}"]`, value);
  }
  const before = await playedCount(page);
  await page.click(`${form} button[type="submit"]`);
  await answered(page, before);
  const line = (await page.textContent('#playground .play-result')) ?? '';
  assert.match(line, `${kind}: HTTP 200`, line);
  return line;
}

it('the playground drives a WhatsApp period dialog to "Смена записана", the highlight following', async (ctx) => {
  const { page } = ctx;
  assert.match(await play(page, 'whatsapp', { from: PHONE, as: 'text', value: 'меню' }), 'active.menu');
  await drawnAt(page, 'whatsapp-menu', 'active.menu');
  await play(page, 'whatsapp', { as: 'button', value: 'FILL_PERIOD' });
  await drawnAt(page, 'whatsapp-menu', 'active.askingPeriod');
  await play(page, 'whatsapp', { as: 'text', value: '01.12-03.12' });
  await drawnAt(page, 'whatsapp-menu', 'active.choosingShift');
  await page.screenshot({ path: screenshotPath('playground-whatsapp-choosing-shift.png'), fullPage: true });
  const done = await play(page, 'whatsapp', { as: 'list', value: 'SHIFT_NIGHT' });
  const state = done.split(' ').at(-1) ?? '';
  await drawnAt(page, 'whatsapp-menu', state);
  // The last step's effects: the confirmation sent to the employee.
  const detail = 'section[data-machine="whatsapp-menu"] .detail';
  await page.click(`${detail} .stepper .back`);
  const effects = (await page.textContent(`${detail} .step-effects`)) ?? '';
  assert.match(effects, 'Смена записана');
  assert.match((await page.textContent(`${detail} .step-event`)) ?? '', 'LIST: active.choosingShift →');
  assert.ok(
    ctx.svc.printed.some((t) => t.includes('Смена записана')),
    'sent through the dry channel',
  );
  await page.screenshot({ path: screenshotPath('playground-whatsapp-recorded.png'), fullPage: true });
  await page.click(`${detail} .stepper .live`);
});

it('a typed event to the selected actor moves it', async (ctx) => {
  const { page } = ctx;
  const form = '#playground form.play-event';
  assert.match((await page.textContent(`${form} .play-target`)) ?? '', 'wa:…0001 (whatsapp-menu)');
  const types = await page.$$eval(`${form} select[name="type"] option`, (o) => o.map((e) => e.textContent));
  assert.equal(types, ['BUTTON', 'LIST', 'UNSUPPORTED', 'REMIND', 'TEXT', 'TIMEOUT']);
  await page.selectOption(`${form} select[name="type"]`, 'TIMEOUT');
  await page.fill(`${form} input[name="fields"]`, '');
  const before = await playedCount(page);
  await page.click(`${form} button[type="submit"]`);
  await answered(page, before);
  const line = (await page.textContent('#playground .play-result')) ?? '';
  assert.match(line, /event: HTTP 200 → whatsapp-menu \S+/, line);
  const state = line.split(' ').at(-1) ?? '';
  await drawnAt(page, 'whatsapp-menu', state);
  const rows = await page.$$eval(
    'section[data-machine="whatsapp-menu"] .detail table.history tbody tr',
    (r) => r.map((tr) => tr.querySelectorAll('td')[1]?.textContent),
  );
  assert.is(rows[0], 'TIMEOUT', 'the newest transition is the typed event');
});

it('the playground drives a gate call to "opened": Telegram command, dry Zadarma, its webhook', async (ctx) => {
  const { page } = ctx;
  await play(page, 'telegram', { user: '42', as: 'contact', value: '0501112233' });
  await drawnAt(page, 'telegram-chat', 'member');
  await play(page, 'telegram', { as: 'text', value: '/hvirtka' });
  const row = 'section[data-machine="gate-call"] table.actors tbody tr';
  // Zadarma (dry) accepted the callback request: the call waits for the relay.
  await page.waitForSelector(`${row}[data-state="live.pending"]`, { timeout: 10_000 });
  const opened = await play(page, 'zadarma', { gate: 'hvirtka', event: 'end', disposition: 'cancel' });
  assert.match(opened, 'gate-call opened');
  await drawnAt(page, 'gate-call', 'opened');
  await page.waitForSelector(`${row}[data-state="opened"]`, { timeout: 5000 });
  assert.equal(await highlighted(page, 'gate-call'), ['opened']);
  await page.screenshot({ path: screenshotPath('playground-gate-call-opened.png'), fullPage: true });
});

it('the sequence view of the gate command shows every actor it crossed', async (ctx) => {
  const { page } = ctx;
  const section = 'section[data-machine="gate-call"]';
  await page.click(`${section} .show-sequence`);
  await page.waitForSelector(`${section} .sequence-diagram svg`, { timeout: 5000 });
  const actors = await sequenceActors(page, 'gate-call');
  const call = await page.textContent(`${section} .detail .key`);
  assert.equal(actors.sort(), ['Telegram user', 'tg:42', call, 'Zadarma', 'Admin alerts'].sort());
  const text = (await page.textContent(`${section} .sequence-diagram svg`)) ?? '';
  for (const m of [
    'CONTACT',
    'GATE',
    'gate: gate=hvirtka',
    'callback request',
    'API_OK',
    'CALL_END (webhook NOTIFY_END)',
  ])
    assert.match(text, m);
  assert.match(text, 'відчинено');
  await page
    .locator(`${section} .sequence`)
    .screenshot({ path: screenshotPath('sequence-gate-command.png') });
  // The same conversation from the chat's side.
  await page.click('section[data-machine="telegram-chat"] table.actors tbody tr');
  await page.click('section[data-machine="telegram-chat"] .show-sequence');
  await page.waitForSelector('section[data-machine="telegram-chat"] .sequence-diagram svg', {
    timeout: 5000,
  });
  assert.equal(await sequenceActors(page, 'telegram-chat'), actors.sort());
});

it('the page stayed on this server and reported no error', (ctx) => {
  assert.equal(ctx.watch.foreign(), []);
  assert.equal(ctx.watch.failed(), []);
  assert.equal(ctx.watch.errors, []);
});

test.run();
