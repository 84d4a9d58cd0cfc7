/**
 * `npm run capture-store [-- --out fixtures/stores/vN]`: captures a store written by THIS
 * version of the service, for the test that later versions must still open (test/captured-store.test.ts).
 *
 * It runs the real service (`server/main.ts`, a child process) on a temp DATA_DIR against the fake
 * 360dialog, Telegram and Zadarma servers of test/fakes/, drives it over HTTP with the payload builders
 * of fixtures/, and leaves:
 *
 *   1. (first run, then a clean stop, so these are in partition files) an employee who recorded one
 *      earlier day, and a Telegram user authorised by sharing their own number (ALLOWED_PHONES);
 *   2. (second run, then SIGKILL, so these are only in the write-ahead log) that employee in the middle
 *      of a period dialog (state askingPeriod), that user's /vorota call pending at Zadarma (the gate
 *      claimed), and a second employee's reply pending in the outbox (one 503, then a send that hangs).
 *
 * It checks with the store's own reader (storage/wal.ts) that the log holds those commits and the
 * partition files do not, then copies the DATA_DIR (without service.lock: a lock naming another host
 * is "held", so a copy made elsewhere would refuse to start) to `<out>/datadir/` and writes
 * `<out>/MANIFEST.json` and `<out>/README.md`. A folder that exists is never overwritten: a new
 * capture is a new version folder.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import type { AnyStateNode } from 'xstate';
import { commandUpdate, contactUpdate } from '../fixtures/telegram';
import { textMessage } from '../fixtures/whatsapp';
import { MACHINES, type MachineName } from '../machines/index';
import type { ActorRecord, EffectRow } from '../server/engine/types';
import { dateIn } from '../server/lib/clock';
import { defineCli, opt, startCli } from '../server/ops/cli';
import type { EmployeeDoc } from '../storage/attendance';
import type { CallDoc, GateDoc } from '../storage/calls';
import { isLockFile } from '../storage/service-lock';
import type { Doc } from '../storage/store';
import { logFiles, readSegment } from '../storage/wal';
import { startCaptureFakes } from '../test/helpers/capture';
import { bodyText, Chat } from '../test/helpers/chat';
import { killHard, TgUser, webhookDelivery } from '../test/helpers/gate-harness';
import { eventually, outboxHealth, type ServiceProcess, spawnService } from '../test/helpers/service';
import { expectations, madeBy } from './capture-common';

const root = new URL('..', import.meta.url).pathname;

/** The settings of both runs (and of the test that opens the store); fake origins are filled in. */
const CAPTURE_ENV = {
  MODE: 'dev',
  APP_TIMEZONE: 'Europe/Moscow',
  STORE_PARTITIONS: '16',
  D360_API_KEY: 'capture-d360-key-0123456789',
  VERIFY_TOKEN: 'capture-verify-token',
  TELEGRAM_BOT_TOKEN: '7000000001:AAFakeTokenForStoreCapture_0123456789',
  TELEGRAM_MODE: 'webhook',
  TELEGRAM_WEBHOOK_SECRET: 'capture-telegram-secret',
  ALLOWED_PHONES: '0501112233',
  ZADARMA_API_KEY: 'capturekey0123456789',
  ZADARMA_API_SECRET: 'capturesecret0123456',
  ZADARMA_CALLER: '380443334455',
  GATES: 'hvirtka=0637442017,vorota=0930063585',
  GATE_CALL_TIMEOUT_S: '3600',
  GATE_COOLDOWN_S: '10',
  ORG_NAME: 'ЖК Тест',
  OUTBOX_RETRY_BASE_MS: '30',
  OUTBOX_RETRY_MAX_MS: '200',
  SWEEP_INTERVAL_MS: '50',
} as const;

/** Settings pointing at the fakes: the name of the fake each one names. */
const FAKE_ORIGINS = {
  D360_BASE_URL: '360dialog',
  TELEGRAM_API_ROOT: 'telegram',
  ZADARMA_BASE_URL: 'zadarma',
} as const;

const EMPLOYEE = { waId: '79990000001', name: 'Иван Петров' };
const WAITING = { waId: '79990000002', name: 'Мария Смирнова' };
const GATE_USER = { userId: 5550001, firstName: 'Олена', phone: '380501112233' };
const GATE = 'vorota';
const RELAY = '380930063585';
/** Update ids of this capture; the test's updates must come after the last one (dedupe on update_id). */
const FIRST_UPDATE_ID = 610_000_001;

const DAY_MS = 24 * 3600 * 1000;
const ddmmyyyy = (iso: string) => iso.split('-').reverse().join('.');

const { fail, check } = expectations('capture-store');

/** What the store's files say: partition files alone, and with the log replayed over them. */
function readStore(dataDir: string) {
  const dir = join(dataDir, 'store');
  const names = readdirSync(dir);
  const partitions = new Map<string, Doc>();
  for (const name of names.filter((n) => /^p-\d+\.json$/.test(n))) {
    const data = JSON.parse(readFileSync(join(dir, name), 'utf8')) as {
      collections: Record<string, Record<string, Doc>>;
    };
    for (const [collection, docs] of Object.entries(data.collections))
      for (const [id, doc] of Object.entries(docs)) partitions.set(`${collection}/${id}`, doc);
  }
  return { dir, names, partitions };
}

async function replayed(dataDir: string) {
  const { dir, names, partitions } = readStore(dataDir);
  const logs = logFiles(names);
  const all = new Map(partitions);
  const logged = new Map<string, Doc | null>();
  let commits = 0;
  for (const [n, name] of logs.entries()) {
    const { records, goodBytes, size } = await readSegment(join(dir, name), n === logs.length - 1);
    check(goodBytes === size, `${name} has a torn tail (${goodBytes} of ${size} bytes good)`);
    commits += records.length;
    for (const [, writes] of records)
      for (const [collection, id, doc] of writes) {
        logged.set(`${collection}/${id}`, doc);
        if (doc === null) all.delete(`${collection}/${id}`);
        else all.set(`${collection}/${id}`, doc);
      }
  }
  return { names, logs, partitions, logged, all, commits };
}

const CLI = defineCli({
  name: 'capture-store',
  purpose: 'captures a store written by this version, for the upgrade tests of later versions',
  usage: ['[--out DIR]'],
  options: {
    out: opt.value(
      'DIR',
      'where the capture goes (never overwritten); default the next free fixtures/stores/vN',
    ),
  },
  examples: ['--out fixtures/stores/v2'],
  // It runs its own service on a temp DATA_DIR against fakes: a developer's .env must not leak in.
  dotEnv: false,
});

/** The stored label (`active.askingPeriod`) of a machine's state named `key`, as the engine writes it. */
function labelOf(machine: MachineName, key: string): string {
  const walk = (node: AnyStateNode): string | undefined =>
    node.key === key && node.path.length > 0
      ? node.path.join('.')
      : Object.values(node.states).reduce<string | undefined>((found, n) => found ?? walk(n), undefined);
  const label = walk(MACHINES[machine].logic.root);
  if (!label) throw new Error(`${machine} has no state ${key}`);
  return label;
}
const ASKING_PERIOD = labelOf('whatsapp-menu', 'askingPeriod');
const MENU = labelOf('whatsapp-menu', 'menu');
const CALL_PENDING = labelOf('gate-call', 'pending');

/** `dir/v1`, `dir/v2`, …: the first that does not exist yet. */
function nextFreeFolder(dir: string): string {
  for (let n = 1; ; n++) if (!existsSync(join(dir, `v${n}`))) return join(dir, `v${n}`);
}

async function main(): Promise<void> {
  const { values } = startCli(CLI);
  const out = resolve(root, values.out ?? nextFreeFolder(join(root, 'fixtures/stores')));
  if (existsSync(out))
    fail(
      `${relative(root, out)} exists; a committed capture is never rewritten (capture a new version folder)`,
    );

  const fakes = await startCaptureFakes(CAPTURE_ENV, [GATE_USER.userId]);
  const { d360, zd } = fakes;
  const dataDir = join(tmpdir(), `switchboard-capture-${process.pid}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir);
  // Every other setting is blank: a test service starts from a blank env (test/helpers/env.ts).
  const env = { ...CAPTURE_ENV, ...fakes.origins, DATA_DIR: dataDir };
  let svc: ServiceProcess | undefined;
  let updateId = FIRST_UPDATE_ID - 1;
  const deliver = webhookDelivery(() => (svc as ServiceProcess).url, CAPTURE_ENV.TELEGRAM_WEBHOOK_SECRET);
  const user = new TgUser(fakes.tg, deliver, GATE_USER.userId, GATE_USER.firstName);
  const tgCommand = (text: string) =>
    user.send(commandUpdate({ userId: user.id, firstName: user.firstName, text, updateId: ++updateId }));

  try {
    // --- Run 1, stopped cleanly: what it wrote ends up in partition files.
    svc = await spawnService(env);
    const employee = new Chat(svc.url, d360, EMPLOYEE.waId, EMPLOYEE.name);
    const today = dateIn(CAPTURE_ENV.APP_TIMEZONE, Date.now());
    const earlier = dateIn(CAPTURE_ENV.APP_TIMEZONE, Date.now() - 3 * DAY_MS);
    check(bodyText(await employee.say('меню')).length > 0, 'the menu');
    const ask1 = await employee.tap('FILL_PERIOD');
    check(/01\.11-07\.11/.test(bodyText(ask1)), `the period question, got ${bodyText(ask1)}`);
    const list1 = await employee.say(ddmmyyyy(earlier));
    check(bodyText(list1).includes(ddmmyyyy(earlier)), `the shift list for ${earlier}: ${bodyText(list1)}`);
    const done1 = await employee.pick('SHIFT_DAY');
    check(
      bodyText(done1).includes(`Смена записана ✅\n${ddmmyyyy(earlier)} — Дневная`),
      `recorded: ${bodyText(done1)}`,
    );

    const welcome = await tgCommand('/start');
    check(/не авторизовані/.test(String(welcome.text)), `a guest at /start: ${welcome.text}`);
    const accepted = await user.send(
      contactUpdate({
        userId: user.id,
        firstName: user.firstName,
        phone: GATE_USER.phone,
        updateId: ++updateId,
      }),
    );
    check(/Ви авторизовані/.test(String(accepted.text)), `authorised by the contact: ${accepted.text}`);

    svc.proc.kill('SIGTERM');
    check((await svc.exited) === 0, `the first run did not stop cleanly:\n${svc.output()}`);
    const afterStop = readStore(dataDir);
    check(
      logFiles(afterStop.names).length === 0,
      `a clean stop left log files: ${afterStop.names.join(' ')}`,
    );

    // --- Run 2, killed: what it wrote is only in the log.
    svc = await spawnService(env);
    const resumed = new Chat(svc.url, d360, EMPLOYEE.waId, EMPLOYEE.name);
    const ask2 = await resumed.tap('FILL_PERIOD');
    check(/01\.11-07\.11/.test(bodyText(ask2)), `the period question again: ${bodyText(ask2)}`);

    const keys = await tgCommand(`/${GATE}`);
    check(/Підбираємо ключі/.test(String(keys.text)), `/${GATE}: ${keys.text}`);
    await zd.waitFor((c) => c.length === 1, 5000);
    await user.waitText(/^Відкриття воріт ініційовано/);

    // The second employee's reply: one 503 (a stored failed attempt), then a send that never answers.
    const waiting = new Chat(svc.url, d360, WAITING.waId, WAITING.name);
    d360.failNext({ status: 503 }, { status: 200, hang: true });
    const menu = textMessage({ from: WAITING.waId, name: WAITING.name, body: 'меню' });
    check((await waiting.post(menu)) === 200, 'the webhook of the second employee');
    const toWaiting = () =>
      d360.requests.filter((r) => r.path === '/messages' && r.body?.to === WAITING.waId);
    await eventually(() => toWaiting().length === 2, 5000, 'the retried send to the second employee');
    check(toWaiting()[0]?.response === 503 && toWaiting()[1]?.response === 0, 'a 503, then a hanging send');
    const health = await outboxHealth(svc.url);
    check(health.pending === 1 && health.deadLetters === 0, `outbox: ${JSON.stringify(health)}`);

    const capturedAt = Date.now();
    svc.proc.kill('SIGKILL');
    check((await svc.exited) === null, 'the second run was killed');

    // --- The store as left: the log holds the second run, the partition files do not.
    const store = await replayed(dataDir);
    check(store.logs.length > 0 && store.commits > 0, 'the log holds commits');
    const actor = store.all.get(`actors/wa:${EMPLOYEE.waId}`) as ActorRecord | undefined;
    check(actor?.state === ASKING_PERIOD, `the employee is asked for a period (${actor?.state})`);
    check(store.logged.has(`actors/wa:${EMPLOYEE.waId}`), 'the dialog step is in the log');
    const before = store.partitions.get(`actors/wa:${EMPLOYEE.waId}`) as ActorRecord | undefined;
    check(before?.state === MENU, `the partition files hold the employee at the menu (${before?.state})`);
    const emp1 = store.all.get(`employees/${EMPLOYEE.waId}`) as EmployeeDoc | undefined;
    check(emp1?.days[earlier]?.shift === 'day' && emp1.name === EMPLOYEE.name, 'the earlier day is recorded');
    check(
      (store.partitions.get(`employees/${EMPLOYEE.waId}`) as EmployeeDoc | undefined)?.days[earlier],
      'the earlier day is in the partition files',
    );
    check(store.partitions.has(`tgusers/${GATE_USER.userId}`), 'the proven phone is in the partition files');
    const gate = store.all.get(`gates/${GATE}`) as GateDoc | undefined;
    const callKey = gate?.pendingCall;
    check(typeof callKey === 'string' && store.logged.has(`gates/${GATE}`), 'the gate is claimed in the log');
    check(!store.partitions.has(`gates/${GATE}`), 'the partition files know no gate claim');
    const callId = (callKey as string).slice('call:'.length);
    const call = store.all.get(`calls/${callId}`) as CallDoc | undefined;
    check(
      call?.status === 'pending' && call.userId === GATE_USER.userId,
      `the call is pending (${call?.status})`,
    );
    check(
      (store.all.get(`actors/${callKey}`) as ActorRecord | undefined)?.state === CALL_PENDING,
      'call actor',
    );
    const rows = [...store.all.entries()]
      .filter(([k]) => k.startsWith('outbox/'))
      .map(([, d]) => d as EffectRow);
    check(rows.length === 1, `one pending outbox row, found ${rows.length}`);
    const row = rows[0] as EffectRow;
    check(row.key === `wa:${WAITING.waId}` && row.attempts === 1, `the pending row: ${JSON.stringify(row)}`);
    check(![...store.partitions.keys()].some((k) => k.startsWith('outbox/')), 'no outbox row in partitions');

    // --- The fixture.
    const target = join(out, 'datadir');
    mkdirSync(join(target, 'store'), { recursive: true });
    const files: Array<{ path: string; bytes: number }> = [];
    for (const name of readdirSync(join(dataDir, 'store')).sort()) {
      if (isLockFile(name)) continue;
      cpSync(join(dataDir, 'store', name), join(target, 'store', name));
      files.push({ path: `datadir/store/${name}`, bytes: statSync(join(target, 'store', name)).size });
    }
    const extra = readdirSync(dataDir).filter((n) => n !== 'store');
    check(extra.length === 0, `DATA_DIR holds more than store/: ${extra.join(' ')}`);
    const manifest = {
      what: 'A DATA_DIR written by the service itself (the snapshot versions are under machines), opened by test/captured-store.test.ts',
      madeBy: madeBy(root),
      command: `npm run capture-store -- --out ${relative(root, out)}`,
      capturedAt,
      capturedAtIso: new Date(capturedAt).toISOString(),
      today,
      machines: Object.fromEntries(Object.values(MACHINES).map((m) => [m.name, m.version])),
      store: {
        format: 2,
        partitions: Number(CAPTURE_ENV.STORE_PARTITIONS),
        logCommits: store.commits,
        files,
      },
      env: CAPTURE_ENV,
      fakes: FAKE_ORIGINS,
      employee: {
        waId: EMPLOYEE.waId,
        name: EMPLOYEE.name,
        key: `wa:${EMPLOYEE.waId}`,
        state: ASKING_PERIOD,
        recorded: { date: earlier, shift: 'day' },
      },
      pendingReply: {
        waId: WAITING.waId,
        name: WAITING.name,
        key: row.key,
        outboxId: row.id,
        channel: row.channel,
        attempts: row.attempts,
        what: 'the menu, answer to "меню": one attempt failed (503), the next was under way when the service was killed',
      },
      gateUser: {
        userId: GATE_USER.userId,
        firstName: GATE_USER.firstName,
        phone: GATE_USER.phone,
        key: `tg:${GATE_USER.userId}`,
      },
      gateCall: {
        key: callKey,
        id: callId,
        gate: GATE,
        relay: RELAY,
        status: 'pending',
        requestedAt: call?.requestedAt,
      },
      telegram: { lastUpdateId: updateId },
    };
    writeFileSync(join(out, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(out, 'README.md'), readme(manifest));
    const total = files.reduce((n, f) => n + f.bytes, 0);
    process.stdout.write(
      `captured ${relative(root, out)}: ${files.length} files, ${total} bytes, ${store.commits} commits in the log\n` +
        `  ${files.map((f) => `${f.path} ${f.bytes}`).join('\n  ')}\n`,
    );
  } finally {
    if (svc) await killHard(svc);
    await fakes.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

type Manifest = {
  madeBy: ReturnType<typeof madeBy>;
  command: string;
  capturedAtIso: string;
  today: string;
  machines: Record<string, number>;
  store: { partitions: number; logCommits: number; files: Array<{ path: string; bytes: number }> };
  employee: { waId: string; name: string; key: string; recorded: { date: string } };
  pendingReply: { waId: string; key: string; outboxId: string };
  gateUser: { userId: number; phone: string; key: string };
  gateCall: { key: unknown; gate: string; relay: string };
  telegram: { lastUpdateId: number };
};

function readme(m: Manifest): string {
  const files = m.store.files.map((f) => `| \`${f.path}\` | ${f.bytes} |`).join('\n');
  const machines = Object.entries(m.machines)
    .map(([name, v]) => `${name} ${v}`)
    .join(', ');
  const changed = m.madeBy.serviceCodeChanged ? ', with uncommitted changes' : '';
  const folder = basename(m.command.split(' ').at(-1) ?? '');
  return `# Captured store ${folder}

A \`DATA_DIR\` written by the service itself, to prove that later versions still open it and finish
what it left unfinished (\`test/captured-store.test.ts\`).

- made by: ${m.madeBy.package} ${m.madeBy.version}, commit \`${m.madeBy.commit}\`
  (service code as of \`${m.madeBy.serviceCodeCommit}\`${changed})
- captured: ${m.capturedAtIso} (${m.today} in Europe/Moscow)
- command: \`${m.command}\` (it refuses to overwrite an existing folder)
- machines (name and snapshot version): ${machines}
- store: format 2 (partition files + write-ahead log), ${m.store.partitions} partitions

**Never edit or regenerate these files**: a store of a later format or machine version is captured into
a new folder (the next \`fixtures/stores/vN\`) next to this one, and this one stays, with its test.

## How it was made

The script runs \`server/main.ts\` as a child process on a temp \`DATA_DIR\`, against the fake 360dialog,
Telegram (webhook mode) and Zadarma of \`test/fakes/\`, with the settings in \`MANIFEST.json\` (\`env\`;
\`fakes\` names the settings that point at the fakes), and drives it over HTTP:

1. First run, stopped cleanly (SIGTERM), so its data is in the partition files \`p-*.json\`:
   - employee \`${m.employee.waId}\` ("${m.employee.name}") records ${m.employee.recorded.date}
     as "Дневная" through "Заполнить за период";
   - Telegram user \`${m.gateUser.userId}\` sends /start and shares their own number
     \`${m.gateUser.phone}\` (in \`ALLOWED_PHONES\`): authorised.
2. Second run, killed with SIGKILL, so its ${m.store.logCommits} commits are only in the write-ahead log
   \`wal-*.log\` (never checkpointed):
   - actor \`${m.employee.key}\` taps "Заполнить за период" again: left in \`${ASKING_PERIOD}\`;
   - \`${m.gateUser.key}\` sends /${m.gateCall.gate}; Zadarma accepts the callback to relay
     ${m.gateCall.relay} (API_OK): gate-call actor \`${String(m.gateCall.key)}\`
     is \`pending\` and holds the gate (\`GATE_CALL_TIMEOUT_S=3600\`);
   - employee \`${m.pendingReply.waId}\` writes "меню": the reply (outbox row
     \`${m.pendingReply.outboxId}\`, key \`${m.pendingReply.key}\`) failed once with
     503 and its retry was hanging at the kill: pending, one attempt stored.

The script checks with the store's own reader (\`storage/wal.ts\`) that the log holds these commits and
the partition files do not. Only the partitions the first run touched have a file (a missing one is
empty). Telegram update ids of the capture end at ${m.telegram.lastUpdateId}: later updates must be
above it (the service deduplicates on update_id).

\`service.lock\` is left out: a lock naming another host counts as held, so a copy opened on another
machine would refuse to start. Without it the service starts as after any crash.

## How the test uses it

It copies \`datadir/\` to a temp folder and starts the current service on it in-process with these
settings and its clock starting at \`capturedAt\` (times in the store are absolute: without that, the
30-minute dialog timeout and \`GATE_CALL_TIMEOUT_S\` would have expired), then: the pending reply is
delivered once; the employee sends a period, picks a shift and gets "Смена записана ✅", with
${m.employee.recorded.date} still in their status; a /${m.gateCall.gate} is told the gate is busy, a
NOTIFY_END (cancel, duration > 0) tells the user "✅ Ворота відчинено!", and the next /${m.gateCall.gate}
places a new callback.

| file | bytes |
| --- | --- |
${files}
`;
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
