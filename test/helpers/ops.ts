/**
 * Running the operator commands (`scripts/doctor.ts`, `webhooks.ts`, `backup.ts`, `restore.ts`, any tool
 * in scripts/) as child processes against the fake platforms, the way an operator runs them.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { signRequest } from '../../server/channels/zadarma/sign';
import { type FakeD360, startFakeD360 } from '../fakes/d360';
import { type FakeTelegram, startFakeTelegram } from '../fakes/telegram';
import { type FakeZadarma, startFakeZadarma } from '../fakes/zadarma';
import { BLANK_ENV } from './env';

const root = new URL('../..', import.meta.url).pathname;
const TSX = import.meta.resolve('tsx');

export const PUBLIC = 'https://bot.example.com';
export const D360_KEY = 'd360-key-for-ops-tests';
export const TG_TOKEN = '7000000042:AAFakeTokenForOpsTests_0123456789abcde';
export const TG_SECRET = 'tg-webhook-secret-42';
export const Z_KEY = 'zadarma-ops-key-0123';
export const Z_SECRET = 'zadarma-ops-secret-0123456789';
export const HOOK_HEADER = { name: 'x-switchboard-secret', value: 'hook-secret-0042' };
/** The Zadarma notification switches the gate needs, all on (as `webhooks set` sends them). */
export const NOTIFY_ON = {
  notify_start: 'true',
  notify_end: 'true',
  notify_out_start: 'true',
  notify_out_end: 'true',
} as const;

export interface Fakes {
  d360: FakeD360;
  tg: FakeTelegram;
  z: FakeZadarma;
  close(): Promise<void>;
}

export async function startFakes(): Promise<Fakes> {
  const d360 = await startFakeD360({ apiKey: D360_KEY });
  const tg = await startFakeTelegram({ token: TG_TOKEN, username: 'gate_ops_bot' });
  const z = await startFakeZadarma({ key: Z_KEY, secret: Z_SECRET });
  return {
    d360,
    tg,
    z,
    close: async () => {
      await Promise.all([d360.close(), tg.close(), z.close()]);
    },
  };
}

/** A production deployment with every channel live against the fakes. */
export function prodEnv(
  f: Fakes,
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    MODE: 'prod',
    DATA_DIR: dataDir,
    APP_TIMEZONE: 'Europe/Moscow',
    PUBLIC_URL: PUBLIC,
    D360_API_KEY: D360_KEY,
    VERIFY_TOKEN: 'verify-ops',
    D360_BASE_URL: f.d360.url,
    WEBHOOK_SECRET_HEADER: `X-Switchboard-Secret=${HOOK_HEADER.value}`,
    TELEGRAM_BOT_TOKEN: TG_TOKEN,
    TELEGRAM_API_ROOT: f.tg.url,
    TELEGRAM_MODE: 'webhook',
    TELEGRAM_WEBHOOK_SECRET: TG_SECRET,
    TELEGRAM_ADMIN_IDS: '111',
    ZADARMA_API_KEY: Z_KEY,
    ZADARMA_API_SECRET: Z_SECRET,
    ZADARMA_BASE_URL: f.z.url,
    ZADARMA_CALLER: '0733103110',
    GATES: 'hvirtka=0637442017,vorota=0930063585',
    ...extra,
  };
}

/** Registers URLs at the fakes directly (not through `webhooks set`), as a platform's own UI would. */
export async function registerAt(
  f: Fakes,
  urls: { whatsapp?: string; telegram?: string; zadarma?: string },
  opts: { headers?: Record<string, string>; notifications?: Record<string, 'true' | 'false'> } = {},
): Promise<void> {
  if (urls.whatsapp !== undefined) {
    const res = await fetch(`${f.d360.url}/v1/configs/webhook`, {
      method: 'POST',
      headers: { 'D360-API-KEY': D360_KEY, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        url: urls.whatsapp,
        headers: opts.headers ?? { [HOOK_HEADER.name]: HOOK_HEADER.value },
      }),
    });
    if (!res.ok) throw new Error(`d360 register: ${res.status}`);
  }
  if (urls.telegram !== undefined) {
    const res = await fetch(`${f.tg.url}/bot${TG_TOKEN}/setWebhook`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: urls.telegram, secret_token: TG_SECRET }),
    });
    if (!res.ok) throw new Error(`telegram register: ${res.status}`);
  }
  const zpost = async (path: string, params: Record<string, string>) => {
    const { query, authorization } = signRequest(path, params, Z_KEY, Z_SECRET);
    const res = await fetch(`${f.z.url}${path}`, {
      method: 'POST',
      headers: { Authorization: authorization, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: query,
    });
    if (!res.ok) throw new Error(`zadarma ${path}: ${res.status}`);
  };
  if (urls.zadarma !== undefined) await zpost('/v1/pbx/callinfo/url/', { url: urls.zadarma });
  await zpost('/v1/pbx/callinfo/notifications/', opts.notifications ?? NOTIFY_ON);
}

/** Everything right: our three URLs, the secret header, the notifications on. */
export function registerOurs(f: Fakes): Promise<void> {
  return registerAt(f, {
    whatsapp: `${PUBLIC}/webhook`,
    telegram: `${PUBLIC}/telegram/webhook`,
    zadarma: `${PUBLIC}/zadarma/webhook`,
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `node --import tsx scripts/<script>.ts …args` (`script` as `doctor` or `bench/profile`) with the
 * settings given over blank ones (nothing from this shell or `.env`), less those `unset` removes (so
 * that `--env-file` or `.env` may fill them in).
 */
export function runCli(
  script: string,
  args: string[],
  env: Record<string, string>,
  opts: { cwd?: string; unset?: string[]; timeoutMs?: number } = {},
): Promise<CliResult> {
  const { cwd = root, unset = [], timeoutMs = 30_000 } = opts;
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    ...BLANK_ENV,
    ...env,
    NO_COLOR: '1',
  };
  for (const name of unset) delete childEnv[name];
  return new Promise((resolve, reject) => {
    // tsx and the script by absolute path: `cwd` may be a folder outside the repository.
    const proc = spawn(process.execPath, ['--import', TSX, join(root, 'scripts', `${script}.ts`), ...args], {
      cwd,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => {
      stdout += d;
    });
    proc.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(
        new Error(`${script} ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The doctor's line for one check (throws when there is none). */
export function lineOf(stdout: string, check: string): string {
  const line = stdout.split('\n').find((l) => l.slice(2).startsWith(`${check}:`));
  if (!line) throw new Error(`no "${check}" line in:\n${stdout}`);
  return line;
}
