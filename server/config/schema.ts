/**
 * Every setting the service reads from the environment, declared once: its name, how its text is
 * checked and read, its default, and the rules between settings. README "Settings" and env.example
 * describe the same names and defaults. server/config/config.ts turns the result into the typed Config.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { GateName } from '../../machines/telegram-chat';
import { isTimeZone } from '../lib/clock';
import { normalisePhone } from '../lib/phone';
import { parsePublicUrl } from '../lib/public-url';

export const GATE_NAMES = ['hvirtka', 'vorota'] as const satisfies readonly GateName[];
/** Placeholder relays so the gate bot can be tried in dev mode without GATES. */
export const DEV_GATES = 'hvirtka=0500000001,vorota=0500000002';
/** ZADARMA_CALLER in dev mode when it is not set. */
export const DEV_CALLER = '0733103110';

/**
 * Partitions of a store the service creates: a commit rewrites its whole partition file, so the file
 * must stay small as users grow: ~25 users per file at 100,000 users (measured: 256 partitions gave
 * 22 events/s there, 1,024 gave 75, 4,096 gave 310, the same as a store of 2,000 users).
 */
export const SERVICE_PARTITIONS = 4096;

// Each problem message follows the setting's name ("PORT must be …"): see problemsOf.

/** A setting's text, trimmed; blank counts as unset. */
const setting = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined), schema);

const text = () => setting(z.string().optional());
const textOr = (fallback: string) => setting(z.string().default(fallback));
const file = () => setting(z.string().optional()).transform((p) => p && resolve(p));

/** Text read by `read`, which returns null when the text is bad; `problem` tells why. */
const readBy = <T>(read: (raw: string) => T | null, problem: (raw: string) => string) =>
  z.string().transform((raw, ctx): T => {
    const value = read(raw);
    if (value !== null) return value;
    ctx.issues.push({ code: 'custom', input: raw, message: problem(raw) });
    return z.NEVER;
  });

const parsed = <T>(read: (raw: string) => T | null, problem: (raw: string) => string) =>
  setting(readBy(read, problem).optional());

const matching = <T>(re: RegExp, build: (m: RegExpExecArray) => T, problem: (raw: string) => string) =>
  parsed((raw) => {
    const m = re.exec(raw);
    return m ? build(m) : null;
  }, problem);

const isWhole = (min: number, max: number) => (raw: string) =>
  Number.isInteger(Number(raw)) && Number(raw) >= min && Number(raw) <= max;

const wholeNumber = (fallback: number, min: number, max: number) =>
  setting(
    z
      .string()
      .refine(isWhole(min, max), {
        error: (iss) => `must be a whole number from ${min} to ${max}, got "${iss.input}"`,
      })
      .transform(Number)
      .default(fallback),
  );

const seconds = (fallback: number, min: number, max: number) =>
  wholeNumber(fallback, min, max).transform((s) => s * 1000);

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (iss) => `must be ${values.join(' or ')}, got "${iss.input}"` });

const isHttpUrl = (raw: string) => {
  try {
    return ['http:', 'https:'].includes(new URL(raw).protocol);
  } catch {
    return false;
  }
};

/** An http(s) URL, without its trailing slash. */
const httpUrl = (fallback: string) =>
  setting(
    z
      .string()
      .refine(isHttpUrl, { error: (iss) => `must be an http(s) URL, got "${iss.input}"` })
      .default(fallback)
      .transform((raw) => raw.replace(/\/+$/, '')),
  );

/** `a, b,, c` → one item per non-blank part; each bad part is its own problem. */
const commaList = <T extends z.ZodType<unknown, string>>(item: T) =>
  setting(
    z
      .string()
      .transform((raw) => raw.split(',').flatMap((p) => p.trim() || []))
      .pipe(z.array(item))
      .optional(),
  );

const telegramId = z
  .string()
  .refine((part) => Number.isSafeInteger(Number(part)) && Number(part) > 0, {
    error: (iss) => `must list Telegram user ids separated by commas; "${iss.input}" is not one`,
  })
  .transform(Number);

const phone = readBy(
  normalisePhone,
  (part) => `must list phone numbers separated by commas; "${part}" is not one`,
);

const gateRelay = readBy(
  (part): [GateName, string] | null => {
    const [name = '', number] = part.split('=').map((x) => x.trim());
    const relay = number ? normalisePhone(number) : null;
    return (GATE_NAMES as readonly string[]).includes(name) && relay ? [name as GateName, relay] : null;
  },
  (part) => `must look like hvirtka=0637442017,vorota=0930063585; "${part}" is not understood`,
);

/** GATES: gate name → its relay's number (normalised). Also read by `npm run simulate`. */
export const gatesSetting = commaList(gateRelay).transform(
  (pairs) => pairs && (Object.fromEntries(pairs) as Partial<Record<GateName, string>>),
);

const settingsShape = {
  PORT: wholeNumber(8000, 0, 65535),
  // Unset: 127.0.0.1 in dev with every channel dry (the open inspector), else 0.0.0.0 (config.ts).
  HOST: text(),
  MODE: setting(oneOf(['dev', 'prod']).default('dev')),
  DATA_DIR: textOr('./data').transform((p) => resolve(p)),
  // The system zone is checked too: a prefault, unlike a default, is parsed.
  APP_TIMEZONE: setting(
    z
      .string()
      .refine(isTimeZone, { error: (iss) => `is not a known time zone: "${iss.input}" (e.g. Europe/Moscow)` })
      .prefault(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
  ),
  ADMIN_TOKEN: text(),
  PUBLIC_URL: setting(
    z
      .string()
      .transform((raw, ctx) => {
        const url = parsePublicUrl(raw);
        if ('url' in url) return url.url;
        ctx.issues.push({ code: 'custom', input: raw, message: url.error });
        return z.NEVER;
      })
      .optional(),
  ),

  D360_API_KEY: text(),
  VERIFY_TOKEN: text(),
  D360_BASE_URL: httpUrl('https://waba-v2.360dialog.io'),
  WEBHOOK_SECRET_HEADER: matching(
    /^([A-Za-z0-9-]+)\s*=\s*(\S.*)$/s,
    (m) => ({ name: (m[1] as string).toLowerCase(), value: m[2] as string }),
    () => 'must look like Name=value (a header name, "=", the secret)',
  ),
  REMINDER_TIME: matching(
    /^([01]?\d|2[0-3]):([0-5]\d)$/,
    (m) => ({ hour: Number(m[1]), minute: Number(m[2]) }),
    (raw) => `must be HH:MM (00:00 to 23:59, in APP_TIMEZONE), got "${raw}"`,
  ),
  REMINDER_TEMPLATE: matching(
    /^([a-z0-9_]{1,512}):([A-Za-z]{2,3}(?:_[A-Za-z0-9]{2,4})?)$/,
    (m) => ({ name: m[1] as string, language: m[2] as string }),
    (raw) => `must look like name:language (an approved template, e.g. shift_reminder:ru), got "${raw}"`,
  ),

  TELEGRAM_BOT_TOKEN: text(),
  TELEGRAM_API_ROOT: httpUrl('https://api.telegram.org'),
  TELEGRAM_MODE: setting(oneOf(['polling', 'webhook']).default('polling')),
  TELEGRAM_WEBHOOK_SECRET: text(),
  TELEGRAM_ALLOWED_USERS: commaList(telegramId),
  TELEGRAM_ADMIN_IDS: commaList(telegramId),
  ALLOWED_PHONES: commaList(phone),
  CLIENTS_FILE: file(),
  GATE_COOLDOWN_S: seconds(10, 0, 3600),
  ORG_NAME: textOr('Switchboard'),
  SUPPORT_PHONE: text(),
  MAP_URL: text(),
  SCHEME_IMAGE: file(),
  IVR_SOUND_MENU: text(),
  IVR_SOUND_INVALID: text(),
  IVR_SOUND_REFUSED: text(),
  IVR_SOUND_OPENING_VOROTA: text(),
  IVR_SOUND_OPENING_HVIRTKA: text(),
  IVR_SOUND_GOODBYE: text(),

  ZADARMA_API_KEY: text(),
  ZADARMA_API_SECRET: text(),
  ZADARMA_BASE_URL: httpUrl('https://api.zadarma.com'),
  ZADARMA_CALLER: text(),
  GATES: gatesSetting,
  GATE_CALL_TIMEOUT_S: seconds(60, 5, 3600),
  ZADARMA_BALANCE_ALERT: parsed(
    (raw) => (/^\d+(\.\d+)?$/.test(raw) && Number.isFinite(Number(raw)) ? Number(raw) : null),
    (raw) => `must be a number (admins are alerted below it, e.g. 5), got "${raw}"`,
  ),

  OUTBOX_RETRY_BASE_MS: wholeNumber(1000, 1, 3600_000),
  OUTBOX_RETRY_MAX_MS: wholeNumber(300_000, 1, 86_400_000),
  OUTBOX_MAX_ATTEMPTS: wholeNumber(12, 1, 1000),
  SWEEP_INTERVAL_MS: wholeNumber(1000, 10, 3600_000),
  STORE_PARTITIONS: wholeNumber(SERVICE_PARTITIONS, 1, 65_536),
  STORE_FSYNC: setting(
    z
      .string()
      .toLowerCase()
      .pipe(oneOf(['on', 'off']))
      .default('on'),
  ).transform((v) => v === 'on'),
  STORE_CHECKPOINT_BYTES: wholeNumber(64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
};

export type Settings = z.output<z.ZodObject<typeof settingsShape>>;
type SettingName = keyof typeof settingsShape;

/**
 * Rules between settings. They run even when some setting is bad, so that one error names every
 * problem; a bad setting then holds its raw text, so rules only test whether a setting is set and
 * compare it with a literal.
 */
const RULES: { setting: SettingName; broken: (s: Settings) => boolean; problem: string }[] = [
  {
    setting: 'D360_API_KEY',
    broken: (s) => s.MODE === 'prod' && !s.D360_API_KEY && !!s.VERIFY_TOKEN,
    problem: 'is required for the WhatsApp channel in MODE=prod (VERIFY_TOKEN is set)',
  },
  {
    setting: 'VERIFY_TOKEN',
    broken: (s) => s.MODE === 'prod' && !!s.D360_API_KEY && !s.VERIFY_TOKEN,
    problem: 'is required for the WhatsApp channel in MODE=prod (D360_API_KEY is set)',
  },
  {
    setting: 'TELEGRAM_WEBHOOK_SECRET',
    broken: (s) => !!s.TELEGRAM_BOT_TOKEN && s.TELEGRAM_MODE === 'webhook' && !s.TELEGRAM_WEBHOOK_SECRET,
    problem: 'is required with TELEGRAM_MODE=webhook',
  },
  {
    setting: 'TELEGRAM_BOT_TOKEN',
    broken: (s) =>
      s.MODE === 'prod' &&
      !s.TELEGRAM_BOT_TOKEN &&
      !!(s.TELEGRAM_WEBHOOK_SECRET || s.TELEGRAM_ADMIN_IDS || s.TELEGRAM_ALLOWED_USERS),
    problem: 'is required for the Telegram channel in MODE=prod (other TELEGRAM_* settings are set)',
  },
  // In MODE=prod the gate channel needs all four or none (then it is off).
  ...(['ZADARMA_API_KEY', 'ZADARMA_API_SECRET', 'ZADARMA_CALLER', 'GATES'] as const).map((name, _, all) => ({
    setting: name,
    broken: (s: Settings) => s.MODE === 'prod' && !s[name] && all.some((other) => !!s[other]),
    problem: 'is required for the gate (Zadarma) channel in MODE=prod',
  })),
  {
    setting: 'ZADARMA_CALLER',
    broken: (s) => s.MODE !== 'prod' && !!s.ZADARMA_API_KEY && !!s.ZADARMA_API_SECRET && !s.ZADARMA_CALLER,
    problem: 'is required when ZADARMA_API_KEY is set (the number that places callbacks)',
  },
];

export const settingsSchema = z.object(settingsShape).superRefine(
  (s, ctx) => {
    for (const rule of RULES) {
      if (rule.broken(s)) ctx.addIssue({ code: 'custom', path: [rule.setting], message: rule.problem });
    }
  },
  { when: () => true },
);

/** One line per problem, `NAME what is wrong`, in the order of the settings above. */
export function problemsOf(error: z.ZodError): string[] {
  const order: string[] = Object.keys(settingsShape);
  const nameOf = (issue: z.core.$ZodIssue) => String(issue.path[0] ?? '');
  return [...error.issues]
    .sort((a, b) => order.indexOf(nameOf(a)) - order.indexOf(nameOf(b)))
    .map((issue) => (nameOf(issue) ? `${nameOf(issue)} ${issue.message}` : issue.message));
}
