import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_ALERTS_KEY } from '../machines/admin-alerts';
import type { ActorRecord } from '../server/engine/types';
import { SESSION_TTL_MS } from '../server/http/admin-session';
import { type FakeD360, startFakeD360 } from './fakes/d360';
import {
  eventually,
  http,
  spawnService,
  startTestService,
  type TestService,
  tmpDataDir,
} from './helpers/service';

/**
 * Who may open the admin pages: the inspector open without a token only in a dry development run on
 * loopback (the rule itself, inspectorOpen: inspect-playground-unit); elsewhere the Bearer header or the sign-in cookie (never `?token=`); failed sign-ins
 * rate-limited and logged. The browser side: browser-admin-signin.
 */
const TOKEN = 'signin-test-token-7d2e';
const D360_KEY = 'signin-d360-key';
const html = { accept: 'text/html,application/xhtml+xml' };
/** fetch without following redirects (to see the 302/303 and the cookie it sets). */
const raw = (url: string, init: RequestInit = {}) => fetch(url, { redirect: 'manual', ...init });

interface Ctx {
  fake: FakeD360;
  now: number;
  /** ADMIN_TOKEN with a live WhatsApp: the token is required. */
  svc: TestService;
}
const test = suite<Ctx>('admin sign-in and the open inspector');

test.before(async (ctx) => {
  ctx.fake = await startFakeD360({ apiKey: D360_KEY });
  ctx.now = Date.UTC(2026, 10, 22, 9);
  ctx.svc = await startTestService(
    { ADMIN_TOKEN: TOKEN, D360_API_KEY: D360_KEY, D360_BASE_URL: ctx.fake.url },
    { clock: () => ctx.now },
  );
});
test.after(async (ctx) => {
  await ctx.svc.stop();
  await ctx.fake.close();
});

test('open mode (dev, every channel dry, 127.0.0.1): the inspector without a token; attendance stays shut', async () => {
  const open = await startTestService({});
  try {
    for (const path of [
      '/inspect',
      '/inspect/machines.json',
      '/inspect/actors.json',
      '/inspect/assets/inspect.js',
    ]) {
      const res = await http(`${open.url}${path}`);
      assert.is(res.status, 200, path);
      if (!path.includes('/assets/')) assert.is(res.headers.get('cache-control'), 'no-store', path);
      assert.match(res.headers.get('content-security-policy') ?? '', "default-src 'self'", path);
    }
    // Without ADMIN_TOKEN there is nothing to sign in with: attendance and the form do not exist.
    for (const path of ['/admin/attendance', '/admin/attendance.csv', '/admin/login'])
      assert.is((await http(`${open.url}${path}`)).status, 404, path);
  } finally {
    await open.stop();
  }
  const withToken = await startTestService({ ADMIN_TOKEN: TOKEN });
  try {
    assert.is((await http(`${withToken.url}/inspect`)).status, 200, 'open even when ADMIN_TOKEN is set');
    assert.is(
      (await http(`${withToken.url}/admin/attendance.csv`)).status,
      401,
      'personal data: token always',
    );
    const page = await raw(`${withToken.url}/admin/attendance?month=2026-11`, { headers: html });
    assert.is(page.status, 302);
    assert.is(
      page.headers.get('location'),
      `/admin/login?next=${encodeURIComponent('/admin/attendance?month=2026-11')}`,
    );
  } finally {
    await withToken.stop();
  }
});

test('npm start with no settings: listens on 127.0.0.1 and prints the inspector URL, which opens', async () => {
  const svc = await spawnService({ HOST: undefined, DATA_DIR: tmpDataDir() });
  try {
    assert.match(svc.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const line = `inspector: ${svc.url}/inspect (open without a token`;
    assert.ok(await eventually(() => svc.output().includes(line)), `${line} in:\n${svc.output()}`);
    assert.is((await http(`${svc.url}/inspect`)).status, 200);
  } finally {
    svc.proc.kill('SIGTERM');
    await svc.exited;
  }
});

test('not open: a live channel or a non-loopback HOST needs the token (404 without ADMIN_TOKEN)', async (ctx) => {
  assert.is((await http(`${ctx.svc.url}/inspect`)).status, 401, 'live WhatsApp');
  assert.is((await http(`${ctx.svc.url}/inspect/actors.json`)).status, 401, 'live WhatsApp');
  const live = await startTestService({ D360_API_KEY: D360_KEY, D360_BASE_URL: ctx.fake.url });
  try {
    assert.is((await http(`${live.url}/inspect`)).status, 404, 'live WhatsApp, no ADMIN_TOKEN');
  } finally {
    await live.stop();
  }
  const anyHost = await startTestService({ HOST: '0.0.0.0', ADMIN_TOKEN: TOKEN });
  try {
    assert.is((await http(`${anyHost.url}/inspect`)).status, 401, 'HOST=0.0.0.0 in dev');
    const res = await http(`${anyHost.url}/inspect`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.is(res.status, 200, 'Bearer still works');
  } finally {
    await anyHost.stop();
  }
});

test('a browser without the cookie is sent to the form (302, same-site next); scripts get 401', async (ctx) => {
  const page = await raw(`${ctx.svc.url}/inspect`, { headers: html });
  assert.is(page.status, 302);
  assert.is(page.headers.get('location'), '/admin/login?next=%2Finspect');
  const login = await http(`${ctx.svc.url}/admin/login?next=%2Finspect`);
  assert.is(login.status, 200);
  assert.match(login.text, '<form method="post" action="/admin/login">');
  assert.match(login.text, 'name="token" type="password"');
  assert.match(login.text, 'name="next" value="/inspect"');
  for (const next of [
    '//evil.example/x',
    'https://evil.example/',
    '/\\evil.example',
    'javascript:alert(1)',
  ]) {
    const res = await http(`${ctx.svc.url}/admin/login?next=${encodeURIComponent(next)}`);
    assert.match(res.text, 'name="next" value="/admin/attendance"', next);
  }
  const json = await http(`${ctx.svc.url}/inspect/actors.json`);
  assert.is(json.status, 401);
  assert.match(json.headers.get('www-authenticate') ?? '', /^Bearer/);
  const wrongBearer = await raw(`${ctx.svc.url}/inspect`, {
    headers: { ...html, authorization: 'Bearer wrong' },
  });
  assert.is(wrongBearer.status, 401, 'a wrong Bearer token is refused, not redirected');
});

test('?token= is never read, not even the right one', async (ctx) => {
  for (const path of ['/inspect', '/inspect/actors.json', '/admin/attendance', '/admin/attendance.csv'])
    assert.is((await http(`${ctx.svc.url}${path}?token=${TOKEN}`)).status, 401, path);
});

/** Posts the sign-in form with these fields; the raw answer. */
const postLogin = (url: string, fields: Record<string, string>, headers: Record<string, string>) =>
  raw(`${url}/admin/login`, {
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
/** Signs in from `ip` (a proxy on this machine adds it to X-Forwarded-For); the raw answer. */
const signIn = (url: string, token: string, ip: string, extra: Record<string, string> = {}) =>
  postLogin(url, { token, ...extra }, { 'x-forwarded-for': ip });
const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0] as string;

test('sign-in: an HttpOnly SameSite=Strict cookie that opens the inspector and the CSV export', async (ctx) => {
  const res = await signIn(ctx.svc.url, TOKEN, '198.51.100.1', {
    next: '/admin/attendance.csv?month=2026-11',
  });
  assert.is(res.status, 303);
  assert.is(res.headers.get('location'), '/admin/attendance.csv?month=2026-11');
  const setCookie = res.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /^switchboard_admin=[0-9a-z]+\.[A-Za-z0-9_-]{43};/);
  assert.match(setCookie, /; path=\//);
  assert.match(setCookie, /; samesite=strict/);
  assert.match(setCookie, /; httponly/);
  assert.not.match(setCookie, /; secure/, 'plain http: no Secure flag (the browser would drop it)');
  assert.not.match(setCookie, TOKEN, 'the cookie does not hold the token');
  const cookie = { cookie: cookieOf(res) };
  const csv = await raw(`${ctx.svc.url}/admin/attendance.csv?month=2026-11`, { headers: cookie });
  assert.is(csv.status, 200);
  assert.match(csv.headers.get('content-type') ?? '', 'text/csv');
  assert.is((await raw(`${ctx.svc.url}/inspect`, { headers: cookie })).status, 200);
  assert.is((await raw(`${ctx.svc.url}/inspect/actors.json`, { headers: cookie })).status, 200);
  const table = await http(`${ctx.svc.url}/admin/attendance?month=2026-11`, { headers: cookie });
  assert.is(table.status, 200);
  assert.not.match(table.text, 'token=', 'no link in the page carries a token');
  assert.match(table.text, '<form method="post" action="/admin/logout">');
  assert.ok(
    ctx.svc.logs.some((l) => l.includes('admin signed in')),
    'a sign-in is logged',
  );

  // Behind an https proxy the cookie is Secure.
  const https = await postLogin(
    ctx.svc.url,
    { token: TOKEN },
    { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.1' },
  );

  assert.is(https.status, 303);
  assert.is(https.headers.get('location'), '/admin/attendance');
  assert.match(https.headers.get('set-cookie') ?? '', /; secure/);
});

test('the cookie: a changed signature or an expired one opens nothing; sign-out clears it', async (ctx) => {
  const cookie = cookieOf(await signIn(ctx.svc.url, TOKEN, '198.51.100.2'));
  const [name, value = ''] = cookie.split('=');
  const [expiry, signature = ''] = value.split('.');
  const forged = [
    `${name}=${expiry}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`,
    `${name}=${(Number.parseInt(expiry ?? '', 36) + 1000).toString(36)}.${signature}`,
    `${name}=`,
    `${name}=${TOKEN}`,
  ];
  for (const c of forged)
    assert.is((await raw(`${ctx.svc.url}/inspect/actors.json`, { headers: { cookie: c } })).status, 401, c);
  assert.is((await raw(`${ctx.svc.url}/inspect/actors.json`, { headers: { cookie } })).status, 200);
  const before = ctx.now;
  ctx.now += SESSION_TTL_MS + 1;
  try {
    assert.is(
      (await raw(`${ctx.svc.url}/inspect/actors.json`, { headers: { cookie } })).status,
      401,
      'expired',
    );
  } finally {
    ctx.now = before;
  }
  const out = await raw(`${ctx.svc.url}/admin/logout`, { method: 'POST', headers: { cookie } });
  assert.is(out.status, 303);
  assert.is(out.headers.get('location'), '/admin/login');
  assert.match(out.headers.get('set-cookie') ?? '', /^switchboard_admin=;.*expires=Thu, 01 Jan 1970/);
});

test('failed sign-ins: 401 with the form, logged without the token; the 6th in 10 minutes is 429', async (ctx) => {
  const ip = '203.0.113.7';
  for (let i = 1; i <= 5; i++) {
    const res = await signIn(ctx.svc.url, `guess-${i}-xyzzy`, ip);
    assert.is(res.status, 401, `attempt ${i}`);
    assert.is(res.headers.get('set-cookie'), null);
    assert.match(await res.text(), 'Неверный токен.');
  }
  const limited = await signIn(ctx.svc.url, TOKEN, ip);
  assert.is(limited.status, 429, 'even the right token while limited');
  assert.is(limited.headers.get('set-cookie'), null);
  const retry = Number(limited.headers.get('retry-after'));
  assert.ok(retry > 500 && retry <= 600, `Retry-After ${retry}`);
  assert.match(await limited.text(), 'Слишком много неудачных попыток');
  const refused = ctx.svc.logs.filter((l) => l.includes('admin sign-in refused'));
  assert.is(refused.length, 6);
  assert.ok(
    refused.every((l) => l.includes(ip)),
    'the address is logged',
  );
  assert.ok(!ctx.svc.logs.some((l) => l.includes('xyzzy')), 'what was typed is never logged');
  // Five refusals within 10 minutes raise the admins' probing alert, as refused webhooks do.
  const causes = () =>
    (
      ctx.svc.store.get<ActorRecord>('actors', ADMIN_ALERTS_KEY)?.snapshot as {
        context?: { causes?: object };
      }
    )?.context?.causes ?? {};
  assert.ok(
    await eventually(() => 'webhookAuth:POST /admin/login' in causes()),
    `the probing alert is raised: ${JSON.stringify(causes())}`,
  );
  // Another client is not affected; the limited one may try again once the window has passed.
  assert.is((await signIn(ctx.svc.url, TOKEN, '203.0.113.8')).status, 303);
  const before = ctx.now;
  ctx.now += 10 * 60 * 1000;
  try {
    assert.is((await signIn(ctx.svc.url, TOKEN, ip)).status, 303, 'after the window');
  } finally {
    ctx.now = before;
  }
});

test('X-Forwarded-For: only the entry the local proxy added counts (a client cannot pick a new address)', async (ctx) => {
  for (let i = 1; i <= 5; i++) {
    const res = await signIn(ctx.svc.url, 'wrong', `10.9.9.${i}, 203.0.113.50`);
    assert.is(res.status, 401);
  }
  assert.is((await signIn(ctx.svc.url, 'wrong', '10.9.9.99, 203.0.113.50')).status, 429);
});

test('an empty or missing token field is a failed attempt, not an error', async (ctx) => {
  const res = await postLogin(ctx.svc.url, { next: '/inspect' }, { 'x-forwarded-for': '192.0.2.77' });
  assert.is(res.status, 401);
  assert.match(await res.text(), 'name="next" value="/inspect"');
});

test.run();
