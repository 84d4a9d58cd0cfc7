/**
 * Races: many concurrent events for one WhatsApp user and for one gate call. The order in which they
 * took the actor's lock is read back from their dedupe records (the rig's clock is strictly
 * increasing); replaying them one by one in that order on a fresh service must give the same replies,
 * state and records. Also measures how much one hot user slows the others.
 */
import * as assert from 'uvu/assert';
import { commandUpdate } from '../../fixtures/telegram';
import { buttonReply, listReply, textMessage, type WebhookBody } from '../../fixtures/whatsapp';
import { incomingCall } from '../../fixtures/zadarma';
import { decideOutcome } from '../../machines/gate-outcome';
import { CALLBACK_PATH, RELAY } from '../helpers/gate-harness';
import { percentile } from '../helpers/percentile';
import { eventually, sleep } from '../helpers/service';
import { fmtMs, type Profile, pick, rng, type Section } from './common';
import { startTortureRig, type TortureRig } from './rig';

// biome-ignore lint/suspicious/noExplicitAny: documents and bodies are navigated loosely
type Json = any;

const HOT = '79007770000';
const wamidOf = (b: Json): string => b.entry[0].changes[0].value.messages[0].id;
const replyText = (m: Json) =>
  JSON.stringify(m.type === 'text' ? m.text : { body: m.interactive?.body, action: m.interactive?.action });

function randomEvent(r: ReturnType<typeof rng>): WebhookBody {
  switch (r.int(7)) {
    case 0:
      return textMessage({ from: HOT, body: 'меню' });
    case 1:
      return buttonReply({ from: HOT, buttonId: 'FILL_TODAY' });
    case 2:
      return buttonReply({ from: HOT, buttonId: 'FILL_PERIOD' });
    case 3:
      return listReply({ from: HOT, rowId: ['SHIFT_DAY', 'SHIFT_NIGHT', 'SHIFT_OFF'][r.int(3)] as string });
    case 4:
      return textMessage({ from: HOT, body: `${String(1 + r.int(9)).padStart(2, '0')}.11-1${r.int(9)}.11` });
    case 5:
      return buttonReply({ from: HOT, buttonId: 'MY_STATUS' });
    default:
      return textMessage({ from: HOT, body: 'привет' });
  }
}

function outcomeOf(rig: TortureRig) {
  const actor = rig.svc.store.get<Json>('actors', `wa:${HOT}`);
  const days = rig.svc.store.get<Json>('employees', HOT)?.days ?? {};
  return {
    state: actor?.state,
    context: JSON.stringify({ ...actor?.snapshot?.context, deadline: undefined }),
    days: JSON.stringify(
      Object.fromEntries(
        Object.entries(days).map(([d, v]: [string, Json]) => [d, [v.shift, v.sourceMessageId]]),
      ),
    ),
    replies: rig.d360
      .sent()
      .filter((m: Json) => m.to === HOT)
      .map(replyText),
  };
}

export async function run(profile: Profile): Promise<Section> {
  const started = Date.now();
  const n = pick(profile, 100, 500);
  const others = pick(profile, 10, 20);
  const r = rng();
  const rows: Section['rows'] = [];

  // 1. One WhatsApp user, n events at once; then the same events one by one in lock order.
  const events = Array.from({ length: n }, () => randomEvent(r));
  const a = await startTortureRig();
  let concurrent: ReturnType<typeof outcomeOf>;
  let order: WebhookBody[];
  try {
    const answers = await Promise.all(events.map((e) => a.postWa(e)));
    assert.ok(answers.every((x) => x.status === 200));
    await eventually(
      () => a.d360.sent().filter((m: Json) => m.to === HOT).length >= n,
      20_000,
      'every reply',
    );
    await sleep(200);
    concurrent = outcomeOf(a);
    const at = (e: WebhookBody) =>
      a.svc.store.get<{ at: number }>('dedupe', `wa:${wamidOf(e)}`)?.at ?? Number.NaN;
    order = [...events].sort((x, y) => at(x) - at(y));
    assert.ok(
      order.every((e) => Number.isFinite(at(e))),
      'every event took effect',
    );
  } finally {
    await a.stop();
  }
  const b = await startTortureRig();
  let sequential: ReturnType<typeof outcomeOf>;
  try {
    for (const e of order) assert.is((await b.postWa(e)).status, 200);
    await eventually(
      () => b.d360.sent().filter((m: Json) => m.to === HOT).length >= n,
      20_000,
      'every reply',
    );
    await sleep(200);
    sequential = outcomeOf(b);
  } finally {
    await b.stop();
  }
  assert.is(concurrent.replies.length, n, 'one reply per event');
  assert.equal(
    concurrent.replies,
    sequential.replies,
    'the same replies in the same order as a sequential run',
  );
  assert.is(concurrent.state, sequential.state);
  assert.is(concurrent.context, sequential.context);
  assert.is(concurrent.days, sequential.days);
  rows.push([
    `concurrent events for one WhatsApp user, replayed one by one in lock order`,
    n,
    'replies, final state, context and attendance records identical',
  ]);

  // 2. One gate call, n concurrent END/START webhooks with random outcomes: the first to take the lock decides.
  const c = await startTortureRig({ GATE_COOLDOWN_S: '0' });
  let callFigure = '';
  try {
    const cb = c.zd.requests.filter((q) => q.path === CALLBACK_PATH).length;
    assert.is((await c.postTg(commandUpdate({ userId: 1001, text: '/vorota' }))).status, 200);
    await eventually(
      () => c.zd.requests.filter((q) => q.path === CALLBACK_PATH).length > cb,
      5000,
      'the callback',
    );
    const pending = await eventually(
      () => c.svc.store.get<Json>('gates', 'vorota')?.pendingCall,
      5000,
      'pending call',
    );
    const dispositions = ['cancel', 'busy', 'no answer', 'answered', 'failed'];
    const legs = Array.from({ length: n }, (_, i) => {
      const leg = incomingCall({ caller_id: RELAY.vorota });
      const disposition = dispositions[r.int(dispositions.length)] as string;
      const duration = r.int(3) * 3;
      return i % 4 === 0
        ? { fields: leg.start(), end: null }
        : { fields: leg.end({ disposition, duration }), end: { disposition, duration } };
    });
    // The "initiated" message goes out after the callback: count from after it.
    await eventually(
      () => c.tg.sent().some((m: Json) => m.chat_id === 1001 && /ініційовано/.test(String(m.text))),
      5000,
      'the "initiated" message',
    );
    const before = c.tg.sent().filter((m: Json) => m.chat_id === 1001).length;
    const res = await Promise.all(legs.map((l) => c.postZd(l.fields)));
    assert.ok(
      res.every((x) => x.status === 200),
      'every webhook acknowledged',
    );
    await eventually(
      () => c.svc.store.get<Json>('calls', String(pending).replace(/^call:/, ''))?.endedAt,
      5000,
      'the call ended',
    );
    await sleep(300);
    const call = c.svc.store.get<Json>('calls', String(pending).replace(/^call:/, ''));
    const at = (f: Json) =>
      c.svc.store.get<{ at: number }>('dedupe', `zd:${f.event}:${f.pbx_call_id}`)?.at ??
      Number.POSITIVE_INFINITY;
    const firstEnd = legs.filter((l) => l.end).sort((x, y) => at(x.fields) - at(y.fields))[0];
    assert.ok(firstEnd && Number.isFinite(at(firstEnd.fields)), 'some END took effect');
    const expected = decideOutcome(firstEnd.end?.disposition ?? '', firstEnd.end?.duration ?? 0);
    assert.is(call.status, expected, `the first END in lock order decides (${JSON.stringify(firstEnd.end)})`);
    assert.is(call.disposition, firstEnd.end?.disposition);
    await eventually(
      () => c.tg.sent().filter((m: Json) => m.chat_id === 1001).length > before,
      10_000,
      'the outcome message',
    );
    await sleep(300);
    const told = c.tg
      .sent()
      .filter((m: Json) => m.chat_id === 1001)
      .slice(before);
    assert.is(
      told.length,
      1,
      `the user is told one outcome: ${JSON.stringify(told.map((m: Json) => m.text))}`,
    );
    assert.is(c.svc.store.all<Json>('calls').length, 1);
    assert.is(c.svc.store.get<Json>('gates', 'vorota')?.pendingCall ?? null, null, 'the gate is free again');
    callFigure = `one outcome (${call.status}) = the first END in lock order; 1 message to the user; gate released`;
  } finally {
    await c.stop();
  }
  rows.push(['concurrent START/END webhooks for one gate call (random dispositions)', n, callFigure]);

  // 3. How much one hot user slows the others: ack latency of other users alone, then beside a burst.
  const d = await startTortureRig();
  let bound = '';
  try {
    const oneRound = async (tag: string) => {
      const lat: number[] = [];
      await Promise.all(
        Array.from({ length: others }, async (_, i) => {
          for (let k = 0; k < 5; k++) {
            const t0 = performance.now();
            const res = await d.postWa(
              textMessage({ from: `7900888${String(i).padStart(4, '0')}`, body: `${tag}${k}` }),
            );
            lat.push(performance.now() - t0);
            assert.is(res.status, 200);
          }
        }),
      );
      return lat;
    };
    await oneRound('warm');
    const alone = await oneRound('a');
    const burst = Array.from({ length: n * 2 }, () => randomEvent(r));
    const hot = Promise.all(burst.map((e) => d.postWa(e)));
    await sleep(5);
    const beside = await oneRound('b');
    const hotStart = performance.now();
    await hot;
    const hotMs = performance.now() - hotStart;
    const p95a = percentile(alone, 95);
    const p95b = percentile(beside, 95);
    // The stated bound: another user's acknowledgement stays under 1 s at p95 (2.5 s in the full
    // profile's burst of 1,000) while one user has
    // 2n events queued (they share the CPU and the partition writes, not the actor's lock).
    const limit = n * 2 > 500 ? 2500 : 1000;
    assert.ok(p95b < limit, `p95 beside a hot user ${fmtMs(p95b)} (bound ${fmtMs(limit)})`);
    bound = `other users' ack p95 ${fmtMs(p95a)} alone → ${fmtMs(p95b)} beside the burst (p50 ${fmtMs(percentile(alone, 50))} → ${fmtMs(percentile(beside, 50))}); bound asserted: p95 < ${fmtMs(limit)}. The hot user's events wait on its own lock only; the others share the CPU (parsing ${n * 2} requests) and disk`;
    void hotMs;
  } finally {
    await d.stop();
  }
  rows.push([
    `${others} other users × 5 messages beside one user's burst of ${n * 2} concurrent events`,
    others * 5,
    bound,
  ]);
  return {
    name: 'races',
    title: 'Races (one actor, many concurrent events)',
    rows,
    notes: [`seed ${r.seed}`],
    ms: Date.now() - started,
  };
}
