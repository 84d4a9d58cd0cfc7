/**
 * Upstream faults: the fake 360dialog, Telegram and Zadarma APIs answer 500, 429 with Retry-After,
 * hang past the client's 10 s timeout, reset the connection or return garbage. The outbox retries
 * with backoff and delivers once they recover, dead-letters permanent failures with a log line, and a
 * gate user always gets a final answer.
 */
import * as assert from 'uvu/assert';
import { commandUpdate } from '../../fixtures/telegram';
import { textMessage } from '../../fixtures/whatsapp';
import { CALLBACK_PATH } from '../helpers/gate-harness';
import { eventually, sleep } from '../helpers/service';
import { type Profile, pick, type Section } from './common';
import { startTortureRig } from './rig';

// biome-ignore lint/suspicious/noExplicitAny: bodies are navigated loosely
type Json = any;

export async function run(profile: Profile): Promise<Section> {
  const started = Date.now();
  const rounds = pick(profile, 1, 5);
  const rig = await startTortureRig({ GATE_COOLDOWN_S: '0', OUTBOX_MAX_ATTEMPTS: '8' });
  const rows: Section['rows'] = [];
  try {
    const repliesTo = (u: string) => rig.d360.sent().filter((m: Json) => m.to === u).length;
    const faults: Array<[string, Json]> = [
      ['500', { status: 500 }],
      ['429 + Retry-After: 1', { status: 429, headers: { 'Retry-After': '1' } }],
      ['connection reset', { status: 200, reset: true }],
      ['garbage body (200, not JSON)', { status: 200, body: '<html>oops' }],
      ['502 three times in a row', { status: 502 }],
    ];
    // A hang past the 10 s client timeout runs beside the others.
    const hangUser = '79009990099';
    rig.d360.failNext({ status: 200, hang: true });
    assert.is((await rig.postWa(textMessage({ from: hangUser, body: 'меню' }))).status, 200);
    await eventually(() => rig.d360.requests.some((q) => q.body?.to === hangUser), 5000, 'the hanging send');
    const hangStarted = Date.now();
    let delivered = 0;
    let waTried = 0;
    for (let round = 0; round < rounds; round++) {
      for (const [i, [name, answer]] of faults.entries()) {
        const u = `790099900${round}${i}`;
        const times = name.startsWith('502') ? 3 : 1;
        rig.d360.failNext(...Array.from({ length: times }, () => answer));
        const t0 = Date.now();
        assert.is((await rig.postWa(textMessage({ from: u, body: 'меню' }))).status, 200);
        await eventually(() => repliesTo(u) >= 1, 8000, `the reply after ${name}`);
        if (name.startsWith('429')) assert.ok(Date.now() - t0 >= 900, 'Retry-After honoured');
        waTried++;
        delivered++;
      }
    }
    rows.push([
      `360dialog: ${faults.map((f) => f[0]).join(', ')} before recovering`,
      waTried,
      `${delivered} replies delivered after the fault; Retry-After honoured`,
    ]);

    // Permanent failure → dead letter with a log line; a transient one past OUTBOX_MAX_ATTEMPTS too.
    const dlBefore = rig.svc.store.all('deadletters').length;
    rig.d360.failNext({ status: 400, body: { error: { message: '(#100) Invalid parameter', code: 100 } } });
    await rig.postWa(textMessage({ from: '79009991001', body: 'меню' }));
    rig.d360.failNext(...Array.from({ length: 8 }, () => ({ status: 503 })));
    await rig.postWa(textMessage({ from: '79009991002', body: 'меню' }));
    await eventually(
      () => rig.svc.store.all('deadletters').length >= dlBefore + 2,
      10_000,
      'two dead letters',
    );
    const dlLines = rig.logs.filter((l) => /outbox: effect dead-lettered/.test(l) && /whatsapp/.test(l));
    assert.ok(dlLines.length >= 2, 'each dead letter logged');
    rows.push([
      '360dialog: a permanent 400, and 503 on all 8 attempts (OUTBOX_MAX_ATTEMPTS=8)',
      2,
      `dead-lettered with a log line each (${dlLines.length} lines), nothing retried for ever`,
    ]);

    // Telegram Bot API faults on /start answers.
    const tgFaults: Array<[string, Json]> = [
      ['500', { status: 500 }],
      ['429 retry_after 1', { status: 429, retryAfter: 1 }],
      ['reset', { reset: true }],
      ['garbage', { status: 200, body: 'not json' }],
    ];
    let tgOk = 0;
    for (let round = 0; round < rounds; round++)
      for (const [, answer] of tgFaults) {
        const before = rig.tg.sent().filter((m) => m.chat_id === 1003).length;
        rig.tg.failNext({ method: 'sendMessage', ...answer });
        assert.is((await rig.postTg(commandUpdate({ userId: 1003, text: '/help' }))).status, 200);
        await eventually(
          () => rig.tg.sent().filter((m) => m.chat_id === 1003).length > before,
          8000,
          'the Telegram answer',
        );
        tgOk++;
      }
    rows.push([
      `Telegram: ${tgFaults.map((f) => f[0]).join(', ')} on sendMessage`,
      tgOk,
      `${tgOk} answers delivered after the fault`,
    ]);

    // Zadarma callback request faults: the gate user is told the result at once; the gate is free again.
    const zdFaults: Array<[string, Json]> = [
      ['500', { status: 500 }],
      ['reset', { status: 200, reset: true }],
      ['garbage', { status: 200, body: 'not json at all' }],
      ['hang past the timeout', { status: 200, hang: true }],
    ];
    const told: string[] = [];
    for (const [name, answer] of zdFaults) {
      const user = 1001;
      const from = rig.tg.sent().filter((m) => m.chat_id === user).length;
      rig.clock.advance(60_000);
      rig.zd.failNext({ ...answer, path: CALLBACK_PATH });
      assert.is((await rig.postTg(commandUpdate({ userId: user, text: '/hvirtka' }))).status, 200);
      const final = await eventually(
        () =>
          rig.tg
            .sent()
            .filter((m) => m.chat_id === user)
            .slice(from)
            .find((m) => /Не вдалося|ініційовано/.test(String(m.text))),
        15_000,
        `a final answer after ${name}`,
      );
      told.push(`${name}: "${String(final.text).split('\n')[0]}"`);
      assert.match(String(final.text), /Не вдалося/, `${name} is reported as a failure`);
      await eventually(
        () => !rig.svc.store.get<Json>('gates', 'hvirtka')?.pendingCall,
        5000,
        'the gate free again',
      );
    }
    // and once Zadarma recovers, a call goes through
    rig.clock.advance(60_000);
    const cb = rig.zd.callbacks().length;
    await rig.postTg(commandUpdate({ userId: 1001, text: '/hvirtka' }));
    await eventually(() => rig.zd.callbacks().length > cb, 5000, 'a callback after recovery');
    rows.push([
      `Zadarma callback: ${zdFaults.map((f) => f[0]).join(', ')}`,
      zdFaults.length,
      `the user is told at once (${told.map((t) => t.split(':')[0]).join(', ')} → "❌ Не вдалося ініціювати дзвінок…"); gate freed; the next call goes through`,
    ]);

    await eventually(() => repliesTo(hangUser) >= 1, 20_000, 'the reply after the hang');
    rows.push([
      '360dialog: a send hanging past the 10 s client timeout',
      1,
      `delivered on retry ${((Date.now() - hangStarted) / 1000).toFixed(1)} s later`,
    ]);
    await sleep(100);
    assert.equal(rig.leaks(), []);
  } finally {
    await rig.stop();
  }
  return { name: 'upstream', title: 'Upstream faults', rows, ms: Date.now() - started };
}
