import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  buildQuery,
  phpUrlencode,
  restSignature,
  signRequest,
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_EVENTS,
  webhookSignatureFields,
} from '../server/channels/zadarma/sign';

// --- docs/protocols/zadarma.md#worked-example-of-a-rest-signature ------------------------------
const KEY = 'a1b2c3d4e5f6a7b8c9d0';
const SECRET = 'secret0123456789abcd';
const METHOD = '/v1/request/callback/';
const QUERY = 'format=json&from=100&predicted=1&to=442037691881';
const MD5 = '818596a395f94f2383f5984dc8011ce9';
const SIGN_STRING =
  '/v1/request/callback/format=json&from=100&predicted=1&to=442037691881818596a395f94f2383f5984dc8011ce9';
const HMAC_HEX = '65fcfe10998ebc87c540996331ce3f5286153c55';
const SIGNATURE = 'NjVmY2ZlMTA5OThlYmM4N2M1NDA5OTYzMzFjZTNmNTI4NjE1M2M1NQ==';
const AUTHORIZATION = 'a1b2c3d4e5f6a7b8c9d0:NjVmY2ZlMTA5OThlYmM4N2M1NDA5OTYzMzFjZTNmNTI4NjE1M2M1NQ==';
const GET_URL =
  'https://api.zadarma.com/v1/request/callback/?format=json&from=100&predicted=1&to=442037691881';
const WRONG_RAW_VARIANT = 'Zfz+EJmOvIfFQJljMc4/UoYVPFU=';

test('REST worked example: sorted query with format=json added', () => {
  const r = signRequest(METHOD, { from: 100, to: 442037691881, predicted: 1 }, KEY, SECRET);
  assert.is(r.query, QUERY);
});

test('REST worked example: md5, signed string, hmac hex, signature, Authorization, URL', () => {
  assert.is(createHash('md5').update(QUERY).digest('hex'), MD5);
  assert.is(METHOD + QUERY + MD5, SIGN_STRING);
  const sig = restSignature(METHOD, QUERY, SECRET);
  assert.is(sig, SIGNATURE);
  assert.is(sig.length, 56);
  assert.ok(sig.endsWith('='));
  assert.is(Buffer.from(sig, 'base64').toString('ascii'), HMAC_HEX);
  assert.is.not(sig, WRONG_RAW_VARIANT);
  const r = signRequest(METHOD, { from: 100, to: 442037691881, predicted: 1 }, KEY, SECRET);
  assert.is(r.authorization, AUTHORIZATION);
  assert.is(`https://api.zadarma.com${METHOD}?${r.query}`, GET_URL);
});

test('REST: string and number params sign the same; param order does not matter', () => {
  const a = signRequest(METHOD, { to: '442037691881', predicted: '1', from: '100' }, KEY, SECRET);
  assert.is(a.authorization, AUTHORIZATION);
  const b = signRequest(METHOD, { format: 'json', predicted: 1, to: 442037691881, from: 100 }, KEY, SECRET);
  assert.is(b.query, QUERY);
  assert.is(b.authorization, AUTHORIZATION);
});

test('REST: explicit format is kept; the trailing slash of the method is signed', () => {
  const x = signRequest('/v1/info/balance/', { format: 'xml' }, KEY, SECRET);
  assert.is(x.query, 'format=xml');
  const a = signRequest('/v1/info/balance/', {}, KEY, SECRET);
  const b = signRequest('/v1/info/balance', {}, KEY, SECRET);
  assert.is(a.query, 'format=json');
  assert.is.not(a.authorization, b.authorization);
});

test('RFC 1738 encoding as PHP urlencode / http_build_query does', () => {
  assert.is(phpUrlencode('+442037691881'), '%2B442037691881');
  assert.is(phpUrlencode('a b'), 'a+b');
  assert.is(phpUrlencode("~*!'()"), '%7E%2A%21%27%28%29');
  assert.is(phpUrlencode('A-z_0.9'), 'A-z_0.9');
  assert.is(phpUrlencode('https://x.y/a?b=1&c'), 'https%3A%2F%2Fx.y%2Fa%3Fb%3D1%26c');
  assert.is(phpUrlencode('ї'), '%D1%97');
  assert.is(buildQuery({ to: '+380 44', from: 100 }), 'from=100&to=%2B380+44');
});

// --- docs/protocols/zadarma.md#worked-example-of-a-webhook-signature ---------------------------
const START = {
  event: 'NOTIFY_START',
  call_start: '2024-01-15 10:20:30',
  pbx_call_id: 'in_0123456789abcdef',
  caller_id: '+442037691880',
  called_did: '442037691881',
};
const WEBHOOK_SIGNATURE = 'YTRlNzg0MTNjY2FlY2E1N2ZmNzVmZjRhZjhjZWEwZDhhMmRiYjc4Ng==';
const WEBHOOK_HMAC_HEX = 'a4e78413ccaeca57ff75ff4af8cea0d8a2dbb786';

test('webhook worked example: NOTIFY_START signature byte for byte', () => {
  const sig = signWebhook(START, SECRET);
  assert.is(sig, WEBHOOK_SIGNATURE);
  assert.is(Buffer.from(sig, 'base64').toString('ascii'), WEBHOOK_HMAC_HEX);
  assert.ok(verifyWebhookSignature(START, WEBHOOK_SIGNATURE, SECRET));
});

test('webhook: NOTIFY_IVR and NOTIFY_END sign the same fields as NOTIFY_START', () => {
  for (const event of ['NOTIFY_IVR', 'NOTIFY_END', 'NOTIFY_INTERNAL']) {
    const f = { ...START, event, 'wait_dtmf[digits]': '1', disposition: 'answered', internal: '100' };
    assert.is(signWebhook(f, SECRET), WEBHOOK_SIGNATURE, event);
    assert.ok(verifyWebhookSignature(f, WEBHOOK_SIGNATURE, SECRET), event);
  }
});

test('webhook: per-event field order as documented', () => {
  assert.equal(webhookSignatureFields('NOTIFY_START'), ['caller_id', 'called_did', 'call_start']);
  assert.equal(webhookSignatureFields('NOTIFY_INTERNAL'), ['caller_id', 'called_did', 'call_start']);
  assert.equal(webhookSignatureFields('NOTIFY_ANSWER'), ['caller_id', 'destination', 'call_start']);
  assert.equal(webhookSignatureFields('NOTIFY_END'), ['caller_id', 'called_did', 'call_start']);
  assert.equal(webhookSignatureFields('NOTIFY_OUT_START'), ['internal', 'destination', 'call_start']);
  assert.equal(webhookSignatureFields('NOTIFY_OUT_END'), ['internal', 'destination', 'call_start']);
  assert.equal(webhookSignatureFields('NOTIFY_RECORD'), ['pbx_call_id', 'call_id_with_rec']);
  assert.equal(webhookSignatureFields('NOTIFY_IVR'), ['caller_id', 'called_did', 'call_start']);
  assert.is(WEBHOOK_EVENTS.length, 8);
  assert.is(webhookSignatureFields('notify_start'), undefined);
  assert.is(webhookSignatureFields('SMS'), undefined);
  assert.is(webhookSignatureFields('toString'), undefined);
  assert.is(webhookSignatureFields('__proto__'), undefined);
  // the returned array is a copy
  webhookSignatureFields('NOTIFY_START')?.push('x');
  assert.is(webhookSignatureFields('NOTIFY_START')?.length, 3);
});

test('webhook: outgoing and record events use their own fields', () => {
  const out = {
    event: 'NOTIFY_OUT_END',
    call_start: '2024-01-15 10:20:30',
    pbx_call_id: 'out_1',
    caller_id: '442037691880',
    internal: '100',
    destination: '380501234567',
    duration: '0',
    disposition: 'cancel',
  };
  const sig = signWebhook(out, SECRET);
  assert.ok(verifyWebhookSignature(out, sig, SECRET));
  // caller_id is not signed for NOTIFY_OUT_END; destination is
  assert.ok(verifyWebhookSignature({ ...out, caller_id: 'x' }, sig, SECRET));
  assert.not.ok(verifyWebhookSignature({ ...out, destination: '380501234568' }, sig, SECRET));
  const rec = { event: 'NOTIFY_RECORD', pbx_call_id: 'in_1', call_id_with_rec: '1705314030.123' };
  const rs = signWebhook(rec, SECRET);
  assert.ok(verifyWebhookSignature(rec, rs, SECRET));
  assert.not.ok(verifyWebhookSignature({ ...rec, call_id_with_rec: '1705314030.124' }, rs, SECRET));
});

test('webhook: tampered signed field → false', () => {
  for (const k of ['caller_id', 'called_did', 'call_start'] as const) {
    assert.not.ok(verifyWebhookSignature({ ...START, [k]: `${START[k]}0` }, WEBHOOK_SIGNATURE, SECRET), k);
  }
  // a field moved between caller_id and called_did (same concatenation!) is not detectable, by design
  assert.ok(
    verifyWebhookSignature(
      { ...START, caller_id: '+44203769188044', called_did: '2037691881' },
      WEBHOOK_SIGNATURE,
      SECRET,
    ),
  );
});

test('webhook: wrong secret, tampered or raw-bytes signature → false', () => {
  assert.not.ok(verifyWebhookSignature(START, WEBHOOK_SIGNATURE, 'another-secret'));
  assert.not.ok(verifyWebhookSignature(START, `${WEBHOOK_SIGNATURE.slice(0, -3)}Nw==`, SECRET));
  assert.not.ok(verifyWebhookSignature(START, WEBHOOK_SIGNATURE.slice(0, -1), SECRET));
  assert.not.ok(verifyWebhookSignature(START, `${WEBHOOK_SIGNATURE} `, SECRET));
  const raw = Buffer.from(WEBHOOK_HMAC_HEX, 'hex').toString('base64');
  assert.not.ok(verifyWebhookSignature(START, raw, SECRET));
  assert.not.ok(verifyWebhookSignature(START, WEBHOOK_HMAC_HEX, SECRET));
});

test('webhook: missing signature → false', () => {
  assert.not.ok(verifyWebhookSignature(START, undefined, SECRET));
  assert.not.ok(verifyWebhookSignature(START, '', SECRET));
  assert.not.ok(verifyWebhookSignature(START, WEBHOOK_SIGNATURE, ''));
});

test('webhook: unknown or missing event → false; signWebhook throws', () => {
  assert.not.ok(verifyWebhookSignature({ ...START, event: 'NOTIFY_BOGUS' }, WEBHOOK_SIGNATURE, SECRET));
  assert.not.ok(verifyWebhookSignature({ ...START, event: 'notify_start' }, WEBHOOK_SIGNATURE, SECRET));
  const { event: _e, ...noEvent } = START;
  assert.not.ok(verifyWebhookSignature(noEvent, WEBHOOK_SIGNATURE, SECRET));
  assert.throws(() => signWebhook({ ...START, event: 'SMS' }, SECRET), /unknown Zadarma event/);
});

test('webhook: a missing signed field counts as the empty string (PHP semantics)', () => {
  const { called_did: _d, ...partial } = START;
  const sig = signWebhook(partial, SECRET);
  assert.is(sig, signWebhook({ ...START, called_did: '' }, SECRET));
  assert.ok(verifyWebhookSignature(partial, sig, SECRET));
  assert.not.ok(verifyWebhookSignature(partial, WEBHOOK_SIGNATURE, SECRET));
});

test.run();
