/**
 * `npm run capture-snapshots -- --from <checkout> --out fixtures/snapshots/v<N>`: stored actors of
 * every machine, in their interesting states, as the service of `<checkout>` writes them, for the
 * tests that later versions migrate and finish them (test/migrations.test.ts,
 * test/upgrade-snapshots.test.ts).
 *
 * Capture from the release BEFORE a machine version is bumped (a worktree of it): the service, fakes,
 * test helpers and payload builders are loaded from `<checkout>`, so the records are that release's,
 * written by its own code. It runs that service in this process against the fake 360dialog, Telegram
 * (webhook mode) and Zadarma, drives it over HTTP, reads the actors it left, and writes one
 * `<machine>.<state>.json` per actor (the document `actors/<key>`, as stored) and `MANIFEST.json`:
 * when, by which commit, with which settings, and per actor the other documents its steps wrote (the
 * gate claim, the call record…) so that a test can seed a coherent store. An existing folder is never
 * overwritten.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineCli, failUsage, opt, startCli } from '../server/ops/cli';
import { startCaptureFakes } from '../test/helpers/capture';
import { webhookDelivery } from '../test/helpers/gate-harness';
import { expectations, madeBy } from './capture-common';

type Service = typeof import('../test/helpers/service');
type GateHarness = typeof import('../test/helpers/gate-harness');
type ChatHelpers = typeof import('../test/helpers/chat');
type IvrHelpers = typeof import('../test/helpers/ivr-zadarma');
type D360 = typeof import('../test/fakes/d360');
type Telegram = typeof import('../test/fakes/telegram');
type Zadarma = typeof import('../test/fakes/zadarma');
type TgFixtures = typeof import('../fixtures/telegram');
type ZdFixtures = typeof import('../fixtures/zadarma');
type Doc = Record<string, unknown>;

const root = new URL('..', import.meta.url).pathname;

/** The settings of the capture (fake origins are filled in); the tests start the current service with them. */
const CAPTURE_ENV = {
  MODE: 'dev',
  APP_TIMEZONE: 'Europe/Moscow',
  D360_API_KEY: 'snapshots-d360-key-0123456789',
  VERIFY_TOKEN: 'snapshots-verify-token',
  TELEGRAM_BOT_TOKEN: '7000000001:AAFakeTokenForSnapshots_0123456789ab',
  TELEGRAM_MODE: 'webhook',
  TELEGRAM_WEBHOOK_SECRET: 'snapshots-telegram-secret',
  TELEGRAM_ADMIN_IDS: '5550009',
  ALLOWED_PHONES: '0501112233,0671112233',
  ZADARMA_API_KEY: 'snapshotskey01234567',
  ZADARMA_API_SECRET: 'snapshotssecret01234',
  ZADARMA_CALLER: '380443334455',
  GATES: 'hvirtka=0637442017,vorota=0930063585',
  GATE_CALL_TIMEOUT_S: '3600',
  GATE_COOLDOWN_S: '0',
  ORG_NAME: 'ЖК Тест',
} as const;

/** Settings an older checkout's test env may not blank: blank here, so a shell or `.env` cannot leak in. */
const BLANK = [
  'WEBHOOK_SECRET_HEADER',
  'TELEGRAM_ALLOWED_USERS',
  'CLIENTS_FILE',
  'SUPPORT_PHONE',
  'MAP_URL',
  'SCHEME_IMAGE',
  'ADMIN_TOKEN',
  'PUBLIC_URL',
  'REMINDER_TIME',
  'REMINDER_TEMPLATE',
  'ZADARMA_BALANCE_ALERT',
  'STORE_PARTITIONS',
];

const MENU = { waId: '79990000011', name: 'Анна Меню' };
const ASKING = { waId: '79990000012', name: 'Борис Период' };
const CHOOSING = { waId: '79990000013', name: 'Вера Смена' };
const MEMBER = { userId: 5550001, firstName: 'Олена', phone: '380501112233' };
const GUEST = { userId: 5550002, firstName: 'Гість' };
const ADMIN = 5550009;
const IVR_CALLER = '380671112233';
const CALLBACK_PATH = '/v1/request/callback/';
const FIRST_UPDATE_ID = 620_000_001;

const { fail, check } = expectations('capture-snapshots');

const CLI = defineCli({
  name: 'capture-snapshots',
  purpose: 'captures the stored actors of every machine as the service of a checkout writes them',
  usage: ['--out DIR [--from CHECKOUT]'],
  options: {
    from: opt.value('CHECKOUT', 'the release to capture (a worktree of it); its code writes the actors', {
      default: '.',
    }),
    out: opt.value('DIR', 'where the capture goes (never overwritten), e.g. fixtures/snapshots/v2'),
  },
  examples: ['--from ../old --out fixtures/snapshots/v2'],
  // It runs its own service against fakes: a developer's .env must not leak in.
  dotEnv: false,
});

async function main(): Promise<void> {
  const { values } = startCli(CLI);
  if (!values.out) failUsage(CLI, '--out DIR is required (e.g. fixtures/snapshots/v2)');
  const from = resolve(values.from);
  const out = resolve(root, values.out);
  if (existsSync(out))
    fail(`${relative(root, out)} exists; a capture is never rewritten (capture a new folder)`);
  const load = <T>(path: string): Promise<T> => import(pathToFileURL(join(from, path)).href) as Promise<T>;

  const { startTestService, eventually } = await load<Service>('test/helpers/service.ts');
  const { TgUser } = await load<GateHarness>('test/helpers/gate-harness.ts');
  const { Chat, bodyText } = await load<ChatHelpers>('test/helpers/chat.ts');
  const { zadarmaPoster } = await load<IvrHelpers>('test/helpers/ivr-zadarma.ts');
  const { startFakeD360 } = await load<D360>('test/fakes/d360.ts');
  const { startFakeTelegram } = await load<Telegram>('test/fakes/telegram.ts');
  const { startFakeZadarma } = await load<Zadarma>('test/fakes/zadarma.ts');
  const { commandUpdate, contactUpdate } = await load<TgFixtures>('fixtures/telegram.ts');
  const { incomingCall } = await load<ZdFixtures>('fixtures/zadarma.ts');

  const fakes = await startCaptureFakes(CAPTURE_ENV, [MEMBER.userId, GUEST.userId, ADMIN], {
    startFakeD360,
    startFakeTelegram,
    startFakeZadarma,
  });
  const { d360, tg, zd } = fakes;
  const env = { ...Object.fromEntries(BLANK.map((k) => [k, ''])), ...CAPTURE_ENV, ...fakes.origins };
  const svc = await startTestService(env);
  const store = svc.store;
  try {
    // WhatsApp: one employee at the menu, one asked for a period, one choosing a shift for a period.
    const menu = new Chat(svc.url, d360, MENU.waId, MENU.name);
    check(bodyText(await menu.say('меню')).length > 0, 'the menu');
    const asking = new Chat(svc.url, d360, ASKING.waId, ASKING.name);
    await asking.say('меню');
    check(/01\.11-07\.11/.test(bodyText(await asking.tap('FILL_PERIOD'))), 'the period question');
    const choosing = new Chat(svc.url, d360, CHOOSING.waId, CHOOSING.name);
    await choosing.say('меню');
    await choosing.tap('FILL_PERIOD');
    const day = (ago: number) =>
      new Date(Date.now() - ago * 86_400_000)
        .toLocaleDateString('ru-RU', { timeZone: CAPTURE_ENV.APP_TIMEZONE })
        .slice(0, 5);
    const list = await choosing.say(`${day(1)}-${day(0)}`);
    check(bodyText(list).includes('(2 дня)'), `the shift list for two days: ${bodyText(list)}`);

    // Telegram: a guest, and a member (their own allowed number) whose /vorota is pending at Zadarma.
    let updateId = FIRST_UPDATE_ID - 1;
    const deliver = webhookDelivery(() => svc.url, CAPTURE_ENV.TELEGRAM_WEBHOOK_SECRET);
    const guest = new TgUser(tg, deliver, GUEST.userId, GUEST.firstName);
    const member = new TgUser(tg, deliver, MEMBER.userId, MEMBER.firstName);
    const command = (u: InstanceType<typeof TgUser>, text: string) =>
      u.send(commandUpdate({ userId: u.id, firstName: u.firstName, text, updateId: ++updateId }));
    check(/не авторизовані/.test(String((await command(guest, '/start')).text)), 'a guest');
    await command(member, '/start');
    const accepted = await member.send(
      contactUpdate({
        userId: member.id,
        firstName: member.firstName,
        phone: MEMBER.phone,
        updateId: ++updateId,
      }),
    );
    check(/Ви авторизовані/.test(String(accepted.text)), `authorised: ${accepted.text}`);
    check(/Підбираємо ключі/.test(String((await command(member, '/vorota')).text)), '/vorota');
    await member.waitText(/^Відкриття воріт ініційовано/);

    // The Zadarma API fails once (the admins are alerted), then a /hvirtka callback request hangs:
    // that call stays initiated.
    const admin = new TgUser(tg, deliver, ADMIN, 'Admin');
    zd.failNext({ status: 500, path: CALLBACK_PATH });
    await command(member, '/hvirtka');
    await member.waitText(/^❌ Не вдалося ініціювати дзвінок/);
    await admin.waitText(/помилка дзвінка/);
    zd.failNext({ status: 200, hang: true, path: CALLBACK_PATH });
    await command(member, '/hvirtka');
    const callbacks = () => zd.requests.filter((r) => r.path === CALLBACK_PATH);
    await eventually(
      () => callbacks().length === 3 && callbacks()[2]?.response === 0,
      5000,
      'a hanging callback',
    );

    // The voice menu: an allowed caller hears the menu.
    const post = zadarmaPoster(svc.url, CAPTURE_ENV.ZADARMA_API_SECRET);
    const ivr = incomingCall({ caller_id: `+${IVR_CALLER}` });
    check((await post(ivr.start())).status === 200, 'NOTIFY_START of the voice menu');

    const capturedAt = Date.now();
    const actor = (key: string) => store.get<Doc>('actors', key) ?? fail(`no actor ${key}`);
    const doc = (path: string): [string, Doc] => {
      const [collection, id] = path.split(/\/(.*)/s) as [string, string];
      return [path, store.get<Doc>(collection, id) ?? fail(`no document ${path}`)];
    };
    const gates = (gate: string) => store.get<{ pendingCall: string }>('gates', gate)?.pendingCall ?? '';
    const pendingCall = gates('vorota');
    const initiatedCall = gates('hvirtka');
    const fixtures = [
      { key: `wa:${MENU.waId}`, docs: [`employees/${MENU.waId}`] },
      { key: `wa:${ASKING.waId}`, docs: [`employees/${ASKING.waId}`] },
      { key: `wa:${CHOOSING.waId}`, docs: [`employees/${CHOOSING.waId}`] },
      { key: `tg:${GUEST.userId}`, docs: [] },
      { key: `tg:${MEMBER.userId}`, docs: [`tgusers/${MEMBER.userId}`] },
      { key: pendingCall, docs: ['gates/vorota', `calls/${pendingCall.slice('call:'.length)}`] },
      { key: initiatedCall, docs: ['gates/hvirtka', `calls/${initiatedCall.slice('call:'.length)}`] },
      { key: `ivr:${ivr.pbx_call_id}`, docs: [] },
      { key: 'alerts:admin', docs: [] },
    ].map((f) => ({ ...f, record: actor(f.key) }));

    mkdirSync(out, { recursive: true });
    const entries = fixtures.map(({ key, docs, record }) => {
      const file = `${record.machine}.${String(record.state).replace(/\./g, '-')}.json`;
      check(!existsSync(join(out, file)), `two actors in one state: ${file}`);
      writeFileSync(join(out, file), `${JSON.stringify(record, null, 2)}\n`);
      return {
        file,
        key,
        machine: record.machine,
        version: record.version,
        state: record.state,
        docs: Object.fromEntries(docs.map(doc)),
      };
    });
    const manifest = {
      what: 'Stored actors (documents actors/<key>) of every machine, written by the service of an earlier release',
      madeBy: madeBy(from),
      command: `npx tsx scripts/capture-snapshots.ts --from <a checkout of that commit> --out ${relative(root, out)}`,
      capturedAt,
      capturedAtIso: new Date(capturedAt).toISOString(),
      env: CAPTURE_ENV,
      fakes: ['D360_BASE_URL', 'TELEGRAM_API_ROOT', 'ZADARMA_BASE_URL'],
      telegram: { lastUpdateId: updateId, admin: ADMIN },
      fixtures: entries,
    };
    writeFileSync(join(out, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const e of entries) console.log(`${e.file}: ${e.key} ${e.machine}@${e.version} ${e.state}`);
  } finally {
    await svc.stop();
    await fakes.close();
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
