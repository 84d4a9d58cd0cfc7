/**
 * Redelivery: every webhook delivered twice (at once and again later), some three times, statuses in
 * every order; zero duplicate effects (replies, records, calls, outcome messages).
 */
import * as assert from 'uvu/assert';
import { commandUpdate } from '../../fixtures/telegram';
import { buttonReply, listReply, statusUpdate, textMessage, type WebhookBody } from '../../fixtures/whatsapp';
import { incomingCall } from '../../fixtures/zadarma';
import { CALLBACK_PATH, RELAY } from '../helpers/gate-harness';
import { eventually, sleep } from '../helpers/service';
import { type Profile, pick, rng, type Section } from './common';
import { startTortureRig } from './rig';

// biome-ignore lint/suspicious/noExplicitAny: documents and bodies are navigated loosely
type Json = any;

export async function run(profile: Profile): Promise<Section> {
  const started = Date.now();
  const users = pick(profile, 10, 50);
  const calls = pick(profile, 3, 10);
  const r = rng();
  const rig = await startTortureRig({ GATE_COOLDOWN_S: '0' });
  let deliveries = 0;
  let thrice = 0;
  /** Delivers 2× (concurrently), and a third time later for one in four. */
  const twice = async (post: () => Promise<{ status: number }>) => {
    const [a, b] = await Promise.all([post(), post()]);
    deliveries += 2;
    assert.is(a.status, 200);
    assert.is(b.status, 200);
    if (r.int(4) === 0) {
      thrice++;
      deliveries++;
      assert.is((await post()).status, 200);
    }
  };
  try {
    // WhatsApp: a today + a period dialog per user, every message redelivered.
    const ids = Array.from({ length: users }, (_, i) => `7900666${String(i).padStart(4, '0')}`);
    let messages = 0;
    await Promise.all(
      ids.map(async (u) => {
        const bodies: WebhookBody[] = [
          textMessage({ from: u, body: 'меню' }),
          buttonReply({ from: u, buttonId: 'FILL_TODAY' }),
          listReply({ from: u, rowId: 'SHIFT_NIGHT' }),
          buttonReply({ from: u, buttonId: 'FILL_PERIOD' }),
          textMessage({ from: u, body: '03.11-04.11' }),
          listReply({ from: u, rowId: 'SHIFT_OFF' }),
        ];
        for (const b of bodies) {
          await twice(() => rig.postWa(b));
          messages++;
        }
      }),
    );
    await eventually(() => rig.d360.sent().length >= messages, 10_000, 'every reply');
    await sleep(300);
    const perUser = new Map<string, number>();
    for (const m of rig.d360.sent() as Json[]) perUser.set(m.to, (perUser.get(m.to) ?? 0) + 1);
    const dupReplies = [...perUser.values()].reduce((n, c) => n + Math.max(0, c - 6), 0);
    assert.is(rig.d360.sent().length, messages, 'exactly one reply per message');
    for (const u of ids) {
      const days = rig.svc.store.get<Json>('employees', u)?.days ?? {};
      assert.is(Object.keys(days).length, 3, `${u}: today + two period days`);
      assert.is(days['2026-11-03']?.shift, 'off');
    }

    // Statuses: for every outbound message, sent/delivered/read in a shuffled order, each twice.
    const outbound = rig.svc.store.entries<Json>('messages');
    let statusDeliveries = 0;
    await Promise.all(
      outbound.map(async ([id, m]) => {
        const order = (['sent', 'delivered', 'read'] as const).slice().sort(() => r.next() - 0.5);
        for (const st of order) {
          await twice(() =>
            rig.postWa(statusUpdate({ id, status: st, recipient: m.to ?? m.waId ?? '79000000000' })),
          );
          statusDeliveries++;
        }
      }),
    );
    const notRead = rig.svc.store.all<Json>('messages').filter((m) => m.status !== 'read');
    assert.is(notRead.length, 0, `the furthest status wins: ${JSON.stringify(notRead[0])}`);
    const dupStatuses = rig.svc.store
      .all<Json>('messages')
      .reduce((n, m) => n + Math.max(0, (m.statuses?.length ?? 0) - 3), 0);
    assert.is(dupStatuses, 0, 'each status recorded once');

    // Telegram: /start of allowed users, each update twice.
    const tgBefore = rig.tg.sent().length;
    for (const id of [1001, 1002, 1003]) {
      const update = commandUpdate({ userId: id, text: '/start' });
      await twice(() => rig.postTg(update));
    }
    await sleep(300);
    const tgReplies = rig.tg.sent().length - tgBefore;
    assert.is(tgReplies, 3, 'one answer per update');

    // Gate calls: the command twice, START twice, END twice or thrice → one callback, one outcome message.
    let outcomes = 0;
    for (let c = 0; c < calls; c++) {
      const user = 1001 + (c % 3);
      const cb = rig.zd.requests.filter((q) => q.path === CALLBACK_PATH).length;
      rig.clock.advance(60_000);
      const command = commandUpdate({ userId: user, text: '/hvirtka' });
      await twice(() => rig.postTg(command));
      await eventually(
        () => rig.zd.requests.filter((q) => q.path === CALLBACK_PATH).length > cb,
        5000,
        'the callback',
      );
      await eventually(
        () => rig.svc.store.get<Json>('gates', 'hvirtka')?.pendingCall,
        5000,
        'a pending call',
      );
      const leg = incomingCall({ caller_id: RELAY.hvirtka });
      const start = leg.start();
      await twice(() => rig.postZd(start));
      const before = rig.tg.sent().filter((m: Json) => /відчинено/.test(String(m.text))).length;
      const end = leg.end({ disposition: 'cancel', duration: 4 });
      await twice(() => rig.postZd(end));
      await eventually(
        () => rig.tg.sent().filter((m: Json) => /відчинено/.test(String(m.text))).length > before,
        5000,
        'the outcome message',
      );
      await sleep(100);
      await twice(() => rig.postZd(end));
      await sleep(100);
      outcomes += rig.tg.sent().filter((m: Json) => /відчинено/.test(String(m.text))).length - before;
      assert.is(
        rig.zd.requests.filter((q) => q.path === CALLBACK_PATH).length - cb,
        1,
        'one callback per command',
      );
    }
    assert.is(outcomes, calls, 'one outcome message per call');
    const callDocs = rig.svc.store.all<Json>('calls');
    assert.is(callDocs.length, calls, 'one call record per command');
    assert.ok(
      callDocs.every((d) => d.status === 'opened'),
      JSON.stringify(callDocs[0]),
    );
    assert.equal(rig.leaks(), []);
    return {
      name: 'redelivery',
      title: 'Redelivery (every webhook twice at once, one in four a third time later; statuses shuffled)',
      rows: [
        [
          `WhatsApp messages of ${users} users`,
          messages,
          `${rig.d360.sent().length} replies (${dupReplies} duplicates), 3 records per user`,
        ],
        [
          'WhatsApp statuses (sent/delivered/read shuffled)',
          statusDeliveries,
          '0 duplicates, furthest status kept',
        ],
        ['Telegram updates', 3, `${tgReplies} answers (0 duplicates)`],
        [
          'gate calls (command, START, END redelivered; END again after the outcome)',
          calls,
          `${callDocs.length} call records, ${outcomes} outcome messages`,
        ],
        ['deliveries in all (of which third deliveries)', `${deliveries} (${thrice})`, '0 duplicate effects'],
      ],
      notes: [`seed ${r.seed}`],
      ms: Date.now() - started,
    };
  } finally {
    await rig.stop();
  }
}
