import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnyStateNode } from 'xstate';
import { commandUpdate, contactUpdate } from '../fixtures/telegram';
import { textMessage } from '../fixtures/whatsapp';
import { formBody } from '../fixtures/zadarma';
import { MACHINES } from '../machines/index';
import { planZadarma } from '../scripts/simulate-gate';
import { statesOf } from '../server/inspect/machines';
import { toMermaid } from '../server/inspect/mermaid';
import { PACKAGE_ROOT } from '../server/lib/package-root';
import { type FakeD360, startFakeD360 } from './fakes/d360';
import { eventually, http, outboxHealth, startTestService, type TestService } from './helpers/service';

/** The inspector's HTTP side: the guard, the JSON endpoints and the assets (the page: browser-inspect). */
const TOKEN = 'inspect-test-token-0123';
const PHONE = '79991234567';
const auth = { authorization: `Bearer ${TOKEN}` };

interface Ctx {
  fake: FakeD360;
  svc: TestService;
  /** A live WhatsApp: the inspector is not open, the token is required (open mode: admin-signin). */
  live: Record<string, string>;
  /** Dev, every channel dry, loopback: the inspector's open development mode (the playground). */
  open: TestService;
}
const test = suite<Ctx>('inspector over HTTP');

test.before(async (ctx) => {
  ctx.fake = await startFakeD360({ apiKey: 'inspect-d360-key' });
  ctx.live = { D360_API_KEY: 'inspect-d360-key', D360_BASE_URL: ctx.fake.url };
  ctx.svc = await startTestService({ ADMIN_TOKEN: TOKEN, ...ctx.live });
  ctx.open = await startTestService({ ADMIN_TOKEN: TOKEN });
  const res = await http(`${ctx.svc.url}/webhook`, { body: textMessage({ from: PHONE, body: 'меню' }) });
  assert.is(res.status, 200);
});
test.after(async (ctx) => {
  await ctx.svc.stop();
  await ctx.open.stop();
  await ctx.fake.close();
});

const ADMIN_PATHS = [
  '/inspect',
  '/inspect/machines.json',
  '/inspect/actors.json',
  '/inspect/assets/mermaid.min.js',
  '/admin/attendance',
  '/admin/attendance.csv',
];

test('without ADMIN_TOKEN the admin pages do not exist (404)', async (ctx) => {
  const off = await startTestService({ ADMIN_TOKEN: '', ...ctx.live });
  try {
    for (const p of ADMIN_PATHS) assert.is((await http(`${off.url}${p}?token=x`)).status, 404, p);
  } finally {
    await off.stop();
  }
});

test('no token or a wrong one: 401 with WWW-Authenticate', async (ctx) => {
  for (const p of ADMIN_PATHS) {
    const none = await http(`${ctx.svc.url}${p}`);
    assert.is(none.status, 401, p);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.is((await http(`${ctx.svc.url}${p}?token=wrong`)).status, 401, p);
    assert.is(
      (await http(`${ctx.svc.url}${p}`, { headers: { authorization: 'Bearer wrong' } })).status,
      401,
      p,
    );
    assert.is(
      (await http(`${ctx.svc.url}${p}`, { headers: { authorization: TOKEN } })).status,
      401,
      `${p}: not Bearer`,
    );
  }
});

test('the page: Bearer (never ?token=), no caching, a CSP that allows this server only', async (ctx) => {
  assert.is(
    (await http(`${ctx.svc.url}/inspect?token=${TOKEN}`)).status,
    401,
    'a token in the URL is not read',
  );
  for (const res of [await http(`${ctx.svc.url}/inspect`, { headers: auth })]) {
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', 'text/html');
    assert.is(res.headers.get('cache-control'), 'no-store');
    assert.match(res.headers.get('content-security-policy') ?? '', "default-src 'self'");
    assert.match(res.text, '/inspect/assets/mermaid.min.js');
    assert.not.match(res.text, /https?:\/\//, 'no absolute URL in the page');
  }
});

test('machines.json: the registry with each machine’s states and current diagram', async (ctx) => {
  const res = await http(`${ctx.svc.url}/inspect/machines.json`, { headers: auth });
  const { machines } = res.json as { machines: Array<Record<string, unknown>> };
  assert.equal(
    machines.map((m) => m.name),
    Object.keys(MACHINES),
  );
  for (const m of machines) {
    const entry = MACHINES[m.name as keyof typeof MACHINES];
    assert.is(m.version, entry.version);
    assert.is(m.keyPrefix, entry.keyPrefix);
    assert.is(m.mermaid, toMermaid(entry.logic));
    assert.equal(
      m.states,
      statesOf(entry.logic.root as AnyStateNode).map((n) => n.path.join('.')),
    );
  }
  // Nested states as the engine labels them, their parents included.
  assert.equal(machines.find((m) => m.name === 'whatsapp-menu')?.states, [
    'idle',
    'active',
    'active.menu',
    'active.askingPeriod',
    'active.choosingShift',
  ]);
});

test('actors.json: masked keys, filters, and one actor with its history and highlighted diagram', async (ctx) => {
  const list = await http(`${ctx.svc.url}/inspect/actors.json`, { headers: auth });
  assert.is(list.status, 200);
  assert.not.match(list.text, PHONE, 'the phone never appears in full');
  const { actors, totals } = list.json as {
    actors: Array<Record<string, unknown>>;
    totals: Record<string, number>;
  };
  assert.is(totals['whatsapp-menu'], 1);
  const wa = actors.find((a) => a.machine === 'whatsapp-menu');
  assert.is(wa?.key, 'wa:…4567');
  assert.is(wa?.state, 'active.menu');
  assert.is(wa?.lastEvent, 'TEXT');
  assert.match(String(wa?.updatedAt), /^\d{4}-\d\d-\d\dT/);

  for (const q of [`key=wa:${PHONE}`, 'key=1234567', `id=${wa?.id}`, 'machine=whatsapp-menu&key=4567']) {
    const one = await http(`${ctx.svc.url}/inspect/actors.json?${q}`, { headers: auth });
    assert.not.match(one.text, PHONE, q);
    const [a] = (one.json as { actors: Array<Record<string, unknown>> }).actors;
    assert.is(a?.key, 'wa:…4567', q);
    const history = a?.history as Array<Record<string, unknown>>;
    assert.equal(
      history.map(({ effects: _, ...h }) => h),
      [{ at: a?.updatedAt, event: 'TEXT', from: 'idle', to: 'active.menu' }],
      q,
    );
    // The step's effect: the menu sent back, summarised in one line (what reached 360dialog).
    const effects = history[0]?.effects as Array<{ id: string; channel: string; summary: string }>;
    assert.is(effects.length, 1, q);
    assert.is(effects[0]?.channel, 'whatsapp', q);
    assert.match(effects[0]?.id ?? '', /^[0-9a-f]{8}$/, q);
    const summary = (effects[0]?.summary ?? '').replace(/…$/, '');
    assert.ok(summary.length > 10, q);
    assert.ok(
      JSON.stringify(ctx.fake.sent())
        .replace(/\\n|\s+/g, ' ')
        .includes(summary),
      `${q}: "${summary}" is what was sent`,
    );
    assert.match(String(a?.diagram), /class active__menu current/, q);
    assert.match(String(a?.diagram), /class active currentParent/, q);
  }
  const none = await http(`${ctx.svc.url}/inspect/actors.json?key=nobody`, { headers: auth });
  assert.equal((none.json as { actors: unknown[] }).actors, []);
  const other = await http(`${ctx.svc.url}/inspect/actors.json?machine=gate-call`, { headers: auth });
  assert.equal((other.json as { actors: unknown[] }).actors, []);
});

test('diagram.json: a machine with any of its states highlighted (history stepping); 400 otherwise', async (ctx) => {
  const res = await http(
    `${ctx.svc.url}/inspect/diagram.json?machine=whatsapp-menu&state=active.askingPeriod`,
    {
      headers: auth,
    },
  );
  assert.is(res.status, 200);
  assert.is(
    (res.json as { diagram: string }).diagram,
    toMermaid(MACHINES['whatsapp-menu'].logic, { highlight: 'active.askingPeriod' }),
  );
  for (const q of ['machine=whatsapp-menu&state=nowhere', 'machine=nope&state=idle', 'machine=whatsapp-menu'])
    assert.is((await http(`${ctx.svc.url}/inspect/diagram.json?${q}`, { headers: auth })).status, 400, q);
  assert.is((await http(`${ctx.svc.url}/inspect/diagram.json?machine=whatsapp-menu&state=idle`)).status, 401);
});

test('sequence.json: a gate command across the chat, its call, Zadarma’s callback and webhooks, and the replies', async (ctx) => {
  const svc = await startTestService({ ADMIN_TOKEN: TOKEN, ALLOWED_PHONES: '0501112233' });
  try {
    const tg = (body: unknown) => http(`${svc.url}/telegram/webhook`, { body });
    assert.is((await tg(contactUpdate({ userId: 42, phone: '0501112233' }))).status, 200);
    assert.is((await tg(commandUpdate({ userId: 42, text: '/hvirtka' }))).status, 200);
    const actors = async (q: string) =>
      (
        (await http(`${svc.url}/inspect/actors.json?${q}`, { headers: auth })).json as {
          actors: Array<{ id: string; key: string; state: string }>;
        }
      ).actors;
    // Zadarma (dry) accepted the callback request: the call waits for the relay's webhooks.
    const call = await eventually(
      async () => (await actors('machine=gate-call')).find((a) => a.state === 'live.pending'),
      10_000,
      'a pending call',
    );
    const [end] = planZadarma(['end'], { gate: 'hvirtka', disposition: 'cancel', duration: 5 });
    const res = await http(`${svc.url}/zadarma/webhook`, {
      raw: formBody(end?.body as Record<string, string>),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.is(res.status, 200);
    await eventually(
      async () => (await actors(`id=${call.id}`))[0]?.state === 'opened',
      5000,
      'the call opened',
    );
    await eventually(() => svc.printed.some((t) => t.includes('Хвіртка відчинено')), 5000, 'the reply sent');
    // The admins' alert too: both answers below must see the same outbox (no `[queued]` in one only).
    await eventually(async () => (await outboxHealth(svc.url)).pending === 0, 5000, 'the outbox drained');

    const chat = (await actors('key=tg:42'))[0];
    // The same conversation whichever of its actors is asked about (by key or by id).
    const fromChat = await http(`${svc.url}/inspect/sequence.json?key=tg:42`, { headers: auth });
    const fromCall = await http(`${svc.url}/inspect/sequence.json?id=${call.id}`, { headers: auth });
    assert.is(fromChat.status, 200);
    assert.equal(fromCall.json, fromChat.json);
    const seq = fromChat.json as {
      participants: Array<{ id: string; label: string }>;
      messages: Array<{ from: string; to: string; text: string }>;
      mermaid: string;
    };
    const label = (id: string) => seq.participants.find((p) => p.id === id)?.label;
    assert.equal(
      seq.participants.map((p) => p.label),
      ['Telegram user', chat?.key, call.key, 'Zadarma', 'Admin alerts'],
    );
    const lines = seq.messages.map((m) => `${label(m.from)} → ${label(m.to)}: ${m.text}`);
    const at = (re: RegExp) => {
      const i = lines.findIndex((l) => re.test(l));
      assert.ok(i >= 0, `${re} in\n${lines.join('\n')}`);
      return i;
    };
    const steps = [
      at(/^Telegram user → tg:42: CONTACT/),
      at(/^Telegram user → tg:42: GATE$/),
      at(/^tg:42 → call:hvirtka:[0-9a-f-]+: gate: gate=hvirtka source=telegram/),
      at(/^call:hvirtka:\S+ → call:hvirtka:\S+: REQUEST → commit: new → live\.initiated$/),
      at(/^call:hvirtka:\S+ → Zadarma: callback request: gate=hvirtka to=…0001$/),
      at(/^Zadarma → call:hvirtka:\S+: API_OK$/),
      at(/^Zadarma → call:hvirtka:\S+: CALL_END \(webhook NOTIFY_END\)$/),
      at(/^call:hvirtka:\S+ → Telegram user: telegram: .*відчинено/),
    ];
    assert.equal(
      steps,
      [...steps].sort((a, b) => a - b),
      `in order:\n${lines.join('\n')}`,
    );
    assert.not.match(fromChat.text, '0501112233', 'phones masked');
    assert.match(seq.mermaid, /^sequenceDiagram\n {2}participant tgUser as Telegram user\n/);
    assert.is(seq.mermaid.split('\n').filter((l) => /->>|Note over/.test(l)).length, seq.messages.length);
    assert.is((await http(`${svc.url}/inspect/sequence.json?key=tg:999`, { headers: auth })).status, 404);
    assert.is((await http(`${ctx.svc.url}/inspect/sequence.json?key=tg:42`)).status, 401);
  } finally {
    await svc.stop();
  }
});

test('playground: only in the open development mode (dev, no live channel, loopback); 404 otherwise', async (ctx) => {
  const machines = await http(`${ctx.open.url}/inspect/machines.json`, { headers: auth });
  assert.equal(
    (machines.json as { playground: unknown }).playground,
    { gates: ['hvirtka', 'vorota'] },
    'dev, every channel dry, 127.0.0.1: the playground, with the dev gates',
  );
  // A live channel (WhatsApp with a key) closes it, whatever else.
  const live = await startTestService({
    ADMIN_TOKEN: TOKEN,
    D360_API_KEY: 'playground-live-key',
    D360_BASE_URL: 'http://127.0.0.1:9',
  });
  try {
    const res = await http(`${live.url}/inspect/playground`, {
      headers: auth,
      body: { kind: 'whatsapp', text: 'меню' },
    });
    assert.is(res.status, 404);
    const m = await http(`${live.url}/inspect/machines.json`, { headers: auth });
    assert.is((m.json as { playground: unknown }).playground, false);
    assert.equal(live.engine.store.all('actors'), [], 'nothing was played');
  } finally {
    await live.stop();
  }
});

test('playground: a WhatsApp employee, a Telegram user and a typed event move their actors', async (ctx) => {
  const play = async (body: unknown) => {
    const res = await http(`${ctx.open.url}/inspect/playground`, { headers: auth, body });
    return { status: res.status, text: res.text, ...(res.json as Record<string, unknown>) } as {
      status: number;
      text: string;
      actor?: { id: string; machine: string; state: string };
    };
  };
  const menu = await play({ kind: 'whatsapp', from: '79990000002', text: 'меню' });
  assert.is(menu.status, 200, menu.text);
  assert.equal(menu.actor?.machine, 'whatsapp-menu');
  assert.is(menu.actor?.state, 'active.menu');
  const period = await play({ kind: 'whatsapp', from: '79990000002', button: 'FILL_PERIOD' });
  assert.is(period.actor?.state, 'active.askingPeriod');
  assert.is(period.actor?.id, menu.actor?.id);
  // Through the real webhook: the dry channel printed the question.
  assert.ok(ctx.open.printed.some((t) => t.includes('79990000002') || t.includes('…0002')));

  const typed = await play({ kind: 'event', id: menu.actor?.id, type: 'TEXT', fields: { text: 'меню' } });
  assert.is(typed.status, 200, typed.text);
  const stored = ctx.open.engine.store.get<{ lastEvent: string; history: Array<{ ref?: string }> }>(
    'actors',
    'wa:79990000002',
  );
  assert.is(stored?.lastEvent, 'TEXT');
  assert.match(stored?.history.at(-1)?.ref ?? '', /^playground:/);
  const unknown = await play({ kind: 'event', id: menu.actor?.id, type: 'NOPE' });
  assert.is(unknown.status, 400);
  assert.match(unknown.text, 'knows the events BUTTON, LIST');

  // An event without the facts its machine needs: refused, nothing committed.
  const partial = await play({
    kind: 'event',
    id: menu.actor?.id,
    type: 'BUTTON',
    fields: { id: 'FILL_TODAY' },
  });
  assert.is(partial.status, 400, partial.text);
  assert.match(partial.text, 'whatsapp-menu cannot take this BUTTON');
  assert.is(ctx.open.engine.store.get<{ lastEvent: string }>('actors', 'wa:79990000002')?.lastEvent, 'TEXT');

  const tg = await play({ kind: 'telegram', user: 77, text: '/start' });
  assert.is(tg.status, 200, tg.text);
  assert.is(tg.actor?.machine, 'telegram-chat');
  const noCall = await play({ kind: 'zadarma', gate: 'hvirtka', event: 'end' });
  assert.is(noCall.status, 400);
  assert.match(noCall.text, 'no call under way');
  assert.is((await play({ kind: 'nothing' })).status, 400);
  // Not as a form or plain text (what another site's page could send without asking).
  const plain = await http(`${ctx.open.url}/inspect/playground`, {
    headers: { ...auth, 'content-type': 'text/plain' },
    raw: JSON.stringify({ kind: 'telegram', user: 78, text: '/start' }),
  });
  assert.is(plain.status, 415);
  assert.is(ctx.open.engine.store.get('actors', 'tg:78'), undefined);
  assert.is((await play({ kind: 'event', key: 'wa:nobody', type: 'TEXT' })).status, 400);
});

test('actors.json: an unknown machine or a bad limit is a 400 that says why', async (ctx) => {
  const bad = await http(`${ctx.svc.url}/inspect/actors.json?machine=nope`, { headers: auth });
  assert.is(bad.status, 400);
  assert.match(bad.text, 'known: whatsapp-menu');
  assert.is((await http(`${ctx.svc.url}/inspect/actors.json?limit=0`, { headers: auth })).status, 400);
});

test('assets: Mermaid from its npm package and the page script; nothing else', async (ctx) => {
  const mermaid = await http(`${ctx.svc.url}/inspect/assets/mermaid.min.js`, { headers: auth });
  assert.is(mermaid.status, 200);
  assert.match(mermaid.headers.get('content-type') ?? '', 'javascript');
  assert.ok(mermaid.text.length > 1_000_000, 'the whole bundle');
  const script = await http(`${ctx.svc.url}/inspect/assets/inspect.js`, { headers: auth });
  assert.is(script.status, 200);
  assert.match(script.text, '/inspect/actors.json');
  // Every module the page script imports, and the style: each file of static/ is served as it is.
  const dir = join(PACKAGE_ROOT, 'server', 'inspect', 'static');
  for (const name of readdirSync(dir)) {
    const res = await fetch(`${ctx.svc.url}/inspect/assets/${name}`, { headers: auth });
    assert.is(res.status, 200, name);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(dir, name))), name);
  }
  assert.is((await http(`${ctx.svc.url}/inspect/assets/..%2F..%2Fconfig.ts`, { headers: auth })).status, 404);
  assert.is((await http(`${ctx.svc.url}/inspect/assets/package.json`, { headers: auth })).status, 404);
});

test.run();
