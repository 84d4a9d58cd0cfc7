/**
 * Gate calls end to end: an authorised Telegram user (long polling against the fake Bot API) opens a
 * gate, the REAL service asks the fake Zadarma for a signed callback, and signed Zadarma webhooks
 * decide what the user is told (machines/gate-outcome.ts). Timeouts move the test clock; restarts
 * run the service as a child process on the same DATA_DIR.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandUpdate } from '../fixtures/telegram';
import { incomingCall, outgoingCall } from '../fixtures/zadarma';
import { signRequest } from '../server/channels/zadarma/sign';
import type { CallDoc } from '../storage/calls';
import {
  CALLBACK_PATH,
  INITIATED,
  killHard,
  openGate,
  RELAY,
  type Rig,
  SUPPORT,
  spawnGate,
  startFakes,
  startRig,
  TgUser,
  ZD_CALLER,
  ZD_KEY,
  ZD_SECRET,
  zadarmaOk,
  zadarmaWebhook,
} from './helpers/gate-harness';
import { eventually, type ServiceProcess, sleep, tmpDataDir } from './helpers/service';

const USER_A = 5001;
const USER_B = 5002;
const USER_C = 5003;
const ADMIN_1 = 9001;
const ADMIN_2 = 9002;
const MEMBERS = `${USER_A},${USER_B},${USER_C}`;
/** Long enough for a stray message or request to show up (the outbox retries every 30 ms). */
const SETTLE_MS = 400;

type Gate = 'hvirtka' | 'vorota';

/** Where the relay's number appears in Zadarma's notifications of the callback's leg. */
type Field = 'caller_id' | 'called_did' | 'destination' | 'internal';

/**
 * One callback leg as Zadarma reports it: NOTIFY_START/END (`in`, relay as caller_id, or called_did)
 * or NOTIFY_OUT_START/OUT_END (`out`, relay as destination, or internal).
 */
function legOf(gate: Gate, kind: 'in' | 'out', spelling?: string, field?: Field) {
  const relay = spelling ?? RELAY[gate];
  const f = field ?? (kind === 'in' ? 'caller_id' : 'destination');
  if (kind === 'in') return incomingCall(f === 'called_did' ? { called_did: relay } : { caller_id: relay });
  return outgoingCall(f === 'internal' ? { internal: relay } : { destination: relay });
}

/** Admins get alerts: make their chats known to the fake (they may never have written to the bot). */
function knowAdmins(rig: Rig): void {
  rig.tg.addChat(ADMIN_1);
  rig.tg.addChat(ADMIN_2);
}

const adminTexts = (rig: Rig, id: number) =>
  rig.tg
    .sent()
    .filter((s) => s.chat_id === id)
    .map((s) => String(s.text));

test('/hvirtka: keys, a signed callback from ZADARMA_CALLER to the relay, then "ініційовано" as a new message', async () => {
  const rig = await startRig({ TELEGRAM_ALLOWED_USERS: MEMBERS });
  try {
    const a = rig.user(USER_A);
    const { keys, initiated } = await openGate(a, rig.zd, 'hvirtka');
    assert.is(keys.text, '🔑 Підбираємо ключі…');
    assert.is(keys.method, 'sendMessage');
    const cbs = rig.zd.callbacks();
    assert.is(cbs.length, 1);
    assert.is(cbs[0]?.from, ZD_CALLER);
    assert.is(cbs[0]?.to, RELAY.hvirtka);
    assert.is(cbs[0]?.params.format, 'json');
    // The fake accepted it, so the signature was right; check the header is the documented one too.
    const req = rig.zd.requests.find((r) => r.path === CALLBACK_PATH);
    const expected = signRequest(CALLBACK_PATH, { from: ZD_CALLER, to: RELAY.hvirtka }, ZD_KEY, ZD_SECRET);
    assert.is(req?.method, 'GET');
    assert.is(req?.headers.authorization, expected.authorization);
    assert.is(req?.query, expected.query);

    assert.is(initiated.method, 'sendMessage', 'a new message, not an edit');
    assert.match(String(initiated.text), /^Відкриття хвіртки ініційовано\.\.\. 📢/);
    assert.ok(initiated.message_id !== keys.message_id);
    assert.equal(a.texts().slice(0, 2), [keys.text, initiated.text], 'keys first, then initiated');
    assert.is(rig.tg.calls('editMessageText').length, 0);

    const rec = rig.calls();
    assert.is(rec.length, 1);
    assert.is(rec[0]?.status, 'pending');
    assert.is(rig.pendingOf('hvirtka'), `call:${rec[0]?.id}`);
    assert.is(rig.pendingOf('vorota'), null);
  } finally {
    await rig.stop();
  }
});

test('inline button "vorota": answerCallbackQuery, 🚪 keys, callback to the vorota relay, "воріт ініційовано"', async () => {
  const rig = await startRig({ TELEGRAM_ALLOWED_USERS: MEMBERS });
  try {
    const a = rig.user(USER_A);
    const before = rig.tg.calls('answerCallbackQuery').length;
    const { keys, initiated } = await openGate(a, rig.zd, 'vorota', 'button');
    assert.is(keys.text, '🚪 Підбираємо ключі…');
    const answered = rig.tg.calls('answerCallbackQuery');
    assert.is(answered.length, before + 1, 'the tap is acknowledged once');
    assert.type(answered.at(-1)?.params.callback_query_id, 'string');
    const cbs = rig.zd.callbacks();
    assert.is(cbs.length, 1);
    assert.is(cbs[0]?.from, ZD_CALLER);
    assert.is(cbs[0]?.to, RELAY.vorota);
    assert.match(String(initiated.text), /^Відкриття воріт ініційовано\.\.\. 🌆/);
    assert.is(initiated.method, 'sendMessage');
  } finally {
    await rig.stop();
  }
});

interface Row {
  gate: Gate;
  kind: 'in' | 'out';
  spelling?: string;
  field?: Field;
  disposition: string;
  duration: number;
  status: string;
  text: string | RegExp;
  alert?: boolean;
}

const ROWS: Row[] = [
  {
    gate: 'hvirtka',
    kind: 'in',
    spelling: '+380637442017',
    disposition: 'cancel',
    duration: 3,
    status: 'opened',
    text: '✅ Хвіртка відчинено!',
  },
  {
    gate: 'vorota',
    kind: 'out',
    disposition: 'cancel',
    duration: 2,
    status: 'opened',
    text: '✅ Ворота відчинено!',
  },
  {
    gate: 'vorota',
    kind: 'in',
    spelling: '0930063585',
    disposition: 'Cancel',
    duration: 1,
    status: 'opened',
    text: '✅ Ворота відчинено!',
  },
  {
    gate: 'hvirtka',
    kind: 'in',
    field: 'called_did',
    spelling: '+38 063 744 20 17',
    disposition: 'cancel',
    duration: 5,
    status: 'opened',
    text: '✅ Хвіртка відчинено!',
  },
  {
    gate: 'vorota',
    kind: 'out',
    field: 'internal',
    disposition: 'cancel',
    duration: 2,
    status: 'opened',
    text: '✅ Ворота відчинено!',
  },
  {
    gate: 'hvirtka',
    kind: 'in',
    disposition: 'busy',
    duration: 0,
    status: 'busy',
    text: '❌ Номер зайнятий. Спробуйте ще раз.',
  },
  {
    gate: 'vorota',
    kind: 'out',
    disposition: 'busy',
    duration: 4,
    status: 'busy',
    text: '❌ Номер зайнятий. Спробуйте ще раз.',
  },
  {
    gate: 'hvirtka',
    kind: 'in',
    disposition: 'cancel',
    duration: 0,
    status: 'noAnswer',
    text: '❌ Номер не відповідає.',
  },
  {
    gate: 'hvirtka',
    kind: 'out',
    disposition: 'no answer',
    duration: 0,
    status: 'noAnswer',
    text: '❌ Номер не відповідає.',
  },
  {
    gate: 'hvirtka',
    kind: 'in',
    disposition: 'answered',
    duration: 12,
    status: 'misconfigured',
    text: /^⚠️ Дзвінок для відкриття хвіртки було прийнято, а не скинуто[\s\S]*Зверніться до підтримки[\s\S]*\+380 44 111 22 33/,
    alert: true,
  },
  {
    gate: 'hvirtka',
    kind: 'in',
    disposition: 'failed',
    duration: 0,
    status: 'failed',
    text: '❌ Не вдалося відкрити. Статус: failed',
  },
  {
    gate: 'vorota',
    kind: 'out',
    disposition: 'no money',
    duration: 0,
    status: 'failed',
    text: '❌ Не вдалося відкрити. Статус: no money',
  },
];

test('the outcome table, row by row, through signed START + END webhooks; results are new messages; calls are recorded', async () => {
  const rig = await startRig({
    TELEGRAM_ALLOWED_USERS: MEMBERS,
    TELEGRAM_ADMIN_IDS: `${ADMIN_1},${ADMIN_2}`,
    SUPPORT_PHONE: SUPPORT,
    GATE_COOLDOWN_S: '0',
  });
  try {
    knowAdmins(rig);
    const a = rig.user(USER_A);
    for (const row of ROWS) {
      const what = `${row.gate} ${row.kind} ${row.field ?? ''} ${row.disposition}/${row.duration}`;
      await openGate(a, rig.zd, row.gate);
      const leg = legOf(row.gate, row.kind, row.spelling, row.field);
      await zadarmaOk(rig.url, leg.start());
      const pending = rig.calls().at(-1) as CallDoc;
      assert.is(pending.status, 'pending', what);
      assert.is(pending.pbxCallId, leg.pbx_call_id, `${what}: pbx_call_id learnt from the START event`);

      const before = a.messages().length;
      const adminsBefore = [adminTexts(rig, ADMIN_1).length, adminTexts(rig, ADMIN_2).length];
      await zadarmaOk(
        rig.url,
        leg.end({ disposition: row.disposition, duration: row.duration, pbx_call_id: leg.pbx_call_id }),
      );
      await rig.tg.waitFor((s) => s.filter((m) => m.chat_id === USER_A).length > before);
      if (row.alert) {
        await rig.tg.waitFor(
          (s) =>
            s.filter((m) => m.chat_id === ADMIN_1).length > (adminsBefore[0] ?? 0) &&
            s.filter((m) => m.chat_id === ADMIN_2).length > (adminsBefore[1] ?? 0),
        );
      }
      await sleep(50);
      const result = a.messages()[before];
      assert.is(result?.method, 'sendMessage', `${what}: a new message`);
      if (typeof row.text === 'string') assert.is(result?.text, row.text, what);
      else assert.match(String(result?.text), row.text, what);
      assert.is(a.messages().length, before + 1, `${what}: exactly one result message`);

      for (const [i, admin] of [ADMIN_1, ADMIN_2].entries()) {
        const texts = adminTexts(rig, admin);
        if (row.alert) {
          assert.is(texts.length, (adminsBefore[i] ?? 0) + 1, `${what}: one alert to admin ${admin}`);
          assert.match(String(texts.at(-1)), /^🚨 ПРОБЛЕМА: дзвінок на хвіртки \(380637442017\)/);
        } else assert.is(texts.length, adminsBefore[i], `${what}: no alert to admin ${admin}`);
      }

      const rec = rig.calls().at(-1) as CallDoc;
      assert.is(rec.id, pending.id, what);
      assert.is(rec.gate, row.gate, what);
      assert.is(rec.relay, RELAY[row.gate], what);
      assert.is(rec.source, 'telegram', what);
      assert.is(rec.userId, USER_A, what);
      assert.is(rec.chatId, USER_A, what);
      assert.is(rec.pbxCallId, leg.pbx_call_id, what);
      assert.is(rec.status, row.status, what);
      assert.is(rec.disposition, row.disposition, what);
      assert.is(rec.duration, row.duration, what);
      assert.type(rec.requestedAt, 'number');
      assert.ok(typeof rec.endedAt === 'number' && rec.endedAt >= rec.requestedAt, `${what}: endedAt`);
      assert.ok(rec.updatedAt >= (rec.endedAt ?? 0), `${what}: updatedAt`);
      assert.is(rig.pendingOf(row.gate), null, `${what}: the gate is free again`);
    }
    assert.is(rig.zd.callbacks().length, ROWS.length, 'one callback per opening');
    assert.is(rig.calls().length, ROWS.length);
    assert.is(rig.tg.calls('editMessageText').length, 0, 'results are never edits');
  } finally {
    await rig.stop();
  }
});

test('a duplicate webhook gives one result; a wrong or missing Signature is 401 and changes nothing', async () => {
  const rig = await startRig({ TELEGRAM_ALLOWED_USERS: MEMBERS, GATE_COOLDOWN_S: '0' });
  try {
    const a = rig.user(USER_A);
    await openGate(a, rig.zd, 'hvirtka');
    const leg = legOf('hvirtka', 'in');
    await zadarmaOk(rig.url, leg.start());
    const end = leg.end({ disposition: 'cancel', duration: 3 });
    const before = a.messages().length;

    // Forged / unsigned notifications first: refused, the call stays pending.
    const wrong = await zadarmaWebhook(rig.url, end, { signature: 'bm90LXRoZS1zaWduYXR1cmU=' });
    assert.is(wrong.status, 401);
    const missing = await zadarmaWebhook(rig.url, end, { signature: null });
    assert.is(missing.status, 401);
    const otherSecret = await zadarmaWebhook(rig.url, end, { secret: 'another-secret-0000' });
    assert.is(otherSecret.status, 401);
    await sleep(SETTLE_MS);
    assert.is(a.messages().length, before, 'no result from a refused webhook');
    const rec = rig.calls().at(-1) as CallDoc;
    assert.is(rec.status, 'pending');
    assert.is(rec.disposition, null);
    assert.ok(rig.pendingOf('hvirtka') !== null, 'the gate still waits for its call');
    assert.is(rig.svc.store.get('dedupe', `zd:NOTIFY_END:${leg.pbx_call_id}`), undefined);

    // The genuine one, delivered twice (and a third time concurrently with a fourth).
    await zadarmaOk(rig.url, end);
    await zadarmaOk(rig.url, end);
    await Promise.all([zadarmaOk(rig.url, end), zadarmaOk(rig.url, end)]);
    await a.waitText(/^✅ Хвіртка відчинено!$/, before);
    await sleep(SETTLE_MS);
    assert.is(a.messages().length, before + 1, 'exactly one result message');
    assert.is(a.count(/відчинено/), 1);
    assert.is((rig.calls().at(-1) as CallDoc).status, 'opened');
    // Remembered on (event, pbx_call_id) for later redeliveries.
    assert.ok(rig.svc.store.get('dedupe', `zd:NOTIFY_END:${leg.pbx_call_id}`), 'the END is remembered');
  } finally {
    await rig.stop();
  }
});

test('a second user while a call is pending: "already opening", no second callback (also when both arrive together)', async () => {
  const rig = await startRig({ TELEGRAM_ALLOWED_USERS: MEMBERS, GATE_COOLDOWN_S: '0' });
  try {
    const a = rig.user(USER_A);
    const b = rig.user(USER_B);
    const c = rig.user(USER_C);
    await openGate(a, rig.zd, 'hvirtka');
    const reply = await b.command('/hvirtka');
    assert.is(reply.text, '⏳ Відкриття хвіртки вже триває. Зачекайте на результат, будь ласка.');
    await sleep(SETTLE_MS);
    assert.is(rig.callbackRequests(), 1, 'no second callback request');
    assert.is(b.messages().length, 1, 'no keys, no "initiated" for the second user');
    // The other gate is not blocked by this one.
    await openGate(b, rig.zd, 'vorota');
    assert.is(rig.zd.callbacks().length, 2);

    // Both requests in flight at once (the second may pass the chat's check before the first claims
    // the gate): still exactly one callback, and one of them is told to wait.
    const legA = legOf('hvirtka', 'in');
    await zadarmaOk(rig.url, legA.start());
    await zadarmaOk(rig.url, legA.end({ disposition: 'cancel', duration: 2 }));
    await a.waitText(/^✅ Хвіртка відчинено!$/);
    const legB = legOf('vorota', 'out');
    await zadarmaOk(rig.url, legB.start());
    await zadarmaOk(rig.url, legB.end({ disposition: 'cancel', duration: 2 }));
    await b.waitText(/^✅ Ворота відчинено!$/);

    const callbacks = rig.zd.callbacks().length;
    const fromB = b.messages().length;
    const fromC = c.messages().length;
    rig.tg.pushUpdate(commandUpdate({ userId: USER_B, text: '/hvirtka' }));
    rig.tg.pushUpdate(commandUpdate({ userId: USER_C, text: '/hvirtka' }));
    const decided = /ініційовано|вже триває/;
    await eventually(
      () =>
        b
          .texts()
          .slice(fromB)
          .some((t) => decided.test(t)) &&
        c
          .texts()
          .slice(fromC)
          .some((t) => decided.test(t)),
      5000,
      'both users told something final',
    );
    await sleep(SETTLE_MS);
    assert.is(rig.zd.callbacks().length, callbacks + 1, 'exactly one callback for the two requests');
    assert.is(rig.callbackRequests(), callbacks + 1);
    const initiated = [b, c].filter((u) =>
      u.texts().some((t, i) => i >= (u === b ? fromB : fromC) && INITIATED.hvirtka.test(t)),
    );
    const waiting = [b, c].filter((u) =>
      u.texts().some((t, i) => i >= (u === b ? fromB : fromC) && /вже триває/.test(t)),
    );
    assert.is(initiated.length, 1, 'one of them opens');
    assert.is(waiting.length, 1, 'the other is told to wait');
    assert.ok(initiated[0] !== waiting[0]);
  } finally {
    await rig.stop();
  }
});

test('cooldown per user: "⏳ Зачекайте N секунд…" with the seconds left; other users are not held back', async () => {
  const rig = await startRig({ TELEGRAM_ALLOWED_USERS: MEMBERS, GATE_COOLDOWN_S: '30' });
  try {
    rig.clock.freeze(); // the seconds left are exact; nothing in this test is retried
    const a = rig.user(USER_A);
    const b = rig.user(USER_B);
    await openGate(a, rig.zd, 'hvirtka');
    const leg = legOf('hvirtka', 'in');
    await zadarmaOk(rig.url, leg.start());
    await zadarmaOk(rig.url, leg.end({ disposition: 'cancel', duration: 2 }));
    await a.waitText(/відчинено/);

    rig.clock.advance(12_000);
    const wait1 = await a.command('/hvirtka');
    assert.is(wait1.text, '⏳ Зачекайте 18 секунд перед наступним дзвінком');
    const wait2 = await a.command('/vorota');
    assert.is(wait2.text, '⏳ Зачекайте 18 секунд перед наступним дзвінком', 'the cooldown is per user');
    rig.clock.advance(10_000);
    const wait3 = await a.command('/vorota');
    assert.is(wait3.text, '⏳ Зачекайте 8 секунд перед наступним дзвінком');
    await sleep(SETTLE_MS);
    assert.is(rig.callbackRequests(), 1, 'no callback while cooling down');

    await openGate(b, rig.zd, 'vorota');
    assert.is(rig.zd.callbacks().length, 2, 'another user is not held back');

    rig.clock.advance(6_000);
    assert.is((await a.command('/hvirtka')).text, '⏳ Зачекайте 2 секунди перед наступним дзвінком');
    rig.clock.advance(1_000);
    assert.is((await a.command('/hvirtka')).text, '⏳ Зачекайте 1 секунду перед наступним дзвінком');
    rig.clock.advance(2_000);
    await openGate(a, rig.zd, 'hvirtka');
    assert.is(rig.zd.callbacks().length, 3, 'after the cooldown the user opens again');
  } finally {
    await rig.stop();
  }
});

test('Zadarma refuses (status:error, HTTP 500, network reset): the user is told with the support phone, admins alerted once an hour, never retried, gate free', async () => {
  const rig = await startRig({
    TELEGRAM_ALLOWED_USERS: MEMBERS,
    TELEGRAM_ADMIN_IDS: `${ADMIN_1},${ADMIN_2}`,
    SUPPORT_PHONE: SUPPORT,
    GATE_COOLDOWN_S: '0',
  });
  try {
    knowAdmins(rig);
    const a = rig.user(USER_A);
    const failures = [
      {
        answer: { status: 200, body: { status: 'error', message: 'Not enough money on the balance' } },
        detail: 'Not enough money on the balance',
      },
      { answer: { status: 500 }, detail: 'Internal server error' },
      { answer: { status: 0, reset: true }, detail: /^сервіс дзвінків недоступний \(.+\)$/ },
    ];
    let requests = 0;
    for (const [i, f] of failures.entries()) {
      rig.zd.failNext({ ...f.answer, path: CALLBACK_PATH });
      const from = a.messages().length;
      const admin1 = adminTexts(rig, ADMIN_1).length;
      const keys = await a.command('/hvirtka');
      assert.is(keys.text, '🔑 Підбираємо ключі…');
      const msg = await a.waitText(/^❌ Не вдалося ініціювати дзвінок/, from);
      const m =
        /^❌ Не вдалося ініціювати дзвінок\.\n\nПомилка: (.+)\n\nСпробуйте ще раз або зателефонуйте нам: (.+)$/.exec(
          String(msg.text),
        );
      assert.ok(m, `failure ${i}: ${msg.text}`);
      if (typeof f.detail === 'string') assert.is(m?.[1], f.detail);
      else assert.match(String(m?.[1]), f.detail);
      assert.is(m?.[2], SUPPORT);
      if (i === 0) {
        await rig.tg.waitFor((s) => s.filter((x) => x.chat_id === ADMIN_2).length >= 1);
        await eventually(() => adminTexts(rig, ADMIN_1).length > admin1, 5000, 'admin alert');
        assert.match(String(adminTexts(rig, ADMIN_1).at(-1)), /^🔧 ADMIN: помилка дзвінка на хвіртки: .+/);
        assert.ok(String(adminTexts(rig, ADMIN_2).at(-1)).includes(String(m?.[1])));
      } else {
        // The same cause within the hour: held back for the summary (test/admin-alerts.test.ts).
        await sleep(SETTLE_MS);
        assert.is(adminTexts(rig, ADMIN_1).length, admin1, `failure ${i}: no second alert within the hour`);
      }
      requests++;
      assert.is(rig.callbackRequests(), requests, `failure ${i}: one request, no retry`);
      const rec = rig.calls().at(-1) as CallDoc;
      assert.is(rec.status, 'failed');
      assert.is(rec.reason, 'api');
      assert.is(rec.error, m?.[1]);
      assert.is(rig.pendingOf('hvirtka'), null, `failure ${i}: the gate is free again`);
      assert.is(a.count(INITIATED.hvirtka), 0, 'never "initiated"');
    }

    // Minutes later: nothing is retried behind the user's back.
    const sent = rig.tg.sent().length;
    rig.clock.advance(10 * 60_000);
    await sleep(SETTLE_MS * 2);
    assert.is(rig.callbackRequests(), requests, 'no retry minutes later');
    assert.is(rig.tg.sent().length, sent, 'no message minutes later');
    assert.is(rig.zd.callbacks().length, 0);

    // The gate is free: the next request calls, and admins hear that the API works again.
    await openGate(a, rig.zd, 'hvirtka');
    assert.is(rig.zd.callbacks().length, 1);
    assert.is(rig.callbackRequests(), requests + 1);
    await eventually(() => adminTexts(rig, ADMIN_1).length === 2, 5000, 'the recovery');
    assert.match(String(adminTexts(rig, ADMIN_1).at(-1)), /^✅ Zadarma API працює знову.*\n\n… і ще 2 з/s);
  } finally {
    await rig.stop();
  }
});

test('no final webhook within GATE_CALL_TIMEOUT_S: "⏰ … не визначено", gate free, late webhooks say nothing more', async () => {
  const rig = await startRig({ TELEGRAM_ALLOWED_USERS: MEMBERS, SUPPORT_PHONE: SUPPORT });
  try {
    const a = rig.user(USER_A);
    await openGate(a, rig.zd, 'hvirtka');
    const leg1 = legOf('hvirtka', 'in');
    await zadarmaOk(rig.url, leg1.start());

    rig.clock.advance(30_000);
    await sleep(SETTLE_MS);
    assert.is(a.count(/^⏰/), 0, 'not before the deadline');
    assert.ok(rig.pendingOf('hvirtka') !== null);

    rig.clock.advance(31_000);
    const msg = await a.waitText(/^⏰/);
    assert.is(
      msg.text,
      `⏰ Статус відкриття хвіртки не визначено. Спробуйте ще раз або перевірте фізично.\n\n📞 Підтримка: ${SUPPORT}`,
    );
    assert.is(msg.method, 'sendMessage');
    assert.is(rig.pendingOf('hvirtka'), null, 'the gate is free again');
    const rec1 = rig.calls().at(-1) as CallDoc;
    assert.is(rec1.status, 'failed');
    assert.is(rec1.reason, 'timeout');

    // The late END of that call, with the gate free: nothing.
    const count = a.messages().length;
    await zadarmaOk(rig.url, leg1.end({ disposition: 'cancel', duration: 3 }));
    await sleep(SETTLE_MS);
    assert.is(a.messages().length, count, 'a late webhook produces no second message');
    assert.is((rig.calls().at(-1) as CallDoc).status, 'failed');

    // A new call; a late notification of the first one (its pbx_call_id) does not decide it.
    await openGate(a, rig.zd, 'hvirtka');
    const count2 = a.messages().length;
    const late = outgoingCall({ destination: RELAY.hvirtka, pbx_call_id: leg1.pbx_call_id });
    await zadarmaOk(rig.url, late.end({ disposition: 'cancel', duration: 3 }));
    await sleep(SETTLE_MS);
    assert.is(a.messages().length, count2, 'the first call cannot decide the second');
    assert.is((rig.calls().at(-1) as CallDoc).status, 'pending');
    const leg2 = legOf('hvirtka', 'in');
    await zadarmaOk(rig.url, leg2.start());
    await zadarmaOk(rig.url, leg2.end({ disposition: 'cancel', duration: 2 }));
    await a.waitText(/^✅ Хвіртка відчинено!$/, count2);
    assert.is(a.count(/^⏰/), 1, 'one timeout message in all');
    assert.is(rig.zd.callbacks().length, 2);
  } finally {
    await rig.stop();
  }
});

test("a final webhook that overtakes Zadarma's answer still decides the call, once", async () => {
  const rig = await startRig({ TELEGRAM_ALLOWED_USERS: MEMBERS });
  try {
    const a = rig.user(USER_A);
    // Zadarma places the call but its HTTP answer is slow (here: never comes before the webhooks).
    rig.zd.failNext({ status: 200, hang: true, path: CALLBACK_PATH });
    await a.command('/hvirtka');
    await eventually(() => rig.callbackRequests() === 1, 5000, 'the callback request');
    const rec = await eventually(() => rig.calls().at(-1), 5000, 'the call record');
    assert.is(rec.status, 'initiated');
    const leg = legOf('hvirtka', 'in');
    await zadarmaOk(rig.url, leg.start());
    await zadarmaOk(rig.url, leg.end({ disposition: 'cancel', duration: 2 }));
    assert.is(rig.pendingOf('hvirtka'), null, 'decided by the webhook');
    assert.is((rig.calls().at(-1) as CallDoc).status, 'opened');
    // The call's messages go out in order, after the API's answer; a late answer (here a failure:
    // the connection drops) changes nothing.
    await rig.zd.close();
    await a.waitText(/^✅ Хвіртка відчинено!$/);
    await sleep(SETTLE_MS);
    assert.equal(a.texts(), ['🔑 Підбираємо ключі…', '✅ Хвіртка відчинено!']);
    assert.is((rig.calls().at(-1) as CallDoc).status, 'opened');
  } finally {
    await rig.stop();
  }
});

test('a request held up minutes behind a failing Telegram reply does not open the gate late', async () => {
  const rig = await startRig({ TELEGRAM_ALLOWED_USERS: MEMBERS, SUPPORT_PHONE: SUPPORT });
  try {
    const a = rig.user(USER_A);
    // Telegram refuses the "keys" reply a few times; the gate request waits behind it (same chat).
    rig.tg.failNext(
      { method: 'sendMessage', status: 502 },
      { method: 'sendMessage', status: 502 },
      { method: 'sendMessage', status: 502 },
    );
    rig.tg.pushUpdate(commandUpdate({ userId: USER_A, text: '/hvirtka' }));
    await eventually(
      () => rig.tg.requests.some((r) => r.method === 'sendMessage' && r.response === 502),
      5000,
      'the first refused reply',
    );
    rig.clock.advance(5 * 60_000); // Telegram stayed down for minutes
    const failed = await a.waitText(/^❌ Не вдалося ініціювати дзвінок/);
    assert.is(a.texts()[0], '🔑 Підбираємо ключі…', 'the reply itself is not lost');
    assert.match(String(failed.text), /Помилка: запит застарів/);
    await sleep(SETTLE_MS);
    assert.is(rig.callbackRequests(), 0, 'no callback minutes after the request');
    assert.is(rig.pendingOf('hvirtka'), null);
    assert.is(a.count(INITIATED.hvirtka), 0);
    // A fresh request works.
    await openGate(a, rig.zd, 'hvirtka');
    assert.is(rig.zd.callbacks().length, 1);
  } finally {
    await rig.stop();
  }
});

/** Every child this file starts; killed at the end of its test whatever happened. */
const children = new Set<ServiceProcess>();
async function cleanup(): Promise<void> {
  for (const p of children) await killHard(p);
  children.clear();
}
async function terminate(p: ServiceProcess): Promise<number | null> {
  p.proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), 8000);
  });
  const code = await Promise.race([p.exited, late]).finally(() => clearTimeout(timer));
  if (code === 'late') throw new Error(`no exit after SIGTERM:\n${p.output()}`);
  return code;
}

test('timeout across a restart: the stored deadline fires in the next process', async () => {
  const f = await startFakes();
  const dataDir = tmpDataDir();
  const env = { TELEGRAM_ALLOWED_USERS: MEMBERS, GATE_CALL_TIMEOUT_S: '5', GATE_COOLDOWN_S: '0' };
  try {
    const first = await spawnGate(f, dataDir, env);
    children.add(first);
    const a = new TgUser(f.tg, async (u) => void f.tg.pushUpdate(u), USER_A);
    await openGate(a, f.zd, 'hvirtka');
    const openedAt = Date.now();
    assert.is(await terminate(first), 0, `SIGTERM exit code; output:\n${first.output()}`);
    assert.is(a.count(/^⏰/), 0, 'not before the deadline');

    await sleep(Math.max(0, openedAt + 5_500 - Date.now()));
    const restartAt = Date.now();
    const second = await spawnGate(f, dataDir, env);
    children.add(second);
    const msg = await a.waitText(/^⏰/, 0, 8000);
    assert.is(msg.text, '⏰ Статус відкриття хвіртки не визначено. Спробуйте ще раз або перевірте фізично.');
    const at = f.tg.calls('sendMessage').find((c) => /^⏰/.test(String(c.params.text)))?.at ?? 0;
    assert.ok(at >= restartAt, 'sent by the restarted process');
    await sleep(SETTLE_MS);
    assert.is(a.count(/^⏰/), 1, 'once');
    assert.is(f.zd.callbacks().length, 1, 'the callback was not repeated');

    // The gate is free in the new process.
    await openGate(a, f.zd, 'hvirtka');
    assert.is(f.zd.callbacks().length, 2);
    assert.is(await terminate(second), 0);
  } finally {
    await cleanup();
    await f.close();
  }
});

test('SIGKILL between "ініційовано" and the webhook: after the restart the END still reaches the user; one callback in all', async () => {
  const f = await startFakes();
  const dataDir = tmpDataDir();
  const env = { TELEGRAM_ALLOWED_USERS: MEMBERS };
  try {
    const first = await spawnGate(f, dataDir, env);
    children.add(first);
    const a = new TgUser(f.tg, async (u) => void f.tg.pushUpdate(u), USER_A);
    await a.command('/hvirtka');
    await a.waitText(INITIATED.hvirtka);
    first.proc.kill('SIGKILL');
    assert.is(await first.exited, null, 'killed, not exited');

    const second = await spawnGate(f, dataDir, env);
    children.add(second);
    const leg = legOf('hvirtka', 'out');
    await zadarmaOk(second.url, leg.start());
    const from = a.messages().length;
    await zadarmaOk(second.url, leg.end({ disposition: 'cancel', duration: 4 }));
    const result = await a.waitText(/^✅ Хвіртка відчинено!$/, from, 8000);
    assert.is(result.method, 'sendMessage');
    await sleep(SETTLE_MS);
    assert.is(f.zd.callbacks().length, 1, 'exactly one callback was requested');
    assert.is(f.zd.requests.filter((r) => r.path === CALLBACK_PATH).length, 1);
    assert.is(a.count(/відчинено/), 1);
    assert.is(await terminate(second), 0);
  } finally {
    await cleanup();
    await f.close();
  }
});

test('SIGKILL during the callback request itself: never requested twice; the user hears the status is unknown', async () => {
  const f = await startFakes();
  const dataDir = tmpDataDir();
  const env = { TELEGRAM_ALLOWED_USERS: MEMBERS };
  try {
    const first = await spawnGate(f, dataDir, env);
    children.add(first);
    f.zd.failNext({ status: 200, hang: true });
    const a = new TgUser(f.tg, async (u) => void f.tg.pushUpdate(u), USER_A);
    await a.command('/hvirtka');
    await eventually(() => f.zd.requests.some((r) => r.path === CALLBACK_PATH), 8000, 'the callback request');
    first.proc.kill('SIGKILL');
    assert.is(await first.exited, null, 'killed, not exited');

    const from = a.messages().length;
    const second = await spawnGate(f, dataDir, env);
    children.add(second);
    const told = await a.waitText(/^❌ Не вдалося ініціювати дзвінок/, from, 8000);
    assert.match(String(told.text), 'невідомо, чи пішов дзвінок');
    await sleep(SETTLE_MS);
    assert.is(
      f.zd.requests.filter((r) => r.path === CALLBACK_PATH).length,
      1,
      'the request was not repeated',
    );
    assert.is(await terminate(second), 0);
  } finally {
    await cleanup();
    await f.close();
  }
});

test('two gates at once: each result reaches its own user', async () => {
  const rig = await startRig({ TELEGRAM_ALLOWED_USERS: MEMBERS });
  try {
    const a = rig.user(USER_A);
    const b = rig.user(USER_B);
    await openGate(a, rig.zd, 'hvirtka');
    await openGate(b, rig.zd, 'vorota');
    assert.equal(
      rig.zd
        .callbacks()
        .map((c) => c.to)
        .sort(),
      [RELAY.hvirtka, RELAY.vorota].sort(),
    );
    // GATE_COOLDOWN_S is not set: 10 s by default.
    const cool = await a.command('/vorota');
    assert.match(String(cool.text), /^⏳ Зачекайте (10|9|8) секунд перед наступним дзвінком$/);
    const legA = legOf('hvirtka', 'in');
    const legB = legOf('vorota', 'out');
    await zadarmaOk(rig.url, legA.start());
    await zadarmaOk(rig.url, legB.start());
    const fromA = a.messages().length;
    const fromB = b.messages().length;
    // The vorota call ends first.
    await zadarmaOk(rig.url, legB.end({ disposition: 'busy', duration: 0 }));
    await zadarmaOk(rig.url, legA.end({ disposition: 'cancel', duration: 3 }));
    await a.waitText(/^✅ Хвіртка відчинено!$/, fromA);
    await b.waitText(/^❌ Номер зайнятий\. Спробуйте ще раз\.$/, fromB);
    await sleep(SETTLE_MS);
    assert.equal(a.texts().slice(fromA), ['✅ Хвіртка відчинено!']);
    assert.equal(b.texts().slice(fromB), ['❌ Номер зайнятий. Спробуйте ще раз.']);
    const byGate = Object.fromEntries(rig.calls().map((c) => [c.gate, c]));
    assert.is(byGate.hvirtka?.userId, USER_A);
    assert.is(byGate.hvirtka?.status, 'opened');
    assert.is(byGate.hvirtka?.pbxCallId, legA.pbx_call_id);
    assert.is(byGate.vorota?.userId, USER_B);
    assert.is(byGate.vorota?.status, 'busy');
    assert.is(byGate.vorota?.pbxCallId, legB.pbx_call_id);
  } finally {
    await rig.stop();
  }
});

test.run();
