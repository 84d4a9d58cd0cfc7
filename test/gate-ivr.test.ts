/**
 * The voice menu and Zadarma's webhook endpoint, against the real server (Koa on loopback, lowdb in a
 * temp dir), the fake Zadarma REST API (callbacks) and the fake Telegram Bot API (which must hear
 * nothing about calls started from the voice menu).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  incomingCall,
  notifyAnswer,
  notifyEnd,
  notifyInternal,
  notifyOutEnd,
  notifyOutStart,
  notifyRecord,
  outgoingCall,
  zdEchoQuery,
} from '../fixtures/zadarma';
import { signWebhook } from '../server/channels/zadarma/sign';
import { ConfigError, readConfig } from '../server/config/config';
import type { ActorRecord } from '../server/engine/types';
import { ACCESS_PARTITION, accessWrite } from '../server/gate/access';
import { uk } from '../server/texts/uk';
import { CALLS, type CallDoc, pendingCallOf } from '../storage/calls';
import { type FakeTelegram, startFakeTelegram } from './fakes/telegram';
import { type FakeZadarma, startFakeZadarma } from './fakes/zadarma';
import {
  callsOf,
  ivrActor,
  ivrContext,
  type Json,
  logLines,
  storeDigest,
  zadarmaPoster,
} from './helpers/ivr-zadarma';
import { eventually, http, sleep, startTestService, type TestService, tmpDataDir } from './helpers/service';

const KEY = 'zadarma-key-0123456789';
const SECRET = 'zadarma-secret-0123456789abcdef';
const TOKEN = '7000000001:AAFakeTokenForIvrTests_0123456789abc';
const ALLOWED = '380501112233';
const STRANGER = '+380679998877';
const VOROTA = '380930063585';
const HVIRTKA = '380637442017';
const SUPPORT = '+380 44 123 45 67';
const MENU_NAME = 'main_menu';

function env(z: FakeZadarma, tg: FakeTelegram, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ZADARMA_API_KEY: KEY,
    ZADARMA_API_SECRET: SECRET,
    ZADARMA_BASE_URL: z.url,
    ZADARMA_CALLER: '0733103110',
    GATES: 'hvirtka=0637442017,vorota=0930063585',
    ALLOWED_PHONES: '0501112233',
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: tg.url,
    SUPPORT_PHONE: SUPPORT,
    GATE_CALL_TIMEOUT_S: '20',
    ...extra,
  };
}

let z: FakeZadarma;
let tg: FakeTelegram;
let svc: TestService;
let dataDir: string;
let post: ReturnType<typeof zadarmaPoster>;

test.before(async () => {
  z = await startFakeZadarma({ key: KEY, secret: SECRET });
  tg = await startFakeTelegram({ token: TOKEN });
  dataDir = tmpDataDir();
  svc = await startTestService(env(z, tg), { dataDir });
  post = zadarmaPoster(svc.url, SECRET);
});

test.after(async () => {
  try {
    await svc?.stop();
  } finally {
    await z?.close();
    await tg?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
});

const menuAnswer = {
  ivr_say: { text: uk.ivr.menu, language: 'ua' },
  wait_dtmf: { timeout: 10, attempts: 1, maxdigits: 1, name: MENU_NAME },
};

/** Waits until no outbox effect is left (every gate/zadarma/telegram effect was carried out). */
async function settled(s: TestService = svc): Promise<void> {
  await eventually(() => s.store.all('outbox').length === 0, 5000, 'an empty outbox');
}

/** Waits for a gate's pending call and ends it as the relay does (rings, then rejects). */
async function relayRejects(
  gate: 'vorota' | 'hvirtka',
  how: 'end' | 'outEnd',
  spelling?: string,
): Promise<CallDoc> {
  const relay = gate === 'vorota' ? VOROTA : HVIRTKA;
  const key = await eventually(() => pendingCallOf(svc.store, gate) ?? undefined, 5000, `a ${gate} call`);
  if (how === 'end') {
    const end = notifyEnd({ caller_id: spelling ?? relay, disposition: 'cancel', duration: 4 });
    assert.is((await post(end)).status, 200);
  } else {
    const leg = outgoingCall({ destination: spelling ?? relay, internal: '100' });
    assert.is((await post(leg.start())).status, 200);
    assert.is((await post(leg.end({ disposition: 'cancel', duration: 3 }))).status, 200);
  }
  const id = key.slice('call:'.length);
  return eventually(
    () => {
      const c = svc.store.get<CallDoc>(CALLS, id);
      return c && c.status !== 'initiated' && c.status !== 'pending' ? c : undefined;
    },
    5000,
    `the ${gate} call to end`,
  );
}

// ---------------------------------------------------------------------------------------------
// zd_echo

test('GET zd_echo answers the token verbatim as text/plain; anything but a plain token is 400', async () => {
  const ok = await http(`${svc.url}/zadarma/webhook?zd_echo=abc123`);
  assert.is(ok.status, 200);
  assert.is(ok.text, 'abc123');
  assert.match(ok.headers.get('content-type') ?? '', /^text\/plain/);
  const fixture = await http(`${svc.url}/zadarma/webhook?${zdEchoQuery()}`);
  assert.is(fixture.text, 'zd-echo-test-token');
  for (const bad of ['<script>', '', 'x'.repeat(200), 'a b', 'tok%0Aen']) {
    const q = bad === 'tok%0Aen' ? bad : encodeURIComponent(bad);
    const r = await http(`${svc.url}/zadarma/webhook?zd_echo=${q}`);
    assert.is(r.status, 400, `zd_echo=${bad.slice(0, 20)}`);
    assert.not.ok(r.text.includes('<script>'), 'the hostile token is not echoed');
  }
  assert.is((await http(`${svc.url}/zadarma/webhook`)).status, 400, 'no zd_echo at all');
  assert.is((await http(`${svc.url}/zadarma/webhook?zd_echo=a&zd_echo=b`)).status, 400, 'repeated');
});

// ---------------------------------------------------------------------------------------------
// signatures (first, while the store is quiet)

test('wrong or missing Signature → 401, logged, no actor, nothing committed', async () => {
  await settled();
  const before = storeDigest(dataDir);
  const from = svc.logs.length;
  const call = incomingCall({ caller_id: ALLOWED });
  const start = call.start();
  const wrong = await post(start, { signature: signWebhook(start, 'another-secret-entirely') });
  assert.is(wrong.status, 401);
  const missing = await post(start, { secret: null });
  assert.is(missing.status, 401);
  const garbage = await post(start, { signature: 'not base64 at all !!' });
  assert.is(garbage.status, 401);
  // signed for one caller, sent for another (the signed fields were changed on the way)
  const tampered = await post(
    { ...start, caller_id: '+380501112233' },
    { signature: signWebhook(start, SECRET) },
  );
  assert.is(tampered.status, 401);
  assert.is(storeDigest(dataDir), before, 'the store did not change');
  // the digits are not signed by Zadarma, but an IVR step still needs a valid signature
  const dtmf = await post(call.dtmf('1', { name: MENU_NAME }), { secret: null });
  assert.is(dtmf.status, 401);
  // JSON, unsigned
  assert.is((await post(start, { json: true, secret: null })).status, 401);
  assert.is(ivrActor(svc.store, call.pbx_call_id), undefined, 'no actor created');
  assert.is(z.callbacks().length, 0);
  // Five refusals within 10 minutes are someone probing: the one thing stored is the admin alert.
  const alerts = await eventually(
    () => svc.store.get<ActorRecord>('actors', 'alerts:admin'),
    5000,
    'the alert',
  );
  assert.is(alerts.state, 'alerting');
  assert.equal(
    alerts.history.map((h) => h.event),
    ['ALERT'],
  );
  assert.ok(logLines(svc.logs, /wrong or missing signature refused.*signature=wrong/, from).length >= 3);
  assert.ok(logLines(svc.logs, /wrong or missing signature refused.*signature=missing/, from).length >= 2);
  // the same request, signed, works
  const good = await post(start);
  assert.is(good.status, 200);
  assert.equal(good.json, menuAnswer);
});

test('a signed NOTIFY_START replayed under another pbx_call_id is refused (Zadarma does not sign the call id)', async () => {
  await settled();
  const from = svc.logs.length;
  const call = incomingCall({ caller_id: ALLOWED });
  const first = await post(call.start());
  assert.ok((first.json as Json).wait_dtmf, 'the real call gets the menu');
  const replayPbx = `${call.pbx_call_id}-replay`;
  const replay = await post({ ...call.start(), pbx_call_id: replayPbx });
  assert.equal(replay.json, { hangup: 1 });
  assert.is(ivrActor(svc.store, replayPbx), undefined, 'no actor for the replayed call');
  const digit = await post({ ...call.dtmf('1', { name: MENU_NAME }), pbx_call_id: replayPbx });
  assert.equal(digit.json, { hangup: 1 });
  assert.is(z.callbacks().length, 0, 'the replay opened nothing');
  assert.ok(logLines(svc.logs, /replayed under another pbx_call_id/, from).length === 1);
  // The real call's own redelivery is still answered with its menu.
  assert.equal((await post(call.start())).json, first.json);
});

test('MODE=prod requires ZADARMA_API_SECRET once the Zadarma channel is configured', () => {
  const base = {
    MODE: 'prod',
    ZADARMA_API_KEY: KEY,
    ZADARMA_CALLER: '0733103110',
    GATES: 'hvirtka=0637442017,vorota=0930063585',
  };
  let error: unknown;
  try {
    readConfig(base);
  } catch (e) {
    error = e;
  }
  assert.instance(error, ConfigError);
  assert.match((error as Error).message, 'ZADARMA_API_SECRET');
  assert.not.match((error as Error).message, 'ZADARMA_API_KEY is');
  const full = readConfig({ ...base, ZADARMA_API_SECRET: SECRET });
  assert.is(full.zadarma.mode, 'live');
  assert.is(full.zadarma.apiSecret, SECRET);
});

test('an unsupported content type → 415; a body over 64 KB → 413; neither touches the store', async () => {
  await settled();
  const before = storeDigest(dataDir);
  const start = incomingCall({ caller_id: ALLOWED }).start();
  for (const type of ['text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'image/png']) {
    const r = await post(start, { contentType: type });
    assert.is(r.status, 415, type);
  }
  assert.is(storeDigest(dataDir), before);
  // media types are case-insensitive
  const upper = await post(incomingCall({ caller_id: ALLOWED }).start(), {
    contentType: 'APPLICATION/X-WWW-FORM-URLENCODED; Charset=UTF-8',
  });
  assert.equal(upper.json, menuAnswer);
  const upperJson = await post(incomingCall({ caller_id: ALLOWED }).start(), {
    json: true,
    contentType: 'Application/JSON',
  });
  assert.equal(upperJson.json, menuAnswer);
  const beforeHuge = storeDigest(dataDir);
  const huge = { ...start, padding: 'x'.repeat(70 * 1024) };
  assert.is((await post(huge)).status, 413);
  assert.is((await post(huge, { json: true })).status, 413);
  assert.is(storeDigest(dataDir), beforeHuge);
  // just under the limit is read (and answered: the padding is not a signed field)
  const beforeBig = storeDigest(dataDir);
  const big = { ...start, padding: 'y'.repeat(60 * 1024) };
  assert.equal((await post(big)).json, menuAnswer);
  const afterBig = storeDigest(dataDir);
  assert.is.not(afterBig, beforeBig, 'the accepted call was committed');
  assert.is((await post(start, { contentType: 'text/plain' })).status, 415);
  assert.is(storeDigest(dataDir), afterBig);
});

test('JSON bodies are accepted too (wait_dtmf nested), with the same signature', async () => {
  const call = incomingCall({ caller_id: '+380501112233' });
  const r = await post(call.start(), { json: true });
  assert.is(r.status, 200);
  assert.equal(r.json, menuAnswer);
  const bad = await post(call.dtmf('7', { name: MENU_NAME }), { json: true });
  assert.is(bad.status, 200);
  assert.is((bad.json as Json).ivr_say.text, uk.ivr.invalid);
  assert.is(ivrActor(svc.store, call.pbx_call_id)?.state, 'menu');
  // numbers instead of strings, as a JSON sender may write them
  const n = await post(call.dtmf('8', { name: MENU_NAME }), {
    json: true,
    raw: JSON.stringify({ ...call.ivr(), wait_dtmf: { name: MENU_NAME, digits: 8 } }),
  });
  assert.is(n.status, 200);
  assert.is((n.json as Json).ivr_say.text, uk.ivr.invalid);
  assert.is(ivrContext(svc.store, call.pbx_call_id).attempts, 2);
  // malformed JSON is a 400, never a 5xx
  assert.is((await post(call.start(), { json: true, raw: '{"event":' })).status, 400);
  assert.is((await post(call.start(), { json: true, raw: '[1,2]' })).status, 400);
  assert.is((await post(call.start(), { json: true, raw: 'null' })).status, 400);
});

// ---------------------------------------------------------------------------------------------
// the menu

test('NOTIFY_START from an allowed caller, in any spelling of the number → the menu', async () => {
  for (const spelling of [
    '+380501112233',
    '380501112233',
    '0501112233',
    '+38 (050) 111-22-33',
    '00380501112233',
  ]) {
    const call = incomingCall({ caller_id: spelling });
    const r = await post(call.start());
    assert.is(r.status, 200, spelling);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const a = r.json as Json;
    assert.equal(a, menuAnswer, spelling);
    assert.ok(a.ivr_say.text.startsWith('Доброго дня!'));
    assert.ok(a.ivr_say.text.endsWith('Натисніть 1 для відкриття воріт, 2 для відкриття хвіртки.'));
    assert.is(a.hangup, undefined);
    const actor = ivrActor(svc.store, call.pbx_call_id);
    assert.is(actor?.state, 'menu');
    assert.is(ivrContext(svc.store, call.pbx_call_id).caller, ALLOWED, 'the caller is stored normalised');
  }
});

test('NOTIFY_START from an unknown caller → refusal with the support phone and hangup; digits open nothing', async () => {
  await settled();
  const callbacks = z.callbacks().length;
  const calls = svc.store.all(CALLS).length;
  for (const caller of [STRANGER, 'anonymous', '', '+'.repeat(60)]) {
    const call = incomingCall({ caller_id: caller });
    const r = await post(call.start());
    assert.is(r.status, 200, caller);
    const a = r.json as Json;
    assert.is(a.hangup, 1);
    assert.is(a.wait_dtmf, undefined);
    assert.is(a.ivr_say.language, 'ua');
    assert.ok(a.ivr_say.text.startsWith('Вибачте, ваш номер не має доступу.'), a.ivr_say.text);
    assert.ok(a.ivr_say.text.includes('3 8 0 4 4 1 2 3 4 5 6 7'), 'the support phone, digit by digit');
    assert.is(ivrActor(svc.store, call.pbx_call_id)?.state, 'refused');
    for (const digits of ['1', '2', '1', '2']) {
      const d = await post(call.dtmf(digits, { name: MENU_NAME }));
      assert.is(d.status, 200);
      assert.equal(d.json, { hangup: 1 });
    }
  }
  await sleep(150);
  assert.is(z.callbacks().length, callbacks, 'no callback');
  assert.is(svc.store.all(CALLS).length, calls, 'no gate call');
});

test('digit 1 → "Відкриваємо ворота" + hangup, a callback to the vorota relay; its END marks the call opened; no Telegram message', async () => {
  await settled();
  const sentBefore = tg.sent().length;
  const cbBefore = z.callbacks().length;
  const call = incomingCall({ caller_id: '0501112233' });
  assert.equal((await post(call.start())).json, menuAnswer);
  const r = await post(call.dtmf('1', { name: MENU_NAME }));
  assert.is(r.status, 200);
  assert.equal(r.json, { ivr_say: { text: uk.ivr.openingVorota, language: 'ua' }, hangup: 1 });
  assert.ok((r.json as Json).ivr_say.text.startsWith('Відкриваємо ворота'));
  assert.is(ivrActor(svc.store, call.pbx_call_id)?.state, 'opening');
  const cbs = await z.waitFor((c) => c.length === cbBefore + 1);
  assert.is(cbs.at(-1)?.to, VOROTA);
  assert.is(cbs.at(-1)?.from, '0733103110');
  const done = await relayRejects('vorota', 'end', '+380930063585');
  assert.is(done.status, 'opened');
  assert.is(done.source, 'ivr');
  assert.is(done.caller, ALLOWED);
  assert.is(done.chatId, null);
  assert.is(done.userId, null);
  assert.is(done.relay, VOROTA);
  assert.is(done.disposition, 'cancel');
  assert.is(pendingCallOf(svc.store, 'vorota'), null, 'the gate is free again');
  // the outside call hangs up: its end is taken by the menu actor, which stays where it was
  assert.is((await post(call.end({ disposition: 'answered', duration: 12 }))).status, 200);
  assert.is(ivrActor(svc.store, call.pbx_call_id)?.state, 'opening');
  await settled();
  await sleep(200);
  assert.is(tg.sent().length, sentBefore, 'the fake Telegram received no message');
  assert.ok(tg.calls('setMyCommands').length > 0, 'the bot is live against the fake Telegram');
  assert.is(tg.calls('sendMessage').length, 0);
  assert.is(z.callbacks().length, cbBefore + 1, 'exactly one callback');
});

test('digit 2 → hvirtka; the relay leg as NOTIFY_OUT_START/END (destination) ends it opened', async () => {
  await settled();
  const cbBefore = z.callbacks().length;
  const call = incomingCall({ caller_id: '+380501112233' });
  await post(call.start());
  const r = await post(call.dtmf(' 2 ', { name: MENU_NAME }));
  assert.equal(r.json, { ivr_say: { text: uk.ivr.openingHvirtka, language: 'ua' }, hangup: 1 });
  const cbs = await z.waitFor((c) => c.length === cbBefore + 1);
  assert.is(cbs.at(-1)?.to, HVIRTKA);
  const done = await relayRejects('hvirtka', 'outEnd', '0637442017');
  assert.is(done.status, 'opened');
  assert.is(done.source, 'ivr');
  assert.is(done.caller, ALLOWED);
  await settled();
  assert.is(tg.calls('sendMessage').length, 0, 'no Telegram message');
});

test('invalid digits → "Невірний вибір" and wait_dtmf again; 3 invalid in all → goodbye + hangup, no callback', async () => {
  await settled();
  const cbBefore = z.callbacks().length;
  const call = incomingCall({ caller_id: ALLOWED });
  await post(call.start());
  const invalid = { ivr_say: { text: uk.ivr.invalid, language: 'ua' }, wait_dtmf: menuAnswer.wait_dtmf };
  const first = await post(call.dtmf('9', { name: MENU_NAME }));
  assert.equal(first.json, invalid);
  assert.ok((first.json as Json).ivr_say.text.startsWith('Невірний вибір'));
  // nothing pressed: Zadarma's default fired
  const second = await post(call.ivr({ wait_dtmf: { name: MENU_NAME, default_behaviour: 1 } }));
  assert.equal(second.json, invalid);
  assert.is(ivrContext(svc.store, call.pbx_call_id).attempts, 2);
  const third = await post(call.dtmf('12', { name: MENU_NAME }));
  assert.equal(third.json, { ivr_say: { text: uk.ivr.goodbye, language: 'ua' }, hangup: 1 });
  assert.is(ivrActor(svc.store, call.pbx_call_id)?.state, 'ended');
  // too late now: even a valid digit opens nothing
  assert.equal((await post(call.dtmf('1', { name: MENU_NAME }))).json, { hangup: 1 });
  await sleep(150);
  assert.is(z.callbacks().length, cbBefore);
  assert.is(pendingCallOf(svc.store, 'vorota'), null);
});

test('NOTIFY_IVR repeated with the same ids is not deduplicated: each one is an attempt', async () => {
  const call = incomingCall({ caller_id: ALLOWED });
  await post(call.start());
  const same = call.dtmf('5', { name: MENU_NAME });
  const a = await post(same);
  const b = await post(same);
  assert.is((a.json as Json).ivr_say.text, uk.ivr.invalid);
  assert.is((b.json as Json).ivr_say.text, uk.ivr.invalid);
  assert.is(ivrContext(svc.store, call.pbx_call_id).attempts, 2);
  const c = await post(same);
  assert.equal(c.json, { ivr_say: { text: uk.ivr.goodbye, language: 'ua' }, hangup: 1 });
});

test('NOTIFY_START delivered twice (same pbx_call_id) → the same answer again, one actor', async () => {
  const call = incomingCall({ caller_id: ALLOWED });
  const start = call.start();
  const a = await post(start);
  const b = await post(start);
  assert.equal(a.json, menuAnswer);
  assert.equal(b.json, menuAnswer);
  const actor = ivrActor(svc.store, call.pbx_call_id);
  assert.is(actor?.history.length, 1, 'one step');
  // after an invalid digit the redelivered START still answers the menu and changes nothing
  await post(call.dtmf('0', { name: MENU_NAME }));
  assert.equal((await post(start)).json, menuAnswer);
  const after = ivrActor(svc.store, call.pbx_call_id);
  assert.is(ivrContext(svc.store, call.pbx_call_id).attempts, 1);
  assert.is(after?.history.length, 2);
  assert.is(svc.store.all('actors').filter((x) => x.key === `ivr:${call.pbx_call_id}`).length, 1);
  // a refused caller gets the refusal again
  const stranger = incomingCall({ caller_id: STRANGER }).start();
  const r1 = await post(stranger);
  const r2 = await post(stranger);
  assert.equal(r2.json, r1.json);
  assert.is((r1.json as Json).hangup, 1);
});

test('NOTIFY_IVR for a call the menu never saw → hangup, logged, no actor', async () => {
  const from = svc.logs.length;
  const call = incomingCall({ caller_id: ALLOWED });
  const r = await post(call.dtmf('1', { name: MENU_NAME }));
  assert.is(r.status, 200);
  assert.equal(r.json, { hangup: 1 });
  assert.is(ivrActor(svc.store, call.pbx_call_id), undefined);
  assert.is(logLines(svc.logs, /NOTIFY_IVR for a call the menu never saw/, from).length, 1);
});

test('a callback Zadarma refuses: the caller was told "opening", the call is failed (api), Telegram hears nothing', async () => {
  await settled();
  z.failNext({ status: 401, path: '/v1/request/callback/' });
  const call = incomingCall({ caller_id: ALLOWED });
  await post(call.start());
  assert.is(((await post(call.dtmf('2', { name: MENU_NAME }))).json as Json).hangup, 1);
  const c = await eventually(
    () => callsOf(svc.store, 'hvirtka').find((x) => x.status === 'failed' && x.reason === 'api'),
    5000,
    'the failed call',
  );
  assert.is(c.source, 'ivr');
  assert.is(c.error, 'Auth error');
  assert.is(pendingCallOf(svc.store, 'hvirtka'), null, 'the gate is released');
  await settled();
  assert.is(tg.calls('sendMessage').length, 0, 'no admins configured, no chat: no message');
});

test('a digit while the gate is already opening records a duplicate and places no second callback', async () => {
  await settled();
  const cbBefore = z.callbacks().length;
  const one = incomingCall({ caller_id: ALLOWED });
  await post(one.start());
  await post(one.dtmf('1', { name: MENU_NAME }));
  await z.waitFor((c) => c.length === cbBefore + 1);
  const two = incomingCall({ caller_id: '0501112233' });
  await post(two.start());
  const r = await post(two.dtmf('1', { name: MENU_NAME }));
  assert.is((r.json as Json).ivr_say.text, uk.ivr.openingVorota);
  await eventually(
    () => callsOf(svc.store, 'vorota').some((c) => c.status === 'duplicate'),
    5000,
    'duplicate',
  );
  const done = await relayRejects('vorota', 'end');
  assert.is(done.status, 'opened');
  await settled();
  assert.is(z.callbacks().length, cbBefore + 1);
  assert.is(tg.calls('sendMessage').length, 0);
});

test('concurrent deliveries: two identical NOTIFY_START at once → one step; two digits at once → one callback', async () => {
  await settled();
  const cbBefore = z.callbacks().length;
  const call = incomingCall({ caller_id: ALLOWED });
  const start = call.start();
  const [a, b] = await Promise.all([post(start), post(start)]);
  assert.equal(a.json, menuAnswer);
  assert.equal(b.json, menuAnswer);
  assert.is(ivrActor(svc.store, call.pbx_call_id)?.history.length, 1);
  const press = call.dtmf('1', { name: MENU_NAME });
  const answers = (await Promise.all([post(press), post(press), post(press)])).map((r) => r.json as Json);
  assert.is(answers.filter((x) => x.ivr_say?.text === uk.ivr.openingVorota).length, 1, 'one opening');
  assert.is(answers.filter((x) => x.ivr_say === undefined && x.hangup === 1).length, 2, 'the others hang up');
  await z.waitFor((c) => c.length === cbBefore + 1);
  const done = await relayRejects('vorota', 'end');
  assert.is(done.status, 'opened');
  await settled();
  assert.is(z.callbacks().length, cbBefore + 1);
  assert.is(callsOf(svc.store, 'vorota').filter((c) => c.requestedAt >= done.requestedAt).length, 1);
});

test('who may use the menu is decided at every call: an admin revoke/allow takes effect at once', async () => {
  const decide = (phone: string, allowed: boolean) =>
    svc.engine.record({ key: ACCESS_PARTITION, writes: (now) => [accessWrite(phone, allowed, 1, now)] });
  const stranger = '380679998877';
  try {
    await decide(ALLOWED, false);
    const revoked = await post(incomingCall({ caller_id: '0501112233' }).start());
    assert.is((revoked.json as Json).hangup, 1);
    assert.ok((revoked.json as Json).ivr_say.text.startsWith('Вибачте'));
    await decide(stranger, true);
    assert.equal((await post(incomingCall({ caller_id: STRANGER }).start())).json, menuAnswer);
  } finally {
    await decide(ALLOWED, true);
    await decide(stranger, false);
  }
  assert.equal((await post(incomingCall({ caller_id: ALLOWED }).start())).json, menuAnswer);
});

// ---------------------------------------------------------------------------------------------
// events that are neither

test('a gate event with no call under way → 200, logged, nothing else', async () => {
  await settled();
  assert.is(pendingCallOf(svc.store, 'vorota'), null);
  const calls = JSON.stringify(svc.store.all(CALLS));
  const from = svc.logs.length;
  for (const f of [
    notifyEnd({ caller_id: VOROTA, disposition: 'cancel', duration: 3 }),
    notifyOutStart({ destination: '0637442017' }),
    notifyOutEnd({ destination: '+380637442017', disposition: 'cancel', duration: 2 }),
    notifyAnswer({ caller_id: '100', destination: VOROTA }),
  ]) {
    const r = await post(f);
    assert.is(r.status, 200, f.event);
    assert.equal(r.json, { status: 'ok' });
  }
  assert.is(logLines(svc.logs, /gate event with no call under way/, from).length, 4);
  assert.is(JSON.stringify(svc.store.all(CALLS)), calls);
});

test('events of neither kind (NOTIFY_INTERNAL/ANSWER/END of an outside call, NOTIFY_RECORD) → 200, logged', async () => {
  const from = svc.logs.length;
  const actors = svc.store.all('actors').length;
  const outside = incomingCall({ caller_id: '+442037691880' });
  for (const f of [
    notifyInternal({ pbx_call_id: outside.pbx_call_id, caller_id: outside.caller_id }),
    outside.answer(),
    outside.end({ disposition: 'answered', duration: 30 }),
    notifyRecord({ pbx_call_id: outside.pbx_call_id }),
  ]) {
    const r = await post(f);
    assert.is(r.status, 200, f.event);
    assert.equal(r.json, { status: 'ok' }, f.event);
  }
  assert.is(logLines(svc.logs, /neither of a gate call nor of the voice menu/, from).length, 4);
  assert.is(svc.store.all('actors').length, actors, 'no actor created');
});

// ---------------------------------------------------------------------------------------------
// hostile input

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'wait_dtmf[__proto__]', 'toString', 'event[]'];
const HOSTILE_VALUES = [
  '',
  ' ',
  '\u0000',
  'x'.repeat(5000),
  '<script>alert(1)</script>',
  '%',
  '1'.repeat(200),
  '-1',
  'NaN',
  '1e309',
  '\ud800',
  '../../etc/passwd',
  'null',
];
const EVENTS = [
  'NOTIFY_START',
  'NOTIFY_IVR',
  'NOTIFY_END',
  'NOTIFY_OUT_END',
  'NOTIFY_RECORD',
  'NOTIFY_ANSWER',
  'NOTIFY_INTERNAL',
  'NOTIFY_OUT_START',
  'notify_start',
  'SMS',
  '',
  'hasOwnProperty',
  '__proto__',
];

function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

function hostileFields(rand: () => number): Record<string, string> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const f: Record<string, string> = Object.create(null);
  if (rand() < 0.9) f.event = pick(EVENTS);
  const names = [
    'pbx_call_id',
    'caller_id',
    'called_did',
    'call_start',
    'destination',
    'internal',
    'duration',
    'disposition',
    'wait_dtmf[digits]',
    'wait_dtmf[name]',
    'call_id_with_rec',
    ...HOSTILE_KEYS,
  ];
  const n = Math.floor(rand() * 8);
  for (let i = 0; i < n; i++) f[pick(names)] = pick(HOSTILE_VALUES);
  if (rand() < 0.3) f.caller_id = pick([STRANGER, VOROTA, HVIRTKA, '100', 'x']);
  if (rand() < 0.3) f.duration = pick(['-5', '1e9', 'abc', '3.5', '']);
  return f;
}

test('hostile forms never get a 5xx; unsigned/wrongly signed ones change nothing', async () => {
  await settled();
  const before = storeDigest(dataDir);
  const rand = rng(42);
  const statuses = new Map<number, number>();
  for (let i = 0; i < 120; i++) {
    const f = hostileFields(rand);
    const mode = i % 4;
    const r =
      mode === 0
        ? await post(f, { secret: null })
        : mode === 1
          ? await post(f, { signature: 'YTRlNzg0MTNjY2FlY2E1N2ZmNzVmZjRhZjhjZWEwZDhhMmRiYjc4Ng==' })
          : mode === 2
            ? await post(f, { secret: null, json: true })
            : await post(f, { secret: null, raw: `${Object.keys(f).join('&')}&%%%&=&a[b][c]=1` });
    assert.ok(r.status < 500, `#${i} answered ${r.status}: ${r.text}`);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  }
  // JSON with prototype-polluting keys and odd shapes
  for (const raw of [
    '{"__proto__":{"polluted":"yes"},"event":"NOTIFY_START"}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"event":["NOTIFY_START"],"caller_id":{"a":{"b":1}}}',
    '{"event":null,"wait_dtmf":[1,2]}',
    '"just a string"',
    `{"event":"NOTIFY_START","x":"${'z'.repeat(1000)}"}`,
  ]) {
    const r = await post({}, { secret: null, json: true, raw });
    assert.ok(r.status < 500, `${raw.slice(0, 40)} → ${r.status}`);
  }
  assert.is(({} as Json).polluted, undefined, 'Object.prototype untouched');
  assert.is(storeDigest(dataDir), before, 'nothing committed without a valid signature');
  assert.ok((statuses.get(401) ?? 0) > 0);
});

test('hostile but validly signed forms never get a 5xx and open nothing', async () => {
  await settled();
  const cbBefore = z.callbacks().length;
  const rand = rng(7);
  for (let i = 0; i < 120; i++) {
    const f = hostileFields(rand);
    if (
      ![
        'NOTIFY_START',
        'NOTIFY_IVR',
        'NOTIFY_END',
        'NOTIFY_OUT_END',
        'NOTIFY_RECORD',
        'NOTIFY_ANSWER',
        'NOTIFY_INTERNAL',
        'NOTIFY_OUT_START',
      ].includes(f.event ?? '')
    )
      f.event = EVENTS[i % 8] as string;
    const r = await post({ ...f }, { json: i % 3 === 0 });
    assert.ok(r.status < 500, `#${i} ${JSON.stringify(f).slice(0, 200)} → ${r.status}: ${r.text}`);
    assert.ok(r.status === 200, `#${i} ${r.status}: ${r.text}`);
  }
  // a hostile digit string on a real menu call
  const call = incomingCall({ caller_id: ALLOWED });
  await post(call.start());
  for (const digits of ['1'.repeat(5000), '<1>', '\u0000', '١']) {
    const r = await post(call.dtmf(digits, { name: MENU_NAME }));
    assert.is(r.status, 200);
  }
  await sleep(150);
  assert.is(z.callbacks().length, cbBefore, 'no gate opened');
  assert.is(({} as Json).polluted, undefined);
});

// ---------------------------------------------------------------------------------------------
// no secret, sound files

test('without ZADARMA_API_SECRET (dev): unknown events are acknowledged and logged, garbage never 5xx', async () => {
  const dir = tmpDataDir();
  const clients = join(dir, 'clients.csv');
  writeFileSync(clients, '\uFEFFphone,name\r\n"+380 67 555 44 33","Квартира 5, під\'їзд 2"\r\n');
  const s = await startTestService(
    {
      ZADARMA_API_KEY: KEY,
      GATES: 'hvirtka=0637442017,vorota=0930063585',
      ALLOWED_PHONES: '0501112233',
      CLIENTS_FILE: clients,
    },
    { dataDir: dir },
  );
  try {
    const p = zadarmaPoster(s.url, null);
    const from = s.logs.length;
    for (const event of ['SMS', 'NOTIFY_SOMETHING', 'notify_start', '']) {
      const r = await p({ event, pbx_call_id: 'x' });
      assert.is(r.status, 200, event);
      assert.equal(r.json, { status: 'ok' });
    }
    assert.is(logLines(s.logs, /unknown event acknowledged and ignored/, from).length, 4);
    assert.equal((await p(incomingCall({ caller_id: ALLOWED }).start())).json, menuAnswer);
    // a caller from CLIENTS_FILE gets the menu too
    assert.equal((await p(incomingCall({ caller_id: '0675554433' }).start())).json, menuAnswer);
    const rand = rng(99);
    for (let i = 0; i < 100; i++) {
      const f = hostileFields(rand);
      const r = await p(f, { json: i % 2 === 0 });
      assert.ok(r.status < 500, `#${i} ${JSON.stringify(f).slice(0, 200)} → ${r.status}: ${r.text}`);
    }
    assert.is(({} as Json).polluted, undefined);
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IVR_SOUND_<PROMPT> set → that prompt is played (ivr_play) instead of spoken', async () => {
  const sounds = {
    IVR_SOUND_MENU: '43d8a740ec032766',
    IVR_SOUND_INVALID: 'invalid-sound-01',
    IVR_SOUND_GOODBYE: 'goodbye-sound-01',
    IVR_SOUND_OPENING_HVIRTKA: 'hvirtka-sound-01',
    IVR_SOUND_REFUSED: 'refused-sound-01',
  };
  assert.equal(readConfig({ ...sounds, IVR_SOUND_OPENING_VOROTA: 'v' }).gates.ivrSounds, {
    menu: '43d8a740ec032766',
    invalid: 'invalid-sound-01',
    goodbye: 'goodbye-sound-01',
    openingHvirtka: 'hvirtka-sound-01',
    openingVorota: 'v',
    refused: 'refused-sound-01',
  });
  const z2 = await startFakeZadarma({ key: KEY, secret: SECRET });
  const dir = tmpDataDir();
  const s = await startTestService(
    {
      ZADARMA_API_KEY: KEY,
      ZADARMA_API_SECRET: SECRET,
      ZADARMA_BASE_URL: z2.url,
      ZADARMA_CALLER: '0733103110',
      GATES: 'hvirtka=0637442017,vorota=0930063585',
      ALLOWED_PHONES: '0501112233',
      ...sounds,
    },
    { dataDir: dir },
  );
  try {
    const p = zadarmaPoster(s.url, SECRET);
    const wait = menuAnswer.wait_dtmf;
    const call = incomingCall({ caller_id: ALLOWED });
    assert.equal((await p(call.start())).json, { ivr_play: '43d8a740ec032766', wait_dtmf: wait });
    assert.equal((await p(call.dtmf('7', { name: MENU_NAME }))).json, {
      ivr_play: 'invalid-sound-01',
      wait_dtmf: wait,
    });
    assert.equal((await p(call.dtmf('2', { name: MENU_NAME }))).json, {
      ivr_play: 'hvirtka-sound-01',
      hangup: 1,
    });
    const other = incomingCall({ caller_id: ALLOWED });
    await p(other.start());
    // vorota has no sound here: spoken
    assert.equal((await p(other.dtmf('1', { name: MENU_NAME }))).json, {
      ivr_say: { text: uk.ivr.openingVorota, language: 'ua' },
      hangup: 1,
    });
    assert.equal((await p(incomingCall({ caller_id: STRANGER }).start())).json, {
      ivr_play: 'refused-sound-01',
      hangup: 1,
    });
    const third = incomingCall({ caller_id: ALLOWED });
    await p(third.start());
    await p(third.dtmf('', { name: MENU_NAME }));
    await p(third.dtmf('', { name: MENU_NAME }));
    assert.equal((await p(third.dtmf('', { name: MENU_NAME }))).json, {
      ivr_play: 'goodbye-sound-01',
      hangup: 1,
    });
    await z2.waitFor((c) => c.length === 2);
  } finally {
    await s.stop();
    await z2.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
