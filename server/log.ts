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

export function createLogger(opts: { secrets?: string[]; write?: (line: string) => void } = {}): Logger {
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 4);
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const line = (level: Level, msg: string, fields?: Fields) => {
    let text = msg;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        text += ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
      }
    }
    for (const s of secrets) {
      text = text.split(s).join('***');
      // Inside an object field the secret appears JSON-escaped (a `"` or `\` in it gets a backslash).
      const escaped = JSON.stringify(s).slice(1, -1);
      if (escaped !== s) text = text.split(escaped).join('***');
    }
    write(`${new Date().toISOString()} ${level.padEnd(5)} ${maskPhones(text)}`);
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
