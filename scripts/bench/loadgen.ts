/**
 * The load generator of `npm run bench`, run as its own process so its CPU is measured apart from the
 * server's. Keep-alive HTTP/1.1 over node:http with a fixed number of connections.
 *
 * - closed loop (`rate` unset): `concurrency` requests always in flight, as fast as the server answers;
 * - fixed rate (`rate` set): request i is due at start + i / rate; its latency counts from that due
 *   time (so a slow server cannot hide its queue: no coordinated omission).
 *
 * Bodies are real WhatsApp Cloud API webhooks (fixtures/whatsapp.ts): each user walks a dialog
 * (menu → today → day shift → status → period → menu) with a delivery status in between, and never has
 * two requests in flight (per-user order is the server's job, but the bench needs one reply per ack to
 * measure the outbox lag). Input: JSON in argv[2]; output: one JSON line on stdout.
 */
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { buttonReply, statusUpdate, textMessage } from '../../fixtures/whatsapp';
import { percentile } from '../../test/helpers/percentile';

export interface LoadSpec {
  url: string;
  path: string;
  users: number;
  /** First user index (users are `userId(first + i)`). */
  firstUser?: number;
  concurrency: number;
  durationMs: number;
  rate?: number;
  headers?: Record<string, string>;
  /** Record the wall-clock time of each answered message, per user (for the outbox lag). */
  recordAcks?: boolean;
}

export interface LoadResult {
  requests: number;
  messages: number;
  errors: number;
  non200: number;
  elapsedMs: number;
  /** Latencies in ms, summarised. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** CPU the generator itself used (user + system), ms, and as a share of one core. */
  cpuMs: number;
  cpuCores: number;
  /** Per user index: wall-clock ms (timeOrigin + now) at which each message's 200 arrived. */
  acks?: Record<string, number[]>;
  /** Dropped because `rate` wanted more than `concurrency` in flight. */
  skipped: number;
  /** The generator's own event-loop delay (its stalls count in the latencies it measures), ms. */
  loopP99: number;
  loopMax: number;
}

export const userId = (i: number) => `7900${String(i).padStart(7, '0')}`;

/** The dialog every simulated user walks, step by step (then again from the top). */
const DIALOG: Array<(from: string, n: number) => { body: unknown; message: boolean }> = [
  (from) => ({ body: textMessage({ from, body: 'меню' }), message: true }),
  (from) => ({ body: buttonReply({ from, buttonId: 'FILL_TODAY' }), message: true }),
  (from) => ({ body: buttonReply({ from, buttonId: 'SHIFT_DAY' }), message: true }),
  (from, n) => ({
    body: statusUpdate({ id: `wamid.BENCH${from}${n}`, status: 'delivered', recipient: from }),
    message: false,
  }),
  (from) => ({ body: buttonReply({ from, buttonId: 'MY_STATUS' }), message: true }),
  (from) => ({ body: buttonReply({ from, buttonId: 'FILL_PERIOD' }), message: true }),
  (from) => ({ body: textMessage({ from, body: 'меню' }), message: true }),
];

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: spec.concurrency,
    maxFreeSockets: spec.concurrency,
  });
  const target = new URL(spec.path, spec.url);
  const first = spec.firstUser ?? 0;
  const step = new Array<number>(spec.users).fill(0);
  const busy = new Uint8Array(spec.users);
  let nextUser = 0;
  const lat: number[] = [];
  const acks: Record<string, number[]> = {};
  let errors = 0;
  let non200 = 0;
  let messages = 0;
  let skipped = 0;
  let inFlight = 0;

  const pickUser = (): number => {
    for (let tries = 0; tries < spec.users; tries++) {
      const u = nextUser;
      nextUser = (nextUser + 1) % spec.users;
      if (!busy[u]) return u;
    }
    return -1;
  };

  const fire = (u: number, dueAt: number): Promise<void> => {
    busy[u] = 1;
    inFlight++;
    const n = step[u] as number;
    step[u] = n + 1;
    const from = userId(first + u);
    const { body, message } = (DIALOG[n % DIALOG.length] as (typeof DIALOG)[0])(from, n);
    const text = JSON.stringify(body);
    return new Promise<void>((resolve) => {
      const done = (ok: boolean, status: number) => {
        const end = performance.now();
        lat.push(end - dueAt);
        if (!ok) errors++;
        else if (status !== 200) non200++;
        else if (message) {
          messages++;
          if (spec.recordAcks) {
            const list = acks[u] ?? [];
            list.push(performance.timeOrigin + end);
            acks[u] = list;
          }
        }
        busy[u] = 0;
        inFlight--;
        resolve();
      };
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
            ...spec.headers,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => done(true, res.statusCode ?? 0));
          res.on('error', () => done(false, 0));
        },
      );
      req.on('error', () => done(false, 0));
      req.end(text);
    });
  };

  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const until = t0 + spec.durationMs;
  if (spec.rate === undefined) {
    const worker = async () => {
      while (performance.now() < until) {
        const u = pickUser();
        if (u < 0) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        await fire(u, performance.now());
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency }, worker));
  } else {
    const interval = 1000 / spec.rate;
    const pending = new Set<Promise<void>>();
    let i = 0;
    while (performance.now() < until) {
      const now = performance.now();
      // Fire every request that is due by now; then sleep until the next one.
      while (t0 + i * interval <= now && t0 + i * interval < until) {
        const due = t0 + i * interval;
        i++;
        const u = inFlight < spec.concurrency ? pickUser() : -1;
        if (u < 0) {
          skipped++;
          continue;
        }
        const p = fire(u, due);
        pending.add(p);
        void p.then(() => pending.delete(p));
      }
      // A timer, never a setImmediate spin: spinning cost the generator a whole core, taken from the
      // server on this 2-core machine. A timer can be ~1 ms late; latency counts from the due time, so
      // that lateness is charged to the server, not hidden.
      const wait = t0 + i * interval - performance.now();
      await new Promise((r) => setTimeout(r, Math.max(0, Math.floor(wait))));
    }
    await Promise.all(pending);
  }
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  const sorted = Float64Array.from(lat).sort();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    requests: lat.length,
    messages,
    errors,
    non200,
    elapsedMs,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length),
    cpuMs,
    cpuCores: cpuMs / elapsedMs,
    skipped,
    loopP99: loop.percentile(99) / 1e6,
    loopMax: loop.max / 1e6,
    ...(spec.recordAcks ? { acks } : {}),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  runLoad(spec).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e) => {
      process.stderr.write(`loadgen: ${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}
