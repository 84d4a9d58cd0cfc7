/**
 * Shift reminders against the fake 360dialog with a movable clock: at REMINDER_TIME (APP_TIMEZONE)
 * every employee without today's record gets one reminder, a session menu inside the 24-hour window
 * and the approved template outside it; at most once a day, across restarts; "стоп" / "старт".
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buttonReply, listReply, nextMessageId, textMessage } from '../fixtures/whatsapp';
import { JOBS, REMINDER_RUN_KEY, type ReminderRun } from '../server/channels/whatsapp/reminders';
import { ConfigError, readConfig } from '../server/config/config';
import type { ActorRecord } from '../server/engine/types';
import { type EmployeeDoc, getEmployee } from '../storage/attendance';
import { put, remove } from '../storage/store';
import { type FakeD360, type Json, startFakeD360 } from './fakes/d360';
import { buttonIds, Chat } from './helpers/chat';
import { eventually, sleep, startTestService, type TestService, tmpDataDir } from './helpers/service';

const KEY = 'reminders-d360-key';
const SETTLE_MS = 400;
/** Local time in Moscow (UTC+3, the tests' APP_TIMEZONE) on a day of November 2026. */
const at = (day: number, hh: number, mm = 0) => Date.UTC(2026, 10, day, hh - 3, mm);
const MENU = ['FILL_TODAY', 'FILL_PERIOD', 'MY_STATUS'];

const A = '79990000001';
const B = '79990000002';
const C = '79990000003';
const D = '79990000004';

interface Rig {
  fake: FakeD360;
  dataDir: string;
  clock: { now: number };
  svc: TestService;
  start(env?: Record<string, string>): Promise<TestService>;
  chat(waId: string): Chat;
  to(waId: string): Json[];
  run(): ReminderRun | undefined;
  close(): Promise<void>;
}

const WITH_TEMPLATE = { REMINDER_TIME: '18:00', REMINDER_TEMPLATE: 'shift_reminder:ru' };

async function rig(now: number, env: Record<string, string> = WITH_TEMPLATE): Promise<Rig> {
  const fake = await startFakeD360({ apiKey: KEY });
  const dataDir = tmpDataDir();
  const clock = { now };
  const r: Rig = {
    fake,
    dataDir,
    clock,
    svc: undefined as unknown as TestService,
    async start(e = env) {
      r.svc = await startTestService(
        { D360_API_KEY: KEY, D360_BASE_URL: fake.url, ...e },
        { clock: () => clock.now, dataDir },
      );
      return r.svc;
    },
    chat: (waId) => new Chat(r.svc.url, fake, waId),
    to: (waId) => r.chat(waId).replies(),
    run: () => r.svc.store.get<ReminderRun>(JOBS, 'reminders'),
    async close() {
      await r.svc?.stop();
      await fake.close();
    },
  };
  await r.start();
  return r;
}

/** An employee writes "меню" with a profile name (and gets the menu). */
const hello = (r: Rig, waId: string, name: string) =>
  r.chat(waId).send(textMessage({ from: waId, body: 'меню', name, id: nextMessageId() }));

const template = (to: string, name: string) => ({
  messaging_product: 'whatsapp',
  recipient_type: 'individual',
  to,
  type: 'template',
  template: {
    name: 'shift_reminder',
    language: { code: 'ru' },
    components: [{ type: 'body', parameters: [{ type: 'text', text: name }] }],
  },
});

test('at REMINDER_TIME: one reminder for each employee without today’s record; not again after restarts', async () => {
  const r = await rig(at(20, 15));
  try {
    await hello(r, C, 'Катя'); // two days before: her window will be closed
    r.clock.now = at(22, 12);
    await hello(r, A, 'Ана');
    await hello(r, B, 'Борис');
    await r.chat(B).send(buttonReply({ from: B, buttonId: 'FILL_TODAY', name: 'Борис' }));
    await r.chat(B).send(listReply({ from: B, rowId: 'SHIFT_DAY', name: 'Борис' }));
    await hello(r, D, 'Дима');
    const stop = await r.chat(D).say('стоп');
    assert.match(stop.interactive.body.text, /^Напоминания отключены\./);
    const sent = r.fake.sent().length;

    r.clock.now = at(22, 17, 59);
    await sleep(SETTLE_MS);
    assert.is(r.fake.sent().length, sent, 'nothing before REMINDER_TIME');
    assert.is(r.run(), undefined);

    r.clock.now = at(22, 18);
    const run = await eventually(() => r.run(), 5000, 'the run');
    await eventually(() => r.fake.sent().length === sent + 2, 5000, 'two reminders');
    const a = r.to(A).at(-1);
    assert.is(a.type, 'interactive', 'inside the window: a session message');
    assert.is(
      a.interactive.body.text,
      'Напоминание: отметьте смену за сегодня, 22.11.2026.\n\nВыберите действие:',
    );
    assert.equal(buttonIds(a), MENU);
    assert.equal(r.to(C).at(-1), template(C, 'Катя'), 'outside the window: the template, exactly');
    assert.is(r.to(B).length, 3, 'B recorded today: no reminder');
    assert.is(r.to(D).length, 2, 'D stopped reminders');
    assert.equal(
      { ...run, finishedAt: 0 },
      {
        date: '2026-11-22',
        finishedAt: 0,
        session: 1,
        template: 1,
        noTemplate: 0,
        recorded: 1,
        stopped: 1,
        already: 0,
      },
    );

    // A restart the same day sends nothing again.
    await r.svc.stop();
    r.clock.now = at(22, 19);
    await r.start();
    await sleep(SETTLE_MS);
    assert.is(r.fake.sent().length, sent + 2, 'nothing after a restart');

    // Even when the run was cut short before it was stored: the per-employee dedupe keys hold.
    await r.svc.engine.record({ key: REMINDER_RUN_KEY, writes: () => [remove(JOBS, 'reminders')] });
    await r.svc.stop();
    await r.start();
    await eventually(() => r.run()?.already === 2, 5000, 'the run done again');
    await sleep(SETTLE_MS);
    assert.is(r.fake.sent().length, sent + 2, 'still nothing new');

    // The next day: D resumes before REMINDER_TIME; everybody without a record is reminded once more.
    r.clock.now = at(23, 17);
    const start = await r.chat(D).say('старт');
    assert.is(
      start.interactive.body.text,
      'Напоминания включены ✅ Чтобы отключить их, напишите «стоп».\n\nВыберите действие:',
    );
    r.clock.now = at(23, 18, 30);
    await eventually(() => r.run()?.date === '2026-11-23', 5000, 'the next day’s run');
    // two reminders yesterday, D's confirmation, four reminders today
    await eventually(() => r.fake.sent().length === sent + 2 + 1 + 4, 5000, 'four reminders');
    assert.equal(r.to(A).at(-1), template(A, 'Ана'), 'A’s window closed by now');
    assert.equal(r.to(B).at(-1), template(B, 'Борис'));
    assert.equal(r.to(C).at(-1), template(C, 'Катя'));
    assert.match(
      r.to(D).at(-1).interactive.body.text,
      /^Напоминание: отметьте смену за сегодня, 23\.11\.2026\./,
    );
  } finally {
    await r.close();
  }
});

test('no REMINDER_TEMPLATE: outside the window nothing is sent, counted and logged', async () => {
  const r = await rig(at(20, 10), { REMINDER_TIME: '09:30' });
  try {
    await hello(r, C, 'Катя');
    r.clock.now = at(22, 9);
    await hello(r, A, 'Ана');
    const sent = r.fake.sent().length;
    r.clock.now = at(22, 9, 30);
    const run = await eventually(() => r.run()?.date === '2026-11-22' && r.run(), 5000, 'the run');
    await eventually(() => r.fake.sent().length === sent + 1, 5000, 'A’s reminder');
    await sleep(SETTLE_MS);
    assert.is(r.fake.sent().length, sent + 1, 'nothing for C');
    assert.is(run.session, 1);
    assert.is(run.noTemplate, 1);
    assert.is(run.template, 0);
    assert.ok(r.svc.logs.some((l) => l.includes('reminder not sent') && l.includes('REMINDER_TEMPLATE')));
    assert.ok(r.svc.logs.some((l) => l.includes('got no reminder') && l.includes('count=1')));
  } finally {
    await r.close();
  }
});

test('down at REMINDER_TIME, started later that day: reminds once', async () => {
  const r = await rig(at(22, 8), {}); // reminders off
  try {
    await hello(r, A, 'Ана');
    await sleep(SETTLE_MS);
    const sent = r.fake.sent().length;
    await r.svc.stop();

    r.clock.now = at(22, 20);
    await r.start(WITH_TEMPLATE);
    await eventually(() => r.fake.sent().length === sent + 1, 5000, 'the late reminder');
    assert.match(
      r.to(A).at(-1).interactive.body.text,
      /^Напоминание: отметьте смену за сегодня, 22\.11\.2026\./,
    );
    await r.svc.stop();
    r.clock.now = at(22, 21);
    await r.start(WITH_TEMPLATE);
    await sleep(SETTLE_MS);
    assert.is(r.fake.sent().length, sent + 1, 'once');

    // The next morning, before REMINDER_TIME: nothing yet.
    r.clock.now = at(23, 7);
    await sleep(SETTLE_MS);
    assert.is(r.fake.sent().length, sent + 1);
  } finally {
    await r.close();
  }
});

/** The employee's dialog as an older bot stored it: its next event restarts the dialog ("Бот обновился"). */
async function storedByOlderBot(r: Rig, waId: string): Promise<void> {
  const key = `wa:${waId}`;
  const actor = r.svc.store.get<ActorRecord>('actors', key) as ActorRecord;
  await r.svc.store.commit(key, [
    put('actors', key, { ...actor, version: 0, snapshot: { value: 'old', context: {} } }),
  ]);
}

test('a dialog reset by an upgrade: the notice comes with the next message the employee reads, once', async () => {
  const r = await rig(at(20, 15));
  try {
    await hello(r, C, 'Катя'); // her window will be closed at the reminder
    r.clock.now = at(22, 12);
    await hello(r, A, 'Ана');
    await storedByOlderBot(r, A);
    await storedByOlderBot(r, C);
    const sent = r.fake.sent().length;

    r.clock.now = at(22, 18);
    await eventually(() => r.fake.sent().length === sent + 2, 5000, 'two reminders');
    assert.is(
      r.to(A).at(-1).interactive.body.text,
      'Бот обновился, начнём сначала.\n\nНапоминание: отметьте смену за сегодня, 22.11.2026.\n\nВыберите действие:',
      'the reminder is the next message A reads: it carries the notice',
    );
    assert.equal(r.to(C).at(-1), template(C, 'Катя'), 'the approved template stays as it is');

    const a = await r.chat(A).say('меню');
    assert.is(a.interactive.body.text, 'Выберите действие:', 'told once');
    const c = await r.chat(C).say('меню');
    assert.is(
      c.interactive.body.text,
      'Бот обновился, начнём сначала.\n\nВыберите действие:',
      'C’s next session message carries it',
    );
    const again = await r.chat(C).say('меню');
    assert.is(again.interactive.body.text, 'Выберите действие:', 'told once');
  } finally {
    await r.close();
  }
});

test('"стоп" stops and "старт" resumes (from any step), both confirm with the menu; "меню" stays the menu', async () => {
  const r = await rig(at(22, 10));
  try {
    const c = r.chat(A);
    const stop = await c.say('Стоп');
    assert.is(
      stop.interactive.body.text,
      'Напоминания отключены. Чтобы снова их получать, напишите «старт».\n\nВыберите действие:',
    );
    assert.equal(buttonIds(stop), MENU);
    assert.is(getEmployee(r.svc.store, A)?.remindersStopped, true);

    await c.send(buttonReply({ from: A, buttonId: 'FILL_PERIOD' }));
    const start = await c.say('старт');
    assert.is(
      start.interactive.body.text,
      'Напоминания включены ✅ Чтобы отключить их, напишите «стоп».\n\nВыберите действие:',
    );
    assert.is(getEmployee(r.svc.store, A)?.remindersStopped, false);
    const menu = await c.say('меню');
    assert.is(menu.interactive.body.text, 'Выберите действие:');
    assert.is((getEmployee(r.svc.store, A) as EmployeeDoc).remindersStopped, false);
  } finally {
    await r.close();
  }
});

test('settings: REMINDER_TIME, REMINDER_TEMPLATE and ZADARMA_BALANCE_ALERT are checked', () => {
  const env = { MODE: 'dev', APP_TIMEZONE: 'Europe/Moscow' };
  const bad = (extra: Record<string, string>, name: string) => {
    try {
      readConfig({ ...env, ...extra });
    } catch (e) {
      assert.instance(e, ConfigError);
      assert.match((e as Error).message, name);
      return;
    }
    assert.unreachable(`${name} accepted`);
  };
  for (const v of ['25:00', '18:60', '6pm', '18.00']) bad({ REMINDER_TIME: v }, 'REMINDER_TIME');
  for (const v of ['shift reminder', 'shift_reminder', 'shift_reminder:', ':ru'])
    bad({ REMINDER_TEMPLATE: v }, 'REMINDER_TEMPLATE');
  for (const v of ['five', '-1', '5 USD']) bad({ ZADARMA_BALANCE_ALERT: v }, 'ZADARMA_BALANCE_ALERT');
  const ok = readConfig({
    ...env,
    REMINDER_TIME: '7:05',
    REMINDER_TEMPLATE: 'shift_reminder:pt_BR',
    ZADARMA_BALANCE_ALERT: '2.5',
  });
  assert.equal(ok.reminders, {
    time: { hour: 7, minute: 5 },
    template: { name: 'shift_reminder', language: 'pt_BR' },
  });
  assert.is(ok.zadarma.balanceAlert, 2.5);
  assert.equal(readConfig(env).reminders, {}, 'off when unset');
});

test.run();
