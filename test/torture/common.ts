/**
 * Shared pieces of the torture suite (`npm run torture`, and the short profile inside `npm test`):
 * profiles, the figures each module reports for docs/RELIABILITY.md, child services that are SIGKILLed
 * and restarted, and reading a DATA_DIR's store files after a run.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PARTITION_FILE } from '../../storage/layout';
import { logFiles, readSegment } from '../../storage/wal';
import { type ServiceProcess, spawnService } from '../helpers/service';

export type Profile = 'short' | 'full';

/** What one module tried and what held, as rows of the report. */
export interface Section {
  name: string;
  title: string;
  /** `what was tried | how many times | what held` */
  rows: Array<[string, string | number, string]>;
  notes?: string[];
  ms?: number;
}

export function pick<T>(profile: Profile, short: T, full: T): T {
  return profile === 'full' ? full : short;
}

/** A seeded PRNG (mulberry32), so a failing run can be replayed with TORTURE_SEED. */
export function rng(seed = Number(process.env.TORTURE_SEED ?? Date.now() % 2 ** 31)): {
  seed: number;
  next(): number;
  int(n: number): number;
} {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, int: (n) => Math.floor(next() * n) };
}

/** Children started by the suite; `killAll()` ends whatever is still running (by pid, never by name). */
const children = new Set<ChildProcess>();
export const running = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;

export async function spawnTracked(env: Record<string, string | undefined>): Promise<ServiceProcess> {
  const svc = await spawnService(env, 30_000);
  children.add(svc.proc);
  return svc;
}

export function killAll(): void {
  for (const p of children) if (running(p)) p.kill('SIGKILL');
  children.clear();
}

export async function sigkill(svc: ServiceProcess): Promise<void> {
  if (running(svc.proc)) svc.proc.kill('SIGKILL');
  await svc.exited;
}

export async function sigterm(svc: ServiceProcess): Promise<number | null> {
  if (running(svc.proc)) svc.proc.kill('SIGTERM');
  return svc.exited;
}

// biome-ignore lint/suspicious/noExplicitAny: store documents are inspected field by field
type Doc = any;

/**
 * Every collection of a stopped service's store, merged over its partition files (each must parse),
 * then the log replayed over them as the store does at start (its torn end cut, damage elsewhere throws).
 */
export async function readStore(dataDir: string): Promise<{
  files: number;
  collections: Record<string, Record<string, Doc>>;
}> {
  const dir = join(dataDir, 'store');
  const collections: Record<string, Record<string, Doc>> = {};
  let files = 0;
  const names = readdirSync(dir);
  for (const f of names) {
    if (!PARTITION_FILE.test(f)) continue;
    files++;
    const data = JSON.parse(readFileSync(join(dir, f), 'utf-8')) as {
      collections: Record<string, Record<string, Doc>>;
    };
    for (const [name, docs] of Object.entries(data.collections)) {
      collections[name] ??= {};
      Object.assign(collections[name], docs);
    }
  }
  const logs = logFiles(names);
  for (const [i, f] of logs.entries())
    for (const [, writes] of (await readSegment(join(dir, f), i === logs.length - 1)).records)
      for (const [name, id, doc] of writes) {
        collections[name] ??= {};
        const docs = collections[name] as Record<string, Doc>;
        if (doc === null) delete docs[id];
        else docs[id] = doc;
      }
  return { files, collections };
}

/** A crude snapshot of the store's content, to compare before and after (an invalid payload changes nothing). */
export async function storeDigest(dataDir: string): Promise<string> {
  const { collections } = await readStore(dataDir);
  return JSON.stringify(
    Object.keys(collections)
      .sort()
      .map((c) => [c, Object.keys(collections[c] ?? {}).sort()]),
  );
}

export const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

/** Prints the section the way `npm test` shows it (`torture <name>: …`). */
export function printSection(s: Section): void {
  for (const [what, n, held] of s.rows) process.stdout.write(`torture ${s.name}: ${what} ×${n} → ${held}\n`);
}
