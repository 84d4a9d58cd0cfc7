import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadRealPayloads } from '../fixtures/real-payloads';
import {
  batch,
  buttonReply,
  listReply,
  locationMessage,
  mediaMessage,
  nextMessageId,
  reactionMessage,
  statusUpdate,
  textMessage,
  unsupportedMessage,
  v1Text,
  type WebhookBody,
} from '../fixtures/whatsapp';
import { type FakeD360, type Json, startFakeD360 } from './fakes/d360';

const KEY = 'test-key-123';
let fake: FakeD360;

test.before(async () => {
  fake = await startFakeD360({ apiKey: KEY });
});
test.after(async () => {
  await fake.close();
});

async function post(body: unknown, key = KEY, path = '/messages'): Promise<{ status: number; json: Json }> {
  const res = await fetch(fake.url + path, {
    method: 'POST',
    headers: { 'D360-API-KEY': key, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const text = (body: string) => ({
  messaging_product: 'whatsapp',
  recipient_type: 'individual',
  to: '79001234567',
  type: 'text',
  text: { body },
});

const buttons = (...titles: string[]) => ({
  messaging_product: 'whatsapp',
  to: '79001234567',
  type: 'interactive',
  interactive: {
    type: 'button',
    body: { text: 'Выберите' },
    action: { buttons: titles.map((t, i) => ({ type: 'reply', reply: { id: `B${i}`, title: t } })) },
  },
});

const list = (rowsPerSection: number[]) => ({
  messaging_product: 'whatsapp',
  to: '79001234567',
  type: 'interactive',
  interactive: {
    type: 'list',
    body: { text: 'Pick one' },
    action: {
      button: 'Варианты',
      sections: rowsPerSection.map((n, s) => ({
        title: `Section ${s}`,
        rows: Array.from({ length: n }, (_, r) => ({ id: `s${s}r${r}`, title: `Row ${s}.${r}` })),
      })),
    },
  },
});

function firstMessage(b: WebhookBody): Json {
  return (b as Json).entry[0].changes[0].value.messages[0];
}

test('wrong key → 401 with 360dialog error body', async () => {
  const r = await post(text('hi'), 'wrong');
  assert.is(r.status, 401);
  assert.is(r.json.meta.success, false);
  assert.is(r.json.meta.http_code, 401);
  assert.match(r.json.meta.developer_message, /api_key/i);
  const last = fake.requests.at(-1);
  assert.is(last?.response, 401);
});

test('missing key → 401', async () => {
  const res = await fetch(`${fake.url}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(text('hi')),
  });
  assert.is(res.status, 401);
});

test('ok text → 200 with a wamid, recorded in sent()', async () => {
  const before = fake.sent().length;
  const r = await post(text('Привет'));
  assert.is(r.status, 200);
  assert.is(r.json.messaging_product, 'whatsapp');
  assert.equal(r.json.contacts, [{ input: '79001234567', wa_id: '79001234567' }]);
  assert.match(r.json.messages[0].id, /^wamid\./);
  assert.is(fake.sent().length, before + 1);
  assert.equal(fake.sent().at(-1), text('Привет'));
  const r2 = await post(text('again'));
  assert.is.not(r2.json.messages[0].id, r.json.messages[0].id);
});

test('empty and over-long text → 400', async () => {
  const empty = await post(text(''));
  assert.is(empty.status, 400);
  const long = await post(text('я'.repeat(4097)));
  assert.is(long.status, 400);
  assert.match(long.json.error.error_data.details, /text\.body/);
  const max = await post(text('я'.repeat(4096)));
  assert.is(max.status, 200);
});

test('over-limit button title → 400 naming the problem', async () => {
  const r = await post(buttons('Да', 'This title is way too long'));
  assert.is(r.status, 400);
  assert.is(r.json.error.code, 100);
  assert.is(r.json.error.type, 'OAuthException');
  assert.is(r.json.error.message, '(#100) Invalid parameter');
  assert.is(r.json.error.error_data.messaging_product, 'whatsapp');
  assert.match(r.json.error.error_data.details, /buttons\[1\]\.reply\.title/);
  assert.match(r.json.error.error_data.details, /1\.\.20/);
  assert.type(r.json.error.fbtrace_id, 'string');
});

test('4 buttons → 400', async () => {
  const r = await post(buttons('A', 'B', 'C', 'D'));
  assert.is(r.status, 400);
  assert.match(r.json.error.error_data.details, /1\.\.3 buttons, got 4/);
});

test('duplicate button titles → 400', async () => {
  const r = await post(buttons('Same', 'Same'));
  assert.is(r.status, 400);
  assert.match(r.json.error.error_data.details, /duplicate/);
});

test('Cyrillic 20-char title accepted; 21 rejected', async () => {
  const t20 = 'Заполнить за сегодня';
  assert.is([...t20].length, 20);
  assert.ok(Buffer.byteLength(t20) > 20);
  const ok = await post(buttons(t20, 'Мой статус'));
  assert.is(ok.status, 200, JSON.stringify(ok.json));
  const bad = await post(buttons(`${t20}!`));
  assert.is(bad.status, 400);
});

test('list with 11 rows → 400; 10 rows across sections → 200', async () => {
  const r = await post(list([6, 5]));
  assert.is(r.status, 400);
  assert.match(r.json.error.error_data.details, /rows/);
  const ok = await post(list([6, 4]));
  assert.is(ok.status, 200, JSON.stringify(ok.json));
});

test('list: section title required with >1 section; row title ≤24', async () => {
  const b: Json = list([1, 1]);
  delete b.interactive.action.sections[1].title;
  const r = await post(b);
  assert.is(r.status, 400);
  assert.match(r.json.error.error_data.details, /sections\[1\]\.title/);
  const c: Json = list([1]);
  c.interactive.action.sections[0].rows[0].title = 'x'.repeat(25);
  const r2 = await post(c);
  assert.is(r2.status, 400);
  assert.match(r2.json.error.error_data.details, /rows\[0\]\.title/);
});

test('unknown type, missing messaging_product, wrong content-type → 400', async () => {
  assert.is((await post({ ...text('x'), type: 'image' })).status, 400);
  const { messaging_product: _, ...noProduct } = text('x');
  assert.is((await post(noProduct)).status, 400);
  const res = await fetch(`${fake.url}/messages`, {
    method: 'POST',
    headers: { 'D360-API-KEY': KEY, 'Content-Type': 'text/plain' },
    body: JSON.stringify(text('x')),
  });
  assert.is(res.status, 400);
});

test('template send accepted', async () => {
  const r = await post({
    messaging_product: 'whatsapp',
    to: '79001234567',
    type: 'template',
    template: { name: 'shift_reminder', language: { code: 'ru' } },
  });
  assert.is(r.status, 200);
});

test('failNext 500 then normal', async () => {
  const before = fake.sent().length;
  fake.failNext({ status: 500 });
  const r1 = await post(text('one'));
  assert.is(r1.status, 500);
  assert.is(r1.json.meta.http_code, 500);
  const r2 = await post(text('two'));
  assert.is(r2.status, 200);
  assert.is(fake.sent().length, before + 1);
  assert.equal(fake.sent().at(-1)?.text.body, 'two');
});

test('failNext custom body/headers, reset, hang', async () => {
  fake.failNext(
    { status: 429, body: { error: { code: 130429 } }, headers: { 'retry-after': '2' } },
    { status: 0, reset: true },
  );
  const res = await fetch(`${fake.url}/messages`, {
    method: 'POST',
    headers: { 'D360-API-KEY': KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify(text('x')),
  });
  assert.is(res.status, 429);
  assert.is(res.headers.get('retry-after'), '2');
  assert.equal(await res.json(), { error: { code: 130429 } });
  let threw = false;
  try {
    await post(text('y'));
  } catch {
    threw = true;
  }
  assert.ok(threw, 'reset should make fetch fail');

  // hang: request stays open until aborted (close() also ends it, see the last test)
  fake.failNext({ status: 0, hang: true });
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 150);
  let aborted = false;
  try {
    await fetch(`${fake.url}/messages`, {
      method: 'POST',
      headers: { 'D360-API-KEY': KEY, 'Content-Type': 'application/json' },
      body: JSON.stringify(text('z')),
      signal: ctl.signal,
    });
  } catch {
    aborted = true;
  }
  clearTimeout(t);
  assert.ok(aborted);
  assert.is((await post(text('after'))).status, 200);
});

test('waitFor resolves and rejects with a clear message', async () => {
  setTimeout(() => void post(text('later')), 30);
  const s = await fake.waitFor((x) => x.some((b) => b.text?.body === 'later'), 2000);
  assert.ok(s.length > 0);
  try {
    await fake.waitFor(() => false, 50);
    assert.unreachable('should have rejected');
  } catch (e) {
    assert.instance(e, Error);
    assert.match((e as Error).message, /not met within 50 ms/);
  }
});

test('webhook config: POST stores, GET returns, key checked', async () => {
  const cfg = { url: 'https://bot.example.com/webhook', headers: { Authorization: 'Bearer s3cret' } };
  const p = await post(cfg, KEY, '/v1/configs/webhook');
  assert.is(p.status, 200);
  const g = await fetch(`${fake.url}/v1/configs/webhook`, { headers: { 'D360-API-KEY': KEY } });
  assert.is(g.status, 200);
  assert.equal(await g.json(), cfg);
  const bad = await fetch(`${fake.url}/v1/configs/webhook`, { headers: { 'D360-API-KEY': 'nope' } });
  assert.is(bad.status, 401);
});

test('builders: text / button / list', () => {
  const t = textMessage({ from: '79001234567', body: 'привет', timestamp: 1700000000 });
  assert.is((t as Json).object, 'whatsapp_business_account');
  const v = (t as Json).entry[0].changes[0];
  assert.is(v.field, 'messages');
  assert.is(v.value.messaging_product, 'whatsapp');
  assert.equal(v.value.contacts, [{ profile: { name: 'Test Name' }, wa_id: '79001234567' }]);
  const m = firstMessage(t);
  assert.is(m.type, 'text');
  assert.is(m.text.body, 'привет');
  assert.is(m.timestamp, '1700000000');
  assert.match(m.id, /^wamid\./);

  const b = firstMessage(
    buttonReply({ from: '7900', buttonId: 'FILL_TODAY', id: 'wamid.X', contextId: 'wamid.C' }),
  );
  assert.is(b.type, 'interactive');
  assert.is(b.id, 'wamid.X');
  assert.is(b.context.id, 'wamid.C');
  assert.equal(b.interactive, {
    type: 'button_reply',
    button_reply: { id: 'FILL_TODAY', title: 'Заполнить за сегодня' },
  });

  const l = firstMessage(listReply({ from: '7900', rowId: 'SHIFT_NIGHT' }));
  assert.is(l.interactive.type, 'list_reply');
  assert.equal(l.interactive.list_reply, { id: 'SHIFT_NIGHT', title: 'Ночная' });
  assert.is(
    firstMessage(listReply({ from: '7900', rowId: 'X', title: 'T' })).interactive.list_reply.title,
    'T',
  );
});

test('builders: media, location, reaction, unsupported, ids unique', () => {
  for (const kind of ['image', 'sticker', 'audio', 'video', 'document'] as const) {
    const m = firstMessage(mediaMessage({ from: '7900', kind }));
    assert.is(m.type, kind);
    assert.type(m[kind].id, 'string');
    assert.type(m[kind].mime_type, 'string');
  }
  const loc = firstMessage(locationMessage({ from: '7900' }));
  assert.is(loc.type, 'location');
  assert.type(loc.location.latitude, 'number');
  const r = firstMessage(reactionMessage({ from: '7900', emoji: '👍', messageId: 'wamid.R' }));
  assert.equal(r.reaction, { message_id: 'wamid.R', emoji: '👍' });
  const u = firstMessage(unsupportedMessage({ from: '7900' }));
  assert.is(u.type, 'unsupported');
  assert.is(u.errors[0].code, 131051);
  const ids = new Set(Array.from({ length: 100 }, () => nextMessageId()));
  assert.is(ids.size, 100);
  assert.ok([...ids].every((id) => id.startsWith('wamid.')));
});

test('builders: statuses and v1', () => {
  const s = statusUpdate({ id: 'wamid.S', status: 'failed', recipient: '7900', errorCode: 131047 }) as Json;
  const v = s.entry[0].changes[0].value;
  assert.is(v.contacts, undefined);
  assert.is(v.messages, undefined);
  const st = v.statuses[0];
  assert.is(st.id, 'wamid.S');
  assert.is(st.status, 'failed');
  assert.is(st.recipient_id, '7900');
  assert.type(st.timestamp, 'string');
  assert.is(st.errors[0].code, 131047);
  assert.is(st.errors[0].title, 'Re-engagement message');
  assert.match(st.errors[0].error_data.details, /more than 24 hours/);
  const d = statusUpdate({ id: 'wamid.S', status: 'delivered', recipient: '7900' }) as Json;
  assert.is(d.entry[0].changes[0].value.statuses[0].errors, undefined);

  const one = v1Text({ from: '7900', body: 'hi', name: 'Иван' }) as Json;
  assert.is(one.object, undefined);
  assert.is(one.entry, undefined);
  assert.is(one.messages[0].text.body, 'hi');
  assert.is(one.contacts[0].profile.name, 'Иван');
});

test('batch merges several bodies into one envelope', () => {
  const a = textMessage({ from: '7901', body: 'a', id: 'wamid.A' });
  const b = buttonReply({ from: '7902', buttonId: 'MY_STATUS', id: 'wamid.B' });
  const c = statusUpdate({ id: 'wamid.C', status: 'read', recipient: '7903' });
  const m = batch(a, b, c) as Json;
  assert.is(m.object, 'whatsapp_business_account');
  assert.is(m.entry.length, 3);
  assert.is(m.entry[0].changes[0].value.messages[0].id, 'wamid.A');
  assert.is(m.entry[1].changes[0].value.messages[0].id, 'wamid.B');
  assert.is(m.entry[2].changes[0].value.statuses[0].id, 'wamid.C');
  assert.throws(() => batch(a, v1Text({ from: '1', body: 'x' })), /not a v2/);
});

test('loadRealPayloads returns 74 items', () => {
  const all = loadRealPayloads();
  assert.is(all.length, 74);
  const text = all.find((p) => p.file === 'message.json' && p.name === 'text');
  assert.ok(text);
  assert.is((text?.body as Json)?.object, 'whatsapp_business_account');
});

test('close() ends hanging requests', async () => {
  const f = await startFakeD360({ apiKey: 'k' });
  f.failNext({ status: 0, hang: true });
  const pending = fetch(`${f.url}/messages`, {
    method: 'POST',
    headers: { 'D360-API-KEY': 'k', 'Content-Type': 'application/json' },
    body: '{}',
  }).then(
    () => 'answered',
    () => 'failed',
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.is(f.requests.length, 1);
  const t0 = Date.now();
  await f.close();
  assert.is(await pending, 'failed');
  assert.ok(Date.now() - t0 < 2000);
});

test.run();
