import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadDotEnv, readConfig } from '../config/config';

/**
 * What every operator command does first: `--env-file FILE` (e.g. the unit's /etc/switchboard/env) and
 * then `.env` are read into the environment, without overriding what is already set, exactly as the
 * service reads its settings. Returns the remaining arguments.
 */
export function loadSettings(argv: string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const inline = a.startsWith('--env-file=') ? a.slice('--env-file='.length) : undefined;
    if (a !== '--env-file' && inline === undefined) {
      rest.push(a);
      continue;
    }
    const file = inline ?? argv[++i];
    if (!file || !existsSync(file)) die(`--env-file: ${file ? `${file} does not exist` : 'give a file'}`);
    process.loadEnvFile(file);
  }
  loadDotEnv();
  return rest;
}

/** The value after `--name` (or `--name=value`); undefined when absent. */
export function option(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === `--${name}`) {
      const v = args[i + 1];
      if (v === undefined || v.startsWith('--')) die(`--${name} needs a value`);
      args.splice(i, 2);
      return v;
    }
    if (a.startsWith(`--${name}=`)) {
      args.splice(i, 1);
      return a.slice(name.length + 3);
    }
  }
  return undefined;
}

/** Removes `--name` from args; true when it was there. */
export function flag(args: string[], name: string): boolean {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
}

export function die(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/**
 * DATA_DIR as the service resolves it. A backup or restore must work even when some other setting is
 * wrong, so a ConfigError falls back to DATA_DIR itself.
 */
export function dataDirSetting(env: Record<string, string | undefined> = process.env): string {
  try {
    return readConfig(env).dataDir;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return resolve(env.DATA_DIR?.trim() || './data');
  }
}
