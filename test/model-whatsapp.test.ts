import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DIALOG_TTL_MS, type RecordShiftParams } from '../machines/whatsapp-menu';
import { stateLabel } from '../server/engine/engine';
import type { ActorRecord } from '../server/engine/types';
import { getEmployee } from '../storage/attendance';
import { type FakeD360, startFakeD360 } from './fakes/d360';
import { Chat } from './helpers/chat';
import {
  describePath,
  generatePaths,
  MODELS,
  NOW,
  type Path,
  replay,
  sentSteps,
  uniquePaths,
} from './helpers/model';
import { eventually, startTestService, type TestService } from './helpers/service';

/**
 * Model-based test of the WhatsApp dialog against the running server: every generated path (shortest
 * paths and simple paths to every state; the dialog has no final state) is played by its own employee
 * through `POST /webhook`, with the fake 360dialog taking the replies. Each step must get its one
 * reply, the stored actor must record the same transition as the pure machine, and a shift the
 * machine records must be in the employee's attendance.
 */
const KEY = 'model-d360-key';
const CONCURRENCY = 6;
const model = MODELS['whatsapp-menu'];

interface Ctx {
  fake: FakeD360;
  svc: TestService;
  now: number;
  users: number;
}

const test = suite<Ctx>('model-based: whatsapp-menu on the server');

test.before(async (ctx) => {
  ctx.now = NOW;
  ctx.users = 0;
  ctx.fake = await startFakeD360({ apiKey: KEY });
  ctx.svc = await startTestService(
    { D360_API_KEY: KEY, D360_BASE_URL: ctx.fake.url, APP_TIMEZONE: 'Europe/Moscow' },
    { clock: () => ctx.now },
  );
});

test.after(async (ctx) => {
  await ctx.svc.stop();
  await ctx.fake.close();
});

async function runPath(ctx: Ctx, path: Path): Promise<void> {
  const expected = replay(model, path);
  const chat = new Chat(ctx.svc.url, ctx.fake, `7990${String(++ctx.users).padStart(7, '0')}`);
  const key = `wa:${chat.waId}`;
  const where = (i: number) => `${describePath(path)}, step ${i + 1}`;
  for (const [i, step] of sentSteps(path).entries()) {
    const e = step.event;
    if (e.type === 'TEXT') await chat.say(e.text);
    else if (e.type === 'BUTTON') await chat.tap(e.id);
    else if (e.type === 'LIST') await chat.pick(e.id);
    else if (e.type === 'UNSUPPORTED') await chat.media('image');
    else if (e.type === 'TIMEOUT')
      ctx.now += DIALOG_TTL_MS + 1000; // the sweeper sends it
    else throw new Error(`no way to send ${e.type} through the webhook`);
    const record = await eventually(
      () => {
        const a = ctx.svc.store.get<ActorRecord>('actors', key);
        return a && a.history.length > i ? a : undefined;
      },
      5000,
      `${where(i)} to be committed`,
    );
    const h = record.history[i];
    assert.is(h?.event, e.type, where(i));
    assert.is(h?.to, stateLabel(step.state), where(i));
    for (const a of expected[i]?.actions ?? []) {
      if (a.type !== 'recordShift') continue;
      const { dates, shift } = a.params as RecordShiftParams;
      const days = getEmployee(ctx.svc.store, chat.waId)?.days ?? {};
      for (const d of dates) assert.is(days[d]?.shift, shift, `${where(i)}: ${d} recorded`);
    }
  }
  const final = ctx.svc.store.get<ActorRecord>('actors', key);
  assert.is(final?.state ?? 'idle', stateLabel(path.state), describePath(path));
  // Exactly one reply per message sent.
  const messages = sentSteps(path).filter((s) => s.event.type !== 'TIMEOUT').length;
  assert.is(chat.replies().length, messages, `${describePath(path)}: one reply per message`);
}

test('every path to every state, through the webhook', async (ctx) => {
  const { shortest, simple } = generatePaths(model);
  // REMIND comes from the server's daily job, not a webhook (test/reminders.test.ts plays it).
  const paths = uniquePaths([...shortest, ...simple]).filter(
    (p) => !sentSteps(p).some((s) => s.event.type === 'REMIND'),
  );
  // Paths with a TIMEOUT move the shared clock, so they run alone, after the others.
  const timed = paths.filter((p) => sentSteps(p).some((s) => s.event.type === 'TIMEOUT'));
  const queue = paths.filter((p) => !timed.includes(p));
  let run = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        await runPath(ctx, p);
        run++;
      }
    }),
  );
  for (const p of timed) {
    await runPath(ctx, p);
    run++;
  }
  process.stdout.write(
    `model ${model.name}: ${shortest.length} shortest + ${simple.length} simple paths generated; ${run} distinct paths run on the server in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  assert.ok(run > 0);
  assert.is(run, paths.length);
});

test.run();
