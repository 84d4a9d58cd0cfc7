/**
 * The gate bot's Telegram side end to end: the REAL service long-polls the fake Bot API (and, in one
 * test, takes POST /telegram/webhook); who is authorised, the contact check, admins' commands,
 * CLIENTS_FILE, /help, /status and /stats. Gate calls go to the fake Zadarma.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandUpdate } from '../fixtures/telegram';
import type { SentItem } from './fakes/telegram';
import { openGate, RELAY, runCall, SUPPORT, startRig, type TgUser } from './helpers/gate-harness';
import { http, sleep, tmpDataDir } from './helpers/service';

const ADMIN = 9001;
const MEMBER = 5001;
/** Long enough for a stray message or request to show up (the outbox retries every 30 ms). */
const SETTLE_MS = 400;

const DENIED = '❌ Доступ заборонено! Спочатку авторизуйтеся через /start';
const ADMIN_ONLY = '❌ Ця команда доступна тільки адміністратору';

const isContactKeyboard = (m: SentItem) => {
  const rm = m.reply_markup;
  const button = rm?.keyboard?.[0]?.[0];
  return (
    button?.request_contact === true &&
    button.text === '📱 Поділитися номером' &&
    rm.one_time_keyboard === true
  );
};
const gateButtons = (m: SentItem): string[] =>
  (m.reply_markup?.inline_keyboard ?? [])
    .flat()
    .map((b: { callback_data?: string }) => String(b.callback_data));

/** The contact answer: authorised (welcome) or refused. */
const ACCEPTED = (name: string) =>
  new RegExp(`^🎉 Вітаємо, ${name}!\\n\\n✅ Ви авторизовані в системі ЖК Тест`);
const REFUSED = /^⚠️ Доступ обмежено, .+!\n\n❌ Ваш номер не зареєстровано в системі ЖК Тест/;

/** /hvirtka from a user who must be denied: the exact text and not one request to Zadarma. */
async function assertDenied(user: TgUser, requests: () => number, how = '/hvirtka'): Promise<void> {
  const before = requests();
  const reply = how.startsWith('gate:') ? await user.tap(how) : await user.command(how);
  assert.is(reply.text, DENIED, `${user.id} ${how}`);
  await sleep(SETTLE_MS);
  assert.is(requests(), before, `${user.id} ${how}: no request to Zadarma`);
  assert.is(user.messages().at(-1)?.text, DENIED, 'nothing after the refusal');
}

test('/start: a guest is not authorised and gets the one-time contact button; setMyCommands without /call', async () => {
  const rig = await startRig({ TELEGRAM_ADMIN_IDS: String(ADMIN) });
  try {
    const commands = rig.tg.commands().map((c) => c.command);
    assert.equal(commands, ['start', 'hvirtka', 'vorota', 'status', 'help']);
    assert.ok(
      rig.tg.commands().every((c) => c.description.length > 0),
      'every command has a description',
    );
    const guest = rig.user(6001, 'Олена');
    const reply = await guest.command('/start');
    assert.match(String(reply.text), /^👋 Вітаємо, Олена!\n\n❌ Ви не авторизовані в системі ЖК Тест/);
    assert.ok(isContactKeyboard(reply), `contact keyboard: ${JSON.stringify(reply.reply_markup)}`);
    assert.is(reply.reply_markup?.keyboard?.flat().length, 1, 'one button');
    assert.is(reply.reply_markup?.inline_keyboard, undefined, 'no gate buttons for a guest');
    assert.is(guest.messages().length, 1, 'one reply');
    assert.is(rig.zd.requests.length, 0);
  } finally {
    await rig.stop();
  }
});

test('/start: an admin and an allowed user id get the welcome with both gate buttons; with SUPPORT_PHONE /call is registered', async () => {
  const rig = await startRig({
    TELEGRAM_ADMIN_IDS: String(ADMIN),
    TELEGRAM_ALLOWED_USERS: String(MEMBER),
    SUPPORT_PHONE: SUPPORT,
  });
  try {
    assert.equal(
      rig.tg.commands().map((c) => c.command),
      ['start', 'hvirtka', 'vorota', 'status', 'help', 'call'],
    );
    for (const [id, name, admin] of [
      [ADMIN, 'Адмін', true],
      [MEMBER, 'Петро', false],
    ] as const) {
      const reply = await rig.user(id, name).command('/start');
      const text = String(reply.text);
      assert.match(text, new RegExp(`^🎉 Вітаємо, ${name}!\\n\\n✅ Ви авторизовані в системі ЖК Тест`));
      for (const cmd of ['/hvirtka', '/vorota', '/status', '/help', '/call'])
        assert.ok(text.includes(cmd), `${name}: lists ${cmd}`);
      assert.is(text.includes('/allow'), admin, `${name}: admin commands only for admins`);
      assert.equal(gateButtons(reply), ['gate:hvirtka', 'gate:vorota']);
    }
    // /call answers with the support phone.
    const call = await rig.user(MEMBER).command('/call');
    assert.is(call.text, `📞 Телефон: ${SUPPORT}`);
  } finally {
    await rig.stop();
  }
});

test('contact: the own card with an allowed phone in any spelling authorises', async () => {
  const rig = await startRig({
    ALLOWED_PHONES: '+380 50 111-22-33, 0671234567',
    GATE_COOLDOWN_S: '0',
  });
  try {
    const spellings = [
      '380501112233',
      '+380501112233',
      '0501112233',
      '+38 (050) 111-22-33',
      '050-111-22-33',
      '380 67 123 45 67',
    ];
    for (const [i, phone] of spellings.entries()) {
      const user = rig.user(6100 + i, `Юзер${i}`);
      assert.is(user.texts().length, 0);
      const reply = await user.contact(phone);
      assert.match(String(reply.text), ACCEPTED(`Юзер${i}`), `spelling ${phone}`);
      assert.is(reply.reply_markup?.remove_keyboard, true, 'the contact keyboard is removed');
      // Really authorised: /start now welcomes a member, and a gate opens.
      const start = await user.command('/start');
      assert.equal(gateButtons(start), ['gate:hvirtka', 'gate:vorota'], `spelling ${phone}`);
    }
    const first = rig.user(6100, 'Юзер0');
    await openGate(first, rig.zd, 'hvirtka');
    assert.is(rig.zd.callbacks()[0]?.to, RELAY.hvirtka);
  } finally {
    await rig.stop();
  }
});

test('contact: a forwarded card is refused politely and does not authorise; an unknown phone is refused with the support phone', async () => {
  const rig = await startRig({ ALLOWED_PHONES: '0501112233', SUPPORT_PHONE: SUPPORT });
  try {
    const requests = () => rig.zd.requests.length;
    // Someone else's card with an allowed number (contact.user_id ≠ sender), and a card without user_id.
    for (const [id, cardOwner] of [
      [6201, 6299],
      [6202, null],
    ] as const) {
      const user = rig.user(id, 'Чужий');
      const reply = await user.contact('+380501112233', cardOwner);
      assert.match(String(reply.text), /^⚠️ Можна поділитися лише власним номером/);
      assert.ok(isContactKeyboard(reply), 'offers the button again');
      await assertDenied(user, requests);
      const start = await user.command('/start');
      assert.match(String(start.text), /не авторизовані/);
    }

    const stranger = rig.user(6203, 'Незнайомець');
    const refused = await stranger.contact('+380 99 000 00 01');
    assert.match(String(refused.text), REFUSED);
    assert.ok(
      String(refused.text).endsWith(`📞 Для реєстрації зверніться: ${SUPPORT}`),
      `support phone: ${refused.text}`,
    );
    await assertDenied(stranger, requests);
    assert.is(requests(), 0, 'zero requests to Zadarma in all');
  } finally {
    await rig.stop();
  }
});

test('unauthorised /hvirtka, /vorota and the inline buttons: "Доступ заборонено", zero callback requests', async () => {
  const rig = await startRig({ TELEGRAM_ALLOWED_USERS: String(MEMBER) });
  try {
    const guest = rig.user(6301);
    const requests = () => rig.zd.requests.length;
    await assertDenied(guest, requests, '/hvirtka');
    await assertDenied(guest, requests, '/vorota');
    await assertDenied(guest, requests, 'gate:hvirtka');
    await assertDenied(guest, requests, 'gate:vorota');
    assert.is(rig.tg.calls('answerCallbackQuery').length, 2, 'taps are acknowledged even when denied');
    assert.is(requests(), 0);
    assert.is(rig.calls().length, 0, 'no call recorded');
    // The control: an allowed user with the same command does reach Zadarma.
    await openGate(rig.user(MEMBER), rig.zd, 'hvirtka');
    assert.is(requests(), 1);
  } finally {
    await rig.stop();
  }
});

test('admin /allow and /revoke take effect on the next command without a restart; non-admins are refused', async () => {
  const rig = await startRig({
    TELEGRAM_ADMIN_IDS: String(ADMIN),
    TELEGRAM_ALLOWED_USERS: String(MEMBER),
    ALLOWED_PHONES: '0671112233',
    GATE_COOLDOWN_S: '0',
  });
  try {
    const admin = rig.user(ADMIN, 'Адмін');
    const member = rig.user(MEMBER, 'Член');
    const requests = () => rig.zd.requests.length;

    // Before: refused.
    const early = rig.user(6401, 'Рання');
    assert.match(String((await early.contact('380501234567')).text), REFUSED);

    assert.is((await admin.command('/allow 0501234567')).text, '✅ Номер +380501234567 дозволено.');
    const user = rig.user(6402, 'Іра');
    assert.match(String((await user.contact('+380501234567')).text), ACCEPTED('Іра'));
    const opened = await runCall(rig, user, 'hvirtka', 'cancel', 2);
    assert.is(opened.text, '✅ Хвіртка відчинено!');
    const callbacks = rig.zd.callbacks().length;

    assert.is(
      (await admin.command('/revoke +380 50 123-45-67')).text,
      '🚫 Номер +380501234567 заборонено. Діє з наступної команди.',
    );
    await assertDenied(user, requests);
    assert.is(rig.zd.callbacks().length, callbacks);
    // Sharing the contact again does not get round the revocation.
    assert.match(String((await user.contact('380501234567')).text), REFUSED);
    await assertDenied(user, requests, 'gate:vorota');

    // A revocation also overrides ALLOWED_PHONES.
    const listed = rig.user(6403, 'Зі списку');
    assert.match(String((await listed.contact('0671112233')).text), ACCEPTED('Зі списку'));
    await admin.command('/revoke 0671112233');
    await assertDenied(listed, requests);
    // …and /allow brings it back.
    await admin.command('/allow 0671112233');
    await openGate(listed, rig.zd, 'vorota');

    // Non-admins (even allowed members) cannot manage access or see stats.
    assert.is((await member.command('/allow 0509998877')).text, ADMIN_ONLY);
    assert.is((await member.command('/revoke 0671112233')).text, ADMIN_ONLY);
    assert.is((await member.command('/stats')).text, ADMIN_ONLY);
    assert.is((await rig.user(6404).command('/allow 0509998877')).text, ADMIN_ONLY);
    assert.match(String((await rig.user(6405, 'Спроба').contact('0509998877')).text), REFUSED);
    await assertDenied(rig.user(6405), requests);
    // The member's /revoke changed nothing.
    await sleep(SETTLE_MS);
    const listedReply = await listed.command('/start');
    assert.equal(gateButtons(listedReply), ['gate:hvirtka', 'gate:vorota']);

    // An /allow without a phone is explained.
    assert.match(String((await admin.command('/allow')).text), /^❌ Вкажіть номер телефону/);
    assert.match(String((await admin.command('/allow нема')).text), /^❌ Вкажіть номер телефону/);
  } finally {
    await rig.stop();
  }
});

test('CLIENTS_FILE allows its phones; adding and removing lines takes effect without a restart', async () => {
  const dir = tmpDataDir();
  const file = join(dir, 'clients.csv');
  writeFileSync(file, 'phone,name\n+380 67 555 44 33,Іван Петренко\n');
  const rig = await startRig({ CLIENTS_FILE: file, GATE_COOLDOWN_S: '0' });
  try {
    const requests = () => rig.zd.requests.length;
    const ivan = rig.user(6501, 'Іван');
    const maria = rig.user(6502, 'Марія');
    assert.match(String((await ivan.contact('380675554433')).text), ACCEPTED('Іван'));
    assert.match(String((await maria.contact('0682223344')).text), REFUSED);
    assert.is((await runCall(rig, ivan, 'hvirtka', 'cancel', 1)).text, '✅ Хвіртка відчинено!');

    // Ivan removed, Maria added (quoted name, Windows line ends).
    writeFileSync(file, 'phone,name\r\n"0682223344","Марія Іваненко"\r\n');
    await assertDenied(ivan, requests);
    assert.match(String((await maria.contact('+380682223344')).text), ACCEPTED('Марія'));
    await openGate(maria, rig.zd, 'vorota');

    // Ivan back: allowed again, with no new contact needed.
    writeFileSync(file, 'phone,name\n"0682223344","Марія Іваненко"\n0675554433,Іван\n');
    const start = await ivan.command('/start');
    assert.equal(gateButtons(start), ['gate:hvirtka', 'gate:vorota']);
  } finally {
    await rig.stop();
  }
});

/** `label: n` lines of one /stats section as a map. */
function statSection(text: string, title: string): Record<string, number> {
  const part = text.split(`${title}\n`)[1]?.split('\n\n')[0] ?? '';
  const out: Record<string, number> = {};
  for (const line of part.split('\n')) {
    const m = /^(.+): (\d+)$/.exec(line);
    if (m?.[1] && m[2]) out[m[1]] = Number(m[2]);
  }
  return out;
}

test('/stats: calls per outcome over the last 24 h and 7 days, admins only', async () => {
  const rig = await startRig({
    TELEGRAM_ADMIN_IDS: String(ADMIN),
    TELEGRAM_ALLOWED_USERS: String(MEMBER),
    GATE_COOLDOWN_S: '0',
  });
  try {
    const admin = rig.user(ADMIN, 'Адмін');
    const member = rig.user(MEMBER);
    const empty = await admin.command('/stats');
    assert.is(empty.text, '📈 Відкриття\n\nЗа 24 години:\n— немає\n\nЗа 7 днів:\n— немає');

    await runCall(rig, member, 'hvirtka', 'cancel', 0); // noAnswer, 8 days ago
    rig.clock.advance(5 * 86_400_000);
    await runCall(rig, member, 'vorota', 'cancel', 2); // opened, 3 days ago
    await runCall(rig, admin, 'hvirtka', 'failed', 0); // failed, 3 days ago
    rig.clock.advance(3 * 86_400_000 - 3600_000);
    await runCall(rig, member, 'hvirtka', 'cancel', 3); // opened, 1 h ago
    await runCall(rig, admin, 'vorota', 'busy', 0); // busy, 1 h ago
    rig.clock.advance(3600_000);

    const text = String((await admin.command('/stats')).text);
    assert.match(text, /^📈 Відкриття\n\nЗа 24 години:\n/);
    assert.equal(statSection(text, 'За 24 години:'), { '✅ відчинено': 1, '❌ зайнято': 1 });
    assert.equal(statSection(text, 'За 7 днів:'), {
      '✅ відчинено': 2,
      '❌ зайнято': 1,
      '❌ не вдалося': 1,
    });
    assert.ok(!text.includes('не відповідає'), 'the call of 8 days ago is not counted');
    assert.is((await member.command('/stats')).text, ADMIN_ONLY);
  } finally {
    await rig.stop();
  }
});

test('/help for a guest, a member and an admin', async () => {
  const rig = await startRig({
    TELEGRAM_ADMIN_IDS: String(ADMIN),
    TELEGRAM_ALLOWED_USERS: String(MEMBER),
    SUPPORT_PHONE: SUPPORT,
  });
  try {
    const guest = await rig.user(6601).command('/help');
    const g = String(guest.text);
    assert.match(g, /^🤖 ДОВІДКА\n\n❌ Ви не авторизовані в системі/);
    assert.ok(g.includes('/start'), 'tells the guest to /start');
    assert.ok(g.includes(`📞 Підтримка: ${SUPPORT}`));
    assert.ok(!g.includes('/hvirtka') && !g.includes('/allow'), 'no commands a guest cannot use');
    assert.ok(isContactKeyboard(guest), 'the contact button');

    const member = await rig.user(MEMBER).command('/help');
    const m = String(member.text);
    assert.match(m, /^🤖 ДОВІДКА\n\n🔓 Доступні дії:/);
    for (const cmd of ['/hvirtka', '/vorota', '/status', '/help', '/call']) assert.ok(m.includes(cmd), cmd);
    for (const cmd of ['/allow', '/revoke', '/stats']) assert.ok(!m.includes(cmd), `member: no ${cmd}`);
    assert.equal(gateButtons(member), ['gate:hvirtka', 'gate:vorota']);

    const admin = await rig.user(ADMIN).command('/help');
    const a = String(admin.text);
    assert.match(a, /^🤖 ДОВІДКА\n\n🔓 Доступні дії:/);
    for (const cmd of ['/hvirtka', '/vorota', '/allow <телефон>', '/revoke <телефон>', '/stats'])
      assert.ok(a.includes(cmd), `admin: ${cmd}`);
    assert.equal(gateButtons(admin), ['gate:hvirtka', 'gate:vorota']);
  } finally {
    await rig.stop();
  }
});

test("/status lists the user's own last 5 calls, newest first, with outcomes", async () => {
  const rig = await startRig({
    TELEGRAM_ALLOWED_USERS: `${MEMBER},5002`,
    GATE_COOLDOWN_S: '0',
  });
  try {
    const user = rig.user(MEMBER);
    const other = rig.user(5002);
    assert.is((await user.command('/status')).text, '📊 Ви ще не відкривали хвіртку чи ворота.');

    const plan: Array<['hvirtka' | 'vorota', string, number]> = [
      ['hvirtka', 'cancel', 2], // opened — the sixth newest, not shown
      ['hvirtka', 'busy', 0],
      ['vorota', 'cancel', 0],
      ['hvirtka', 'no money', 0],
      ['vorota', 'cancel', 5],
      ['vorota', 'busy', 0],
    ];
    for (const [gate, disposition, duration] of plan) {
      await runCall(rig, user, gate, disposition, duration);
      rig.clock.advance(60_000);
    }
    await runCall(rig, other, 'hvirtka', 'answered', 3); // someone else's call
    rig.clock.advance(60_000);

    const text = String((await user.command('/status')).text);
    const lines = text.split('\n');
    assert.is(lines[0], '📊 Ваші останні відкриття:');
    const entries = lines.slice(1);
    for (const l of entries) assert.match(l, /^\d{2}\.\d{2}, \d{2}:\d{2} — /, `a time first: ${l}`);
    assert.equal(
      entries.map((l) => l.split(' — ')[1]),
      [
        'Ворота: ❌ зайнято',
        'Ворота: ✅ відчинено',
        'Хвіртка: ❌ не вдалося',
        'Ворота: ❌ не відповідає',
        'Хвіртка: ❌ зайнято',
      ],
    );
    const otherText = String((await other.command('/status')).text);
    assert.equal(
      otherText
        .split('\n')
        .slice(1)
        .map((l) => l.split(' — ')[1]),
      ['Хвіртка: ⚠️ прийнято (перевірка)'],
    );
  } finally {
    await rig.stop();
  }
});

test('webhook mode: POST /telegram/webhook needs the secret token (401 otherwise, nothing processed); update_id is deduplicated', async () => {
  const SECRET = 'tg-webhook-secret_0123456789';
  const rig = await startRig({
    TELEGRAM_MODE: 'webhook',
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    TELEGRAM_ALLOWED_USERS: String(MEMBER),
  });
  try {
    rig.tg.addChat(MEMBER);
    const user = rig.user(MEMBER);
    const update = commandUpdate({ userId: MEMBER, text: '/start' });
    const post = (headers: Record<string, string>) =>
      http(`${rig.url}/telegram/webhook`, { body: update, headers });

    assert.is((await post({})).status, 401, 'no secret');
    assert.is((await post({ 'x-telegram-bot-api-secret-token': 'wrong' })).status, 401, 'wrong secret');
    assert.is((await post({ 'x-telegram-bot-api-secret-token': `${SECRET}x` })).status, 401, 'longer secret');
    await sleep(SETTLE_MS);
    assert.is(user.messages().length, 0, 'nothing processed');
    assert.is(rig.svc.store.get('actors', `tg:${MEMBER}`), undefined, 'no chat started');
    assert.is(rig.svc.store.get('dedupe', `tg:update:${update.update_id}`), undefined, 'not marked seen');

    // The right secret: processed (the same update that was refused before).
    const ok = await post({ 'x-telegram-bot-api-secret-token': SECRET });
    assert.is(ok.status, 200);
    const reply = await user.waitText(/^🎉 Вітаємо/);
    assert.equal(gateButtons(reply), ['gate:hvirtka', 'gate:vorota']);
    // Telegram redelivers it: still one reply.
    assert.is((await post({ 'x-telegram-bot-api-secret-token': SECRET })).status, 200);
    const help = await user.command('/help');
    assert.match(String(help.text), /^🤖 ДОВІДКА/);
    await sleep(SETTLE_MS);
    assert.equal(
      user.texts().map((t) => t.split('\n')[0]),
      [reply.text?.split('\n')[0], '🤖 ДОВІДКА'],
      'one reply per update',
    );

    // No long polling in webhook mode; the commands are still registered.
    assert.is(rig.tg.requests.filter((r) => r.method.toLowerCase() === 'getupdates').length, 0);
    assert.ok(rig.tg.commands().length > 0, 'setMyCommands at start');
  } finally {
    await rig.stop();
  }
});

test.run();
