/**
 * A real browser for page tests: Debian's chromium (`.ci/run` installs it; never a test tool's own
 * browser download) driven by playwright-core. In CI a missing chromium fails the suite; on a
 * developer machine the browser tests are skipped with a message saying how to get it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Download, type Page } from 'playwright-core';
import { suite } from 'uvu';
import { type FakeD360, startFakeD360 } from '../fakes/d360';
import { startTestService, type TestService } from './service';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const root = new URL('../..', import.meta.url).pathname;
/** Screenshots and downloads (gitignored). */
export const OUTPUT_DIR = join(root, 'test-output');

/** Why the browser tests cannot run here, or undefined when they can. Throws in CI. */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `${CHROMIUM} is missing: install it with \`apt-get install -y --no-install-recommends chromium\``;
  if (process.env.CI === 'true' || process.env.CI === '1')
    throw new Error(`browser tests cannot run in CI: ${why}`);
  process.stdout.write(`browser tests skipped: ${why}\n`);
  return why;
}

function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** What a browser suite's tests get: the service and one page on it, in a browser of its own. */
export interface BrowserCtx {
  svc: TestService;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  watch: ReturnType<typeof watchPage>;
}

/**
 * A uvu suite of page tests. Before them `start` gives the service (and keeps on `ctx` whatever else
 * it starts) and a browser opens one watched page; after them the browser, the service and, by `stop`,
 * the rest are closed. Without chromium every test registered with `it` is skipped (see browserMissing).
 */
export function browserSuite<Ctx extends BrowserCtx>(
  name: string,
  opts: {
    start: (ctx: Ctx) => Promise<TestService>;
    stop?: (ctx: Ctx) => Promise<void>;
    viewport: { width: number; height: number };
    acceptDownloads?: boolean;
  },
) {
  const test = suite<Ctx>(name);
  const missing = browserMissing();
  test.before(async (ctx) => {
    if (missing) return;
    ctx.svc = await opts.start(ctx);
    ctx.browser = await launchBrowser();
    ctx.context = await ctx.browser.newContext({
      viewport: opts.viewport,
      acceptDownloads: opts.acceptDownloads,
    });
    ctx.page = await ctx.context.newPage();
    ctx.watch = watchPage(ctx.page, ctx.svc.url);
  });
  test.after(async (ctx) => {
    if (missing) return;
    await ctx.browser?.close();
    await ctx.svc?.stop();
    await opts.stop?.(ctx);
  });
  return { test, it: missing ? test.skip : test, missing };
}

/** Every request the page makes and every error it reports, to check it stays on `origin`. */
export function watchPage(page: Page, origin: string) {
  const requests: string[] = [];
  const errors: string[] = [];
  const failed: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.url()} ${r.status()}`);
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return {
    requests,
    errors,
    /** `url status` of every answer >= 400. */
    failed: () => [...failed],
    /** Requests to anything but this server (data: and blob: URLs stay in the page). */
    foreign: () => requests.filter((u) => !u.startsWith(`${origin}/`) && !/^(data|blob|about):/.test(u)),
  };
}

export interface LiveWhatsAppCtx extends BrowserCtx {
  fake: FakeD360;
}

/**
 * browserSuite's `start` and `stop` for a deployment with ADMIN_TOKEN and a live WhatsApp (the fake
 * 360dialog on `ctx.fake`): there the inspector is not open, so the pages need signing in.
 */
export function adminWithLiveWhatsApp(token: string, d360Key: string) {
  return {
    start: async (ctx: LiveWhatsAppCtx) => {
      ctx.fake = await startFakeD360({ apiKey: d360Key });
      return startTestService({ ADMIN_TOKEN: token, D360_API_KEY: d360Key, D360_BASE_URL: ctx.fake.url });
    },
    stop: async (ctx: LiveWhatsAppCtx) => ctx.fake?.close(),
  };
}

/** Clicks `selector` and gives the download it starts. */
export async function downloadFrom(page: Page, selector: string): Promise<Download> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return download;
}

export function screenshotPath(name: string): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return join(OUTPUT_DIR, name);
}

/** Signs in through the /admin/login form (the way a manager does); ends on the page `next` names. */
export async function signIn(
  page: Page,
  origin: string,
  token: string,
  next = '/admin/attendance',
): Promise<void> {
  await page.goto(`${origin}/admin/login?next=${encodeURIComponent(next)}`);
  await page.fill('input[name=token]', token);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/admin/login'),
    page.click('button[type=submit]'),
  ]);
}
