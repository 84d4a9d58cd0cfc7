import * as assert from 'uvu/assert';
import type { AnyStateNode } from 'xstate';
import { MACHINES } from '../machines/index';
import { statesOf } from '../server/inspect/machines';
import {
  adminWithLiveWhatsApp,
  browserSuite,
  type LiveWhatsAppCtx,
  screenshotPath,
  signIn,
} from './helpers/browser';
import { Chat } from './helpers/chat';
import { drawnAt, highlighted, highlightedParents, sequenceActors } from './helpers/inspector-page';

/**
 * The inspector in a real browser (Debian's chromium, headless): every machine drawn from its
 * definition, a WhatsApp dialog driven through the webhook moving the highlighted state while the
 * page is open, the sign-in form without the cookie (401 for its JSON), and not one request leaving the server.
 */
const TOKEN = 'browser-inspect-token';
const D360_KEY = 'browser-d360-key';
const PHONE = '79995550123';

const { test, it } = browserSuite<LiveWhatsAppCtx>('inspector in a browser', {
  ...adminWithLiveWhatsApp(TOKEN, D360_KEY),
  viewport: { width: 1400, height: 1000 },
});

it('without signing in the page is refused: sent to the sign-in form; its JSON is 401', async (ctx) => {
  for (const path of ['/inspect', '/inspect?token=not-it', `/inspect?token=${TOKEN}`]) {
    await ctx.page.goto(`${ctx.svc.url}${path}`);
    assert.is(new URL(ctx.page.url()).pathname, '/admin/login', path);
  }
  const status = await ctx.page.evaluate(async () => (await fetch('/inspect/actors.json')).status);
  assert.is(status, 401);
});

it('every registered machine is drawn, with all its states', async (ctx) => {
  await signIn(ctx.page, ctx.svc.url, TOKEN, '/inspect');
  assert.is(new URL(ctx.page.url()).pathname, '/inspect');
  for (const m of Object.values(MACHINES)) {
    const svg = `section[data-machine="${m.name}"] .diagram svg`;
    await ctx.page.waitForSelector(svg, { timeout: 15_000 });
    const text = await ctx.page.$eval(svg, (e) => e.textContent ?? '');
    // Nested states too: composites with their own transitions draw (Mermaid rejects some edges).
    for (const node of statesOf(m.logic.root as AnyStateNode))
      assert.match(text, node.key, `${m.name}: ${node.path.join('.')}`);
  }
  await ctx.page.screenshot({ path: screenshotPath('inspect-machines.png'), fullPage: true });
});

it('diagrams fit their box by default; zoom in, out and back to fit changes their size', async (ctx) => {
  const section = 'section[data-machine="gate-call"]';
  const svgWidth = () => ctx.page.$eval(`${section} .diagram svg`, (e) => e.getBoundingClientRect().width);
  const boxWidth = await ctx.page.$eval(`${section} .diagram`, (e) => e.clientWidth);
  const natural = await ctx.page.$eval(`${section} .diagram svg`, (e) =>
    Number(e.getAttribute('viewBox')?.split(/\s+/)[2]),
  );
  const fit = await svgWidth();
  // The box's width, unless that would blow a small diagram up past twice its size.
  const expected = Math.min(boxWidth, natural * 2);
  assert.ok(Math.abs(fit - expected) <= 2, `fit to width: svg ${fit}, box ${boxWidth}, natural ${natural}`);
  // Every machine: as wide as its box or at twice its own size, never wider than the box.
  const all = await ctx.page.$$eval('section.machine .diagram', (boxes) =>
    boxes.map((b) => {
      const svg = b.querySelector('svg');
      const w = Number(svg?.getAttribute('viewBox')?.split(/\s+/)[2]);
      return { box: b.clientWidth, svg: svg?.getBoundingClientRect().width ?? 0, natural: w };
    }),
  );
  for (const d of all) assert.ok(Math.abs(d.svg - Math.min(d.box, d.natural * 2)) <= 2, JSON.stringify(d));
  await ctx.page.click(`${section} .zoom button[data-zoom="in"]`);
  await ctx.page.click(`${section} .zoom button[data-zoom="in"]`);
  const zoomed = await svgWidth();
  assert.ok(zoomed > fit * 1.5, `zoomed in: ${zoomed} > 1.5 × ${fit}`);
  assert.is(await ctx.page.textContent(`${section} .zoom-level`), '156%');
  await ctx.page.screenshot({ path: screenshotPath('inspect-zoomed-in.png'), fullPage: true });
  await ctx.page.click(`${section} .zoom button[data-zoom="out"]`);
  assert.ok((await svgWidth()) < zoomed, 'zoomed out');
  // ctrl+wheel zooms too.
  await ctx.page.hover(`${section} .diagram`);
  await ctx.page.keyboard.down('Control');
  await ctx.page.mouse.wheel(0, -100);
  await ctx.page.keyboard.up('Control');
  assert.is(await ctx.page.textContent(`${section} .zoom-level`), '138%');
  await ctx.page.click(`${section} .zoom button[data-zoom="fit"]`);
  assert.ok(Math.abs((await svgWidth()) - fit) <= 1, 'back to fit');
});

it('a WhatsApp dialog driven through the webhook moves the highlighted state on the open page', async (ctx) => {
  const chat = new Chat(ctx.svc.url, ctx.fake, PHONE);
  await chat.say('меню');
  const row = 'section[data-machine="whatsapp-menu"] table.actors tbody tr';
  // The page polls: the new actor shows up without a reload, its phone masked.
  await ctx.page.waitForSelector(`${row}[data-state="active.menu"]`, { timeout: 5000 });
  assert.match(await ctx.page.$eval(row, (e) => e.textContent ?? ''), 'wa:…0123');
  await ctx.page.click(row);
  await drawnAt(ctx.page, 'whatsapp-menu', 'active.menu');
  // The nested state and the composite around it.
  assert.equal(await highlighted(ctx.page, 'whatsapp-menu'), ['menu']);
  assert.equal(await highlightedParents(ctx.page, 'whatsapp-menu'), ['active']);
  await ctx.page.screenshot({ path: screenshotPath('inspect-actor-menu.png'), fullPage: true });

  await chat.tap('FILL_PERIOD');
  await drawnAt(ctx.page, 'whatsapp-menu', 'active.askingPeriod');
  assert.equal(await highlighted(ctx.page, 'whatsapp-menu'), ['askingPeriod']);
  assert.equal(await highlightedParents(ctx.page, 'whatsapp-menu'), ['active']);
  const history = await ctx.page.$$eval(
    'section[data-machine="whatsapp-menu"] .detail table.history tbody tr',
    (rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(1).map((td) => td.textContent)),
  );
  assert.equal(history, [
    ['BUTTON', 'active.menu → active.askingPeriod'],
    ['TEXT', 'idle → active.menu'],
  ]);
  const body = await ctx.page.textContent('body');
  assert.not.match(body ?? '', PHONE, 'the phone is never shown in full');
  await ctx.page.screenshot({ path: screenshotPath('inspect-actor-asking-period.png'), fullPage: true });
});

it('history stepping: ◀ ▶ move the highlight over the stored transitions, with each one’s event and effects', async (ctx) => {
  const detail = 'section[data-machine="whatsapp-menu"] .detail';
  const label = () => ctx.page.textContent(`${detail} .step-label`);
  await ctx.page.click(`${detail} .stepper .back`);
  assert.is(await label(), 'step 2 of 2');
  assert.match(
    (await ctx.page.textContent(`${detail} .step-event`)) ?? '',
    'BUTTON: active.menu → active.askingPeriod',
  );
  await ctx.page.click(`${detail} .stepper .back`);
  assert.is(await label(), 'step 1 of 2');
  await drawnAt(ctx.page, 'whatsapp-menu', 'active.menu');
  assert.equal(await highlighted(ctx.page, 'whatsapp-menu'), ['menu']);
  assert.match((await ctx.page.textContent(`${detail} .step-event`)) ?? '', 'TEXT: idle → active.menu');
  // The menu the step sent, in one line.
  const effects = await ctx.page.$$eval(`${detail} .step-effects li`, (li) =>
    li.map((e) => e.textContent ?? ''),
  );
  assert.is(effects.length, 1);
  assert.match(effects[0] ?? '', /^whatsapp \S/);
  assert.ok(await ctx.page.isDisabled(`${detail} .stepper .back`), 'nothing before the first');
  assert.is(
    await ctx.page.$eval(`${detail} table.history tr.stepped td:nth-child(2)`, (e) => e.textContent),
    'TEXT',
  );
  await ctx.page.screenshot({ path: screenshotPath('inspect-history-step-1.png'), fullPage: true });
  // A poll does not move the stepped highlight back.
  await ctx.page.waitForTimeout(1300);
  assert.equal(await highlighted(ctx.page, 'whatsapp-menu'), ['menu']);
  await ctx.page.click(`${detail} .stepper .forward`);
  await drawnAt(ctx.page, 'whatsapp-menu', 'active.askingPeriod');
  await ctx.page.click(`${detail} .stepper .forward`);
  assert.is(await label(), 'live');
  assert.ok(await ctx.page.isHidden(`${detail} .step`));
  assert.equal(await highlighted(ctx.page, 'whatsapp-menu'), ['askingPeriod']);
});

it('zoomed far in, the selected actor’s state is scrolled into view of its diagram', async (ctx) => {
  const section = 'section[data-machine="whatsapp-menu"]';
  for (let i = 0; i < 6; i++) await ctx.page.click(`${section} .zoom button[data-zoom="in"]`);
  assert.is(await ctx.page.textContent(`${section} .zoom-level`), '381%');
  // Scrolled away by hand; the next poll brings the state back.
  await ctx.page.$eval(`${section} .diagram`, (b) => b.scrollTo(0, 0));
  await ctx.page.waitForTimeout(1300);
  const where = await ctx.page.$eval(`${section} .diagram`, (b) => {
    const box = b.getBoundingClientRect();
    const node = b.querySelector('svg g.node.current')?.getBoundingClientRect();
    return {
      box: [box.left, box.top, box.right, box.bottom],
      node: node && [node.left, node.top, node.right, node.bottom],
    };
  });
  const [l, t, r, btm] = where.box;
  const [nl, nt, nr, nb] = where.node ?? [];
  assert.ok(
    (nl ?? -1) >= (l ?? 0) && (nr ?? 0) <= (r ?? 0) && (nt ?? -1) >= (t ?? 0) && (nb ?? 0) <= (btm ?? 0),
    JSON.stringify(where),
  );
  await ctx.page.screenshot({ path: screenshotPath('inspect-zoomed-state-in-view.png') });
  await ctx.page.click(`${section} .zoom button[data-zoom="fit"]`);
});

it('the sequence view of a WhatsApp actor: the employee, the dialog, each event, commit and send', async (ctx) => {
  const section = 'section[data-machine="whatsapp-menu"]';
  await ctx.page.click(`${section} .show-sequence`);
  await ctx.page.waitForSelector(`${section} .sequence-diagram svg`, { timeout: 5000 });
  assert.equal(await sequenceActors(ctx.page, 'whatsapp-menu'), ['WhatsApp employee', 'wa:…0123'].sort());
  const text = (await ctx.page.textContent(`${section} .sequence-diagram svg`)) ?? '';
  for (const m of [
    'TEXT',
    'commit: idle → active.menu',
    'BUTTON',
    'commit: active.menu → active.askingPeriod',
  ])
    assert.match(text, m);
  assert.match(text, /whatsapp: \S/, 'the messages sent');
  await ctx.page
    .locator(`${section} .sequence`)
    .screenshot({ path: screenshotPath('inspect-sequence-whatsapp.png') });
});

it('the page made no request to any other host and reported no error', async (ctx) => {
  assert.ok(ctx.watch.requests.some((u) => u.includes('/inspect/assets/mermaid.min.js')));
  assert.ok(ctx.watch.requests.filter((u) => u.includes('/inspect/actors.json')).length > 1, 'it polls');
  assert.equal(ctx.watch.foreign(), []);
  // The refused pages above answered 401 (and the browser asked for their favicon): expected.
  assert.equal(
    ctx.watch.failed().filter((f) => !f.endsWith(' 401') && !f.includes('/favicon.ico')),
    [],
  );
  assert.equal(
    ctx.watch.errors.filter((e) => !e.startsWith('Failed to load resource')),
    [],
  );
});

test.run();
