import { Api, InputFile, TelegramApiError } from 'node-telegram-bot-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  callbackQueryUpdate,
  chatIdOf,
  commandUpdate,
  contactUpdate,
  nextUpdateId,
  textUpdate,
} from '../fixtures/telegram';
import {
  dtmf,
  formBody,
  incomingCall,
  notifyAnswer,
  notifyEnd,
  notifyInternal,
  notifyIvr,
  notifyOutEnd,
  notifyOutStart,
  notifyRecord,
  notifyStart,
  outgoingCall,
  signed,
} from '../fixtures/zadarma';
import { signRequest, verifyWebhookSignature, webhookSignatureFields } from '../server/channels/zadarma/sign';
import { type FakeTelegram, type Json, startFakeTelegram } from './fakes/telegram';
import { type FakeZadarma, startFakeZadarma } from './fakes/zadarma';

const KEY = 'a1b2c3d4e5f6a7b8c9d0';

/** uvu/assert has no async rejects(): resolves when `p` rejects (and matches `re`), fails otherwise. */
async function rejects(p: Promise<unknown>, re?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (re) assert.match(String(e instanceof Error ? e.message : e), re);
    return;
  }
  assert.unreachable('expected a rejection');
}
const SECRET = 'secret0123456789abcd';
const TOKEN = '7000000001:AAFakeTokenForTests_0123456789abcdef';

// ---------------------------------------------------------------------------------------------
// Zadarma

async function zget(
  z: FakeZadarma,
  method: string,
  params: Record<string, string | number>,
  opts: { key?: string; secret?: string; auth?: string | null } = {},
): Promise<{ status: number; json: Json }> {
  const { query, authorization } = signRequest(method, params, opts.key ?? KEY, opts.secret ?? SECRET);
  const headers: Record<string, string> = {};
  const a = opts.auth === undefined ? authorization : opts.auth;
  if (a !== null) headers.Authorization = a;
  const res = await fetch(`${z.url}${method}?${query}`, { headers });
  return { status: res.status, json: await res.json() };
}

async function zsend(
  z: FakeZadarma,
  httpMethod: string,
  method: string,
  params: Record<string, string | number>,
): Promise<{ status: number; json: Json }> {
  const { query, authorization } = signRequest(method, params, KEY, SECRET);
  const res = await fetch(z.url + method, {
    method: httpMethod,
    headers: { Authorization: authorization, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: query,
  });
  return { status: res.status, json: await res.json() };
}

test('zadarma: signed callback succeeds with the documented answer and is recorded', async () => {
  const z = await startFakeZadarma({ key: KEY, secret: SECRET });
  try {
    const seen: string[] = [];
    z.onCallback((cb) => seen.push(cb.to));
    const r = await zget(z, '/v1/request/callback/', { from: '100', to: '380501234567', predicted: 1 });
    assert.is(r.status, 200);
    assert.is(r.json.status, 'success');
    assert.is(r.json.from, '100');
    assert.is(r.json.to, '380501234567');
    assert.type(r.json.time, 'number');
    const cbs = z.callbacks();
    assert.is(cbs.length, 1);
    assert.is(cbs[0]?.from, '100');
    assert.is(cbs[0]?.to, '380501234567');
    assert.is(cbs[0]?.predicted, '1');
    assert.is(cbs[0]?.params.format, 'json');
    assert.equal(seen, ['380501234567']);
    await z.waitFor((c) => c.length === 1, 100);
  } finally {
    await z.close();
  }
});

test('zadarma: wrong secret, wrong key, missing header, tampered query → 401 Auth error', async () => {
  const z = await startFakeZadarma({ key: KEY, secret: SECRET });
  try {
    const p = { from: '100', to: '380501234567' };
    const bad1 = await zget(z, '/v1/request/callback/', p, { secret: 'nope' });
    assert.is(bad1.status, 401);
    assert.equal(bad1.json, { status: 'error', message: 'Auth error' });
    assert.is((await zget(z, '/v1/request/callback/', p, { key: 'other' })).status, 401);
    assert.is((await zget(z, '/v1/request/callback/', p, { auth: null })).status, 401);
    // signed for one number, sent for another
    const { query, authorization } = signRequest('/v1/request/callback/', p, KEY, SECRET);
    const res = await fetch(
      `${z.url}/v1/request/callback/?${query.replace('380501234567', '380501234568')}`,
      {
        headers: { Authorization: authorization },
      },
    );
    assert.is(res.status, 401);
    // signature over the path without the trailing slash
    const noSlash = signRequest('/v1/request/callback', p, KEY, SECRET);
    const res2 = await fetch(`${z.url}/v1/request/callback/?${noSlash.query}`, {
      headers: { Authorization: noSlash.authorization },
    });
    assert.is(res2.status, 401);
    // base64 of the raw HMAC bytes (instead of the hex digest) is rejected too
    const hex = Buffer.from(authorization.slice(KEY.length + 1), 'base64').toString('ascii');
    const raw = `${KEY}:${Buffer.from(hex, 'hex').toString('base64')}`;
    const res3 = await fetch(`${z.url}/v1/request/callback/?${query}`, { headers: { Authorization: raw } });
    assert.is(res3.status, 401);
    assert.is(z.callbacks().length, 0);
    assert.ok(z.requests.every((r) => r.response === 401));
  } finally {
    await z.close();
  }
});

test('zadarma: unsorted query with a signature over the sorted params is accepted', async () => {
  const z = await startFakeZadarma({ key: KEY, secret: SECRET });
  try {
    const { authorization } = signRequest(
      '/v1/request/callback/',
      { from: '100', to: '380501234567' },
      KEY,
      SECRET,
    );
    const res = await fetch(`${z.url}/v1/request/callback/?to=380501234567&from=100&format=json`, {
      headers: { Authorization: authorization },
    });
    assert.is(res.status, 200);
  } finally {
    await z.close();
  }
});

test('zadarma: invalid callback numbers → 400 error shape; unknown path → 404', async () => {
  const z = await startFakeZadarma({ key: KEY, secret: SECRET });
  try {
    const r = await zget(z, '/v1/request/callback/', { from: '100', to: 'gate' });
    assert.is(r.status, 400);
    assert.is(r.json.status, 'error');
    assert.type(r.json.message, 'string');
    const r2 = await zget(z, '/v1/request/callback/', { to: '380501234567' });
    assert.is(r2.status, 400);
    const r3 = await zget(z, '/v1/nope/', {});
    assert.is(r3.status, 404);
    assert.is(r3.json.status, 'error');
    const r4 = await zsend(z, 'POST', '/v1/request/callback/', { from: '100', to: '380501234567' });
    assert.is(r4.status, 400);
    assert.is(z.callbacks().length, 0);
  } finally {
    await z.close();
  }
});

test('zadarma: balance and setBalance', async () => {
  const z = await startFakeZadarma({ key: KEY, secret: SECRET });
  try {
    const r = await zget(z, '/v1/info/balance/', {});
    assert.equal(r.json, { status: 'success', balance: 10.34, currency: 'USD' });
    z.setBalance(-1.5, 'EUR');
    const r2 = await zget(z, '/v1/info/balance/', {});
    assert.equal(r2.json, { status: 'success', balance: -1.5, currency: 'EUR' });
  } finally {
    await z.close();
  }
});

test('zadarma: callinfo URL stored and returned (POST form body signed), deleted, toggles', async () => {
  const z = await startFakeZadarma({ key: KEY, secret: SECRET });
  try {
    const g0 = await zget(z, '/v1/pbx/callinfo/', {});
    assert.is(g0.json.status, 'success');
    assert.is(g0.json.url, '');
    assert.is(g0.json.notifications.notify_start, 'true');
    const s = await zsend(z, 'POST', '/v1/pbx/callinfo/url/', {
      url: 'https://gate.example.org/zadarma?x=1 2',
    });
    assert.equal(s.json, { status: 'success', url: 'https://gate.example.org/zadarma?x=1 2' });
    assert.is((await zget(z, '/v1/pbx/callinfo/', {})).json.url, 'https://gate.example.org/zadarma?x=1 2');
    assert.is(z.callinfo().url, 'https://gate.example.org/zadarma?x=1 2');
    const n = await zsend(z, 'POST', '/v1/pbx/callinfo/notifications/', { notify_out_end: 'true' });
    assert.is(n.json.notifications.notify_out_end, 'true');
    const bad = await zsend(z, 'POST', '/v1/pbx/callinfo/url/', { url: 'not a url' });
    assert.is(bad.status, 400);
    const d = await zsend(z, 'DELETE', '/v1/pbx/callinfo/url/', {});
    assert.equal(d.json, { status: 'success', url: '' });
    // a JSON body carries no params for a PHP server: signature (over nothing) mismatches
    const { authorization } = signRequest('/v1/pbx/callinfo/url/', { url: 'https://x.y/' }, KEY, SECRET);
    const j = await fetch(`${z.url}/v1/pbx/callinfo/url/`, {
      method: 'POST',
      headers: { Authorization: authorization, 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: 'https://x.y/', format: 'json' }),
    });
    assert.is(j.status, 401);
  } finally {
    await z.close();
  }
});

test('zadarma: failNext answers in order (status/body/path), then normal behaviour resumes', async () => {
  const z = await startFakeZadarma({ key: KEY, secret: SECRET });
  try {
    z.failNext(
      { status: 429 },
      { status: 200, body: { status: 'error', message: 'no money' } },
      { status: 500, path: '/v1/info/balance/' },
    );
    const p = { from: '100', to: '380501234567' };
    const a = await zget(z, '/v1/request/callback/', p);
    assert.is(a.status, 429);
    assert.equal(a.json, { status: 'error', message: 'You exceeded the rate limit' });
    const b = await zget(z, '/v1/request/callback/', p);
    assert.equal(b.json, { status: 'error', message: 'no money' });
    const c = await zget(z, '/v1/request/callback/', p); // the 500 waits for the balance path
    assert.is(c.status, 200);
    const d = await zget(z, '/v1/info/balance/', {});
    assert.is(d.status, 500);
    assert.is(d.json.status, 'error');
    assert.is(z.callbacks().length, 1);
  } finally {
    await z.close();
  }
});

test('zadarma: failNext hang and reset', async () => {
  const z = await startFakeZadarma({ key: KEY, secret: SECRET });
  try {
    z.failNext({ status: 0, reset: true }, { status: 0, hang: true });
    const p = { from: '100', to: '380501234567' };
    await rejects(zget(z, '/v1/request/callback/', p));
    const { query, authorization } = signRequest('/v1/request/callback/', p, KEY, SECRET);
    await rejects(
      fetch(`${z.url}/v1/request/callback/?${query}`, {
        headers: { Authorization: authorization },
        signal: AbortSignal.timeout(150),
      }),
    );
    assert.is(z.callbacks().length, 0);
  } finally {
    await z.close();
  }
});

test('zadarma: rate limit 429 after N requests per minute', async () => {
  const z = await startFakeZadarma({ key: KEY, secret: SECRET, rateLimitPerMinute: 2 });
  try {
    assert.is((await zget(z, '/v1/info/balance/', {})).status, 200);
    assert.is((await zget(z, '/v1/info/balance/', {})).status, 200);
    const r = await zget(z, '/v1/info/balance/', {});
    assert.is(r.status, 429);
    assert.equal(r.json, { status: 'error', message: 'You exceeded the rate limit' });
  } finally {
    await z.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Zadarma webhook fixtures

test('zadarma fixtures: every documented event builds, signs and verifies', () => {
  const all = [
    notifyStart(),
    notifyInternal(),
    notifyAnswer(),
    notifyEnd(),
    notifyOutStart(),
    notifyOutEnd(),
    notifyRecord(),
    notifyIvr(),
    dtmf('1'),
  ];
  for (const f of all) {
    const event = f.event ?? '';
    const order = webhookSignatureFields(event);
    assert.ok(order, event);
    for (const k of order ?? []) assert.type(f[k], 'string', `${event}.${k}`);
    for (const v of Object.values(f)) assert.type(v, 'string');
    const { body, signature, headers } = signed(f, SECRET);
    assert.equal(Object.fromEntries(new URLSearchParams(body)), f);
    assert.ok(verifyWebhookSignature(f, signature, SECRET), event);
    assert.is(headers.Signature, signature);
  }
  // the default NOTIFY_START is the worked example of docs/protocols/zadarma.md
  assert.is(
    signed(notifyStart(), SECRET).signature,
    'YTRlNzg0MTNjY2FlY2E1N2ZmNzVmZjRhZjhjZWEwZDhhMmRiYjc4Ng==',
  );
});

test('zadarma fixtures: overrides, null removes, wait_dtmf bracket fields, form body', () => {
  const ivr = notifyIvr({ wait_dtmf: { name: 'main_menu', digits: '2', default_behaviour: 0 } });
  assert.is(ivr['wait_dtmf[name]'], 'main_menu');
  assert.is(ivr['wait_dtmf[digits]'], '2');
  assert.is(ivr['wait_dtmf[default_behaviour]'], '0');
  assert.ok(formBody(ivr).includes('wait_dtmf%5Bdigits%5D=2'));
  assert.ok(formBody(notifyStart()).includes('call_start=2024-01-15+10%3A20%3A30'));
  const end = notifyEnd({ disposition: 'busy', duration: 0, internal: 101 });
  assert.is(end.disposition, 'busy');
  assert.is(end.duration, '0');
  assert.is(end.internal, '101');
  assert.is(end.status_code, '17');
  assert.not.ok('internal' in notifyEnd());
  assert.not.ok('called_did' in notifyStart({ called_did: null }));
  const out = notifyOutEnd({ disposition: 'no money, no limit' });
  assert.is(out.disposition, 'no money, no limit');
  assert.ok(out.pbx_call_id?.startsWith('out_'));
  assert.ok(notifyStart().pbx_call_id?.startsWith('in_'));
  assert.is.not(notifyStart().pbx_call_id, notifyStart().pbx_call_id);
});

test('zadarma fixtures: a call shares ids across its events', () => {
  const c = incomingCall({ caller_id: '+380501112233' });
  const s = c.start();
  const i = c.dtmf('1', { name: 'main_menu' });
  const e = c.end({ disposition: 'answered' });
  assert.is(s.pbx_call_id, i.pbx_call_id);
  assert.is(i.pbx_call_id, e.pbx_call_id);
  assert.is(e.caller_id, '+380501112233');
  assert.is(c.record().pbx_call_id, s.pbx_call_id);
  const o = outgoingCall({ destination: '380671234567' });
  assert.is(o.start().pbx_call_id, o.end({ disposition: 'cancel' }).pbx_call_id);
  assert.is(o.end().destination, '380671234567');
  assert.is(o.end({ disposition: 'cancel' }).duration, '0');
});

// ---------------------------------------------------------------------------------------------
// Telegram fixtures

test('telegram fixtures: shapes and increasing unique update ids', () => {
  const a = commandUpdate({ userId: 42, text: '/vorota@switchboard_test_bot now' });
  const b = textUpdate({ userId: 42, text: 'hi' });
  const c = contactUpdate({ userId: 42, phone: '380501234567' });
  const d = contactUpdate({ userId: 42, phone: '380501234567', contactUserId: 99 });
  const e = callbackQueryUpdate({ userId: 42, data: 'OPEN_GATE' });
  const ids = [a, b, c, d, e].map((u) => u.update_id as number);
  for (let k = 1; k < ids.length; k += 1) assert.ok((ids[k] ?? 0) > (ids[k - 1] ?? 0));
  const am = a.message as Json;
  assert.equal(am.entities, [
    { offset: 0, length: '/vorota@switchboard_test_bot'.length, type: 'bot_command' },
  ]);
  assert.is(am.chat.id, 42);
  assert.is(am.chat.type, 'private');
  assert.is(am.from.is_bot, false);
  assert.is((c.message as Json).contact.user_id, 42);
  assert.is((d.message as Json).contact.user_id, 99);
  assert.not.ok(
    'user_id' in (contactUpdate({ userId: 1, phone: '1', contactUserId: null }).message as Json).contact,
  );
  assert.is((e.callback_query as Json).data, 'OPEN_GATE');
  assert.is((e.callback_query as Json).from.id, 42);
  assert.is(chatIdOf(e), 42);
  const explicit = textUpdate({ userId: 1, text: 'x', updateId: (ids[4] ?? 0) + 1000 });
  assert.ok(nextUpdateId() > (explicit.update_id as number));
  assert.is((commandUpdate({ userId: 5, chatId: -100, text: '/start' }).message as Json).chat.type, 'group');
  assert.throws(() => commandUpdate({ userId: 5, text: 'start' }));
});

// ---------------------------------------------------------------------------------------------
// Telegram fake

let tg: FakeTelegram;

async function call(method: string, body?: unknown, token = TOKEN): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${tg.url}/bot${token}/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  return { status: res.status, json: await res.json() };
}

test('telegram: getMe; wrong token → 401; unknown method → 404', async () => {
  tg = await startFakeTelegram({ token: TOKEN });
  try {
    const me = await call('getMe');
    assert.is(me.status, 200);
    assert.is(me.json.ok, true);
    assert.is(me.json.result.id, 7000000001);
    assert.is(me.json.result.is_bot, true);
    const bad = await call('getMe', {}, '123:wrong');
    assert.is(bad.status, 401);
    assert.equal(bad.json, { ok: false, error_code: 401, description: 'Unauthorized' });
    const nf = await call('noSuchMethod');
    assert.is(nf.status, 404);
    assert.equal(nf.json, { ok: false, error_code: 404, description: 'Not Found' });
    const get = await fetch(`${tg.url}/bot${TOKEN}/getme`);
    assert.is(((await get.json()) as Json).result.username, 'switchboard_test_bot');
  } finally {
    await tg.close();
  }
});

test('telegram: long poll returns a pushed update; offset confirms', async () => {
  tg = await startFakeTelegram({ token: TOKEN });
  try {
    const started = Date.now();
    const poll = call('getUpdates', { timeout: 5 });
    await new Promise((r) => setTimeout(r, 100));
    const u = commandUpdate({ userId: 42, text: '/start' });
    tg.pushUpdate(u);
    const r = await poll;
    assert.ok(Date.now() - started < 3000);
    assert.is(r.json.ok, true);
    assert.equal(r.json.result, [u]);
    // not confirmed yet: returned again
    const again = await call('getUpdates', { timeout: 0 });
    assert.is(again.json.result.length, 1);
    // confirm
    const id = u.update_id as number;
    const after = await call('getUpdates', { offset: id + 1, timeout: 0 });
    assert.equal(after.json.result, []);
    assert.equal(tg.pendingUpdates(), []);
    // limit and negative offset
    for (let k = 0; k < 3; k += 1) tg.pushUpdate(textUpdate({ userId: 42, text: `m${k}` }));
    assert.is((await call('getUpdates', { limit: 2 })).json.result.length, 2);
    const last = await call('getUpdates', { offset: -1 });
    assert.is(last.json.result.length, 1);
    assert.is(last.json.result[0].message.text, 'm2');
  } finally {
    await tg.close();
  }
});

test('telegram: poll timeout returns [], a second poller gets the old one 409, close ends a held poll', async () => {
  tg = await startFakeTelegram({ token: TOKEN });
  const empty = await call('getUpdates', { timeout: 1 });
  assert.equal(empty.json, { ok: true, result: [] });
  const first = call('getUpdates', { timeout: 30 });
  await new Promise((r) => setTimeout(r, 50));
  const second = call('getUpdates', { timeout: 30 });
  const f = await first;
  assert.is(f.status, 409);
  assert.is(f.json.error_code, 409);
  assert.match(f.json.description, /terminated by other getUpdates request/);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  await tg.close();
  const s = await second;
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(s.json, { ok: true, result: [] });
});

test('telegram: sendMessage to a known chat; unknown chat → 400 chat not found; validation', async () => {
  tg = await startFakeTelegram({ token: TOKEN });
  try {
    const nf = await call('sendMessage', { chat_id: 42, text: 'hi' });
    assert.is(nf.status, 400);
    assert.equal(nf.json, { ok: false, error_code: 400, description: 'Bad Request: chat not found' });
    tg.pushUpdate(commandUpdate({ userId: 42, text: '/start' }));
    const ok = await call('sendMessage', {
      chat_id: 42,
      text: '<b>Ворота</b> &amp; хвіртка',
      parse_mode: 'HTML',
      reply_markup: { inline_keyboard: [[{ text: 'Open', callback_data: 'OPEN' }]] },
    });
    assert.is(ok.status, 200);
    assert.is(ok.json.result.chat.id, 42);
    assert.type(ok.json.result.message_id, 'number');
    const sent = tg.sent();
    assert.is(sent.length, 1);
    assert.is(sent[0]?.method, 'sendMessage');
    assert.is(sent[0]?.chat_id, 42);
    assert.equal(sent[0]?.reply_markup, { inline_keyboard: [[{ text: 'Open', callback_data: 'OPEN' }]] });
    const empty = await call('sendMessage', { chat_id: 42, text: ' ' });
    assert.is(empty.json.description, 'Bad Request: message text is empty');
    const long = await call('sendMessage', { chat_id: 42, text: 'x'.repeat(4097) });
    assert.is(long.json.description, 'Bad Request: message is too long');
    const html = await call('sendMessage', { chat_id: 42, text: 'a <user> b', parse_mode: 'HTML' });
    assert.is(html.status, 400);
    assert.match(html.json.description, /^Bad Request: can't parse entities: Unsupported start tag "user"/);
    const unclosed = await call('sendMessage', { chat_id: 42, text: '<b>x', parse_mode: 'HTML' });
    assert.match(unclosed.json.description, /Can't find end tag corresponding to start tag "b"/);
    const data = await call('sendMessage', {
      chat_id: 42,
      text: 'x',
      reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'x'.repeat(65) }]] },
    });
    assert.is(data.json.description, 'Bad Request: BUTTON_DATA_INVALID');
    tg.blockChat(42);
    const blocked = await call('sendMessage', { chat_id: 42, text: 'x' });
    assert.is(blocked.status, 403);
    assert.is(tg.sent().length, 1);
    await tg.waitFor((s) => s.length === 1, 100);
    await rejects(
      tg.waitFor((s) => s.length === 2, 50),
      /FakeTelegram.waitFor/,
    );
  } finally {
    await tg.close();
  }
});

test('telegram: failNext 429 with retry_after, hang-free default for getUpdates', async () => {
  tg = await startFakeTelegram({ token: TOKEN, strictChats: false });
  try {
    tg.failNext({ status: 429, retryAfter: 7 });
    const poll = await call('getUpdates', { timeout: 0 }); // getUpdates does not consume it
    assert.is(poll.status, 200);
    const r = await call('sendMessage', { chat_id: 1, text: 'x' });
    assert.is(r.status, 429);
    assert.equal(r.json, {
      ok: false,
      error_code: 429,
      description: 'Too Many Requests: retry after 7',
      parameters: { retry_after: 7 },
    });
    tg.failNext({ method: 'getUpdates', status: 502 });
    assert.is((await call('getUpdates', {})).status, 502);
    assert.is((await call('sendMessage', { chat_id: 1, text: 'x' })).status, 200);
  } finally {
    await tg.close();
  }
});

test('telegram: callback query answer, commands, webhook, edit', async () => {
  tg = await startFakeTelegram({ token: TOKEN });
  try {
    const cq = tg.pushUpdate(callbackQueryUpdate({ userId: 42, data: 'OPEN' }));
    const a = await call('answerCallbackQuery', { callback_query_id: cq.callback_query.id, text: 'ok' });
    assert.is(a.json.result, true);
    const a2 = await call('answerCallbackQuery', { callback_query_id: 'nope' });
    assert.is(a2.status, 400);
    assert.is(tg.calls('answerCallbackQuery').length, 1);
    const c = await call('setMyCommands', {
      commands: [{ command: 'vorota', description: 'Open the gate' }],
    });
    assert.is(c.json.result, true);
    assert.equal(tg.commands(), [{ command: 'vorota', description: 'Open the gate' }]);
    const bc = await call('setMyCommands', { commands: [{ command: 'Vorota!', description: 'x' }] });
    assert.is(bc.status, 400);
    const w = await call('setWebhook', { url: 'https://example.org/tg' });
    assert.equal(w.json, { ok: true, result: true, description: 'Webhook was set' });
    assert.is((await call('getWebhookInfo')).json.result.url, 'https://example.org/tg');
    const conflict = await call('getUpdates', {});
    assert.is(conflict.status, 409);
    const d = await call('deleteWebhook', { drop_pending_updates: true });
    assert.equal(d.json, { ok: true, result: true, description: 'Webhook was deleted' });
    assert.equal(tg.pendingUpdates(), []);
    const m = await call('sendMessage', { chat_id: 42, text: 'keys…' });
    const e = await call('editMessageText', {
      chat_id: 42,
      message_id: m.json.result.message_id,
      text: 'opened',
    });
    assert.is(e.json.result.text, 'opened');
    const same = await call('editMessageText', {
      chat_id: 42,
      message_id: m.json.result.message_id,
      text: 'opened',
    });
    assert.match(same.json.description, /message is not modified/);
    const gone = await call('editMessageText', { chat_id: 42, message_id: 9999, text: 'x' });
    assert.is(gone.json.description, 'Bad Request: message to edit not found');
    assert.equal(
      tg.sent().map((s) => s.method),
      ['sendMessage', 'editMessageText'],
    );
  } finally {
    await tg.close();
  }
});

test('telegram: works with node-telegram-bot-api (form bodies, multipart upload, errors)', async () => {
  tg = await startFakeTelegram({ token: TOKEN });
  const api = new Api(TOKEN, { apiRoot: tg.url, maxRetries: 0 });
  try {
    const me = await api.getMe();
    assert.is(me.id, 7000000001);
    tg.pushUpdate(contactUpdate({ userId: 42, phone: '380501234567' }));
    const ups = await api.getUpdates({ timeout: 1 });
    assert.is(ups.length, 1);
    const first = ups[0];
    assert.is((first as Json)?.message?.contact?.phone_number, '380501234567');
    await api.getUpdates({ offset: (first?.update_id ?? 0) + 1, timeout: 0 });
    assert.equal(tg.pendingUpdates(), []);
    const lastReq = tg.requests.at(-1);
    assert.match(lastReq?.contentType ?? '', /x-www-form-urlencoded/);
    assert.is(lastReq?.params.offset, (first?.update_id ?? 0) + 1);

    await api.sendMessage({
      chat_id: 42,
      text: 'Натисніть',
      reply_markup: {
        keyboard: [[{ text: '📱 Поділитися номером', request_contact: true }]],
        one_time_keyboard: true,
      },
    });
    const s = tg.sent()[0];
    assert.is(s?.chat_id, 42);
    assert.equal(s?.reply_markup, {
      keyboard: [[{ text: '📱 Поділитися номером', request_contact: true }]],
      one_time_keyboard: true,
    });
    assert.is(s?.one_time_keyboard, undefined);

    await api.sendPhoto({
      chat_id: 42,
      photo: new InputFile(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), {
        filename: 'introscreen.png',
        contentType: 'image/png',
      }),
      caption: 'Натисніть кнопку',
    });
    const photo = tg.sent()[1];
    assert.is(photo?.method, 'sendPhoto');
    assert.equal(photo?.photo, { filename: 'introscreen.png', contentType: 'image/png', size: 4 });
    assert.is(photo?.caption, 'Натисніть кнопку');
    assert.match(tg.requests.at(-1)?.contentType ?? '', /multipart\/form-data/);

    await api.setMyCommands({ commands: [{ command: 'hvirtka', description: 'Відкрити хвіртку' }] });
    assert.equal(tg.commands(), [{ command: 'hvirtka', description: 'Відкрити хвіртку' }]);

    try {
      await api.sendMessage({ chat_id: 777, text: 'x' });
      assert.unreachable('should have thrown');
    } catch (e) {
      assert.instance(e, TelegramApiError);
      assert.is((e as TelegramApiError).errorCode, 400);
      assert.is((e as TelegramApiError).description, 'Bad Request: chat not found');
    }
    tg.failNext({ status: 429, retryAfter: 3 });
    try {
      await api.sendMessage({ chat_id: 42, text: 'x' });
      assert.unreachable('should have thrown');
    } catch (e) {
      assert.is((e as TelegramApiError).retryAfter, 3);
    }
    const wrong = new Api('1:wrong', { apiRoot: tg.url, maxRetries: 0 });
    try {
      await wrong.getMe();
      assert.unreachable('should have thrown');
    } catch (e) {
      assert.is((e as TelegramApiError).errorCode, 401);
    }
  } finally {
    await tg.close();
  }
});

test('telegram: a held library long poll ends on close()', async () => {
  tg = await startFakeTelegram({ token: TOKEN });
  const api = new Api(TOKEN, { apiRoot: tg.url, maxRetries: 0 });
  const poll = api.getUpdates({ timeout: 30 });
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  await tg.close();
  assert.equal(await poll, []);
  assert.ok(Date.now() - t0 < 2000);
});

test.run();
