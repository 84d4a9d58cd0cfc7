/**
 * `npm run simulate -- <command> [args] [options]`: POSTs webhook bodies (WhatsApp, and the gate
 * bot's Telegram and Zadarma ones) to a running Switchboard server, one step at a time, printing
 * what was sent and what came back. `npm run simulate -- --help` lists the commands. The pure part
 * lives in ./simulate-args.ts and ./simulate-gate.ts.
 */
import { realpathSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { failUsage, startCli } from '../server/ops/cli';
import { helpText } from '../server/ops/cli-help';
import {
  describeStep,
  parseCommandLine,
  planSteps,
  renderCurl,
  requestOf,
  SIMULATE,
  type SimOptions,
  type Step,
} from './simulate-args';

const REQUEST_TIMEOUT_MS = 15_000;
const MAX_BODY_CHARS = 4_000;

class Unreachable extends Error {
  override name = 'Unreachable';
}

function causeText(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur instanceof Error; i++) {
    const code = (cur as { code?: unknown }).code;
    parts.push(
      typeof code === 'string' && !cur.message.includes(code) ? `${code}: ${cur.message}` : cur.message,
    );
    cur = cur.cause;
  }
  const deepest = parts.at(-1);
  return deepest ?? String(e);
}

function formatBody(text: string, contentType: string | null): string {
  let out = text;
  if (contentType?.includes('json')) {
    try {
      out = JSON.stringify(JSON.parse(text));
    } catch {
      // not valid JSON after all: print as is
    }
  }
  return out.length > MAX_BODY_CHARS ? `${out.slice(0, MAX_BODY_CHARS)}… (${out.length} chars)` : out;
}

/** Sends one step; returns true on a 2xx answer. Throws Unreachable when the server can't be reached. */
async function send(step: Step, opts: SimOptions): Promise<boolean> {
  const request = requestOf(step, opts);
  const { url } = request;
  console.log(describeStep(step, opts.from));
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (e) {
    if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
      throw new Unreachable(`no answer from ${url} within ${REQUEST_TIMEOUT_MS / 1000} s`);
    }
    throw new Unreachable(
      `cannot reach ${url}: is the server running? start it with npm start (${causeText(e)})`,
    );
  }
  const text = await res.text().catch(() => '');
  const ok = res.status >= 200 && res.status < 300;
  const line = `← ${res.status} ${res.statusText}`.trimEnd();
  const body = text.trim() === '' ? '' : ` ${formatBody(text.trim(), res.headers.get('content-type'))}`;
  (ok ? console.log : console.error)(`${line}${body}`);
  return ok;
}

async function main(argv: string[]): Promise<number> {
  // --help, a bad option, then --env-file and .env, as the server reads them: the settings below
  // (SIM_URL, GATES, ZADARMA_CALLER, the webhook secrets) come from the environment they make.
  startCli(SIMULATE, argv);
  const parsed = parseCommandLine(argv, process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(helpText(SIMULATE));
    return 0;
  }
  if (parsed.kind === 'error') failUsage(SIMULATE, parsed.message);
  const { command, args, opts } = parsed;
  const steps = planSteps(command, args, opts);

  if (command === 'curl') {
    console.log(renderCurl(steps, opts).join('\n\n'));
    return 0;
  }

  let failures = 0;
  for (const [i, step] of steps.entries()) {
    if (i > 0 && opts.pauseMs > 0) await sleep(opts.pauseMs);
    try {
      if (!(await send(step, opts))) failures++;
    } catch (e) {
      if (e instanceof Unreachable) {
        console.error(e.message);
        return 1;
      }
      throw e;
    }
  }
  if (failures > 0) {
    console.error(`${failures} of ${steps.length} request(s) got a non-2xx answer`);
    return 1;
  }
  return 0;
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : e);
      process.exitCode = 1;
    },
  );
}
