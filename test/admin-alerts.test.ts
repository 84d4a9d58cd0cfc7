/**
 * Admin alerts end to end: the REAL service with the fake Telegram, Zadarma and 360dialog and a movable
 * clock. Each cause alerts the admins once; a second occurrence within the hour is held back and
 * summarised an hour after the alert; a recovery is announced once; the limits survive a restart.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nextMessageId, textMessage } from '../fixtures/whatsapp';
import { incomingCall } from '../fixtures/zadarma';
import { ADMIN_ALERTS_KEY } from '../machines/admin-alerts';
import type { ActorRecord } from '../server/engine/types';
import { startFakeD360 } from './fakes/d360';
import type { SentItem } from './fakes/telegram';
import {
  CALLBACK_PATH,
  type Fakes,
  gateEnv,
  RELAY,
  type Rig,
  runCall,
  startFakes,
  startRig,
  TestClock,
  TgUser,
  ZD_KEY,
  ZD_SECRET,
  zadarmaWebhook,
} from './helpers/gate-harness';
import { eventually, http, sleep, startTestService, type TestService, tmpDataDir } from './helpers/service';

const USER = 5101;
const ADMIN = 9101;
const ADMIN_2 = 9102;
const MIN = 60_000;
/** Long enough for a stray message to show up (retries every 30 ms, sweeps every 50 ms). */
const SETTLE_MS = 400;
const BALANCE_PATH = '/v1/info/balance/';

const texts = (sent: SentItem[], chat = ADMIN) =>
  sent.filter((s) => s.chat_id === chat).map((s) => String(s.text));

/** Waits for the admin's `n`-th message and returns it. */
async function nth(tg: Fakes['tg'], n: number, chat = ADMIN): Promise<string> {
  await tg.waitFor((s) => texts(s, chat).length >= n, 5000);
  return texts(tg.sent(), chat)[n - 1] as string;
}

async function quiet(tg: Fakes['tg'], n: number, what: string, chat = ADMIN): Promise<void> {
  await sleep(SETTLE_MS);
  assert.is(texts(tg.sent(), chat).length, n, what);
}

const alertsActor = (svc: TestService) => svc.store.get<ActorRecord>('actors', ADMIN_ALERTS_KEY);

/** A gate rig where USER may open and ADMIN's chat is open; no cooldown unless `env` says otherwise. */
async function withAdminRig(
  env: Record<string, string | undefined>,
  fn: (rig: Rig, u: TgUser) => Promise<void>,
) {
  const rig = await startRig({
    TELEGRAM_ALLOWED_USERS: `${USER}`,
    TELEGRAM_ADMIN_IDS: `${ADMIN}`,
    GATE_COOLDOWN_S: '0',
    ...env,
  });
  try {
    rig.tg.addChat(ADMIN);
    await fn(rig, rig.user(USER));
  } finally {
    await rig.stop();
  }
}

test('a relay that answers: one alert, the next one in the hour summarised, recovery once', async () => {
  const rig = await startRig({
    TELEGRAM_ALLOWED_USERS: `${USER}`,
    TELEGRAM_ADMIN_IDS: `${ADMIN},${ADMIN_2}`,
    GATE_COOLDOWN_S: '0',
  });
  try {
    rig.tg.addChat(ADMIN);
    rig.tg.addChat(ADMIN_2);
    const u = rig.user(USER);
    await runCall(rig, u, 'hvirtka', 'answered', 12);
    assert.match(await nth(rig.tg, 1), /^🚨 ПРОБЛЕМА: дзвінок на хвіртки \(380637442017\) було ПРИЙНЯТО/);
    assert.match(await nth(rig.tg, 1, ADMIN_2), /^🚨 ПРОБЛЕМА/, 'every admin');

    await runCall(rig, u, 'hvirtka', 'answered', 7);
    await quiet(rig.tg, 1, 'the second within the hour is held back');
    const actor = alertsActor(rig.svc);
    assert.is(actor?.state, 'alerting');

    rig.clock.advance(61 * MIN);
    assert.match(
      await nth(rig.tg, 2),
      /^🔁 Реле хвіртки приймає дзвінки: … і ще 1 з \d\d:\d\d\. Досі триває\.$/,
      'summarised an hour after the alert',
    );

    await runCall(rig, u, 'hvirtka', 'cancel', 5);
    assert.is(
      await nth(rig.tg, 3),
      `✅ Реле хвіртки (${RELAY.hvirtka}) працює знову: дзвінок скинуто, як належить.`,
    );
    await runCall(rig, u, 'hvirtka', 'cancel', 4);
    await quiet(rig.tg, 3, 'the recovery is announced once');
    assert.is(alertsActor(rig.svc)?.state, 'ok');
  } finally {
    await rig.stop();
  }
});

test('the Zadarma API failing: alert, held back, recovered with the count on the next API_OK', async () => {
  await withAdminRig({}, async (rig, u) => {
    for (const status of [500, 500]) {
      rig.zd.failNext({ status, path: CALLBACK_PATH });
      const from = u.messages().length;
      await u.command('/hvirtka');
      await u.waitText(/^❌ Не вдалося ініціювати дзвінок/, from);
    }
    assert.is(await nth(rig.tg, 1), '🔧 ADMIN: помилка дзвінка на хвіртки: Internal server error');
    await quiet(rig.tg, 1, 'one alert for two failures');

    await runCall(rig, u, 'hvirtka', 'cancel', 5);
    assert.match(
      await nth(rig.tg, 2),
      /^✅ Zadarma API працює знову: дзвінок замовлено\.\n\n… і ще 1 з \d\d:\d\d$/,
    );
    await runCall(rig, u, 'vorota', 'cancel', 5);
    await quiet(rig.tg, 2, 'no second recovery');
    rig.clock.advance(61 * MIN);
    await quiet(rig.tg, 2, 'nothing left to summarise');
  });
});

test('calls that work while nothing is wrong: every one reports a recovery, the admins hear nothing', async () => {
  await withAdminRig({}, async (rig, u) => {
    // Zadarma's acceptance and the relay's rejection each report a recovery of their cause.
    await runCall(rig, u, 'hvirtka', 'cancel', 5);
    await runCall(rig, u, 'vorota', 'cancel', 4);
    await eventually(() => rig.svc.store.all('outbox').length === 0, 5000, 'every effect carried out');
    await quiet(rig.tg, 0, 'no "works again" for a cause that was never on');
    assert.is(alertsActor(rig.svc), undefined, 'the alerts actor took no step');
  });
});

test('the Zadarma error the user and the alert quote is cleaned: no secret, phones masked, one line, capped', async () => {
  await withAdminRig({ GATE_COOLDOWN_S: undefined }, async (rig, u) => {
    const message = `Wrong key ${ZD_KEY}\r\nsign: ${ZD_SECRET}\n\tto 380501112233\n${'x'.repeat(500)}`;
    rig.zd.failNext({ status: 401, path: CALLBACK_PATH, message });
    await u.command('/hvirtka');
    const told = String((await u.waitText(/^❌ Не вдалося ініціювати дзвінок/, 0)).text);
    for (const secret of [ZD_KEY, ZD_SECRET, '380501112233'])
      assert.not.ok(told.includes(secret), `the user's message quotes ${secret}`);
    const detail = `Wrong key *** sign: *** to …2233 ${'x'.repeat(500)}`.slice(0, 299);
    assert.is(await nth(rig.tg, 1), `🔧 ADMIN: помилка дзвінка на хвіртки: ${detail}…`);
  });
});

async function startOn(f: Fakes, clock: TestClock, dataDir: string, extra: Record<string, string>) {
  return startTestService(gateEnv(f, extra), { clock: clock.now, dataDir });
}

test('the Zadarma balance: checked at start and hourly; low once, above again once; a restart repeats nothing', async () => {
  const f = await startFakes();
  const clock = new TestClock();
  const dataDir = tmpDataDir();
  const env = { TELEGRAM_ADMIN_IDS: `${ADMIN}`, ZADARMA_BALANCE_ALERT: '5' };
  const checks = () => f.zd.requests.filter((r) => r.path === BALANCE_PATH && r.response === 200).length;
  f.tg.addChat(ADMIN);
  f.zd.setBalance(3.2, 'USD');
  let svc = await startOn(f, clock, dataDir, env);
  try {
    assert.is(
      await nth(f.tg, 1),
      '💸 Баланс Zadarma 3.20 USD — нижче порогу 5.00 USD. Поповніть рахунок, інакше дзвінки на ворота не пройдуть.',
    );
    assert.is(checks(), 1, 'checked at start');
    clock.advance(30 * MIN);
    await quiet(f.tg, 1, 'not before the hour');
    assert.is(checks(), 1);
    clock.advance(31 * MIN);
    await eventually(() => checks() === 2, 5000, 'the hourly check');
    await quiet(f.tg, 1, 'still low: not repeated');

    await svc.stop();
    svc = await startOn(f, clock, dataDir, env);
    await eventually(() => checks() === 3, 5000, 'the check at start');
    await quiet(f.tg, 1, 'still low after a restart: not repeated');

    f.zd.setBalance(20);
    clock.advance(61 * MIN);
    assert.is(await nth(f.tg, 2), '✅ Баланс Zadarma знову вище порогу: 20.00 USD. Дзвінки працюють знову.');
    clock.advance(61 * MIN);
    await eventually(() => checks() === 5, 5000, 'the next hourly check');
    await quiet(f.tg, 2, 'the recovery once');

    // Zadarma unreachable for the check: logged, no alert.
    f.zd.failNext({ status: 500, path: BALANCE_PATH });
    clock.advance(61 * MIN);
    await eventually(
      () => svc.logs.some((l) => l.includes('zadarma: balance check failed')),
      5000,
      'a log line',
    );
    await quiet(f.tg, 2, 'a failed check alerts nobody');
  } finally {
    await svc.stop();
    await f.close();
  }
});

test('alerts survive a restart: the hourly limit holds and the summary still comes', async () => {
  const f = await startFakes();
  const clock = new TestClock();
  const dataDir = tmpDataDir();
  const env = { TELEGRAM_ALLOWED_USERS: `${USER}`, TELEGRAM_ADMIN_IDS: `${ADMIN}`, GATE_COOLDOWN_S: '0' };
  f.tg.addChat(ADMIN);
  let svc = await startOn(f, clock, dataDir, env);
  // Long polling: the fake queues the updates for whichever service runs.
  const u = new TgUser(f.tg, async (update) => f.tg.pushUpdate(update), USER);
  try {
    const fail = async () => {
      f.zd.failNext({ status: 500, path: CALLBACK_PATH });
      const from = u.messages().length;
      await u.command('/vorota');
      await u.waitText(/^❌ Не вдалося ініціювати дзвінок/, from);
    };
    await fail();
    assert.match(await nth(f.tg, 1), /^🔧 ADMIN: помилка дзвінка на воріт/);
    await svc.stop();

    clock.advance(10 * MIN);
    svc = await startOn(f, clock, dataDir, env);
    await fail();
    await quiet(f.tg, 1, 'the hourly limit was not reset by the restart');

    await svc.stop();
    clock.advance(55 * MIN); // the summary was due while the service was down
    svc = await startOn(f, clock, dataDir, env);
    assert.match(await nth(f.tg, 2), /^🔁 Помилки Zadarma API: … і ще 1 з \d\d:\d\d\. Досі триває\.$/);
    await quiet(f.tg, 2, 'summarised once');
  } finally {
    await svc.stop();
    await f.close();
  }
});

test('dead letters of any channel: which channel, the key masked; the next one in the hour summarised', async () => {
  const d360 = await startFakeD360({ apiKey: 'alerts-d360-key' });
  const f = await startFakes();
  const clock = new TestClock();
  f.tg.addChat(ADMIN);
  const svc = await startOn(f, clock, tmpDataDir(), {
    TELEGRAM_ADMIN_IDS: `${ADMIN}`,
    D360_API_KEY: 'alerts-d360-key',
    D360_BASE_URL: d360.url,
  });
  try {
    const waId = '79991234567';
    const bad = { status: 400, body: { error: { message: '(#100) Invalid parameter', code: 100 } } };
    for (const i of [1, 2]) {
      d360.failNext(bad);
      const res = await http(`${svc.url}/webhook`, {
        body: textMessage({ from: waId, body: 'меню', id: nextMessageId() }),
      });
      assert.is(res.status, 200);
      await eventually(() => svc.store.all('deadletters').length === i, 5000, `dead letter ${i}`);
    }
    const alert = await nth(f.tg, 1);
    assert.match(alert, /^📭 Повідомлення не доставлено \(канал whatsapp, wa:…4567\): /);
    assert.not.match(alert, waId, 'the phone is masked');
    await quiet(f.tg, 1, 'the second dead letter is held back');
    clock.advance(61 * MIN);
    assert.match(await nth(f.tg, 2), /^🔁 Недоставлені повідомлення \(whatsapp\): … і ще 1 з \d\d:\d\d\.$/);
  } finally {
    await svc.stop();
    await f.close();
    await d360.close();
  }
});

test('webhooks failing the signature check repeatedly: alert at 5 in 10 minutes, recovery after a quiet hour', async () => {
  const rig = await startRig({ TELEGRAM_ADMIN_IDS: `${ADMIN}` });
  try {
    rig.tg.addChat(ADMIN);
    const probe = async () => {
      const res = await zadarmaWebhook(rig.url, incomingCall({ caller_id: '380501112233' }).start(), {
        signature: 'bm90IGEgc2lnbmF0dXJl',
      });
      assert.is(res.status, 401);
    };
    for (let i = 0; i < 4; i++) await probe();
    await quiet(rig.tg, 0, 'four refusals are not yet probing');
    await probe();
    assert.is(
      await nth(rig.tg, 1),
      '🕵️ POST /zadarma/webhook: 5 запитів з неправильним підписом або секретом за 10 хв. Можливо, хтось перебирає.',
    );
    await probe();
    await probe();
    rig.clock.advance(2 * MIN); // the further refusals are counted in (at most once a minute)
    await eventually(
      () =>
        (alertsActor(rig.svc)?.snapshot as { context: { causes: Record<string, { suppressed: number }> } })
          ?.context.causes['webhookAuth:POST /zadarma/webhook']?.suppressed === 2,
      5000,
      'two more refusals counted',
    );
    await quiet(rig.tg, 1, 'held back within the hour');
    rig.clock.advance(2 * 60 * MIN);
    assert.match(
      await nth(rig.tg, 2),
      /^✅ POST \/zadarma\/webhook: годину тихо, запити з неправильним підписом припинилися\.\n\n… і ще 2 з \d\d:\d\d$/,
    );
    await quiet(rig.tg, 2, 'one recovery');
  } finally {
    await rig.stop();
  }
});

test('with no admins, alerts are only logged', async () => {
  const rig = await startRig({ TELEGRAM_ALLOWED_USERS: `${USER}`, GATE_COOLDOWN_S: '0' });
  try {
    const u = rig.user(USER);
    const before = rig.tg.sent().length;
    await runCall(rig, u, 'hvirtka', 'answered', 3);
    await eventually(
      () => rig.svc.logs.find((l) => l.includes('admin alert (no Telegram admins: logged only)')),
      5000,
      'the log line',
    );
    await sleep(SETTLE_MS);
    assert.is(rig.tg.sent().length, before + 3, 'keys, initiated, the outcome: nothing to admins');
  } finally {
    await rig.stop();
  }
});

test.run();
