/**
 * `npx tsx scripts/bench/profile.ts [users] [seconds]`: the full pipeline under closed-loop load with
 * the server run under `node --cpu-prof`; prints the top functions by self time (and where the
 * .cpuprofile is, for Chrome DevTools).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failUsage, startCli } from '../../server/ops/cli';
import { startLightD360 } from './fake-d360';
import { runLoadProcess, spawnTs } from './run';
import { makeTemplate, seedStore } from './seed';

const CLI = {
  name: 'profile',
  program: 'npx tsx scripts/bench/profile.ts',
  purpose: 'the full pipeline under load with the server under node --cpu-prof; prints the top functions',
  usage: ['[USERS] [SECONDS]'],
  args: { max: 2 },
  options: {},
  notes: [
    'USERS: users in the store, default 5000; SECONDS: load duration, default 8.',
    'SEED=0: no seeding; TOP=N: how many functions (default 30).',
  ],
  examples: ['', '100000 20'],
  dotEnv: false,
};
const [users = 5000, seconds = 8] = startCli(CLI).positionals.map((a) => {
  const n = Number(a);
  return Number.isInteger(n) && n > 0 ? n : failUsage(CLI, `not a whole number > 0: "${a}"`);
});
const tmp = mkdtempSync(join(tmpdir(), 'switchboard-prof-'));
const profDir = join(tmp, 'prof');
const d360 = await startLightD360();
const dir = join(tmp, 'data');
if (process.env.SEED !== '0') seedStore(dir, users, await makeTemplate(join(tmp, 'template')));
const server = await spawnTs(
  'server/main.ts',
  {
    HOST: '127.0.0.1',
    PORT: '0',
    MODE: 'dev',
    APP_TIMEZONE: 'Europe/Moscow',
    DATA_DIR: dir,
    D360_API_KEY: 'k',
    D360_BASE_URL: d360.url,
    VERIFY_TOKEN: 'v',
    TELEGRAM_BOT_TOKEN: '',
    ZADARMA_API_KEY: '',
    ...(process.env.STORE_FSYNC ? { STORE_FSYNC: process.env.STORE_FSYNC } : {}),
  },
  /switchboard started url=(\S+)/,
  ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
);
const r = await runLoadProcess({
  url: server.url,
  path: '/webhook',
  users,
  concurrency: 64,
  durationMs: seconds * 1000,
});
console.log(
  `events/s ${(r.requests / (r.elapsedMs / 1000)).toFixed(0)} p50 ${r.p50.toFixed(1)} p99 ${r.p99.toFixed(1)}`,
);
await new Promise((res) => setTimeout(res, 500));
await server.stop();
await d360.close();
rmSync(dir, { recursive: true, force: true });
const file = join(profDir, readdirSync(profDir)[0] as string);
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const prof = JSON.parse(readFileSync(file, 'utf-8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const self = new Map<number, number>();
for (let i = 0; i < prof.samples.length; i++)
  self.set(prof.samples[i] as number, (self.get(prof.samples[i] as number) ?? 0) + (prof.timeDeltas[i] ?? 0));
const byFn = new Map<string, number>();
let total = 0;
for (const n of prof.nodes) {
  const t = self.get(n.id) ?? 0;
  total += t;
  const url = n.callFrame.url.replace(/^.*\/(node_modules\/|work\/main\/)/, '');
  const k = `${n.callFrame.functionName || '(anon)'} ${url}:${n.callFrame.lineNumber + 1}`;
  byFn.set(k, (byFn.get(k) ?? 0) + t);
}
const top = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 30));
for (const [k, t] of top) console.log(`${((t / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
console.log(`profile: ${file}`);
