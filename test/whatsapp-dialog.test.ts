import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buttonReply } from '../fixtures/whatsapp';
import { WHATSAPP_MACHINE } from '../server/channels/whatsapp/channel';
import type { ActorRecord } from '../server/engine/types';
import { getEmployee } from '../storage/attendance';
import { put } from '../storage/store';
import { type FakeD360, startFakeD360 } from './fakes/d360';
import { bodyText, buttonIds, Chat, rowIds } from './helpers/chat';
import { eventually, sleep, startTestService, type TestService } from './helpers/service';

// 2026-11-22 12:00 in Moscow.
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const KEY = 'test-key-dialog';

interface Ctx {
  fake: FakeD360;
  svc: TestService;
  now: number;
  n: number;
}

const test = suite<Ctx>('whatsapp dialog');

test.before(async (ctx) => {
  ctx.now = T0;
  ctx.n = 0;
  ctx.fake = await startFakeD360({ apiKey: KEY });
  ctx.svc = await startTestService(
    { D360_API_KEY: KEY, D360_BASE_URL: ctx.fake.url },
    { clock: () => ctx.now },
  );
});

test.after(async (ctx) => {
  await ctx.svc.stop();
  await ctx.fake.close();
});

const user = (ctx: Ctx) => new Chat(ctx.svc.url, ctx.fake, `7999000${String(++ctx.n).padStart(4, '0')}`);

test('any first message gets the menu as three reply buttons', async (ctx) => {
  for (const text of ['меню', 'start', 'привет']) {
    const m = await user(ctx).say(text);
    assert.is(m.type, 'interactive');
    assert.is(m.interactive.type, 'button');
    assert.equal(buttonIds(m), ['FILL_TODAY', 'FILL_PERIOD', 'MY_STATUS']);
    assert.equal(
      m.interactive.action.buttons.map((b: { reply: { title: string } }) => b.reply.title),
      ['Заполнить за сегодня', 'Заполнить за период', 'Мой статус'],
    );
  }
});

test('today: the shift list, then "Смена записана ✅" with the date; again replaces and says so', async (ctx) => {
  const u = user(ctx);
  await u.say('меню');
  const list = await u.tap('FILL_TODAY');
  assert.is(list.interactive.type, 'list');
  assert.equal(rowIds(list), ['SHIFT_DAY', 'SHIFT_NIGHT', 'SHIFT_OFF']);
  assert.match(bodyText(list), '22.11.2026');
  const done = await u.pick('SHIFT_NIGHT');
  assert.match(bodyText(done), 'Смена записана ✅');
  assert.match(bodyText(done), '22.11.2026 — Ночная');
  assert.not.match(bodyText(done), 'заменена');
  assert.equal(getEmployee(ctx.svc.store, u.waId)?.days['2026-11-22']?.shift, 'night');

  await u.tap('FILL_TODAY');
  const again = await u.pick('SHIFT_DAY');
  assert.match(bodyText(again), '22.11.2026 — Дневная');
  assert.match(bodyText(again), 'Прежняя запись за этот день заменена');
  const days = getEmployee(ctx.svc.store, u.waId)?.days ?? {};
  assert.equal(Object.keys(days), ['2026-11-22']);
  assert.is(days['2026-11-22']?.shift, 'day');
});

test('period: dates, then the list, then one record per day and a confirmation with the count', async (ctx) => {
  const u = user(ctx);
  const ask = await u.tap('FILL_PERIOD');
  assert.is(ask.type, 'text');
  assert.match(bodyText(ask), '01.11-07.11');
  const list = await u.say('01.11 – 07.11');
  assert.is(list.interactive.type, 'list');
  assert.match(bodyText(list), 'с 01.11.2026 по 07.11.2026 (7 дней)');
  const done = await u.pick('SHIFT_OFF');
  assert.match(bodyText(done), 'Смена записана ✅');
  assert.match(bodyText(done), '01.11.2026 — 07.11.2026 (7 дней): Выходной');
  const days = getEmployee(ctx.svc.store, u.waId)?.days ?? {};
  assert.is(Object.keys(days).length, 7);
  assert.ok(Object.values(days).every((d) => d.shift === 'off'));
  assert.is(getEmployee(ctx.svc.store, u.waId)?.name, 'Test Name');
});

test('period across New Year and with explicit years', async (ctx) => {
  const u = user(ctx);
  await u.tap('FILL_PERIOD');
  const list = await u.say('28.12.2026—03.01.2027');
  assert.match(bodyText(list), 'с 28.12.2026 по 03.01.2027 (7 дней)');
  await u.pick('SHIFT_DAY');
  const days = Object.keys(getEmployee(ctx.svc.store, u.waId)?.days ?? {}).sort();
  assert.equal(days, [
    '2026-12-28',
    '2026-12-29',
    '2026-12-30',
    '2026-12-31',
    '2027-01-01',
    '2027-01-02',
    '2027-01-03',
  ]);
});

test('bad periods get a Russian explanation with an example, and the step stays', async (ctx) => {
  const u = user(ctx);
  await u.tap('FILL_PERIOD');
  const cases: Array<[string, string]> = [
    ['завтра', 'Не понял даты'],
    ['31.02', 'Такой даты нет'],
    ['07.11.2026-01.11.2026', 'раньше даты начала'],
    ['01.10-15.11', 'длиннее 31 дня'],
  ];
  for (const [input, expected] of cases) {
    const m = await u.say(input);
    assert.is(m.type, 'text', input);
    assert.match(bodyText(m), expected);
    assert.match(bodyText(m), /\d\d\.\d\d-\d\d\.\d\d/, `${input}: an example`);
  }
  const list = await u.say('05.11');
  assert.match(bodyText(list), 'Какая у вас смена 05.11.2026?');
});

test('status: friendly when empty, then the last 3 newest first', async (ctx) => {
  const u = user(ctx);
  const empty = await u.tap('MY_STATUS');
  assert.match(bodyText(empty), 'пока нет записей');
  assert.equal(buttonIds(empty), ['FILL_TODAY', 'FILL_PERIOD', 'MY_STATUS']);
  await u.tap('FILL_PERIOD');
  await u.say('10.11-13.11');
  await u.pick('SHIFT_NIGHT');
  await u.tap('FILL_TODAY');
  await u.pick('SHIFT_DAY');
  const status = await u.tap('MY_STATUS');
  const lines = bodyText(status)
    .split('\n')
    .filter((l: string) => /^\d\d\.\d\d\.\d{4} — /.test(l));
  assert.equal(lines, ['22.11.2026 — Дневная', '13.11.2026 — Ночная', '12.11.2026 — Ночная']);
});

test('"меню", "отмена", "cancel" return to the menu from any step', async (ctx) => {
  for (const word of ['меню', 'отмена', 'cancel', 'Отмена ']) {
    const u = user(ctx);
    await u.tap('FILL_PERIOD');
    const m = await u.say(word);
    assert.is(m.interactive?.type, 'button', word);
    await u.tap('FILL_TODAY');
    const m2 = await u.say(word);
    assert.is(m2.interactive?.type, 'button', word);
    // Back in the menu, a date is just text: it does not record anything.
    await u.say('01.11');
    assert.is(Object.keys(getEmployee(ctx.svc.store, u.waId)?.days ?? {}).length, 0);
  }
});

test('in the shift step, a typed shift name records and other text re-asks with a hint', async (ctx) => {
  const u = user(ctx);
  await u.tap('FILL_TODAY');
  const hint = await u.say('не знаю');
  assert.is(hint.interactive.type, 'list');
  assert.match(bodyText(hint), 'выберите смену из списка');
  const done = await u.say('Ночная');
  assert.match(bodyText(done), 'Смена записана ✅');
});

test('unsupported types get a hint in the menu body; nothing else is sent', async (ctx) => {
  const u = user(ctx);
  await u.tap('FILL_PERIOD');
  const m = await u.media('image');
  assert.is(m.interactive.type, 'button');
  assert.match(bodyText(m), 'понимаю только текст и кнопки');
  const s = await u.media('sticker');
  assert.match(bodyText(s), 'понимаю только текст и кнопки');
  await sleep(150);
  assert.is(u.replies().length, 3);
});

test('buttons from an old menu still work, also after the dialog expired', async (ctx) => {
  const u = user(ctx);
  await u.say('меню');
  ctx.now += 31 * 60_000;
  const list = await u.tap('FILL_TODAY');
  assert.is(list.interactive.type, 'list');
  // An old list tapped from the menu step records for today, as the old bot did.
  await u.say('меню');
  const done = await u.pick('SHIFT_OFF');
  assert.match(bodyText(done), '22.11.2026 — Выходной');
  const unknown = await u.tap('SOMETHING_OLD');
  assert.match(bodyText(unknown), 'кнопка устарела');
});

test('a dialog idle over 30 minutes starts fresh: the sweeper ends it, the next message gets the menu', async (ctx) => {
  const u = user(ctx);
  await u.tap('FILL_PERIOD');
  const key = `wa:${u.waId}`;
  assert.is(ctx.svc.store.get<ActorRecord>('actors', key)?.state, 'active.askingPeriod');
  ctx.now += 30 * 60_000 + 1;
  await eventually(
    () => ctx.svc.store.get<ActorRecord>('actors', key)?.state === 'idle',
    3000,
    'the sweeper',
  );
  const m = await u.say('01.11-02.11');
  assert.is(m.interactive.type, 'button', 'dates after expiry are not taken as a period');
  assert.is(Object.keys(getEmployee(ctx.svc.store, u.waId)?.days ?? {}).length, 0);
});

test('each message gets exactly one reply (a whole dialog, counted)', async (ctx) => {
  const u = user(ctx);
  const steps = [
    () => u.say('меню'),
    () => u.tap('FILL_PERIOD'),
    () => u.say('xx'),
    () => u.say('01.11-03.11'),
    () => u.say('?'),
    () => u.pick('SHIFT_DAY'),
    () => u.tap('MY_STATUS'),
    () => u.media('image'),
  ];
  for (const step of steps) await step();
  await sleep(200);
  assert.is(u.replies().length, steps.length);
});

/** A stored dialog of a machine version no migration reaches: the next message resets it politely. */
function storeUnresumable(ctx: Ctx, waId: string) {
  const key = `wa:${waId}`;
  return ctx.svc.store.commit(key, [
    put('actors', key, {
      key,
      machine: WHATSAPP_MACHINE,
      version: 0,
      snapshot: { value: 'someOldState', context: { foo: 1 } },
      deadline: null,
      state: 'someOldState',
      lastEvent: 'TEXT',
      updatedAt: 0,
      history: [],
    }),
  ]);
}

test('an incompatible stored snapshot resets the dialog politely', async (ctx) => {
  const u = user(ctx);
  await storeUnresumable(ctx, u.waId);
  const m = await u.send(buttonReply({ from: u.waId, buttonId: 'FILL_TODAY' }));
  assert.is(m.interactive.type, 'list', 'the tapped button still does its job');
  assert.match(bodyText(m), 'Бот обновился');
  assert.ok(ctx.svc.logs.some((l) => l.includes('another machine version')));
  const next = await u.pick('SHIFT_DAY');
  assert.not.match(bodyText(next), 'Бот обновился');
});

test('"стоп" or "старт" as the first message after a reset carries the "Бот обновился" notice', async (ctx) => {
  for (const word of ['стоп', 'старт']) {
    const u = user(ctx);
    await storeUnresumable(ctx, u.waId);
    const m = await u.say(word);
    assert.match(bodyText(m), 'Бот обновился', word);
    assert.not.match(bodyText(await u.say('меню')), 'Бот обновился', `${word}: shown once`);
  }
});

test.run();
