import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buttonReply, textMessage } from '../fixtures/whatsapp';
import { retryAfter, sendD360 } from '../server/channels/whatsapp/d360-client';
import { checkMessageLimits } from '../server/channels/whatsapp/limits';
import { type FakeD360, type FakeRequest, type Json, startFakeD360 } from './fakes/d360';
import { eventually, http, outboxHealth, sleep, startTestService, type TestService } from './helpers/service';

const KEY = 'outbox-test-key';
/** testEnv retries after 30 ms, doubling up to 200 ms (±20 %): this covers several attempts. */
const SETTLE_MS = 600;

async function withService(fn: (svc: TestService, fake: FakeD360) => Promise<void>): Promise<void> {
  const fake = await startFakeD360({ apiKey: KEY });
  let svc: TestService | undefined;
  try {
    svc = await startTestService({ D360_API_KEY: KEY, D360_BASE_URL: fake.url });
    await fn(svc, fake);
  } finally {
    // The fake first: it drops hung answers, so the service's drain does not wait for them.
    await fake.close();
    await svc?.stop();
  }
}

async function post(svc: TestService, body: unknown): Promise<void> {
  const res = await http(`${svc.url}/webhook`, { body });
  assert.is(res.status, 200, `webhook answered ${res.status}: ${res.text}\n${svc.logs.join('\n')}`);
}

const sentTo = (fake: FakeD360, to: string): Json[] => fake.sent().filter((b) => b.to === to);
const requestsTo = (fake: FakeD360, to: string): FakeRequest[] =>
  fake.requests.filter((r) => r.path === '/messages' && r.body?.to === to);
const bodyText = (b: Json): string => String(b?.interactive?.body?.text ?? b?.text?.body ?? '');

const health = (svc: TestService) => outboxHealth(svc.url);

test('500, 500, then 200: the reply arrives exactly once', () =>
  withService(async (svc, fake) => {
    const user = '79000000001';
    fake.failNext({ status: 500 }, { status: 500 });
    await post(svc, textMessage({ from: user, body: 'меню' }));
    await fake.waitFor((s) => s.some((b) => b.to === user));
    await sleep(SETTLE_MS);
    assert.is(sentTo(fake, user).length, 1, 'delivered once');
    assert.equal(
      requestsTo(fake, user).map((r) => r.response),
      [500, 500, 200],
      'two failed attempts, then the good one',
    );
    const bodies = requestsTo(fake, user).map((r) => JSON.stringify(r.body));
    assert.is(new Set(bodies).size, 1, 'every attempt sends the same message');
    assert.equal(await health(svc), { pending: 0, deadLetters: 0 });
    assert.ok(
      svc.logs.some((l) => l.includes('will retry') && l.includes('HTTP 500')),
      'the failed attempts are logged',
    );
    assert.is(svc.store.all('outbox').length, 0, 'nothing left in the stored outbox');
  }));

test('429 with Retry-After: 1 waits about a second before retrying', () =>
  withService(async (svc, fake) => {
    const user = '79000000002';
    fake.failNext({ status: 429, headers: { 'Retry-After': '1' } });
    await post(svc, textMessage({ from: user, body: 'меню' }));
    await fake.waitFor((s) => s.some((b) => b.to === user), 5000);
    const reqs = requestsTo(fake, user);
    assert.equal(
      reqs.map((r) => r.response),
      [429, 200],
    );
    const gap = (reqs[1]?.at ?? 0) - (reqs[0]?.at ?? 0);
    assert.ok(gap >= 950, `retried after ${gap} ms, Retry-After asked for 1000`);
    assert.ok(gap < 3000, `retried after ${gap} ms, far later than asked`);
    assert.is(sentTo(fake, user).length, 1);
  }));

test('a permanent 400: no retry, one dead letter, logged, and the next reply still goes out', () =>
  withService(async (svc, fake) => {
    const user = '79000000003';
    fake.failNext({
      status: 400,
      body: {
        error: {
          message: '(#131009) Parameter value is not valid',
          type: 'OAuthException',
          code: 131009,
          error_data: { messaging_product: 'whatsapp', details: 'button title too long' },
          fbtrace_id: 'AbCdEf',
        },
      },
    });
    await post(svc, textMessage({ from: user, body: 'меню' }));
    await eventually(async () => (await health(svc)).deadLetters === 1, 5000, 'a dead letter');
    await sleep(SETTLE_MS);
    assert.is(requestsTo(fake, user).length, 1, 'a permanent failure is not retried');
    assert.is(sentTo(fake, user).length, 0);
    assert.equal(await health(svc), { pending: 0, deadLetters: 1 });
    const line = svc.logs.find((l) => l.includes('dead-lettered'));
    assert.ok(line, `a dead-letter log line:\n${svc.logs.join('\n')}`);
    assert.match(line ?? '', 'Parameter value is not valid (button title too long)');
    assert.not.ok(line?.includes(user), 'the phone number is masked in the log');
    const [dead] = svc.store.all<Record<string, unknown>>('deadletters');
    assert.match(String(dead?.lastError), 'HTTP 400');
    assert.is((dead?.payload as { to?: string } | undefined)?.to, user, 'the dead letter keeps the message');

    // The dead letter does not block this user's queue.
    await post(svc, textMessage({ from: user, body: 'меню' }));
    await fake.waitFor((s) => s.some((b) => b.to === user));
    assert.is(sentTo(fake, user).length, 1);
    // The send is settled (removed from the outbox) just after the fake answers.
    await eventually(async () => (await health(svc)).pending === 0, 2000, 'the outbox to settle');
    assert.equal(await health(svc), { pending: 0, deadLetters: 1 });
  }));

test('a 400 with a rate-limit code (131056) is retried, not dead-lettered', () =>
  withService(async (svc, fake) => {
    const user = '79000000004';
    fake.failNext({
      status: 400,
      body: { error: { message: '(#131056) pair rate limit hit', type: 'OAuthException', code: 131056 } },
    });
    await post(svc, textMessage({ from: user, body: 'меню' }));
    await fake.waitFor((s) => s.some((b) => b.to === user));
    await sleep(SETTLE_MS);
    assert.equal(
      requestsTo(fake, user).map((r) => r.response),
      [400, 200],
    );
    assert.equal(await health(svc), { pending: 0, deadLetters: 0 });
  }));

test('a connection reset, then success: delivered once', () =>
  withService(async (svc, fake) => {
    const user = '79000000005';
    fake.failNext({ status: 0, reset: true });
    await post(svc, textMessage({ from: user, body: 'меню' }));
    await fake.waitFor((s) => s.some((b) => b.to === user));
    await sleep(SETTLE_MS);
    assert.equal(
      requestsTo(fake, user).map((r) => r.response),
      [0, 200],
    );
    assert.is(sentTo(fake, user).length, 1);
    assert.ok(
      svc.logs.some((l) => l.includes('network')),
      'the network failure is logged',
    );
  }));

test("one user's replies keep their order while the first is retried", () =>
  withService(async (svc, fake) => {
    const user = '79000000006';
    // The first reply fails twice; the first retry waits a second, so the second reply is queued
    // behind it for sure.
    fake.failNext({ status: 500, headers: { 'Retry-After': '1' } }, { status: 503 });
    await post(svc, textMessage({ from: user, body: 'меню' }));
    await post(svc, buttonReply({ from: user, buttonId: 'MY_STATUS' }));
    const queued = await health(svc);
    assert.is(queued.pending, 2, 'both replies wait in the outbox');
    assert.is(requestsTo(fake, user).length, 1, 'the second reply did not overtake the first');
    await fake.waitFor((s) => s.filter((b) => b.to === user).length >= 2, 5000);
    await sleep(SETTLE_MS);
    const sent = sentTo(fake, user);
    assert.is(sent.length, 2, 'each reply once');
    assert.is(bodyText(sent[0]), 'Выберите действие:', 'the reply to "меню" first');
    assert.match(bodyText(sent[1]), 'нет записей', 'the status reply second');
    const reqs = requestsTo(fake, user);
    assert.equal(
      reqs.map((r) => r.response),
      [500, 503, 200, 200],
    );
    assert.ok(
      reqs.slice(0, 3).every((r) => bodyText(r.body) === 'Выберите действие:'),
      'the status reply was not tried before the first one went out',
    );
  }));

test("a user whose reply is held back does not hold back another user's", () =>
  withService(async (svc, fake) => {
    const slow = '79000000007';
    const fast = '79000000008';
    fake.failNext({ status: 429, headers: { 'Retry-After': '1' } });
    await post(svc, textMessage({ from: slow, body: 'меню' }));
    await eventually(() => requestsTo(fake, slow).length === 1, 2000, 'the first attempt');
    await post(svc, textMessage({ from: fast, body: 'меню' }));
    await fake.waitFor((s) => s.some((b) => b.to === fast), 800);
    assert.is(sentTo(fake, slow).length, 0, 'the slow one is still waiting');
    await fake.waitFor((s) => s.some((b) => b.to === slow), 3000);
    const order = fake.sent().map((b) => b.to);
    assert.equal(order, [fast, slow]);
  }));

const buttons = (...titles: string[]) => ({
  messaging_product: 'whatsapp',
  recipient_type: 'individual',
  to: '79000000009',
  type: 'interactive',
  interactive: {
    type: 'button',
    body: { text: 'Выберите' },
    action: { buttons: titles.map((t, i) => ({ type: 'reply', reply: { id: `B${i}`, title: t } })) },
  },
});

test('checkMessageLimits: the documented limits, counted in code points', () => {
  assert.is(checkMessageLimits(buttons('x'.repeat(20))), null);
  assert.match(checkMessageLimits(buttons('x'.repeat(21))) ?? '', 'must be 1..20 characters, got 21');
  assert.is(checkMessageLimits(buttons('😀'.repeat(20))), null, '20 emoji are 20 characters');
  assert.match(checkMessageLimits(buttons('😀'.repeat(21))) ?? '', 'got 21');
  assert.match(checkMessageLimits(buttons('a', 'b', 'c', 'd')) ?? '', '1..3 reply buttons');
  assert.match(checkMessageLimits(buttons('same', 'same')) ?? '', 'unique');
  assert.match(checkMessageLimits(buttons('')) ?? '', 'got 0');
  const text = (body: string) => ({ type: 'text', text: { body } });
  assert.is(checkMessageLimits(text('x'.repeat(4096))), null);
  assert.match(checkMessageLimits(text('x'.repeat(4097))) ?? '', '4096');
  assert.match(checkMessageLimits(text('')) ?? '', 'got 0');
  const list = (rowTitle: string, rows = 1) => ({
    type: 'interactive',
    interactive: {
      type: 'list',
      body: { text: 'b' },
      action: {
        button: 'Выбрать',
        sections: [{ rows: Array.from({ length: rows }, (_, i) => ({ id: `r${i}`, title: rowTitle })) }],
      },
    },
  });
  assert.is(checkMessageLimits(list('x'.repeat(24))), null);
  assert.match(checkMessageLimits(list('x'.repeat(25))) ?? '', 'row title');
  assert.match(checkMessageLimits(list('x', 11)) ?? '', '1..10 list rows');
});

test('sendD360: an over-limit message is refused before any request; a good one is sent', async () => {
  const fake = await startFakeD360({ apiKey: KEY });
  try {
    const refused = await sendD360(fake.url, KEY, buttons('Заполнить за периодX'.padEnd(21, 'Х')));
    assert.is(refused.outcome.ok, false);
    assert.ok(!refused.outcome.ok && refused.outcome.permanent, 'permanent: retrying cannot help');
    assert.match(!refused.outcome.ok ? refused.outcome.error : '', 'over a WhatsApp limit');
    assert.is(fake.requests.length, 0, 'nothing reached the platform');

    const ok = await sendD360(`${fake.url}/`, KEY, buttons('Заполнить за период'));
    assert.ok(ok.outcome.ok);
    assert.match(ok.messageId ?? '', /^wamid\./);
    assert.is(fake.requests.length, 1);
    assert.is(fake.requests[0]?.headers['d360-api-key'], KEY);

    const wrongKey = await sendD360(fake.url, 'wrong', buttons('ok'));
    assert.ok(!wrongKey.outcome.ok);
    assert.match(!wrongKey.outcome.ok ? wrongKey.outcome.error : '', 'HTTP 401: Invalid api_key');

    fake.failNext({ status: 503, headers: { 'Retry-After': '2' } });
    const busy = await sendD360(fake.url, KEY, buttons('ok'));
    assert.equal(busy.outcome, {
      ok: false,
      permanent: false,
      error: 'HTTP 503: Internal server error',
      retryAfterMs: 2000,
    });
  } finally {
    await fake.close();
  }
});

test('retryAfter: seconds, an HTTP date, garbage', () => {
  const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
  assert.is(retryAfter('1', now), 1000);
  assert.is(retryAfter('0', now), 0);
  assert.is(retryAfter('120', now), 120_000);
  assert.is(retryAfter('999999', now), 3600_000, 'capped at an hour');
  assert.is(retryAfter('Wed, 21 Oct 2026 07:28:05 GMT', now), 5000);
  assert.is(retryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now), 0, 'a past date means now');
  assert.is(retryAfter('Thu, 22 Oct 2026 07:28:00 GMT', now), 3600_000, 'a far date is capped too');
  assert.is(retryAfter(null, now), undefined);
  assert.is(retryAfter('', now), undefined);
  assert.is(retryAfter('soon', now), undefined);
  assert.is(retryAfter('-5', now), undefined, 'a negative number is not a delay (nor a date)');
  assert.is(retryAfter('12abc', now), undefined);
});

test.run();
