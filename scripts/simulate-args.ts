/**
 * Pure part of `npm run simulate`: command-line parsing, turning a command into the list of
 * webhook bodies to POST, and rendering those as curl commands. No I/O here
 * (scripts/simulate.ts does the sending).
 */
import { parseArgs } from 'node:util';
import {
  buttonReply,
  DEFAULT_NAME,
  listReply,
  locationMessage,
  mediaMessage,
  textMessage,
  type WebhookBody,
} from '../fixtures/whatsapp';

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
] as const;
export type Command = (typeof COMMANDS)[number];

export interface Step {
  /** short human description, e.g. `text "меню"`, `button FILL_TODAY` */
  label: string;
  /** webhook body to POST */
  body: WebhookBody;
}

export interface PlanOptions {
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

/** Thrown for a bad command line; the message is meant for the user. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Switchboard webhook simulator: POSTs WhatsApp Cloud API webhook bodies to a running server.

Usage: npm run simulate -- <command> [args] [options]

Commands:
  text "меню"            a text message
  button <ID>            a reply-button tap: FILL_TODAY, FILL_PERIOD, MY_STATUS
  list <ID>              a list row tap: SHIFT_DAY, SHIFT_NIGHT, SHIFT_OFF
  period "01.11-07.11"   the period flow: button FILL_PERIOD, the dates as text,
                         then the list tap given by --shift (default SHIFT_DAY)
  status                 button MY_STATUS
  image | sticker | location
                         a message of a type the bot does not support
  full                   the whole scenario: "меню", FILL_TODAY, SHIFT_DAY, MY_STATUS,
                         period "01.11-03.11" with SHIFT_OFF, MY_STATUS
  curl                   print ready-to-paste curl commands (text, button, list)
                         for the given --url/--from; sends nothing

Options:
  --url URL              server base URL (POSTs go to URL/webhook);
                         default $SIM_URL or ${DEFAULT_URL}
  --from DIGITS          sender phone number (wa_id); default ${DEFAULT_FROM}
  --name NAME            sender profile name; default "${DEFAULT_NAME}"
  --header Name=value    extra header on every POST (repeatable), e.g. for WEBHOOK_SECRET_HEADER
  --shift ID             list row for the period command; default ${DEFAULT_SHIFT}
  --pause MS             pause between steps of a multi-step command; default ${DEFAULT_PAUSE_MS}
  -h, --help             this text

Examples:
  npm run simulate -- text "меню"
  npm run simulate -- button FILL_TODAY --from 79990000001 --name "Иван"
  npm run simulate -- period "01.11-07.11" --shift SHIFT_NIGHT
  npm run simulate -- full --header "X-Webhook-Secret=s3cret"
  npm run simulate -- curl --url https://my-tunnel.example.com
`;

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

/** Where the webhook bodies go: `<url>/webhook` (unless the URL already ends with /webhook). */
export function webhookUrl(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith('/webhook') ? base : `${base}/webhook`;
}

/** Parses process.argv.slice(2). Never throws; `env` supplies SIM_URL. */
export function parseCommandLine(argv: string[], env: Record<string, string | undefined> = {}): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        from: { type: 'string' },
        name: { type: 'string' },
        header: { type: 'string', multiple: true },
        shift: { type: 'string' },
        pause: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, ...args] = positionals;
    if (values.help || command === undefined || command === 'help') return { kind: 'help' };
    if (!isCommand(command)) {
      throw new UsageError(`unknown command "${command}" (expected one of: ${COMMANDS.join(', ')})`);
    }

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

    const opts: SimOptions = {
      url: normalizeUrl(values.url ?? (env.SIM_URL || DEFAULT_URL)),
      from,
      name: values.name ?? DEFAULT_NAME,
      shift: values.shift === undefined ? DEFAULT_SHIFT : normalizeShift(values.shift),
      headers,
      pauseMs,
    };
    if (values.shift !== undefined && command !== 'period') {
      throw new UsageError('--shift only applies to the period command');
    }
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
 * Turns a command and its positional arguments into the webhook bodies to send, in order.
 * Throws UsageError on bad arguments. For `curl` it returns the bodies to print (text, button, list).
 * Every call builds fresh message ids.
 */
export function planSteps(command: string, args: string[], opts: PlanOptions): Step[] {
  const who = {
    from: opts.from,
    name: opts.name ?? DEFAULT_NAME,
    timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
  };
  const text = (body: string): Step => ({
    label: `text ${JSON.stringify(body)}`,
    body: textMessage({ ...who, body }),
  });
  const button = (buttonId: string): Step => ({
    label: `button ${buttonId}`,
    body: buttonReply({ ...who, buttonId }),
  });
  const list = (rowId: string): Step => ({ label: `list ${rowId}`, body: listReply({ ...who, rowId }) });
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
      return [{ label: command, body: mediaMessage({ ...who, kind: command }) }];
    case 'location':
      noArgs(command, args);
      return [{ label: 'location', body: locationMessage(who) }];
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

/** `→ text "меню" from 79991234567 (wamid.…)` */
export function describeStep(step: Step, from: string): string {
  const id = messageIdOf(step.body);
  return `→ ${step.label} from ${from}${id ? ` (${id})` : ''}`;
}

/** POSIX-shell single quoting. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** One ready-to-paste curl command per step. */
export function renderCurl(steps: Step[], opts: { url: string; headers: Record<string, string> }): string[] {
  const headerArgs = [
    `-H ${shellQuote('Content-Type: application/json')}`,
    ...Object.entries(opts.headers).map(([k, v]) => `-H ${shellQuote(`${k}: ${v}`)}`),
  ];
  return steps.map((s) =>
    [
      `# ${s.label}`,
      `curl -sS -i -X POST ${shellQuote(webhookUrl(opts.url))} ${headerArgs.join(' ')} \\`,
      `  --data-raw ${shellQuote(JSON.stringify(s.body))}`,
    ].join('\n'),
  );
}
