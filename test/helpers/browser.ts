/**
 * A real browser for page tests: Debian's chromium (`.ci/run` installs it; never a test tool's own
 * browser download) driven by playwright-core. In CI a missing chromium fails the suite; on a
 * developer machine the browser tests are skipped with a message saying how to get it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

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

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
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
