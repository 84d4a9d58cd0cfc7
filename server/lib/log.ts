/**
 * Log lines for the operator: one line each, `time level message key=value…`. Phone numbers are
 * masked to their last 4 digits and configured secrets are never printed.
 */
export type Level = 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

/** Keeps the last 4 digits of anything that looks like a phone number (a run of 9+ digits). */
export function maskPhones(text: string): string {
  return text.replace(/\+?\d{9,}/g, (m) => `…${m.slice(-4)}`);
}

/**
 * `text` with every secret of 4 characters or more replaced by `***`, also where it appears JSON-escaped
 * (inside an object field a `"` or `\` in it gets a backslash).
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    out = out.split(s).join('***');
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) out = out.split(escaped).join('***');
  }
  return out;
}

export function createLogger(opts: { secrets?: string[]; write?: (line: string) => void } = {}): Logger {
  const secrets = opts.secrets ?? [];
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const line = (level: Level, msg: string, fields?: Fields) => {
    let text = msg;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        text += ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
      }
    }
    write(`${new Date().toISOString()} ${level.padEnd(5)} ${maskPhones(maskSecrets(text, secrets))}`);
  };
  return {
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
  };
}

/** A logger that keeps lines in memory (tests). */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { ...createLogger({ write: (l) => lines.push(l) }), lines };
}
