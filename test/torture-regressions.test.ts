/** Regression tests for the defects the torture suite found (docs/RELIABILITY.md lists them). */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandUpdate } from '../fixtures/telegram';
import { statusUpdate } from '../fixtures/whatsapp';
import { sendD360 } from '../server/channels/whatsapp/d360-client';
import { startTortureRig } from './torture/rig';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

test('a 360dialog send that hangs times out after 10 s even when the GC runs meanwhile', async () => {
  const server = createServer(() => {
    /* never answers */
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const collect = setInterval(gc, 100);
  const t0 = Date.now();
  try {
    const outcome = await Promise.race([
      sendD360(
        url,
        'key',
        { messaging_product: 'whatsapp', to: '79001112233', type: 'text', text: { body: 'hi' } },
        new AbortController().signal,
      ),
      new Promise<'stuck'>((r) => setTimeout(() => r('stuck'), 14_000)),
    ]);
    assert.is.not(outcome, 'stuck', 'the send never timed out');
    if (outcome !== 'stuck') {
      assert.is(outcome.outcome.ok, false);
      assert.ok(!outcome.outcome.ok && !outcome.outcome.permanent, 'a timeout is retried');
    }
    assert.ok(Date.now() - t0 >= 9_500, 'after the 10 s timeout');
  } finally {
    clearInterval(collect);
    server.closeAllConnections();
    server.close();
  }
});

test('POST /webhook with JSON nested 6,000 deep: 200 (unknown shape), not 500', async () => {
  const rig = await startTortureRig();
  try {
    const body = `${'{"__proto__":'.repeat(6000)}1${'}'.repeat(6000)}`;
    const res = await rig.call('/webhook', {
      raw: body,
      headers: { 'content-type': 'application/json', 'X-Torture-Secret': 'hdr-secret-77a1b9' },
    });
    assert.is(res.status, 200, res.text);
    assert.ok(rig.logs.some((l) => /unknown shape acknowledged/.test(l)));
  } finally {
    await rig.stop();
  }
});

test('POST /telegram/webhook with chat.type an object whose toString is not a function: 200, ignored', async () => {
  const rig = await startTortureRig();
  try {
    const update = commandUpdate({ userId: 1001, text: '/start' }) as {
      message: { chat: Record<string, unknown> };
    };
    update.message.chat.type = { toString: {} };
    const res = await rig.postTg(update);
    assert.is(res.status, 200, res.text);
    assert.ok(
      rig.logs.some((l) => /update ignored .*message in a object chat/.test(l)),
      rig.logs.join('\n'),
    );
  } finally {
    await rig.stop();
  }
});

test('POST /webhook with a status whose timestamp / error code is a hostile object: 200, not 500', async () => {
  const rig = await startTortureRig();
  try {
    const hostile = { toString: [], valueOf: null };
    // biome-ignore lint/suspicious/noExplicitAny: a payload made hostile field by field
    const body = statusUpdate({ id: 'wamid.regress', status: 'failed', recipient: '79001234567' }) as any;
    const status = body.entry[0].changes[0].value.statuses[0];
    status.timestamp = hostile;
    status.errors[0].code = hostile;
    const res = await rig.postWa(body);
    assert.is(res.status, 200, res.text);
  } finally {
    await rig.stop();
  }
});

test.run();
