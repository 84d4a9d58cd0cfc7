/**
 * `npm run bench` (issue #6): one run on loopback, a fake 360dialog answering at once.
 *   1. baseline: a bare Koa app (same body parser) under the same load generator;
 *   2. full pipeline: WhatsApp webhooks through the real server (its own process, temp DATA_DIR);
 *   3. latency at a fixed offered rate (1,000 events/s for 30 s);
 *   4. scale in users: 100 / 10,000 / 100,000 users already in the store;
 *   5. the gate path: Telegram update → Zadarma callback request, final webhook → Telegram message.
 * Prints a table and writes docs/BENCHMARKS.md. Not part of `npm test`.
 *
 * Options (env): BENCH_QUICK=1 (short runs, for trying the bench itself), BENCH_FSYNC=on (skip the
 * extra full-pipeline run with STORE_FSYNC=off), BENCH_CPU_PROF=<dir> (the full-pipeline server writes a
 * V8 CPU profile there), BENCH_OUT=<file> (default docs/BENCHMARKS.md; "-" to write nothing),
 * BENCH_SCALE=100,100000 (the user counts of part 4).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { incomingCall } from '../fixtures/zadarma';
import { SERVICE_PARTITIONS } from '../server/config/config';
import { startCli } from '../server/ops/cli';
import { percentile } from '../test/helpers/percentile';
import { startLightD360 } from './bench/fake-d360';
import { type LoadResult, userId } from './bench/loadgen';
import { du, machine, type Proc, probe, root, runLoadProcess, sampled, spawnTs } from './bench/run';
import { makeTemplate, seedStore } from './bench/seed';

startCli({
  name: 'bench',
  purpose: 'throughput, latency and scale of the service on loopback (minutes); writes docs/BENCHMARKS.md',
  usage: [''],
  options: {},
  notes: [
    'Settings (environment, or --env-file):',
    '  BENCH_QUICK=1            short runs, for trying the bench itself',
    '  BENCH_FSYNC=on           skip the extra full-pipeline run with STORE_FSYNC=off',
    '  BENCH_CPU_PROF=DIR       the full-pipeline server writes a V8 CPU profile there',
    '  BENCH_OUT=FILE           default docs/BENCHMARKS.md; "-" writes nothing',
    '  BENCH_SCALE=100,100000   the user counts of the scale part; default 100,10000,100000',
  ],
  examples: ['', '--env-file bench.env'],
  dotEnv: false,
});
const QUICK = process.env.BENCH_QUICK === '1';
const SEC = QUICK ? 3000 : 10_000;
const RATE_MS = QUICK ? 5000 : 30_000;
const CONCURRENCY = 64;
const PIPELINE_USERS = 5000;
const SCALE = process.env.BENCH_SCALE
  ? process.env.BENCH_SCALE.split(',').map(Number)
  : QUICK
    ? [100, 10_000]
    : [100, 10_000, 100_000];
const OUT = process.env.BENCH_OUT ?? join(root, 'docs/BENCHMARKS.md');
/** The hand-written analysis appended to docs/BENCHMARKS.md (profile, changes, what is left). */
const NOTES_FILE = join(root, 'scripts/bench/NOTES.md');
const NOTES = existsSync(NOTES_FILE) ? `\n${readFileSync(NOTES_FILE, 'utf-8')}` : '';

const MB = (b: number) =>
  b < 1024 * 1024 ? `${(b / 1024).toFixed(0)} KB` : `${(b / 1024 / 1024).toFixed(0)} MB`;
const ms = (x: number) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms` : 'n/a');
const rate = (r: LoadResult) => r.requests / (r.elapsedMs / 1000);
const log = (s: string) => process.stderr.write(`${s}\n`);

const loadBefore = readFileSync('/proc/loadavg', 'utf-8').split(' ').slice(0, 3).join(' ');
const tmp = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
const d360 = await startLightD360();

function serverEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    MODE: 'dev',
    APP_TIMEZONE: 'Europe/Moscow',
    DATA_DIR: dataDir,
    D360_API_KEY: 'bench-key',
    D360_BASE_URL: d360.url,
    VERIFY_TOKEN: 'bench-verify',
    // Channels the bench does not drive stay off.
    TELEGRAM_BOT_TOKEN: '',
    ZADARMA_API_KEY: '',
    REMINDER_TIME: '',
    ADMIN_TOKEN: '',
    WEBHOOK_SECRET_HEADER: '',
    ...extra,
  };
}

const startServer = (dataDir: string, extra: Record<string, string> = {}, nodeArgs: string[] = []) =>
  spawnTs('server/main.ts', serverEnv(dataDir, extra), /switchboard started url=(\S+)/, nodeArgs);

/** Waits until the fake has received `n` messages since its reset (or nothing arrives for 2 s). */
async function drained(n: number): Promise<void> {
  let last = -1;
  let still = 0;
  while (d360.count() < n) {
    const c = d360.count();
    still = c === last ? still + 1 : 0;
    last = c;
    if (still > 40) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Outbox lag per message: fake received − webhook answered, matched per user in order. */
function lag(r: LoadResult, firstUser = 0): { p50: number; p99: number; matched: number } {
  const d: number[] = [];
  for (const [u, acks] of Object.entries(r.acks ?? {})) {
    const got = d360.received.get(userId(firstUser + Number(u))) ?? [];
    for (let i = 0; i < Math.min(acks.length, got.length); i++)
      d.push((got[i] as number) - (acks[i] as number));
  }
  return { p50: percentile(d, 50), p99: percentile(d, 99), matched: d.length };
}

interface PipelineRun {
  load: LoadResult;
  lag: { p50: number; p99: number; matched: number };
  peakRss: number;
  peakHeap: number;
  serverCpu: number;
  /** The server's event-loop delay during the run, ms. */
  loop: { p99: number; max: number };
  /** The server's store commits: call → on disk, ms. */
  commit: { p99: number; max: number };
}

async function drive(
  server: Proc,
  users: number,
  opts: { rate?: number; durationMs: number },
): Promise<PipelineRun> {
  d360.reset();
  const s = await sampled(server, () =>
    runLoadProcess({
      url: server.url,
      path: '/webhook',
      users,
      concurrency: opts.rate ? 512 : CONCURRENCY,
      durationMs: opts.durationMs,
      rate: opts.rate,
      recordAcks: true,
    }),
  );
  await drained(s.result.messages);
  const l = lag(s.result);
  const { acks: _drop, ...load } = s.result;
  return {
    load,
    lag: l,
    peakRss: s.peakRss,
    peakHeap: s.peakHeap,
    serverCpu: s.cpuMs / s.result.elapsedMs,
    loop: s.loop,
    commit: s.commit,
  };
}

const warm = (server: Proc, users: number) =>
  runLoadProcess({
    url: server.url,
    path: '/webhook',
    users,
    concurrency: CONCURRENCY,
    durationMs: QUICK ? 1000 : 3000,
  });

// ---------------------------------------------------------------- 1. baseline
log('1/5 baseline: bare Koa + readJson');
const bare = await spawnTs('scripts/bench/bare.ts', {}, /listening (\S+)/);
await warm(bare, PIPELINE_USERS);
const bareRun = await sampled(bare, () =>
  runLoadProcess({
    url: bare.url,
    path: '/webhook',
    users: PIPELINE_USERS,
    concurrency: CONCURRENCY,
    durationMs: SEC,
  }),
);
await bare.stop();
const baseline = bareRun.result;

// ---------------------------------------------------------------- 2 + 3. full pipeline, fixed rate
async function pipeline(
  fsync: 'on' | 'off',
): Promise<{ closed: PipelineRun; fixed?: PipelineRun; probe: Awaited<ReturnType<typeof probe>> }> {
  const dir = join(tmp, `pipeline-fsync-${fsync}`);
  const prof = process.env.BENCH_CPU_PROF;
  const server = await startServer(
    dir,
    fsync === 'off' ? { STORE_FSYNC: 'off' } : {},
    prof && fsync === 'on' ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [],
  );
  await warm(server, PIPELINE_USERS);
  await drained(Number.POSITIVE_INFINITY);
  const closed = await drive(server, PIPELINE_USERS, { durationMs: SEC });
  let fixed: PipelineRun | undefined;
  if (fsync === 'on') {
    log(`3/5 fixed rate: 1,000 events/s for ${RATE_MS / 1000} s`);
    fixed = await drive(server, PIPELINE_USERS, { rate: 1000, durationMs: RATE_MS });
  }
  const p = await probe(server);
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  return { closed, fixed, probe: p };
}
log('2/5 full pipeline (fsync on)');
const main = await pipeline('on');
let noFsync: PipelineRun | undefined;
if (process.env.BENCH_FSYNC !== 'on') {
  log('2/5 full pipeline (STORE_FSYNC=off)');
  noFsync = (await pipeline('off')).closed;
}

// ---------------------------------------------------------------- 4. scale in users
log('4/5 scale: seeding a template user');
const template = await makeTemplate(join(tmp, 'template'));
interface ScaleRow {
  users: number;
  seedMs: number;
  storeBytes: number;
  startupMs: number;
  idleRss: number;
  closed: PipelineRun;
  fixed: PipelineRun;
}
const scale: ScaleRow[] = [];
for (const users of SCALE) {
  log(`4/5 scale: ${users} users`);
  const dir = join(tmp, `scale-${users}`);
  const t0 = performance.now();
  seedStore(dir, users, template);
  const seedMs = performance.now() - t0;
  const storeBytes = du(join(dir, 'store'));
  const server = await startServer(dir);
  await new Promise((r) => setTimeout(r, 500));
  const idle = await probe(server);
  await warm(server, users);
  await drained(Number.POSITIVE_INFINITY);
  const closed = await drive(server, users, { durationMs: SEC });
  const fixed = await drive(server, users, { rate: 1000, durationMs: SEC });
  await server.stop();
  scale.push({ users, seedMs, storeBytes, startupMs: server.startupMs, idleRss: idle.rss, closed, fixed });
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- 5. gate path
log('5/5 gate path');
const gate = await gatePath(QUICK ? 10 : 40); // the fake Zadarma rate-limits callbacks past ~50

await d360.close();
rmSync(tmp, { recursive: true, force: true });

// ---------------------------------------------------------------- report
const fsyncNote =
  'on (default): each batch of commits is one append + fdatasync of the write-ahead log; checkpoints rewrite partition files (temp file + fdatasync + rename + folder fsync)';
const m = machine(tmpdir());
const lines: string[] = [];
const row = (...cells: string[]) => lines.push(`| ${cells.join(' | ')} |`);
const verdict = (ok: boolean) => (ok ? '✅ met' : '❌ not met');

lines.push('## Machine', '');
row('', '');
lines[lines.length - 1] = '| property | value |';
row('---', '---');
for (const [k, v] of Object.entries(m)) row(k, v);
row('fsync', fsyncNote);
row(
  'load average (1/5/15 min) before → after the run',
  `${loadBefore} → ${readFileSync('/proc/loadavg', 'utf-8').split(' ').slice(0, 3).join(' ')} (the machine is shared: other work running at the same time skews every figure)`,
);
row('store partitions (new store)', String(Number(process.env.STORE_PARTITIONS) || SERVICE_PARTITIONS));
row(
  'load generator',
  `own process, node:http keep-alive, ${CONCURRENCY} connections (closed loop) or 512 max in flight (fixed rate)`,
);
lines.push('');

const pipe = main.closed;
lines.push('## 1–3. Baseline, full pipeline, fixed rate', '');
row(
  'run',
  'events/s',
  'p50',
  'p99',
  'max',
  'outbox lag p50 / p99',
  'server CPU',
  'generator CPU',
  'event-loop delay max: server / generator',
  'store commit → on disk p99 / max',
  'RSS peak',
  'heap peak',
);
row('---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:');
row(
  'bare Koa + readJson (baseline)',
  rate(baseline).toFixed(0),
  ms(baseline.p50),
  ms(baseline.p99),
  ms(baseline.max),
  '—',
  `${((bareRun.cpuMs / baseline.elapsedMs) * 100).toFixed(0)} %`,
  `${(baseline.cpuCores * 100).toFixed(0)} %`,
  `${ms(bareRun.loop.max)} / ${ms(baseline.loopMax)}`,
  '—',
  MB(bareRun.peakRss),
  MB(bareRun.peakHeap),
);
const pipeRow = (name: string, r: PipelineRun) =>
  row(
    name,
    rate(r.load).toFixed(0),
    ms(r.load.p50),
    ms(r.load.p99),
    ms(r.load.max),
    `${ms(r.lag.p50)} / ${ms(r.lag.p99)}`,
    `${(r.serverCpu * 100).toFixed(0)} %`,
    `${(r.load.cpuCores * 100).toFixed(0)} %`,
    `${ms(r.loop.max)} / ${ms(r.load.loopMax)}`,
    `${ms(r.commit.p99)} / ${ms(r.commit.max)}`,
    MB(r.peakRss),
    MB(r.peakHeap),
  );
pipeRow(`full pipeline, closed loop, ${PIPELINE_USERS} users`, pipe);
if (noFsync) pipeRow('full pipeline, STORE_FSYNC=off (unsafe)', noFsync);
if (main.fixed) pipeRow(`fixed rate 1,000/s for ${RATE_MS / 1000} s`, main.fixed);
lines.push(
  '',
  `Errors / non-200: pipeline ${pipe.load.errors} / ${pipe.load.non200}; fixed rate ${main.fixed?.load.errors ?? 0} / ${main.fixed?.load.non200 ?? 0}, skipped (over 512 in flight) ${main.fixed?.load.skipped ?? 0}. Outbox lag = the fake 360dialog received the reply − the load generator got the webhook's 200 (the commit happens just before the 200, so a negative value means the reply left before the client read the answer); matched ${pipe.lag.matched} replies.`,
  '',
);

lines.push('## 4. Scale in users (store seeded by the bench)', '');
row(
  'users',
  'store on disk',
  'start-up',
  'RSS idle',
  'closed loop events/s',
  'closed p99',
  'p99 at 1,000/s',
  'event-loop delay max at 1,000/s: server / generator',
  'commit → on disk max at 1,000/s',
  'RSS peak',
  'heap peak',
);
row('---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:');
for (const s of scale) {
  row(
    s.users.toLocaleString('en'),
    MB(s.storeBytes),
    ms(s.startupMs),
    MB(s.idleRss),
    rate(s.closed.load).toFixed(0),
    ms(s.closed.load.p99),
    ms(s.fixed.load.p99),
    `${ms(s.fixed.loop.max)} / ${ms(s.fixed.load.loopMax)}`,
    ms(s.fixed.commit.max),
    MB(Math.max(s.closed.peakRss, s.fixed.peakRss)),
    MB(Math.max(s.closed.peakHeap, s.fixed.peakHeap)),
  );
}
lines.push(
  '',
  'Start-up = process spawned (`node --import tsx server/main.ts`, TypeScript compiled on the fly) → the "switchboard started" line.',
  '',
);

lines.push('## 5. Gate path (Telegram webhook mode, fake Bot API and Zadarma)', '');
row('leg', 'n', 'p50', 'p99', 'max');
row('---', '---:', '---:', '---:', '---:');
const legRow = (leg: string, xs: number[]) =>
  row(leg, String(xs.length), ms(percentile(xs, 50)), ms(percentile(xs, 99)), ms(Math.max(...xs)));
legRow('Telegram update → Zadarma callback request', gate.toZadarma);
legRow('final Zadarma webhook → Telegram message', gate.toTelegram);
lines.push('');

const s100 = scale.find((s) => s.users === 100);
const sBig = scale[scale.length - 1];
lines.push('## Targets', '');
row('target', 'measured', 'verdict');
row('---', '---', '---');
row('full pipeline ≥ 5,000 events/s', rate(pipe.load).toFixed(0), verdict(rate(pipe.load) >= 5000));
row(
  'full pipeline ≥ 0.4 × bare Koa',
  `${(rate(pipe.load) / rate(baseline)).toFixed(2)} ×`,
  verdict(rate(pipe.load) / rate(baseline) >= 0.4),
);
if (main.fixed)
  row('p99 ≤ 20 ms at 1,000 events/s', ms(main.fixed.load.p99), verdict(main.fixed.load.p99 <= 20));
if (s100 && sBig && sBig !== s100) {
  const tr = rate(sBig.closed.load) / rate(s100.closed.load);
  const pr = sBig.fixed.load.p99 / s100.fixed.load.p99;
  row(
    `${sBig.users.toLocaleString('en')} users: throughput ≥ 0.8 × 100 users`,
    `${tr.toFixed(2)} ×`,
    verdict(tr >= 0.8),
  );
  row(
    `${sBig.users.toLocaleString('en')} users: p99 (at 1,000/s) ≤ 2 × 100 users`,
    `${pr.toFixed(2)} ×`,
    verdict(pr <= 2),
  );
  const rss = Math.max(sBig.closed.peakRss, sBig.fixed.peakRss);
  row(`${sBig.users.toLocaleString('en')} users: RSS ≤ 250 MB`, MB(rss), verdict(rss <= 250 * 1024 * 1024));
  row(
    `${sBig.users.toLocaleString('en')} users: start-up ≤ 2 s`,
    ms(sBig.startupMs),
    verdict(sBig.startupMs <= 2000),
  );
}
const gp = Math.max(percentile(gate.toZadarma, 99), percentile(gate.toTelegram, 99));
row('gate path p99 ≤ 50 ms each way', ms(gp), verdict(gp <= 50));
lines.push('');

const table = lines.join('\n');
process.stdout.write(`${table}\n`);
if (OUT !== '-') {
  const head = `# Benchmarks

\`npm run bench\` (issue #6): one run on loopback; the server is its own process on a temp DATA_DIR, the
fake 360dialog (\`scripts/bench/fake-d360.ts\`) answers at once, the load generator
(\`scripts/bench/loadgen.ts\`) is a third process sending real WhatsApp Cloud API webhooks: every user
walks menu → today → day shift → (delivery status) → my status → period → menu. An event is one
webhook (one message or one status). Generated ${new Date().toISOString()}${QUICK ? ' (BENCH_QUICK: short runs)' : ''}.

`;
  writeFileSync(OUT, `${head}${table}\n${NOTES}`);
  log(`wrote ${OUT}`);
}
process.exit(0);

/** The gate path in the real service (its own process), Telegram in webhook mode, the fakes here. */
async function gatePath(n: number): Promise<{ toZadarma: number[]; toTelegram: number[] }> {
  const { startFakes, gateEnv, RELAY, CALLBACK_PATH, ZD_SECRET } = await import(
    '../test/helpers/gate-harness'
  );
  const { BLANK_ENV } = await import('../test/helpers/env');
  const { commandUpdate } = await import('../fixtures/telegram');
  const { signed } = await import('../fixtures/zadarma');
  const { WEBHOOK_SIGNATURE_HEADER } = await import('../server/channels/zadarma/sign');
  const f = await startFakes();
  const SECRET = 'bench-tg-secret_0123456789';
  const USER = 5001;
  const dir = join(tmp, 'gate');
  f.tg.addChat(USER);
  const env: Record<string, string> = {
    ...BLANK_ENV,
    ...gateEnv(f, {
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      TELEGRAM_ALLOWED_USERS: String(USER),
      GATE_COOLDOWN_S: '0',
    }),
    HOST: '127.0.0.1',
    PORT: '0',
    MODE: 'dev',
    APP_TIMEZONE: 'Europe/Kyiv',
    DATA_DIR: dir,
  };
  const server = await spawnTs('server/main.ts', env, /switchboard started url=(\S+)/);
  const post = async (path: string, body: string, headers: Record<string, string>) => {
    const r = await fetch(`${server.url}${path}`, { method: 'POST', body, headers });
    await r.text();
    if (r.status !== 200) throw new Error(`${path} answered ${r.status}`);
  };
  const toZadarma: number[] = [];
  const toTelegram: number[] = [];
  const sends = () => f.tg.calls('sendMessage');
  try {
    for (let i = 0; i < n + 3; i++) {
      const before = f.zd.requests.filter((r) => r.path === CALLBACK_PATH).length;
      const sentBefore = sends().length;
      const t0 = Date.now();
      await post('/telegram/webhook', JSON.stringify(commandUpdate({ userId: USER, text: '/hvirtka' })), {
        'content-type': 'application/json',
        'x-telegram-bot-api-secret-token': SECRET,
      });
      await f.zd.waitFor(() => f.zd.requests.filter((r) => r.path === CALLBACK_PATH).length > before, 5000);
      const cb = f.zd.requests.filter((r) => r.path === CALLBACK_PATH)[before];
      const leg = incomingCall({ caller_id: RELAY.hvirtka });
      const send = async (fields: Parameters<typeof signed>[0]) => {
        const s = signed(fields, ZD_SECRET);
        await post('/zadarma/webhook', s.body, {
          'content-type': 'application/x-www-form-urlencoded',
          [WEBHOOK_SIGNATURE_HEADER]: s.signature,
        });
      };
      // The "initiated" message (after the callback was accepted) must be out before the result is timed.
      await f.tg.waitFor(
        () => sends().some((c, k) => k >= sentBefore && /ініційовано/.test(String(c.params.text))),
        5000,
      );
      await send(leg.start());
      await new Promise((r) => setTimeout(r, 10));
      const calls0 = sends().length;
      const t2 = Date.now();
      await send(leg.end({ disposition: 'cancel', duration: 3 }));
      await f.tg.waitFor(() => sends().length > calls0, 5000);
      const msg = sends()[calls0];
      if (i >= 3 && cb && msg) {
        toZadarma.push(cb.at - t0);
        toTelegram.push(msg.at - t2);
      }
    }
  } finally {
    await server.stop();
    await f.close();
  }
  return { toZadarma, toTelegram };
}
