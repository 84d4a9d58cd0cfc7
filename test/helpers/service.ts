import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../server/config/config';
import { memoryLogger } from '../../server/lib/log';
import { type Service, startService } from '../../server/service';
import { BLANK_ENV } from './env';

const root = new URL('../..', import.meta.url).pathname;

export function tmpDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'switchboard-test-'));
}

/** Settings every test server gets: nothing from the shell or `.env`, loopback, a free port, fast retries. */
export function testEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    ...BLANK_ENV,
    HOST: '127.0.0.1',
    PORT: '0',
    MODE: 'dev',
    APP_TIMEZONE: 'Europe/Moscow',
    OUTBOX_RETRY_BASE_MS: '30',
    OUTBOX_RETRY_MAX_MS: '200',
    SWEEP_INTERVAL_MS: '50',
    ...extra,
  };
}

export interface TestService extends Service {
  logs: string[];
  printed: string[];
}

/** The real service (Koa on a loopback port, lowdb in a temp folder) inside this process. */
export async function startTestService(
  env: Record<string, string | undefined>,
  opts: { clock?: () => number; dataDir?: string } = {},
): Promise<TestService> {
  const config = readConfig(testEnv({ DATA_DIR: opts.dataDir ?? tmpDataDir(), ...env }));
  const printed: string[] = [];
  const log = memoryLogger();
  const service = await startService(config, log, { print: (t) => printed.push(t), clock: opts.clock });
  return Object.assign(service, { logs: log.lines, printed });
}

export interface MainProcess {
  proc: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  exited: Promise<number | null>;
}

export interface ServiceProcess extends MainProcess {
  url: string;
}

/** The service's source, as the tests run it; the build test gives the compiled entry instead. */
const MAIN_SOURCE = ['--import', 'tsx', 'server/main.ts'];

/** `server/main.ts` (or `nodeArgs`) as a child process with the test settings (it may refuse to start). */
export function spawnMain(env: Record<string, string | undefined>, nodeArgs = MAIN_SOURCE): MainProcess {
  const proc = spawn(process.execPath, nodeArgs, {
    cwd: root,
    env: { ...process.env, ...testEnv(env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (d: Buffer) => {
    out += d;
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

/** The service as its own process (`server/main.ts`), for restarts, SIGKILL and SIGTERM. */
export async function spawnService(
  env: Record<string, string | undefined>,
  timeoutMs = 15_000,
  nodeArgs = MAIN_SOURCE,
): Promise<ServiceProcess> {
  const { proc, output, exited } = spawnMain(env, nodeArgs);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`service did not start in ${timeoutMs} ms:\n${output()}`)),
      timeoutMs,
    );
    const check = () => {
      const m = /switchboard started url=(\S+)/.exec(output());
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout?.on('data', check);
    proc.stderr?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before starting:\n${output()}`));
    });
  });
  return { url, proc, output, exited };
}

export interface HttpAnswer {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

export async function http(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<HttpAnswer> {
  const hasBody = init.body !== undefined || init.raw !== undefined;
  const res = await fetch(url, {
    method: init.method ?? (hasBody ? 'POST' : 'GET'),
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.raw ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** The outbox counts `GET /health` reports. */
export async function outboxHealth(url: string): Promise<{ pending: number; deadLetters: number }> {
  const res = await http(`${url}/health`);
  const { pending, deadLetters } = (res.json as { outbox: { pending: number; deadLetters: number } }).outbox;
  return { pending, deadLetters };
}

/** Polls until `check` returns a value other than undefined/false. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
