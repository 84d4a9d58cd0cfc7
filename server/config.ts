import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { isTimeZone } from './clock';

/** Every setting of the service, typed. Names and defaults are the contract in DESIGN.md. */
export interface Config {
  port: number;
  host: string;
  mode: 'dev' | 'prod';
  dataDir: string;
  timezone: string;
  adminToken?: string;
  whatsapp: WhatsAppConfig;
  /** Advanced tuning (tests use them to run fast). */
  tuning: { retryBaseMs: number; retryMaxMs: number; retryMaxAttempts: number; sweepIntervalMs: number };
}

export interface WhatsAppConfig {
  /** live: send through 360dialog; dry: print what would be sent; off: channel disabled. */
  mode: 'live' | 'dry' | 'off';
  apiKey?: string;
  verifyToken?: string;
  baseUrl: string;
  /** `Name=value` that 360dialog must send with every webhook, when set. */
  secretHeader?: { name: string; value: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/** Reads `.env` (when present) into process.env without overriding what is already set. */
export function loadDotEnv(file = resolve('.env')): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

/** env → Config; throws one ConfigError naming every missing or bad setting. */
export function readConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const int = (name: string, def: number, min: number, max: number) => {
    const raw = get(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return def;
    }
    return n;
  };
  const url = (name: string, def: string) => {
    const raw = get(name) ?? def;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
      return raw.replace(/\/+$/, '');
    } catch {
      problems.push(`${name} must be an http(s) URL, got "${raw}"`);
      return def;
    }
  };

  const modeRaw = get('MODE') ?? 'dev';
  if (modeRaw !== 'dev' && modeRaw !== 'prod') problems.push(`MODE must be dev or prod, got "${modeRaw}"`);
  const mode = modeRaw === 'prod' ? 'prod' : 'dev';
  const timezone = get('APP_TIMEZONE') ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!isTimeZone(timezone))
    problems.push(`APP_TIMEZONE is not a known time zone: "${timezone}" (e.g. Europe/Moscow)`);

  const secretRaw = get('WEBHOOK_SECRET_HEADER');
  let secretHeader: WhatsAppConfig['secretHeader'];
  if (secretRaw) {
    const eq = secretRaw.indexOf('=');
    const name = secretRaw.slice(0, eq).trim();
    const value = secretRaw.slice(eq + 1).trim();
    if (eq < 1 || !value || !/^[A-Za-z0-9-]+$/.test(name)) {
      problems.push('WEBHOOK_SECRET_HEADER must look like Name=value (a header name, "=", the secret)');
    } else secretHeader = { name: name.toLowerCase(), value };
  }

  const apiKey = get('D360_API_KEY');
  const verifyToken = get('VERIFY_TOKEN');
  let waMode: WhatsAppConfig['mode'] = 'live';
  if (mode === 'dev') waMode = apiKey ? 'live' : 'dry';
  else if (!apiKey && !verifyToken) waMode = 'off';
  else {
    if (!apiKey)
      problems.push('D360_API_KEY is required for the WhatsApp channel in MODE=prod (VERIFY_TOKEN is set)');
    if (!verifyToken)
      problems.push('VERIFY_TOKEN is required for the WhatsApp channel in MODE=prod (D360_API_KEY is set)');
  }

  const config: Config = {
    port: int('PORT', 8000, 0, 65535),
    host: get('HOST') ?? '0.0.0.0',
    mode,
    dataDir: resolve(get('DATA_DIR') ?? './data'),
    timezone,
    adminToken: get('ADMIN_TOKEN'),
    whatsapp: {
      mode: waMode,
      apiKey,
      verifyToken,
      baseUrl: url('D360_BASE_URL', 'https://waba-v2.360dialog.io'),
      secretHeader,
    },
    tuning: {
      retryBaseMs: int('OUTBOX_RETRY_BASE_MS', 1000, 1, 3600_000),
      retryMaxMs: int('OUTBOX_RETRY_MAX_MS', 300_000, 1, 86_400_000),
      retryMaxAttempts: int('OUTBOX_MAX_ATTEMPTS', 12, 1, 1000),
      sweepIntervalMs: int('SWEEP_INTERVAL_MS', 1000, 10, 3600_000),
    },
  };
  if (problems.length > 0) throw new ConfigError(`invalid settings:\n  - ${problems.join('\n  - ')}`);
  return config;
}

/** Values that must never appear in a log line. */
export function secretsOf(config: Config): string[] {
  return [
    config.whatsapp.apiKey,
    config.whatsapp.verifyToken,
    config.whatsapp.secretHeader?.value,
    config.adminToken,
  ].filter((s): s is string => typeof s === 'string');
}
