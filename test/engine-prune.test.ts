import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formBody, incomingCall } from '../fixtures/zadarma';
import { FINISHED_ACTOR_TTL_MS } from '../server/engine/sweeper';
import type { ActorRecord } from '../server/engine/types';
import { eventually, http, startTestService } from './helpers/service';

const form = { 'content-type': 'application/x-www-form-urlencoded' };

test('finished actors are pruned after their retention; live ones and the call records stay', async () => {
  let now = Date.UTC(2026, 10, 22, 9);
  const svc = await startTestService({ ALLOWED_PHONES: '0501112233' }, { clock: () => now });
  try {
    const call = incomingCall({ caller_id: '+380501112233' });
    const menu = await http(`${svc.url}/zadarma/webhook`, { raw: formBody(call.start()), headers: form });
    assert.ok((menu.json as { wait_dtmf?: unknown }).wait_dtmf);
    const open = await http(`${svc.url}/zadarma/webhook`, { raw: formBody(call.dtmf('1')), headers: form });
    assert.is((open.json as { hangup?: number }).hangup, 1);
    const key = `ivr:${call.pbx_call_id}`;
    assert.is(svc.store.get<ActorRecord>('actors', key)?.state, 'opening');
    // A second caller stays in the menu (not finished).
    const waiting = incomingCall({ caller_id: '+380501112233' });
    await http(`${svc.url}/zadarma/webhook`, { raw: formBody(waiting.start()), headers: form });
    await eventually(() => svc.store.all('calls').length === 1, 3000, 'the gate call record');

    assert.is(await svc.engine.pruneFinished(now - FINISHED_ACTOR_TTL_MS), 0, 'too recent to prune');
    now += FINISHED_ACTOR_TTL_MS + 60_000;
    const pruned = await svc.engine.pruneFinished(now - FINISHED_ACTOR_TTL_MS);
    assert.ok(pruned >= 1, `pruned ${pruned}`);
    assert.is(svc.store.get('actors', key), undefined, 'the finished voice-menu actor is gone');
    assert.is(svc.store.all('calls').length, 1, 'the call record stays');
    // The waiting caller's menu timed out by now (its deadline passed): the sweeper closes it.
    await eventually(
      () => svc.store.get<ActorRecord>('actors', `ivr:${waiting.pbx_call_id}`)?.state === 'ended',
      3000,
      'the idle voice-menu call to be closed',
    );
    assert.is(svc.store.get<ActorRecord>('actors', `ivr:${waiting.pbx_call_id}`)?.deadline, null);
  } finally {
    await svc.stop();
  }
});

test.run();
