/** Shared by the capture scripts (./capture-store.ts, ./capture-snapshots.ts). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What writes a store: the commit that last changed it dates a capture. */
const SERVICE_CODE = ['server', 'storage', 'machines', 'package.json', 'package-lock.json'];

/** A capture's `madeBy`: the package and commit of `checkout`, and the state of its service code. */
export function madeBy(checkout: string) {
  const git = (args: string[]) => execFileSync('git', args, { cwd: checkout, encoding: 'utf8' }).trim();
  const pkg = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  return {
    package: pkg.name,
    version: pkg.version,
    commit: git(['rev-parse', 'HEAD']),
    // HEAD may add only scripts and tests.
    serviceCodeCommit: git(['log', '-1', '--format=%H', '--', ...SERVICE_CODE]),
    serviceCodeChanged: git(['status', '--porcelain', '--', ...SERVICE_CODE]) !== '',
  };
}

/** A capture stops at the first thing that is not as it expects, naming the script. */
export function expectations(script: string) {
  const fail = (message: string): never => {
    throw new Error(`${script}: ${message}`);
  };
  const check = (ok: unknown, message: string): void => {
    if (!ok) fail(message);
  };
  return { fail, check };
}
