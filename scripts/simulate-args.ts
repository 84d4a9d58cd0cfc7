/**
 * Pure part of `npm run simulate`: command-line parsing, turning a command into the list of
 * webhook bodies to POST (WhatsApp here, the gate bot's Telegram and Zadarma ones in
 * ./simulate-gate.ts), and rendering those as HTTP requests or curl commands. No I/O here
 * (scripts/simulate.ts does the sending).
 */
import {
  buttonReply,
  DEFAULT_NAME,
  listReply,
  locationMessage,
  mediaMessage,
  textMessage,
  type WebhookBody,
} from '../fixtures/whatsapp';
import { formBody } from '../fixtures/zadarma';
import { DEV_CALLER, DEV_GATES } from '../server/config/config';
import { defineCli, opt, parseCli } from '../server/ops/cli';
import { type Channel, type Step, UsageError } from './simulate-common';
import {
  DEFAULT_TG_USER,
  type GateOptions,
  normaliseEvent,
  parseDigits,
  parseGates,
  parseUserId,
  planTelegram,
  planZadarma,
} from './simulate-gate';

export { type Channel, type Step, UsageError };

export const DEFAULT_URL = 'http://127.0.0.1:8000';
export const DEFAULT_FROM = '79991234567';
export const DEFAULT_PAUSE_MS = 300;
export const DEFAULT_SHIFT = 'SHIFT_DAY';
export const SHIFT_IDS = ['SHIFT_DAY', 'SHIFT_NIGHT', 'SHIFT_OFF'] as const;
export const BUTTON_IDS = ['FILL_TODAY', 'FILL_PERIOD', 'MY_STATUS'] as const;
export const COMMANDS = [
  'text',
  'button',
  'list',
  'period',
  'status',
  'image',
  'sticker',
  'location',
  'full',
  'curl',
  'tg',
  'tg-button',
  'tg-contact',
  'zadarma',
] as const;
export type Command = (typeof COMMANDS)[number];
export const TELEGRAM_COMMANDS: readonly string[] = ['tg', 'tg-button', 'tg-contact'];

/** Where each channel's webhooks go on the server. */
export const CHANNEL_PATHS: Readonly<Record<Channel, string>> = {
  whatsapp: '/webhook',
  telegram: '/telegram/webhook',
  zadarma: '/zadarma/webhook',
};

export interface PlanOptions extends GateOptions {
  /** sender wa_id, digits only */
  from: string;
  /** WhatsApp profile name */
  name?: string;
  /** row id tapped at the end of the `period` flow; default SHIFT_DAY */
  shift?: string;
  /** message timestamp (epoch seconds); default: now */
  timestamp?: number;
}

export interface SimOptions extends PlanOptions {
  name: string;
  shift: string;
  /** base URL of the server, without trailing slash */
  url: string;
  /** extra headers for every POST */
  headers: Record<string, string>;
  /** pause between the steps of a multi-step command, ms */
  pauseMs: number;
}

export type ParsedArgs =
  | { kind: 'help' }
  | { kind: 'run'; command: Command; args: string[]; opts: SimOptions }
  | { kind: 'error'; message: string };

/** The command line: its options, and the help `npm run simulate -- --help` prints. */
export const SIMULATE = defineCli({
  name: 'simulate',
  purpose: 'POSTs webhook bodies to a running server as 360dialog, Telegram and Zadarma would',
  usage: ['<command> [args] [options]'],
  args: { max: Number.POSITIVE_INFINITY },
  sections: [
    {
      title: 'WhatsApp (POST /webhook)',
      rows: [
        ['text "меню"', 'a text message'],
        ['button <ID>', 'a reply-button tap: FILL_TODAY, FILL_PERIOD, MY_STATUS'],
        ['list <ID>', 'a list row tap: SHIFT_DAY, SHIFT_NIGHT, SHIFT_OFF'],
        [
          'period "01.11-07.11"',
          'the period flow: button FILL_PERIOD, the dates as text,\nthen the list tap given by --shift (default SHIFT_DAY)',
        ],
        ['status', 'button MY_STATUS'],
        ['image | sticker | location', 'a message of a type the bot does not support'],
        [
          'full',
          'the whole scenario: "меню", FILL_TODAY, SHIFT_DAY, MY_STATUS,\nperiod "01.11-03.11" with SHIFT_OFF, MY_STATUS',
        ],
        [
          'curl',
          'print ready-to-paste curl commands (text, button, list)\nfor the given --url/--from; sends nothing',
        ],
      ],
    },
    {
      title: 'Gate bot, Telegram (POST /telegram/webhook)',
      rows: [
        ['tg "/hvirtka"', 'a message from --user; a /command carries the bot_command entity'],
        ['tg-button <DATA>', 'an inline-button tap (callback_query), e.g. gate:vorota, gate:hvirtka'],
        [
          'tg-contact --phone N',
          'the user shares their own contact card; with --from-user ID it is a\nforwarded card of someone else (contact.user_id = ID, or none)',
        ],
      ],
    },
    {
      title: 'Gate bot, Zadarma (POST /zadarma/webhook, form-encoded; answers are printed)',
      rows: [
        ['zadarma start --gate G', "the first notification of a gate's callback (NOTIFY_START)"],
        [
          'zadarma end --gate G',
          'its final one, by default NOTIFY_END with --disposition cancel\n--duration 5 (= the relay rang and rejected: opened). For NOTIFY_END\nthe relay is caller_id and our number called_did; for NOTIFY_OUT_END\nthe relay is destination and our number internal',
        ],
        [
          'zadarma ivr --from N',
          'a call into the voice menu: NOTIFY_START, then one NOTIFY_IVR per\n--digits entry, all with one pbx_call_id',
        ],
      ],
    },
  ],
  options: {
    url: opt.value('URL', `server base URL; default $SIM_URL or ${DEFAULT_URL}`),
    header: opt.value(
      'Name=value',
      'extra header on every POST (repeatable), e.g. for WEBHOOK_SECRET_HEADER',
      {
        multiple: true,
      },
    ),
    pause: opt.value('MS', `pause between steps of a multi-step command; default ${DEFAULT_PAUSE_MS}`),
    ...opt.group('WhatsApp', {
      from: opt.value(
        'NUMBER',
        `sender phone number (wa_id), and the caller of zadarma ivr; default ${DEFAULT_FROM}`,
      ),
      name: opt.value(
        'NAME',
        `sender profile name (in tg commands the first name); default "${DEFAULT_NAME}"`,
      ),
      shift: opt.value('ID', `list row for the period command; default ${DEFAULT_SHIFT}`),
    }),
    ...opt.group('Telegram', {
      user: opt.value('ID', `the sender's Telegram user id; default ${DEFAULT_TG_USER}`),
      phone: opt.value('NUMBER', 'tg-contact: the number on the card'),
      'from-user': opt.value('ID|none', "tg-contact: the card is someone else's (or has no user_id)"),
      'tg-secret': opt.value(
        'SECRET',
        'send X-Telegram-Bot-Api-Secret-Token; default $TELEGRAM_WEBHOOK_SECRET',
      ),
    }),
    ...opt.group('Zadarma', {
      gate: opt.value('hvirtka|vorota', "start/end: which gate's callback"),
      relay: opt.value(
        'NUMBER',
        `start/end: the relay's number; default from $GATES\n(dev default ${DEV_GATES})`,
      ),
      event: opt.value(
        'NAME',
        'start: NOTIFY_START (default) or NOTIFY_OUT_START;\nend: NOTIFY_END (default) or NOTIFY_OUT_END',
      ),
      disposition: opt.value('D', 'end: cancel (default), busy, no answer, answered, failed…'),
      duration: opt.value('S', 'end: seconds; default 5'),
      digits: opt.value('D[,D…]', 'ivr: keys pressed, one NOTIFY_IVR each, e.g. 1 or 5,1'),
      pbx: opt.value('ID', 'pbx_call_id; default a fresh one'),
      secret: opt.value('SECRET', 'sign with the Signature header; default $ZADARMA_API_SECRET'),
    }),
  },
  notes: [
    'Prints what was sent (→) and what came back (←). Our number (called_did / internal) is',
    `$ZADARMA_CALLER, default ${DEV_CALLER}. GATES, ZADARMA_CALLER and the secrets are read from the`,
    'environment, --env-file and .env, as the server does.',
  ],
  examples: [
    'text "меню"',
    'button FILL_TODAY --from 79990000001 --name "Иван"',
    'period "01.11-07.11" --shift SHIFT_NIGHT',
    'full --header "X-Webhook-Secret=s3cret"',
    'curl --url https://my-tunnel.example.com',
    'tg-contact --user 42 --phone 0501112233',
    'tg "/hvirtka" --user 42 --name Іван',
    'tg-button gate:vorota --user 42',
    'zadarma end --gate hvirtka --disposition cancel --duration 5',
    'zadarma ivr --from 0501112233 --digits 5,1',
  ],
});

function isCommand(s: string): s is Command {
  return (COMMANDS as readonly string[]).includes(s);
}

/** `Name=value` (or `Name: value`) → [name, value]; splits at the first separator. */
export function parseHeader(spec: string): [string, string] {
  const m = /^\s*([^=:\s]+)\s*[=:]\s?(.*)$/.exec(spec);
  if (!m?.[1]) throw new UsageError(`bad --header "${spec}": expected Name=value`);
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(m[1])) {
    throw new UsageError(`bad --header "${spec}": "${m[1]}" is not a valid header name`);
  }
  return [m[1], m[2] ?? ''];
}

/** Accepts SHIFT_NIGHT, shift_night, night. */
export function normalizeShift(s: string): string {
  const up = s.trim().toUpperCase();
  const id = up.startsWith('SHIFT_') ? up : `SHIFT_${up}`;
  if (!(SHIFT_IDS as readonly string[]).includes(id)) {
    throw new UsageError(`unknown --shift "${s}": expected one of ${SHIFT_IDS.join(', ')}`);
  }
  return id;
}

export function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`bad --url "${url}": expected e.g. ${DEFAULT_URL}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`bad --url "${url}": only http:// and https:// are supported`);
  }
  return url.replace(/\/+$/, '');
}

/**
 * Where a channel's webhooks go: `<url>` plus the channel's path. A URL that already ends with one
 * of the webhook paths (a tunnel URL copied from a webhook setting) has that path replaced.
 */
export function endpointUrl(url: string, channel: Channel): string {
  let base = url.replace(/\/+$/, '');
  const known = Object.values(CHANNEL_PATHS).sort((a, b) => b.length - a.length);
  const suffix = known.find((p) => base.endsWith(p));
  if (suffix) base = base.slice(0, -suffix.length);
  return `${base}${CHANNEL_PATHS[channel]}`;
}

/** Where the WhatsApp bodies go: `<url>/webhook` (unless the URL already ends with /webhook). */
export function webhookUrl(url: string): string {
  return endpointUrl(url, 'whatsapp');
}

/** What each option applies to: [does it apply to command (and zadarma subcommand), where it does]. */
const OPTION_SCOPES: Record<string, [(command: string, sub: string | undefined) => boolean, string]> = {
  shift: [(c) => c === 'period', 'the period command'],
  from: [
    (c, sub) => !TELEGRAM_COMMANDS.includes(c) && (c !== 'zadarma' || sub === 'ivr'),
    'WhatsApp commands and zadarma ivr (Telegram uses --user)',
  ],
  name: [(c) => c !== 'zadarma', 'WhatsApp and Telegram commands'],
  user: [(c) => TELEGRAM_COMMANDS.includes(c), 'tg, tg-button and tg-contact'],
  'tg-secret': [(c) => TELEGRAM_COMMANDS.includes(c), 'tg, tg-button and tg-contact'],
  phone: [(c) => c === 'tg-contact', 'tg-contact'],
  'from-user': [(c) => c === 'tg-contact', 'tg-contact'],
  gate: [(c, sub) => c === 'zadarma' && sub !== 'ivr', 'zadarma start and zadarma end'],
  relay: [(c, sub) => c === 'zadarma' && sub !== 'ivr', 'zadarma start and zadarma end'],
  event: [(c, sub) => c === 'zadarma' && sub !== 'ivr', 'zadarma start and zadarma end'],
  disposition: [(c, sub) => c === 'zadarma' && sub === 'end', 'zadarma end'],
  duration: [(c, sub) => c === 'zadarma' && sub === 'end', 'zadarma end'],
  digits: [(c, sub) => c === 'zadarma' && sub === 'ivr', 'zadarma ivr'],
  pbx: [(c) => c === 'zadarma', 'zadarma commands'],
  secret: [(c) => c === 'zadarma', 'zadarma commands'],
};

/**
 * Parses process.argv.slice(2). Never throws. `env` supplies SIM_URL and the gate bot's settings as
 * the server reads them: GATES, ZADARMA_CALLER, ZADARMA_API_SECRET, TELEGRAM_WEBHOOK_SECRET
 * (empty counts as unset).
 */
export function parseCommandLine(argv: string[], env: Record<string, string | undefined> = {}): ParsedArgs {
  try {
    const parsed = parseCli(SIMULATE, argv);
    if (parsed === 'help') return { kind: 'help' };
    const { values, positionals } = parsed;
    const [command, ...args] = positionals;
    if (command === undefined || command === 'help') return { kind: 'help' };
    if (!isCommand(command)) {
      throw new UsageError(`unknown command "${command}" (expected one of: ${COMMANDS.join(', ')})`);
    }
    const sub = command === 'zadarma' ? args[0] : undefined;
    for (const [option, [applies, where]] of Object.entries(OPTION_SCOPES)) {
      if ((values as Record<string, unknown>)[option] !== undefined && !applies(command, sub)) {
        throw new UsageError(`--${option} only applies to ${where}`);
      }
    }
    const envOf = (name: string) => env[name]?.trim() || undefined;

    const from = (values.from ?? DEFAULT_FROM).trim().replace(/^\+/, '');
    if (!/^\d{5,15}$/.test(from)) throw new UsageError(`bad --from "${values.from}": expected digits only`);

    let pauseMs = DEFAULT_PAUSE_MS;
    if (values.pause !== undefined) {
      pauseMs = Number(values.pause);
      if (!/^\d+$/.test(values.pause.trim()) || !Number.isSafeInteger(pauseMs)) {
        throw new UsageError(`bad --pause "${values.pause}": expected milliseconds, e.g. 300`);
      }
    }

    const headers: Record<string, string> = {};
    for (const h of values.header ?? []) {
      const [k, v] = parseHeader(h);
      headers[k] = v;
    }

    let duration: number | undefined;
    if (values.duration !== undefined) {
      duration = Number(values.duration.trim());
      if (!/^\d+$/.test(values.duration.trim()) || !Number.isSafeInteger(duration)) {
        throw new UsageError(`bad --duration "${values.duration}": expected whole seconds, e.g. 5`);
      }
    }
    const fromUser = values['from-user'];
    const zadarmaSecret = values.secret ?? envOf('ZADARMA_API_SECRET');
    const telegramSecret = values['tg-secret'] ?? envOf('TELEGRAM_WEBHOOK_SECRET');

    const opts: SimOptions = {
      url: normalizeUrl(values.url ?? (env.SIM_URL || DEFAULT_URL)),
      from,
      name: values.name ?? DEFAULT_NAME,
      shift: values.shift === undefined ? DEFAULT_SHIFT : normalizeShift(values.shift),
      headers,
      pauseMs,
      ...(values.user !== undefined ? { user: parseUserId(values.user, '--user') } : {}),
      ...(values.phone !== undefined ? { phone: values.phone } : {}),
      ...(fromUser !== undefined
        ? { fromUser: fromUser.trim().toLowerCase() === 'none' ? null : parseUserId(fromUser, '--from-user') }
        : {}),
      gates: parseGates(envOf('GATES') ?? DEV_GATES),
      caller: envOf('ZADARMA_CALLER') ?? DEV_CALLER,
      ...(values.gate !== undefined ? { gate: values.gate.trim().toLowerCase() } : {}),
      ...(values.relay !== undefined ? { relay: values.relay } : {}),
      ...(values.event !== undefined && (sub === 'start' || sub === 'end')
        ? { event: normaliseEvent(values.event, sub) }
        : {}),
      ...(values.disposition !== undefined ? { disposition: values.disposition.trim() } : {}),
      ...(duration !== undefined ? { duration } : {}),
      ...(values.digits !== undefined ? { digits: parseDigits(values.digits) } : {}),
      ...(values.pbx !== undefined ? { pbx: values.pbx.trim() } : {}),
      ...(zadarmaSecret ? { zadarmaSecret } : {}),
      ...(telegramSecret ? { telegramSecret } : {}),
    };
    planSteps(command, args, opts); // validate the arguments now
    return { kind: 'run', command, args, opts };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { kind: 'error', message };
  }
}

function noArgs(command: string, args: string[]): void {
  if (args.length > 0) throw new UsageError(`${command} takes no arguments (got ${args.join(' ')})`);
}

function oneId(command: string, args: string[], examples: readonly string[]): string {
  const [id, ...rest] = args;
  if (id === undefined || id.trim() === '' || rest.length > 0) {
    throw new UsageError(
      `${command} takes one id, e.g. ${command} ${examples[0]} (known: ${examples.join(', ')})`,
    );
  }
  return id.trim();
}

/**
 * Turns a command and its positional arguments into the webhook bodies to send, in order, each with
 * the headers it needs (a Zadarma Signature, the Telegram secret token). Throws UsageError on bad
 * arguments. For `curl` it returns the bodies to print (text, button, list). Every call builds fresh
 * message / update / pbx_call ids.
 */
export function planSteps(command: string, args: string[], opts: PlanOptions): Step[] {
  const who = {
    from: opts.from,
    name: opts.name ?? DEFAULT_NAME,
    timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
  };
  const text = (body: string): Step => ({
    channel: 'whatsapp',
    label: `text ${JSON.stringify(body)}`,
    body: textMessage({ ...who, body }),
  });
  const button = (buttonId: string): Step => ({
    channel: 'whatsapp',
    label: `button ${buttonId}`,
    body: buttonReply({ ...who, buttonId }),
  });
  const list = (rowId: string): Step => ({
    channel: 'whatsapp',
    label: `list ${rowId}`,
    body: listReply({ ...who, rowId }),
  });
  const period = (dates: string, shift: string): Step[] => [button('FILL_PERIOD'), text(dates), list(shift)];

  switch (command) {
    case 'text': {
      const body = args.join(' ');
      if (body.trim() === '') throw new UsageError('text needs the message text, e.g. text "меню"');
      return [text(body)];
    }
    case 'button':
      return [button(oneId('button', args, BUTTON_IDS))];
    case 'list':
      return [list(oneId('list', args, SHIFT_IDS))];
    case 'period': {
      const dates = args.join(' ');
      if (dates.trim() === '') throw new UsageError('period needs the dates, e.g. period "01.11-07.11"');
      return period(dates, normalizeShift(opts.shift ?? DEFAULT_SHIFT));
    }
    case 'status':
      noArgs(command, args);
      return [button('MY_STATUS')];
    case 'image':
    case 'sticker':
      noArgs(command, args);
      return [{ channel: 'whatsapp', label: command, body: mediaMessage({ ...who, kind: command }) }];
    case 'location':
      noArgs(command, args);
      return [{ channel: 'whatsapp', label: 'location', body: locationMessage(who) }];
    case 'full':
      noArgs(command, args);
      return [
        text('меню'),
        button('FILL_TODAY'),
        list('SHIFT_DAY'),
        button('MY_STATUS'),
        ...period('01.11-03.11', 'SHIFT_OFF'),
        button('MY_STATUS'),
      ];
    case 'curl':
      noArgs(command, args);
      return [text('меню'), button('FILL_TODAY'), list('SHIFT_DAY')];
    case 'tg':
    case 'tg-button':
    case 'tg-contact':
      return planTelegram(command, args, opts);
    case 'zadarma':
      return planZadarma(args, opts);
    default:
      throw new UsageError(`unknown command "${command}" (expected one of: ${COMMANDS.join(', ')})`);
  }
}

/** The wamid of the (first) message in a body, if any. */
export function messageIdOf(body: WebhookBody): string | undefined {
  const entry = (
    body.entry as { changes?: { value?: { messages?: { id?: unknown }[] } }[] }[] | undefined
  )?.[0];
  const id = entry?.changes?.[0]?.value?.messages?.[0]?.id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * One line per step: `→ text "меню" from 79991234567 (wamid.…)`,
 * `→ tg "/hvirtka" from user 42 (update 1712345678901)`,
 * `→ zadarma NOTIFY_END hvirtka +380500000001 cancel 5 s (pbx out_…, signed)`.
 */
export function describeStep(step: Step, from = ''): string {
  if (step.channel === 'zadarma') {
    const notes = [`pbx ${step.body.pbx_call_id ?? '-'}`];
    if (step.headers?.Signature) notes.push('signed');
    return `→ ${step.label} (${notes.join(', ')})`;
  }
  if (step.channel === 'telegram') {
    const u = step.body as {
      update_id?: number;
      message?: { from?: { id?: number } };
      callback_query?: { from?: { id?: number } };
    };
    const user = (u.message ?? u.callback_query)?.from?.id;
    return `→ ${step.label} from user ${user ?? '?'} (update ${u.update_id})`;
  }
  const id = messageIdOf(step.body);
  return `→ ${step.label} from ${from}${id ? ` (${id})` : ''}`;
}

/** The HTTP request of one step, ready for fetch(). */
export interface StepRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The POST for a step: JSON for WhatsApp and Telegram, a form for Zadarma; Content-Type, then the
 * step's own headers, then --header ones (which win).
 */
export function requestOf(step: Step, opts: { url: string; headers: Record<string, string> }): StepRequest {
  const form = step.channel === 'zadarma';
  return {
    url: endpointUrl(opts.url, step.channel),
    headers: {
      'Content-Type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      ...step.headers,
      ...opts.headers,
    },
    body: step.channel === 'zadarma' ? formBody(step.body) : JSON.stringify(step.body),
  };
}

/** POSIX-shell single quoting. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** One ready-to-paste curl command per step. */
export function renderCurl(steps: Step[], opts: { url: string; headers: Record<string, string> }): string[] {
  return steps.map((s) => {
    const r = requestOf(s, opts);
    const headerArgs = Object.entries(r.headers).map(([k, v]) => `-H ${shellQuote(`${k}: ${v}`)}`);
    return [
      `# ${s.label}`,
      `curl -sS -i -X POST ${shellQuote(r.url)} ${headerArgs.join(' ')} \\`,
      `  --data-raw ${shellQuote(r.body)}`,
    ].join('\n');
  });
}
