/**
 * Crash consistency: a driver sends WhatsApp dialogs of many users (and delivery statuses) to the real
 * service in its own process, SIGKILLs it at random moments and restarts it on the same DATA_DIR, and
 * redelivers every webhook that was not acknowledged with 200, as the platforms do. Then it checks the
 * store and the fake 360dialog against a model of a sequential run.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { commandUpdate } from '../../fixtures/telegram';
import { buttonReply, listReply, statusUpdate, textMessage, type WebhookBody } from '../../fixtures/whatsapp';
import { incomingCall } from '../../fixtures/zadarma';
import { HISTORY_LIMIT } from '../../server/engine/engine';
import { PARTITION_FILE } from '../../storage/layout';
import { SEGMENT } from '../../storage/wal';
import { startFakeD360 } from '../fakes/d360';
import {
  CALLBACK_PATH,
  gateEnv,
  RELAY,
  startFakes,
  TG_TOKEN,
  ZD_KEY,
  ZD_SECRET,
  zadarmaWebhook,
} from '../helpers/gate-harness';
import { type ServiceProcess, sleep, tmpDataDir } from '../helpers/service';
import {
  fmtMs,
  killAll,
  type Profile,
  pick,
  readStore,
  rng,
  type Section,
  sigkill,
  sigterm,
  spawnTracked,
} from './common';

const KEY = 'torture-crash-d360-key';
const TG_SECRET = 'torture-crash-tg-secret';
const GATE_USER = 4242;
const SHIFTS = [
  ['SHIFT_DAY', 'day'],
  ['SHIFT_NIGHT', 'night'],
  ['SHIFT_OFF', 'off'],
] as const;

interface Step {
  user: string;
  body: WebhookBody;
  /** the inbound wamid (dedupe key `wa:<id>`), absent for statuses */
  wamid?: string;
  /** a reply is intended for it */
  replies: boolean;
}

const dd = (n: number) => String(n).padStart(2, '0');

/** Per user: dialogs "меню → Заполнить за период → a two-day range → a shift", then statuses. */
function plan(users: number, events: number, r: ReturnType<typeof rng>) {
  const perUser = new Map<string, Step[]>();
  const expected = new Map<string, Map<string, { shift: string; wamid: string }>>();
  const ids = Array.from({ length: users }, (_, i) => `7900555${dd(Math.floor(i / 100))}${dd(i % 100)}`);
  for (const u of ids) {
    perUser.set(u, []);
    expected.set(u, new Map());
  }
  let n = 0;
  let cycle = 0;
  while (n < events) {
    for (const u of ids) {
      if (n >= events) break;
      const steps = perUser.get(u) as Step[];
      const left = events - n;
      if (left < 4 || r.int(10) === 0) {
        // a delivery status for a made-up earlier outbound message: acknowledged, no reply
        const wamid = `wamid.torture${u}${steps.length}`;
        steps.push({
          user: u,
          body: statusUpdate({ id: wamid, status: 'delivered', recipient: u }),
          replies: false,
        });
        n++;
        continue;
      }
      const day = 1 + ((cycle * 2) % 18);
      const [rowId, shift] = SHIFTS[r.int(3)] as (typeof SHIFTS)[number];
      const bodies = [
        textMessage({ from: u, body: 'меню' }),
        buttonReply({ from: u, buttonId: 'FILL_PERIOD' }),
        textMessage({ from: u, body: `${dd(day)}.11-${dd(day + 1)}.11` }),
        listReply({ from: u, rowId }),
      ];
      for (const b of bodies) steps.push({ user: u, body: b, wamid: wamidOf(b), replies: true });
      const pickId = wamidOf(bodies[3] as WebhookBody);
      const exp = expected.get(u) as Map<string, { shift: string; wamid: string }>;
      for (const d of [day, day + 1]) exp.set(`2026-11-${dd(d)}`, { shift, wamid: pickId });
      n += 4;
    }
    cycle++;
  }
  return { perUser, expected };
}

// biome-ignore lint/suspicious/noExplicitAny: webhook bodies are navigated loosely
const wamidOf = (b: any): string => b.entry[0].changes[0].value.messages[0].id;

export async function run(profile: Profile): Promise<Section> {
  const started = Date.now();
  const events = pick(profile, 200, 1000);
  const kills = pick(profile, 5, 20);
  const users = pick(profile, 20, 50);
  const concurrency = 10;
  const r = rng();
  const gateCycles = pick(profile, 6, 25);
  const fake = await startFakeD360({ apiKey: KEY });
  const gf = await startFakes();
  gf.tg.addChat(GATE_USER);
  const dataDir = tmpDataDir();
  const env = {
    ...gateEnv(gf),
    TELEGRAM_MODE: 'webhook',
    TELEGRAM_WEBHOOK_SECRET: TG_SECRET,
    TELEGRAM_ALLOWED_USERS: String(GATE_USER),
    GATE_COOLDOWN_S: '0',
    D360_API_KEY: KEY,
    D360_BASE_URL: fake.url,
    DATA_DIR: dataDir,
    APP_TIMEZONE: 'Europe/Moscow',
    // Checkpoints all the time, so kills also land in the middle of them.
    STORE_CHECKPOINT_BYTES: '4096',
  };
  const { perUser, expected } = plan(users, events - gateCycles * 3, r);
  const total = [...perUser.values()].reduce((n, s) => n + s.length, 0) + gateCycles * 3;

  let svc: ServiceProcess = await spawnTracked(env);
  let generation = 0;
  let restarting: Promise<void> | null = null;
  let acked = 0;
  let attempts = 0;
  let refusedOrCut = 0;
  let resumedPending = 0;
  const outputs: string[] = [];

  const deliver = (step: Step) =>
    until200((url) =>
      fetch(`${url}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(step.body),
        signal: AbortSignal.timeout(10_000),
      }),
    );
  /** Posts until the service answers 200 (across kills), as a platform redelivers. */
  const until200 = async (post: (url: string) => Promise<{ status: number; text: unknown }>) => {
    for (;;) {
      while (restarting) await restarting;
      const url = svc.url;
      attempts++;
      try {
        const res = await post(url);
        if (typeof res.text === 'function') await (res.text as () => Promise<string>)();
        if (res.status === 200) {
          acked++;
          return;
        }
        refusedOrCut++;
      } catch {
        refusedOrCut++;
      }
      await sleep(20);
    }
  };

  // Users are shared out to `concurrency` workers; each user's events go in order, one at a time.
  const queue = [...perUser.values()];
  const worker = async () => {
    for (let steps = queue.shift(); steps; steps = queue.shift()) for (const s of steps) await deliver(s);
  };
  // One Telegram user opens the wicket again and again; Zadarma reports each call's START and END.
  const opened = () =>
    gf.tg.sent().filter((m) => m.chat_id === GATE_USER && /відчинено/.test(String(m.text))).length;
  const callbacks = () => gf.zd.requests.filter((q) => q.path === CALLBACK_PATH && q.response === 200).length;
  // A kill while the callback request itself is under way: it is never made again (at most once);
  // after the restart the user is told the status is unknown. Such a cycle is "interrupted".
  const interruptedMsgs = () =>
    gf.tg.sent().filter((m) => m.chat_id === GATE_USER && /невідомо, чи пішов дзвінок/.test(String(m.text)))
      .length;
  let gateProblems = 0;
  let interrupted = 0;
  const gateWorker = async () => {
    for (let c = 0; c < gateCycles; c++) {
      const cb = callbacks();
      const before = opened();
      const lost = interruptedMsgs();
      const update = commandUpdate({ userId: GATE_USER, text: '/hvirtka' });
      await until200((url) =>
        fetch(`${url}/telegram/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET },
          body: JSON.stringify(update),
          signal: AbortSignal.timeout(10_000),
        }),
      );
      const t0 = Date.now();
      while (callbacks() <= cb && interruptedMsgs() <= lost && Date.now() - t0 < 20_000) await sleep(10);
      if (interruptedMsgs() > lost) {
        interrupted++;
        continue;
      }
      if (callbacks() <= cb) {
        gateProblems++;
        gateNotes.push(`cycle ${c}: no callback request within 20 s`);
        continue;
      }
      const leg = incomingCall({ caller_id: RELAY.hvirtka });
      const start = leg.start();
      const end = leg.end({ disposition: 'cancel', duration: 3 });
      await until200((url) => zadarmaWebhook(url, start));
      await until200((url) => zadarmaWebhook(url, end));
      const t1 = Date.now();
      while (opened() <= before && interruptedMsgs() <= lost && Date.now() - t1 < 20_000) await sleep(10);
      if (interruptedMsgs() > lost) interrupted++;
      else if (opened() <= before) {
        gateProblems++;
        gateNotes.push(`cycle ${c}: no "відчинено" message within 20 s`);
      }
    }
  };
  const gateNotes: string[] = [];
  let logsAtKills = 0;
  let partitionsAtKills = 0;
  const killer = async () => {
    for (let k = 0; k < kills; k++) {
      const target = Math.floor(((k + 1) * total) / (kills + 1));
      while (acked < target) await sleep(2);
      await sleep(r.int(25));
      let done!: () => void;
      restarting = new Promise<void>((res) => {
        done = res;
      });
      const old = svc;
      await sigkill(old);
      outputs.push(old.output());
      const names = readdirSync(join(dataDir, 'store'));
      logsAtKills += names.filter((f) => SEGMENT.test(f)).length;
      partitionsAtKills = Math.max(partitionsAtKills, names.filter((f) => PARTITION_FILE.test(f)).length);
      svc = await spawnTracked(env);
      generation++;
      resumedPending += Number(/outbox: resuming pending effects count=(\d+)/.exec(svc.output())?.[1] ?? 0);
      restarting = null;
      done();
    }
  };
  try {
    await Promise.all([...Array.from({ length: concurrency }, worker), gateWorker(), killer()]);
    // Let the outbox finish, then stop cleanly and read the files.
    const replies = () => fake.sent().length;
    const intended = [...perUser.values()].flat().filter((s) => s.replies).length;
    const until = Date.now() + 30_000;
    while (replies() < intended && Date.now() < until) await sleep(50);
    await sleep(300);
    const code = await sigterm(svc);
    outputs.push(svc.output());
    assert.is(code, 0, `clean stop after the run:\n${svc.output().slice(-2000)}`);

    const leaked = outputs.filter((o) =>
      [KEY, TG_SECRET, TG_TOKEN, ZD_KEY, ZD_SECRET].some((k) => o.includes(k)),
    );
    assert.is(leaked.length, 0, 'no configured secret in the service output');
    const { files, collections } = await readStore(dataDir);
    const logsLeft = readdirSync(join(dataDir, 'store')).filter((f) => SEGMENT.test(f));
    assert.equal(logsLeft, [], 'a clean stop checkpoints the whole log');
    const actors = collections.actors ?? {};
    const employees = collections.employees ?? {};
    let wrongRecords = 0;
    let doubleEffects = 0;
    let stuck = 0;
    let missingReplies = 0;
    let duplicates = 0;
    const problems: string[] = [];
    for (const [user, steps] of perUser) {
      // exactly once: each acknowledged message appears once in the actor's history (its last steps)
      const history: Array<{ ref?: string }> = actors[`wa:${user}`]?.history ?? [];
      const refs = history.map((h) => h.ref).filter(Boolean) as string[];
      const seen = new Set<string>();
      for (const ref of refs) {
        if (seen.has(ref)) {
          doubleEffects++;
          problems.push(`${user}: ${ref} stepped twice`);
        }
        seen.add(ref);
      }
      const recent = steps.filter((s) => s.wamid).slice(-HISTORY_LIMIT);
      for (const s of recent)
        if (!seen.has(`wa:${s.wamid}`) && history.length >= Math.min(HISTORY_LIMIT, recent.length)) {
          // not in the (bounded) history although it should be among the last HISTORY_LIMIT steps
          if (refs.length < HISTORY_LIMIT) problems.push(`${user}: wa:${s.wamid} never took effect`);
        }
      for (const [date, exp] of expected.get(user) ?? []) {
        const got = employees[user]?.days?.[date];
        if (got?.shift !== exp.shift || got?.sourceMessageId !== exp.wamid) {
          wrongRecords++;
          problems.push(
            `${user} ${date}: expected ${exp.shift} from ${exp.wamid}, got ${JSON.stringify(got)}`,
          );
        }
      }
      const wantReplies = steps.filter((s) => s.replies).length;
      const got = fake.sent().filter((m: { to?: string }) => m.to === user).length;
      if (got < wantReplies) {
        missingReplies += wantReplies - got;
        problems.push(`${user}: ${got} replies for ${wantReplies} messages`);
      } else duplicates += got - wantReplies;
      const state = actors[`wa:${user}`]?.state;
      if (wantReplies > 0 && state !== 'active.menu') {
        stuck++;
        problems.push(`${user}: actor left in ${state}`);
      }
    }
    const calls = Object.values(collections.calls ?? {}) as Array<{ status: string }>;
    const openedCalls = calls.filter((c) => c.status === 'opened').length;
    const failedCalls = calls.filter((c) => c.status === 'failed').length;
    if (
      calls.length !== gateCycles ||
      openedCalls !== gateCycles - interrupted ||
      failedCalls !== interrupted
    )
      problems.push(
        `${gateCycles} gate cycles (${interrupted} interrupted by a kill) but ${calls.length} call records: ${JSON.stringify(calls.map((c) => c.status))}`,
      );
    if (interrupted > generation)
      problems.push(`${interrupted} interrupted calls but only ${generation} kills`);
    if (gateProblems > 0) problems.push(...gateNotes);
    const openedMsgs = opened();
    const callbackRequests = callbacks();
    if (openedMsgs < gateCycles - interrupted)
      problems.push(`${openedMsgs} "відчинено" messages for ${gateCycles - interrupted} opened calls`);
    // At most once: a callback request is never repeated, even when a kill hit while it was under way.
    if (callbackRequests < gateCycles - interrupted || callbackRequests > gateCycles)
      problems.push(
        `${callbackRequests} callback requests for ${gateCycles} commands (${interrupted} interrupted by a kill)`,
      );
    const pendingLeft = Object.keys(collections.outbox ?? {}).length;
    const dead = Object.keys(collections.deadletters ?? {}).length;
    assert.is(problems.length, 0, `model mismatches:\n${problems.slice(0, 20).join('\n')}`);
    assert.is(pendingLeft, 0, 'outbox empty at the end');
    assert.is(dead, 0, 'no dead letters');
    assert.ok(
      duplicates <= resumedPending,
      `${duplicates} duplicate sends but only ${resumedPending} effects were pending at restarts`,
    );
    const section: Section = {
      name: 'crash',
      title: 'Crash consistency (SIGKILL at random moments, redelivery of what was not acknowledged)',
      rows: [
        [
          `webhooks of ${users} users (WhatsApp period dialogs + statuses), ${concurrency} in parallel`,
          total,
          `all ${acked} acknowledged in the end`,
        ],
        [
          'SIGKILL + restart on the same DATA_DIR',
          generation,
          `${files} partition files parse after every run; at the kills ${logsAtKills} log files were left (replayed at the restart) beside up to ${partitionsAtKills} checkpointed partition files (STORE_CHECKPOINT_BYTES=4096); none after the clean stop`,
        ],
        [
          'deliveries incl. redeliveries (refused/cut by a kill)',
          `${attempts} (${refusedOrCut})`,
          'no acknowledged event lost',
        ],
        [
          'attendance records checked against the model (shift + source message)',
          [...expected.values()].reduce((n, m) => n + m.size, 0),
          `${wrongRecords} wrong`,
        ],
        ['events stepped twice (actor history refs)', total, `${doubleEffects}`],
        [
          'intended replies',
          fake.sent().length - duplicates,
          `${missingReplies} missing; ${duplicates} duplicates, all of effects in flight at a kill (${resumedPending} resumed after ${generation} kills)`,
        ],
        [
          `gate cycles of one Telegram user (command → callback → START → END), redelivered across kills`,
          gateCycles,
          `${calls.length} call records: ${openedCalls} opened, ${interrupted} interrupted by a kill during the callback request (user told the status is unknown); ${callbackRequests} callback requests (never repeated); ${openedMsgs} "відчинено" messages (${openedMsgs - openedCalls} duplicates)`,
        ],
        ['actors stuck / outbox rows left / dead letters', users, `${stuck} / ${pendingLeft} / ${dead}`],
      ],
      notes: [`seed ${r.seed}`],
      ms: Date.now() - started,
    };
    return section;
  } finally {
    killAll();
    await fake.close();
    await gf.close();
  }
}

export const crashFigures = { fmtMs };
