import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { IvrPrompt } from '../../machines/ivr-call';
import type { GateName } from '../../machines/telegram-chat';
import { DEV_CALLER, DEV_GATES, gatesSetting, problemsOf, type Settings, settingsSchema } from './schema';

export { DEV_CALLER, DEV_GATES, GATE_NAMES, SERVICE_PARTITIONS } from './schema';

/** Every setting of the service, typed. Names and defaults are a contract (the README's Settings table). */
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

/** live: talks to the platform; dry: prints what it would send; off: the channel is disabled. */
type ChannelMode = 'live' | 'dry' | 'off';

export interface WhatsAppConfig {
  /** live: send through 360dialog; dry: print what would be sent; off: channel disabled. */
  mode: ChannelMode;
  apiKey?: string;
  verifyToken?: string;
  baseUrl: string;
  /** `Name=value` that 360dialog must send with every webhook, when set. */
  secretHeader?: { name: string; value: string };
}

export interface TelegramConfig {
  /** live: the Bot API; dry: print what would be sent (updates come from POST /telegram/webhook); off. */
  mode: ChannelMode;
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
  mode: ChannelMode;
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
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success)
    throw new ConfigError(`invalid settings:\n  - ${problemsOf(parsed.error).join('\n  - ')}`);
  return toConfig(parsed.data);
}

/** The settings, checked by the schema, as the service uses them. */
function toConfig(s: Settings): Config {
  // With credentials a channel is live; without, dev runs it dry and prod turns it off (the schema's
  // rules refused a prod channel with only some of its settings).
  const channel = (credentials: boolean): ChannelMode =>
    credentials ? 'live' : s.MODE === 'dev' ? 'dry' : 'off';
  const zadarmaMode = channel(!!s.ZADARMA_API_KEY && !!s.ZADARMA_API_SECRET);
  const whatsappMode = channel(!!s.D360_API_KEY);
  const telegramMode = channel(!!s.TELEGRAM_BOT_TOKEN);
  // A development run that talks to no platform listens on loopback only (its inspector is open).
  const dryDev = s.MODE === 'dev' && [whatsappMode, telegramMode, zadarmaMode].every((m) => m !== 'live');
  const ivrSounds: Record<IvrPrompt, string | undefined> = {
    menu: s.IVR_SOUND_MENU,
    invalid: s.IVR_SOUND_INVALID,
    refused: s.IVR_SOUND_REFUSED,
    openingVorota: s.IVR_SOUND_OPENING_VOROTA,
    openingHvirtka: s.IVR_SOUND_OPENING_HVIRTKA,
    goodbye: s.IVR_SOUND_GOODBYE,
  };
  return {
    port: s.PORT,
    host: s.HOST ?? (dryDev ? '127.0.0.1' : '0.0.0.0'),
    mode: s.MODE,
    dataDir: s.DATA_DIR,
    timezone: s.APP_TIMEZONE,
    adminToken: s.ADMIN_TOKEN,
    publicUrl: s.PUBLIC_URL,
    whatsapp: {
      mode: whatsappMode,
      apiKey: s.D360_API_KEY,
      verifyToken: s.VERIFY_TOKEN,
      baseUrl: s.D360_BASE_URL,
      secretHeader: s.WEBHOOK_SECRET_HEADER,
    },
    telegram: {
      mode: telegramMode,
      token: s.TELEGRAM_BOT_TOKEN,
      apiRoot: s.TELEGRAM_API_ROOT,
      transport: s.TELEGRAM_MODE,
      webhookSecret: s.TELEGRAM_WEBHOOK_SECRET,
      allowedUsers: s.TELEGRAM_ALLOWED_USERS ?? [],
      adminIds: s.TELEGRAM_ADMIN_IDS ?? [],
    },
    zadarma: {
      mode: zadarmaMode,
      apiKey: s.ZADARMA_API_KEY,
      apiSecret: s.ZADARMA_API_SECRET,
      baseUrl: s.ZADARMA_BASE_URL,
      caller: s.ZADARMA_CALLER ?? (zadarmaMode === 'dry' ? DEV_CALLER : undefined),
      balanceAlert: s.ZADARMA_BALANCE_ALERT,
    },
    gates: {
      relays: s.GATES ?? (zadarmaMode === 'dry' ? devRelays() : {}),
      cooldownMs: s.GATE_COOLDOWN_S,
      callTimeoutMs: s.GATE_CALL_TIMEOUT_S,
      allowedPhones: s.ALLOWED_PHONES ?? [],
      clientsFile: s.CLIENTS_FILE,
      orgName: s.ORG_NAME,
      supportPhone: s.SUPPORT_PHONE,
      mapUrl: s.MAP_URL,
      schemeImage: s.SCHEME_IMAGE,
      ivrSounds: Object.fromEntries(Object.entries(ivrSounds).filter(([, id]) => id !== undefined)),
    },
    reminders: {
      ...(s.REMINDER_TIME ? { time: s.REMINDER_TIME } : {}),
      ...(s.REMINDER_TEMPLATE ? { template: s.REMINDER_TEMPLATE } : {}),
    },
    tuning: {
      retryBaseMs: s.OUTBOX_RETRY_BASE_MS,
      retryMaxMs: s.OUTBOX_RETRY_MAX_MS,
      retryMaxAttempts: s.OUTBOX_MAX_ATTEMPTS,
      sweepIntervalMs: s.SWEEP_INTERVAL_MS,
    },
    store: {
      partitions: s.STORE_PARTITIONS,
      fsync: s.STORE_FSYNC,
      checkpointBytes: s.STORE_CHECKPOINT_BYTES,
    },
  };
}

/** GATES text → the relays, or the first part it does not understand (`problem` follows "GATES "). */
export function readGates(text: string): { relays: Partial<Record<GateName, string>> } | { problem: string } {
  const parsed = gatesSetting.safeParse(text);
  if (parsed.success) return { relays: parsed.data ?? {} };
  return { problem: parsed.error.issues[0]?.message ?? 'is not understood' };
}

const devRelays = () => {
  const dev = readGates(DEV_GATES);
  return 'relays' in dev ? dev.relays : {};
};

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
