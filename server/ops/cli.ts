import { existsSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { loadDotEnv } from '../config/config';
import { settingsSchema } from '../config/schema';
import { helpText, programOf, usageBlock } from './cli-help';

/**
 * The command line of every tool in scripts/ (simulate, doctor, webhooks, backup, restore, clients,
 * machines, bench, torture): Node's own `util.parseArgs` (strict) under one spec per tool, which also
 * renders its `--help` (./cli-help.ts). Every tool takes `-h/--help` (usage on stdout, exit 0) and
 * `--env-file FILE`; an unknown option, a missing or bad value prints one line naming it, the usage
 * lines and where the help is, and exits 2.
 */
export interface Option {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** used when the option is absent, and shown in the help */
  default?: string;
  /** the value's placeholder in the help, e.g. DIR */
  value?: string;
  help: string;
  /** a heading the option is listed under in the help */
  group?: string;
}
export type Options = Record<string, Option>;

/** `--name VALUE` and `--name` options, written in one line each. */
export const opt = {
  value: <const M extends Partial<Option> = Record<never, never>>(value: string, help: string, more?: M) =>
    ({ type: 'string', value, help, ...more }) as { type: 'string'; value: string; help: string } & M,
  flag: (help: string) => ({ type: 'boolean', help }) as const,
  /** the same help heading for each of these options */
  group: <const G extends Options>(group: string, options: G): G =>
    Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { ...o, group }])) as G,
};

export interface CliSpec<O extends Options = Options> {
  /** the npm script, e.g. `backup` */
  name: string;
  /** how it is run, before its arguments; default `npm run <name> --` */
  program?: string;
  /** one line: what the tool does */
  purpose: string;
  /** the usage lines, each after `program`, e.g. `set [--public-url URL]` */
  usage: string[];
  /** `name ARG…` → what it does: the first positional argument must be a name, followed by its ARGs */
  commands?: Record<string, string>;
  /** how many positional arguments a tool without commands takes; default none */
  args?: { min?: number; max?: number };
  /** blocks printed between the usage and the options: a title and [left, right] rows */
  sections?: { title: string; rows: [string, string][] }[];
  options: O;
  /** printed after the options (environment settings, notes) */
  notes?: string[];
  examples: string[];
  /** read `./.env` after --env-file, as the service does (default true) */
  dotEnv?: boolean;
}

/** Thrown for a bad command line; the message is meant for the user. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Value<S> = S extends { type: 'boolean' } ? boolean : string;
type Values<O extends Options> = {
  -readonly [K in keyof O]?: O[K] extends { multiple: true } ? Value<O[K]>[] : Value<O[K]>;
} & { -readonly [K in keyof O as O[K] extends { default: string } ? K : never]: Value<O[K]> };

export interface Parsed<O extends Options> {
  values: Values<O>;
  positionals: string[];
}

/** The options every tool takes besides its own. */
const COMMON = {
  'env-file': {
    type: 'string',
    multiple: true,
    value: 'FILE',
    help: 'read settings from FILE first, then ./.env; neither overrides the environment',
  },
  help: { type: 'boolean', short: 'h', help: 'print this help' },
} as const satisfies Options;

/** The tool's options and the common ones, as the help lists them. */
export const commonOptions = (spec: CliSpec): Options => ({
  ...spec.options,
  ...COMMON,
  ...(spec.dotEnv === false
    ? {
        'env-file': {
          ...COMMON['env-file'],
          help: 'read settings from FILE first; it never overrides the environment',
        },
      }
    : {}),
});

/** Keeps the literal types of a spec's options (for typed values) when it is declared apart. */
export const defineCli = <const O extends Options>(spec: CliSpec<O>): CliSpec<O> => spec;

const wantsHelp = (argv: string[]) => {
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  return head.includes('--help') || head.includes('-h');
};

/** Pure: argv → the values and positionals, or 'help'. Throws UsageError naming what is wrong. */
export function parseCli<const O extends Options>(
  spec: CliSpec<O>,
  argv: string[],
): Parsed<O & typeof COMMON> | 'help' {
  if (wantsHelp(argv)) return 'help';
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [long, o] of Object.entries(commonOptions(spec)))
    options[long] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
    };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(parseArgsMessage(e as Error & { code?: string }));
  }
  const { positionals } = parsed;
  const [command] = positionals;
  const commands = Object.keys(spec.commands ?? {}).map((c) => c.split(' '));
  let { min = 0, max = min } = spec.args ?? {};
  if (commands.length > 0) {
    const names = commands.map(([name]) => name).join(' or ');
    const chosen = commands.find(([name]) => name === command);
    if (!chosen)
      throw new UsageError(
        command === undefined
          ? `give a command: ${names}`
          : `unknown command "${command}" (expected ${names})`,
      );
    min = max = chosen.length;
    if (positionals.length < min)
      throw new UsageError(`${command} needs ${chosen.slice(positionals.length).join(' ')}`);
  }
  if (positionals.length < min) throw new UsageError('an argument is missing');
  if (positionals.length > max) throw new UsageError(`unexpected argument "${positionals[max]}"`);
  return { values: parsed.values as Values<O & typeof COMMON>, positionals };
}

/** parseArgs' messages, one line and without its tutorial. */
function parseArgsMessage(e: Error & { code?: string }): string {
  const name = /'(-{1,2}[^'\s]+)/.exec(e.message)?.[1] ?? '';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${name}`;
  if (/does not take an argument/.test(e.message)) return `${name} takes no value`;
  if (/argument missing|ambiguous/.test(e.message)) return `${name} needs a value`;
  return e.message;
}

/**
 * What every tool does first: parse the command line (help → stdout, exit 0; a usage error → stderr,
 * exit 2), then read `--env-file FILE` and, unless the spec says not to, `./.env` into the environment,
 * neither overriding what is already set: exactly how the service reads its settings.
 */
export function startCli<const O extends Options>(
  spec: CliSpec<O>,
  argv: string[] = process.argv.slice(2),
): Parsed<O & typeof COMMON> {
  let parsed: ReturnType<typeof parseCli<O>>;
  try {
    parsed = parseCli(spec, argv);
  } catch (e) {
    if (e instanceof UsageError) failUsage(spec, e.message);
    throw e;
  }
  if (parsed === 'help') {
    process.stdout.write(helpText(spec));
    process.exit(0);
  }
  for (const file of parsed.values['env-file'] ?? []) {
    // Node 20 itself exits 9 ("node: FILE: not found") on a missing --env-file even after the script
    // name (nodejs/node#54232), so this line is for the Node versions that leave it to us.
    if (!existsSync(file)) failUsage(spec, `--env-file: ${file} does not exist`);
    loadDotEnv(file);
  }
  if (spec.dotEnv !== false) loadDotEnv();
  return parsed;
}

/** A bad argument the tool found itself: the message, the usage lines, `see … --help`; exit 2. */
export function failUsage(spec: CliSpec, message: string): never {
  die([message, ...usageBlock(spec, 'usage:'), `see ${programOf(spec)} --help`].join('\n'));
}

export function die(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/**
 * DATA_DIR as the service resolves it, read alone: a backup or restore must work even when some other
 * setting is wrong.
 */
export function dataDirSetting(env: Record<string, string | undefined> = process.env): string {
  return settingsSchema.shape.DATA_DIR.parse(env.DATA_DIR);
}
