import { connect } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadRealPayloads } from '../fixtures/real-payloads';
import {
  batch,
  buttonReply,
  listReply,
  nextMessageId,
  statusUpdate,
  textMessage,
  v1Text,
} from '../fixtures/whatsapp';
import { HISTORY_LIMIT } from '../server/engine/engine';
import type { ActorRecord } from '../server/engine/types';
import { getEmployee } from '../storage/attendance';
import { getMessage, messageSent, messageStatus, type OutboundMessageDoc } from '../storage/messages';
import { type FakeD360, startFakeD360 } from './fakes/d360';
import { bodyText, Chat } from './helpers/chat';
import { eventually, http, sleep, startTestService, type TestService } from './helpers/service';

const KEY = 'test-key-webhook';

interface Ctx {
  fake: FakeD360;
  svc: TestService;
  n: number;
}

const test = suite<Ctx>('whatsapp webhook');

test.before(async (ctx) => {
  ctx.n = 0;
  ctx.fake = await startFakeD360({ apiKey: KEY });
  ctx.svc = await startTestService({
    D360_API_KEY: KEY,
    D360_BASE_URL: ctx.fake.url,
    VERIFY_TOKEN: 'verify-me-123',
  });
});

test.after(async (ctx) => {
  await ctx.svc.stop();
  await ctx.fake.close();
});

const SHIFTS = ['SHIFT_DAY', 'SHIFT_NIGHT', 'SHIFT_OFF'];
const NAMES: Record<string, string> = { SHIFT_DAY: 'Дневная', SHIFT_NIGHT: 'Ночная', SHIFT_OFF: 'Выходной' };

/** Message numbers (from ids `wamid.<tag>-<i>`) in the order the engine processed them. */
function processingOrder(ctx: Ctx, waId: string): number[] {
  const history = ctx.svc.store.get<ActorRecord>('actors', `wa:${waId}`)?.history ?? [];
  return history.filter((h) => h.ref?.startsWith('wa:wamid.')).map((h) => Number(h.ref?.split('-').pop()));
}

/** What a sequential run of messages (even: FILL_TODAY, odd i: shift SHIFTS[i % 3]) replies. */
function sequentialModel(order: number[]): string[] {
  return order.map((i) => (i % 2 === 0 ? 'list' : `recorded ${NAMES[SHIFTS[i % 3] as string]}`));
}

// biome-ignore lint/suspicious/noExplicitAny: a sent message body
function describe(m: any): string {
  if (m.interactive?.type === 'list') return 'list';
  const shift = /— (Дневная|Ночная|Выходной)/.exec(bodyText(m))?.[1];
  return shift ? `recorded ${shift}` : 'other';
}

/** Sends the bodies as pipelined HTTP/1.1 requests on ONE socket; resolves with the status codes. */
function pipeline(baseUrl: string, bodies: unknown[]): Promise<number[]> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    socket.setEncoding('utf-8');
    socket.on('data', (d) => {
      data += d;
      const codes = [...data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
      if (codes.length === bodies.length) {
        socket.end();
        resolve(codes);
      }
    });
    socket.on('error', reject);
    const raw = bodies
      .map((b) => {
        const json = Buffer.from(JSON.stringify(b));
        return `POST /webhook HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`;
      })
      .join('');
    socket.write(raw);
  });
}

const user = (ctx: Ctx) => new Chat(ctx.svc.url, ctx.fake, `7988000${String(++ctx.n).padStart(4, '0')}`);

test('GET /webhook: the right verify token gets the challenge as text, anything else 403', async ({
  svc,
}) => {
  const ok = await http(
    `${svc.url}/webhook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me-123`,
  );
  assert.is(ok.status, 200);
  assert.is(ok.text, '1158201444');
  assert.match(ok.headers.get('content-type') ?? '', 'text/plain');
  const bad = await http(`${svc.url}/webhook?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope`);
  assert.is(bad.status, 403);
  const none = await http(`${svc.url}/webhook?hub.challenge=1`);
  assert.is(none.status, 403);
});

test('the same wamid delivered twice: one record and one reply', async (ctx) => {
  const u = user(ctx);
  await u.tap('FILL_TODAY');
  const pick = listReply({ from: u.waId, rowId: 'SHIFT_DAY', id: 'wamid.dup-1' });
  assert.is(await u.post(pick), 200);
  assert.is(await u.post(pick), 200);
  await eventually(() => u.replies().length === 2, 3000, 'the confirmation');
  await sleep(200);
  assert.is(u.replies().length, 2);
  assert.is(Object.keys(getEmployee(ctx.svc.store, u.waId)?.days ?? {}).length, 1);
  const history = ctx.svc.store.get<ActorRecord>('actors', `wa:${u.waId}`)?.history ?? [];
  assert.is(history.filter((h) => h.event === 'LIST').length, 1);
});

test('concurrent messages of one user never race: one at a time, each reply matches a sequential run', async (ctx) => {
  const u = user(ctx);
  // Alternate FILL_TODAY and a shift: what each reply says depends on the message before it. As many
  // as the actor's history keeps, which is where the order they were processed in is read from.
  const n = HISTORY_LIMIT;
  const bodies = Array.from({ length: n }, (_, i) =>
    i % 2 === 0
      ? buttonReply({ from: u.waId, buttonId: 'FILL_TODAY', id: `wamid.race-${i}` })
      : listReply({ from: u.waId, rowId: SHIFTS[i % 3] as string, id: `wamid.race-${i}` }),
  );
  const answers = await Promise.all(bodies.map((b) => u.post(b)));
  assert.equal(answers, Array(n).fill(200));
  await eventually(() => u.replies().length >= n, 5000, `${n} replies`);
  await sleep(200);
  assert.is(u.replies().length, n, 'exactly one reply each');
  const order = processingOrder(ctx, u.waId);
  assert.is(order.length, n);
  assert.equal(u.replies().map(describe), sequentialModel(order));
});

test('messages of one user on one connection are processed in arrival order', async (ctx) => {
  const u = user(ctx);
  const n = HISTORY_LIMIT; // the order is read from the actor's history
  const bodies = Array.from({ length: n }, (_, i) =>
    i % 2 === 0
      ? buttonReply({ from: u.waId, buttonId: 'FILL_TODAY', id: `wamid.pipe-${i}` })
      : listReply({ from: u.waId, rowId: SHIFTS[i % 3] as string, id: `wamid.pipe-${i}` }),
  );
  const codes = await pipeline(ctx.svc.url, bodies);
  assert.equal(codes, Array(n).fill(200));
  await eventually(() => u.replies().length >= n, 5000, `${n} replies`);
  const order = processingOrder(ctx, u.waId);
  assert.equal(
    order,
    bodies.map((_, i) => i),
    'processed in the order they arrived',
  );
  assert.equal(u.replies().map(describe), sequentialModel(order));
  const last = SHIFTS[(n - 1) % 3] as string;
  assert.is(
    Object.values(getEmployee(ctx.svc.store, u.waId)?.days ?? {})[0]?.shift,
    { SHIFT_DAY: 'day', SHIFT_NIGHT: 'night', SHIFT_OFF: 'off' }[last],
    `#${n - 1} (${last}) wins`,
  );
});

test('one body with several entries and messages: every one is handled, in order', async (ctx) => {
  const a = user(ctx);
  const b = user(ctx);
  const body = batch(
    buttonReply({ from: a.waId, buttonId: 'FILL_TODAY' }),
    textMessage({ from: b.waId, body: 'меню' }),
    listReply({ from: a.waId, rowId: 'SHIFT_OFF' }),
  );
  assert.is(await a.post(body), 200);
  await eventually(() => a.replies().length === 2 && b.replies().length === 1, 3000, 'three replies');
  assert.match(bodyText(a.replies()[1]), 'Выходной');
});

test('the older top-level shape (v1) is accepted too', async (ctx) => {
  const u = user(ctx);
  const m = await u.send(v1Text({ from: u.waId, body: 'меню' }));
  assert.is(m.interactive.type, 'button');
});

test('malformed bodies: 400 for non-JSON, 200 + warning for unknown shapes, 413 over 1 MB; never 5xx', async (ctx) => {
  const url = `${ctx.svc.url}/webhook`;
  const json = { 'content-type': 'application/json' };
  assert.is((await http(url, { raw: '{"entry": [', headers: json })).status, 400);
  assert.is((await http(url, { raw: 'hello', headers: { 'content-type': 'text/plain' } })).status, 400);
  assert.is((await http(url, { raw: '', headers: json })).status, 400);
  for (const body of [
    {},
    [],
    null,
    42,
    'text',
    { foo: 'bar' },
    { object: 'page', entry: 'x' },
    { entry: [null, 1, 'x'] },
  ]) {
    const r = await http(url, { raw: JSON.stringify(body), headers: json });
    assert.is(r.status, 200, JSON.stringify(body));
  }
  const weird = [
    { entry: [{ changes: [{ value: { messages: [{ from: 123, id: null, type: 'text' }] } }] }] },
    {
      entry: [
        {
          changes: [
            { value: { messages: [{ from: '79990001', id: 'x', type: 'text', text: { body: 5 } }] } },
          ],
        },
      ],
    },
    { entry: [{ changes: [{ value: { messages: 'nope', statuses: {} } }] }] },
    {
      entry: [
        { changes: [{ value: { statuses: [{ id: 'wamid.unknown', status: 'read', recipient_id: '1' }] } }] },
      ],
    },
    {
      entry: [
        {
          changes: [
            { value: { messages: [{ from: '79990002', id: 'y', type: 'interactive', interactive: {} }] } },
          ],
        },
      ],
    },
    JSON.parse(
      '{"__proto__": {"polluted": true}, "entry": [{"changes": [{"value": {"__proto__": {"x": 1}}}]}]}',
    ),
    {
      entry: [
        {
          changes: [
            { value: { messages: [{ from: '7'.repeat(500), id: 'z', type: 'text', text: { body: 'x' } }] } },
          ],
        },
      ],
    },
  ];
  for (const body of weird) {
    const r = await http(url, { body });
    assert.ok(r.status < 500, `${r.status} for ${JSON.stringify(body).slice(0, 80)}`);
  }
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  for (const depth of [5000, 200_000]) {
    const deep = `${'{"entry":['.repeat(depth)}${']}'.repeat(depth)}`;
    const r = await http(url, { raw: deep, headers: json });
    assert.ok(r.status < 500, `depth ${depth}: ${r.status}`);
  }
  const big = await http(url, { raw: `{"x":"${'a'.repeat(1024 * 1024 + 10)}"}`, headers: json });
  assert.is(big.status, 413);
  const health = await http(`${ctx.svc.url}/health`);
  assert.is(health.status, 200);
  assert.ok(ctx.svc.logs.some((l) => l.includes('unknown shape')));
});

test('every real WhatsApp payload (74) is accepted without a 5xx; user messages get a reply', async (ctx) => {
  const payloads = loadRealPayloads();
  assert.is(payloads.length, 74);
  const statuses: number[] = [];
  for (const p of payloads) {
    const r = await http(`${ctx.svc.url}/webhook`, { body: p.body });
    statuses.push(r.status);
    assert.is(r.status, 200, `${p.file}#${p.name}: ${r.status} ${r.text}`);
  }
  // pywa's text case comes from 972987654321: it is a user message, so the menu goes back to them.
  await eventually(
    () => ctx.fake.sent().some((m: { to: string }) => m.to === '972987654321'),
    3000,
    'a reply to the pywa user',
  );
  assert.ok(ctx.svc.logs.some((l) => l.includes('ignored part of a webhook')));
});

test('delivery statuses are recorded by wamid, out of order keeps the furthest; 131047 closes the window', async (ctx) => {
  const u = user(ctx);
  await u.say('меню');
  const wamid = await eventually(
    () => ctx.svc.store.entries<{ to: string }>('messages').find(([, m]) => m.to === u.waId)?.[0],
    3000,
    'the stored wamid',
  );
  for (const status of ['read', 'delivered', 'sent'] as const) {
    assert.is(await u.post(statusUpdate({ id: wamid, status, recipient: u.waId })), 200);
  }
  const doc = getMessage(ctx.svc.store, wamid);
  assert.is(doc?.status, 'read');
  assert.is(doc?.statuses?.length, 3);
  // Redelivered status: no second entry, and statuses keep no dedupe documents of their own.
  await u.post(statusUpdate({ id: wamid, status: 'read', recipient: u.waId }));
  assert.is(getMessage(ctx.svc.store, wamid)?.statuses?.length, 3);
  assert.equal(
    ctx.svc.store.entries('dedupe').filter(([id]) => id.includes(wamid)),
    [],
    'no dedupe document per status',
  );
  // A status of a message that is not ours changes nothing.
  const unknown = 'wamid.HBgLNzkwMDAwMDAwMDAVAgARGBJCNTc4OEU0REQ0NzlDMzk3NTkA';
  assert.is(await u.post(statusUpdate({ id: unknown, status: 'read', recipient: u.waId })), 200);
  assert.is(getMessage(ctx.svc.store, unknown), undefined);

  assert.is(
    await u.post(statusUpdate({ id: wamid, status: 'failed', recipient: u.waId, errorCode: 131047 })),
    200,
  );
  assert.ok(getEmployee(ctx.svc.store, u.waId)?.windowClosedAt);
  // While the window is closed nothing free-form is sent: a button tap from an old message...
  const before = u.replies().length;
  // ...can only come from the user, which reopens the window; so simulate the outbox alone:
  await ctx.svc.engine.dispatch({
    key: `wa:${u.waId}`,
    machine: 'whatsapp-menu',
    event: ({ now }) => ({ type: 'TIMEOUT', now }),
  });
  await sleep(100);
  assert.is(u.replies().length, before);
  // The next inbound message reopens the window and gets its reply.
  const m = await u.say('меню');
  assert.is(m.interactive.type, 'button');
});

test('sent-message records: the slim shape, and records of the older shape still take statuses', () => {
  const apply = (w: { update: (prev: never) => unknown }, prev?: OutboundMessageDoc) =>
    w.update(prev as never) as OutboundMessageDoc;
  const fresh = apply(messageSent({ id: 'wamid.S', to: '79000000001', sentAt: 5 }));
  assert.equal(fresh, { to: '79000000001', sentAt: 5, status: 'accepted' });
  const read = apply(messageStatus('wamid.S', 'read', 7), fresh);
  assert.equal(read.statuses, [{ status: 'read', at: 7 }]);
  assert.is(read.status, 'read');
  const old: OutboundMessageDoc = {
    id: 'wamid.O',
    to: '79000000001',
    key: 'wa:79000000001',
    effectId: 'e-1',
    sentAt: 5,
    status: 'sent',
    statuses: [{ status: 'sent', at: 6 }],
  };
  const delivered = apply(messageStatus('wamid.O', 'delivered', 8), old);
  assert.is(delivered.status, 'delivered');
  assert.equal(delivered.statuses, [
    { status: 'sent', at: 6 },
    { status: 'delivered', at: 8 },
  ]);
  assert.is(delivered.effectId, 'e-1', 'an older record keeps what it had');
  // A record that exists is never replaced by a second "sent" (redelivered outcome).
  assert.is(apply(messageSent({ id: 'wamid.O', to: '79000000001', sentAt: 9 }), old), old);
});

test('WEBHOOK_SECRET_HEADER: requests without it get 401 and change nothing', async () => {
  const fake = await startFakeD360({ apiKey: KEY });
  const svc = await startTestService({
    D360_API_KEY: KEY,
    D360_BASE_URL: fake.url,
    WEBHOOK_SECRET_HEADER: 'X-Hook-Secret=s3cret-value',
  });
  try {
    const body = textMessage({ from: '79770000001', body: 'меню', id: nextMessageId() });
    assert.is((await http(`${svc.url}/webhook`, { body })).status, 401);
    assert.is(
      (await http(`${svc.url}/webhook`, { body, headers: { 'X-Hook-Secret': 'wrong' } })).status,
      401,
    );
    assert.is(svc.store.all('actors').length, 0);
    assert.is(
      (await http(`${svc.url}/webhook`, { body, headers: { 'X-Hook-Secret': 's3cret-value' } })).status,
      200,
    );
    await fake.waitFor((s) => s.length === 1);
  } finally {
    await svc.stop();
    await fake.close();
  }
});

test('GET / names the service; /health reports store, outbox and dead letters', async ({ svc }) => {
  const root = await http(`${svc.url}/`);
  assert.is((root.json as { service: string }).service, 'switchboard');
  const health = await http(`${svc.url}/health`);
  const h = health.json as {
    status: string;
    store: string;
    outbox: { pending: number; deadLetters: number };
    uptime: number;
  };
  assert.is(h.status, 'ok');
  assert.is(h.store, 'ok');
  assert.type(h.outbox.pending, 'number');
  assert.type(h.outbox.deadLetters, 'number');
});

test.run();
