import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type AnyMachineSnapshot, initialTransition, transition } from 'xstate';
import {
  type AdminAlertsContext,
  type AdminAlertsEvent,
  ALERT_INTERVAL_MS,
  type AlertNotice,
  adminAlertsMachine,
  applyAlertEvent,
} from '../machines/admin-alerts';
import { alertText } from '../server/alerts/binding';

/**
 * The admin-alerts machine on its own: per cause one alert an hour, the rest counted and summarised,
 * recoveries once, conditions (the balance) not repeated, a quiet hour ending a probe, and the texts.
 */
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0); // 11:00 in Kyiv
const MIN = 60_000;
const HOUR = ALERT_INTERVAL_MS;
const TZ = 'Europe/Kyiv';

function run(events: AdminAlertsEvent[]) {
  let [snap] = initialTransition(adminAlertsMachine) as [AnyMachineSnapshot, unknown];
  const steps: Array<{ notes: AlertNotice[]; state: string; context: AdminAlertsContext }> = [];
  for (const e of events) {
    const [next, actions] = transition(adminAlertsMachine, snap, e);
    snap = next;
    steps.push({
      notes: actions.filter((a) => a.type === 'notify').map((a) => a.params as AlertNotice),
      state: String(next.value),
      context: next.context as AdminAlertsContext,
    });
  }
  return steps;
}

const api = (at: number, message = 'Auth error'): AdminAlertsEvent => ({
  type: 'ALERT',
  now: T0 + at,
  cause: 'zadarmaApi',
  kind: 'zadarmaApi',
  info: { gate: 'hvirtka', detail: message },
});

test('one alert per cause per hour; the rest counted and summarised an hour after the alert', () => {
  const s = run([api(0), api(10 * MIN, 'HTTP 500'), api(20 * MIN), { type: 'TIMEOUT', now: T0 + HOUR }]);
  assert.equal(
    s.map((x) => x.notes.map((n) => n.what)),
    [['alert'], [], [], ['summary']],
  );
  assert.is(s[0]?.state, 'alerting');
  assert.is(s[1]?.context.deadline, T0 + HOUR, 'the summary is a stored deadline');
  const summary = s[3]?.notes[0] as AlertNotice;
  assert.is(summary.more, 2);
  assert.is(summary.since, T0 + 10 * MIN);
  assert.is(alertText(summary, TZ), '🔁 Помилки Zadarma API: … і ще 2 з 11:10. Досі триває.');
  assert.is(s[3]?.context.deadline, null);
  assert.is(
    alertText(s[0]?.notes[0] as AlertNotice, TZ),
    '🔧 ADMIN: помилка дзвінка на хвіртки: Auth error',
    'the gate bot’s wording',
  );
});

test('after the hour the next occurrence is an alert again', () => {
  const s = run([api(0), api(HOUR + 1)]);
  assert.equal(
    s.map((x) => x.notes.map((n) => n.what)),
    [['alert'], ['alert']],
  );
});

test('a recovery is announced once, with what was held back', () => {
  const recover: AdminAlertsEvent = { type: 'RECOVER', now: T0 + 30 * MIN, cause: 'zadarmaApi' };
  const s = run([api(0), api(5 * MIN), recover, { ...recover, now: T0 + 31 * MIN }]);
  assert.equal(
    s.map((x) => x.notes.map((n) => n.what)),
    [['alert'], [], ['recovered'], []],
  );
  const r = s[2]?.notes[0] as AlertNotice;
  assert.is(alertText(r, TZ), '✅ Zadarma API працює знову: дзвінок замовлено.\n\n… і ще 1 з 11:05');
  assert.is(s[2]?.state, 'ok');
  assert.is(s[3]?.context.deadline, null, 'nothing left to summarise');
});

test('flapping: a failure held back and over within the hour is only summarised, once', () => {
  const s = run([
    api(0),
    { type: 'RECOVER', now: T0 + MIN, cause: 'zadarmaApi' },
    api(2 * MIN),
    { type: 'RECOVER', now: T0 + 3 * MIN, cause: 'zadarmaApi' },
    { type: 'TIMEOUT', now: T0 + HOUR },
  ]);
  assert.equal(
    s.map((x) => x.notes.map((n) => n.what)),
    [['alert'], ['recovered'], [], [], ['summary']],
  );
  assert.is(
    alertText(s[4]?.notes[0] as AlertNotice, TZ),
    '🔁 Помилки Zadarma API: … і ще 1 з 11:02. Зараз усе гаразд.',
  );
});

test('the balance is a condition: told once while low, once when above again', () => {
  const low = (at: number, balance: number): AdminAlertsEvent => ({
    type: 'ALERT',
    now: T0 + at,
    cause: 'zadarmaBalance',
    kind: 'zadarmaBalance',
    info: { balance, currency: 'USD', threshold: 5 },
  });
  const s = run([
    low(0, 3.2),
    low(HOUR, 2),
    low(2 * HOUR, 1),
    {
      type: 'RECOVER',
      now: T0 + 3 * HOUR,
      cause: 'zadarmaBalance',
      info: { balance: 20, currency: 'USD', threshold: 5 },
    },
  ]);
  assert.equal(
    s.map((x) => x.notes.map((n) => n.what)),
    [['alert'], [], [], ['recovered']],
  );
  assert.is(
    alertText(s[0]?.notes[0] as AlertNotice, TZ),
    '💸 Баланс Zadarma 3.20 USD — нижче порогу 5.00 USD. Поповніть рахунок, інакше дзвінки на ворота не пройдуть.',
  );
  assert.is(
    alertText(s[3]?.notes[0] as AlertNotice, TZ),
    '✅ Баланс Zadarma знову вище порогу: 20.00 USD. Дзвінки працюють знову.',
  );
});

test('refused webhooks: alert, count, and a quiet hour ends it (a stored deadline)', () => {
  const probe = (at: number, count: number): AdminAlertsEvent => ({
    type: 'ALERT',
    now: T0 + at,
    cause: 'webhookAuth:POST /zadarma/webhook',
    kind: 'webhookAuth',
    info: { route: 'POST /zadarma/webhook', count, minutes: 10 },
    count,
  });
  const s = run([probe(0, 5), probe(MIN, 7)]);
  assert.is(s[1]?.context.deadline, T0 + HOUR, 'the summary comes first');
  assert.is(
    alertText(s[0]?.notes[0] as AlertNotice, TZ),
    '🕵️ POST /zadarma/webhook: 5 запитів з неправильним підписом або секретом за 10 хв. Можливо, хтось перебирає.',
  );
  const [, , quiet] = run([probe(0, 5), probe(MIN, 7), { type: 'TIMEOUT', now: T0 + 2 * HOUR }]);
  assert.equal(
    quiet?.notes.map((n) => [n.what, n.more]),
    [['recovered', 7]],
  );
  assert.is(
    alertText(quiet?.notes[0] as AlertNotice, TZ),
    '✅ POST /zadarma/webhook: годину тихо, запити з неправильним підписом припинилися.\n\n… і ще 7 з 11:01',
  );
  assert.is(quiet?.state, 'ok');
  assert.is(quiet?.context.deadline, null);
});

test('dead letters never leave the machine "alerting" and have no recovery', () => {
  const dead = (at: number): AdminAlertsEvent => ({
    type: 'ALERT',
    now: T0 + at,
    cause: 'deadLetter:whatsapp',
    kind: 'deadLetter',
    info: { channel: 'whatsapp', key: 'wa:…4567', detail: '(#100) Invalid parameter' },
  });
  const s = run([dead(0), dead(MIN), { type: 'RECOVER', now: T0 + 2 * MIN, cause: 'deadLetter:whatsapp' }]);
  assert.equal(
    s.map((x) => [x.state, x.notes.map((n) => n.what)]),
    [
      ['ok', ['alert']],
      ['ok', []],
      ['ok', []],
    ],
  );
  assert.is(
    alertText(s[0]?.notes[0] as AlertNotice, TZ),
    '📭 Повідомлення не доставлено (канал whatsapp, wa:…4567): (#100) Invalid parameter. Воно лежить у dead letters.',
  );
});

test('causes are independent; a clock going backwards never sends twice in an hour', () => {
  const other: AdminAlertsEvent = {
    type: 'ALERT',
    now: T0 + MIN,
    cause: 'relayAnswered:vorota',
    kind: 'relayAnswered',
    info: { gate: 'vorota', relay: '380930063585' },
  };
  const s = run([api(30 * MIN), other, api(0)]);
  assert.equal(
    s.map((x) => x.notes.map((n) => n.cause)),
    [['zadarmaApi'], ['relayAnswered:vorota'], []],
  );
  const { context } = applyAlertEvent({ causes: {}, deadline: null }, { type: 'TIMEOUT', now: T0 });
  assert.equal(context, { causes: {}, deadline: null });
});

test.run();
