import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { IVR_PROMPTS, type IvrPrompt } from '../../machines/ivr-call';
import type { GateName } from '../../machines/telegram-chat';
import { isTimeZone } from '../lib/clock';
import { normalisePhone } from '../lib/phone';
import { parsePublicUrl } from '../lib/public-url';

/** Every setting of the service, typed. Names and defaults are the contract: README.md, "Settings". */
export interface Config {
  port: number;
  host: string;
  mode: 'dev' | 'prod';
  dataDir: string;
  timezone: string;
  adminToken?: string;
  /** The https origin the platforms call (PUBLIC_URL); only `doctor` and `webhooks` read it. */
  publicUrl?: string;
  whatsapp: WhatsAppConfig;
  telegram: TelegramConfig;
  zadarma: ZadarmaConfig;
  gates: GatesConfig;
  reminders: RemindersConfig;
  /** Advanced tuning (tests use them to run fast). */
  tuning: { retryBaseMs: number; retryMaxMs: number; retryMaxAttempts: number; sweepIntervalMs: number };
  /**
   * The store: how many partition files a NEW store gets (an existing store keeps the count in its
   * meta.json), and whether writes are fsync'ed (off is unsafe against power loss: benchmarks only).
   */
  store: { partitions: number; fsync: boolean; checkpointBytes: number };
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

export interface TelegramConfig {
  /** live: the Bot API; dry: print what would be sent (updates come from POST /telegram/webhook); off. */
  mode: 'live' | 'dry' | 'off';
  token?: string;
  apiRoot: string;
  /** How updates arrive: long polling (no public URL needed) or POST /telegram/webhook. */
  transport: 'polling' | 'webhook';
  webhookSecret?: string;
  allowedUsers: number[];
  adminIds: number[];
}

export interface ZadarmaConfig {
  /** live: the REST API; dry: print the callback it would request; off. */
  mode: 'live' | 'dry' | 'off';
  apiKey?: string;
  apiSecret?: string;
  baseUrl: string;
  /** The number or extension that places callbacks (`from`). */
  caller?: string;
  /** Admins are alerted when the balance is below this (ZADARMA_BALANCE_ALERT); unset: not checked. */
  balanceAlert?: number;
}

/** The daily shift reminder on WhatsApp (off without REMINDER_TIME). */
export interface RemindersConfig {
  /** REMINDER_TIME in APP_TIMEZONE. */
  time?: { hour: number; minute: number };
  /** REMINDER_TEMPLATE `name:language`, sent outside the 24-hour window. */
  template?: { name: string; language: string };
}

export interface GatesConfig {
  /** Gate name → its relay's number (normalised). */
  relays: Partial<Record<GateName, string>>;
  cooldownMs: number;
  callTimeoutMs: number;
  /** Normalised phones allowed to open (ALLOWED_PHONES). */
  allowedPhones: string[];
  clientsFile?: string;
  orgName: string;
  supportPhone?: string;
  mapUrl?: string;
  schemeImage?: string;
  /** Voice-menu prompts played from sound files instead of spoken (IVR_SOUND_<PROMPT>). */
  ivrSounds: Partial<Record<IvrPrompt, string>>;
}

/** Placeholder relays so the gate bot can be tried in dev mode without GATES. */
const DEV_GATES = 'hvirtka=0500000001,vorota=0500000002';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/**
 * Partitions of a store the service creates: a commit rewrites its whole partition file, so the file
 * must stay small as users grow: ~25 users per file at 100,000 users (measured: 256 partitions gave
 * 22 events/s there, 1,024 gave 75, 4,096 gave 310, the same as a store of 2,000 users).
 */
export const SERVICE_PARTITIONS = 4096;

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

  const ids = (name: string) => {
    const raw = get(name);
    if (!raw) return [];
    const out: number[] = [];
    for (const part of raw
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const n = Number(part);
      if (Number.isSafeInteger(n) && n > 0) out.push(n);
      else problems.push(`${name} must list Telegram user ids separated by commas; "${part}" is not one`);
    }
    return out;
  };

  // --- Telegram
  const tgToken = get('TELEGRAM_BOT_TOKEN');
  const tgTransportRaw = get('TELEGRAM_MODE') ?? 'polling';
  if (tgTransportRaw !== 'polling' && tgTransportRaw !== 'webhook') {
    problems.push(`TELEGRAM_MODE must be polling or webhook, got "${tgTransportRaw}"`);
  }
  const tgTransport = tgTransportRaw === 'webhook' ? 'webhook' : 'polling';
  const tgSecret = get('TELEGRAM_WEBHOOK_SECRET');
  let tgMode: TelegramConfig['mode'] = tgToken ? 'live' : mode === 'dev' ? 'dry' : 'off';
  if (tgMode === 'live' && tgTransport === 'webhook' && !tgSecret) {
    problems.push('TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_MODE=webhook');
  }
  if (
    mode === 'prod' &&
    !tgToken &&
    (tgSecret || get('TELEGRAM_ADMIN_IDS') || get('TELEGRAM_ALLOWED_USERS'))
  ) {
    problems.push(
      'TELEGRAM_BOT_TOKEN is required for the Telegram channel in MODE=prod (other TELEGRAM_* settings are set)',
    );
    tgMode = 'off';
  }

  // --- Zadarma and the gates
  const zKey = get('ZADARMA_API_KEY');
  const zSecret = get('ZADARMA_API_SECRET');
  const zCaller = get('ZADARMA_CALLER');
  const gatesRaw = get('GATES');
  let zMode: ZadarmaConfig['mode'] = zKey && zSecret ? 'live' : mode === 'dev' ? 'dry' : 'off';
  if (mode === 'prod') {
    const zadarmaSettings = {
      ZADARMA_API_KEY: zKey,
      ZADARMA_API_SECRET: zSecret,
      ZADARMA_CALLER: zCaller,
      GATES: gatesRaw,
    };
    const missing = Object.entries(zadarmaSettings).filter(([, v]) => !v);
    if (missing.length > 0 && missing.length < 4) {
      for (const [name] of missing)
        problems.push(`${name} is required for the gate (Zadarma) channel in MODE=prod`);
    }
    zMode = missing.length === 0 ? 'live' : 'off';
  } else if (zMode === 'live' && !zCaller) {
    problems.push(
      'ZADARMA_CALLER is required when ZADARMA_API_KEY is set (the number that places callbacks)',
    );
  }
  const relays: GatesConfig['relays'] = {};
  const gatesText = gatesRaw ?? (zMode === 'dry' ? DEV_GATES : '');
  for (const part of gatesText
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, number] = part.split('=').map((x) => x.trim());
    const phone = number ? normalisePhone(number) : null;
    if ((name !== 'hvirtka' && name !== 'vorota') || !phone) {
      problems.push(`GATES must look like hvirtka=0637442017,vorota=0930063585; "${part}" is not understood`);
    } else relays[name] = phone;
  }
  const allowedPhones: string[] = [];
  for (const part of (get('ALLOWED_PHONES') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const phone = normalisePhone(part);
    if (phone) allowedPhones.push(phone);
    else problems.push(`ALLOWED_PHONES: "${part}" is not a phone number`);
  }
  const ivrSounds: GatesConfig['ivrSounds'] = {};
  for (const prompt of IVR_PROMPTS) {
    const name = `IVR_SOUND_${prompt.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    const id = get(name);
    if (id) ivrSounds[prompt] = id;
  }

  // --- Shift reminders and the balance alert
  const reminders: RemindersConfig = {};
  const timeRaw = get('REMINDER_TIME');
  if (timeRaw !== undefined) {
    const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(timeRaw);
    if (m) reminders.time = { hour: Number(m[1]), minute: Number(m[2]) };
    else problems.push(`REMINDER_TIME must be HH:MM (00:00 to 23:59, in APP_TIMEZONE), got "${timeRaw}"`);
  }
  const templateRaw = get('REMINDER_TEMPLATE');
  if (templateRaw !== undefined) {
    const m = /^([a-z0-9_]{1,512}):([A-Za-z]{2,3}(?:_[A-Za-z0-9]{2,4})?)$/.exec(templateRaw);
    if (m) reminders.template = { name: m[1] as string, language: m[2] as string };
    else
      problems.push(
        `REMINDER_TEMPLATE must look like name:language (an approved template, e.g. shift_reminder:ru), got "${templateRaw}"`,
      );
  }
  const balanceRaw = get('ZADARMA_BALANCE_ALERT');
  let balanceAlert: number | undefined;
  if (balanceRaw !== undefined) {
    const n = Number(balanceRaw);
    if (/^\d+(\.\d+)?$/.test(balanceRaw) && Number.isFinite(n)) balanceAlert = n;
    else
      problems.push(
        `ZADARMA_BALANCE_ALERT must be a number (admins are alerted below it, e.g. 5), got "${balanceRaw}"`,
      );
  }

  const fsyncRaw = (get('STORE_FSYNC') ?? 'on').toLowerCase();
  if (fsyncRaw !== 'on' && fsyncRaw !== 'off')
    problems.push(`STORE_FSYNC must be on or off, got "${fsyncRaw}"`);
  const storeFsync = fsyncRaw !== 'off';

  const publicRaw = get('PUBLIC_URL');
  const publicUrl = publicRaw === undefined ? undefined : parsePublicUrl(publicRaw);
  if (publicUrl && 'error' in publicUrl) problems.push(`PUBLIC_URL ${publicUrl.error}`);

  const config: Config = {
    port: int('PORT', 8000, 0, 65535),
    host: get('HOST') ?? '0.0.0.0',
    mode,
    dataDir: resolve(get('DATA_DIR') ?? './data'),
    timezone,
    adminToken: get('ADMIN_TOKEN'),
    publicUrl: publicUrl && 'url' in publicUrl ? publicUrl.url : undefined,
    whatsapp: {
      mode: waMode,
      apiKey,
      verifyToken,
      baseUrl: url('D360_BASE_URL', 'https://waba-v2.360dialog.io'),
      secretHeader,
    },
    telegram: {
      mode: tgMode,
      token: tgToken,
      apiRoot: url('TELEGRAM_API_ROOT', 'https://api.telegram.org'),
      transport: tgTransport,
      webhookSecret: tgSecret,
      allowedUsers: ids('TELEGRAM_ALLOWED_USERS'),
      adminIds: ids('TELEGRAM_ADMIN_IDS'),
    },
    zadarma: {
      mode: zMode,
      apiKey: zKey,
      apiSecret: zSecret,
      baseUrl: url('ZADARMA_BASE_URL', 'https://api.zadarma.com'),
      caller: zCaller ?? (zMode === 'dry' ? '0733103110' : undefined),
      balanceAlert,
    },
    gates: {
      relays,
      cooldownMs: int('GATE_COOLDOWN_S', 10, 0, 3600) * 1000,
      callTimeoutMs: int('GATE_CALL_TIMEOUT_S', 60, 5, 3600) * 1000,
      allowedPhones,
      clientsFile: get('CLIENTS_FILE') ? resolve(get('CLIENTS_FILE') as string) : undefined,
      orgName: get('ORG_NAME') ?? 'Switchboard',
      supportPhone: get('SUPPORT_PHONE'),
      mapUrl: get('MAP_URL'),
      schemeImage: get('SCHEME_IMAGE') ? resolve(get('SCHEME_IMAGE') as string) : undefined,
      ivrSounds,
    },
    reminders,
    tuning: {
      retryBaseMs: int('OUTBOX_RETRY_BASE_MS', 1000, 1, 3600_000),
      retryMaxMs: int('OUTBOX_RETRY_MAX_MS', 300_000, 1, 86_400_000),
      retryMaxAttempts: int('OUTBOX_MAX_ATTEMPTS', 12, 1, 1000),
      sweepIntervalMs: int('SWEEP_INTERVAL_MS', 1000, 10, 3600_000),
    },
    store: {
      partitions: int('STORE_PARTITIONS', SERVICE_PARTITIONS, 1, 65_536),
      fsync: storeFsync,
      checkpointBytes: int('STORE_CHECKPOINT_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
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
    config.telegram.token,
    config.telegram.webhookSecret,
    config.zadarma.apiKey,
    config.zadarma.apiSecret,
  ].filter((s): s is string => typeof s === 'string');
}
