/** Process plumbing for `npm run bench`: spawning the server, the baseline and the load generator. */
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LoadResult, LoadSpec } from './loadgen';

export const root = new URL('../..', import.meta.url).pathname;

export interface Proc {
  proc: ChildProcess;
  url: string;
  /** process spawned → listening, ms */
  startupMs: number;
  output(): string;
  stop(): Promise<void>;
}

export interface Probe {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  cpuMs: number;
  /** Event-loop delay since the last reset (see probe.ts). */
  loopP99Ms: number;
  loopMaxMs: number;
  /** Store commit → on disk, since the last reset (see probe.ts). */
  commitP99Ms: number;
  commitMaxMs: number;
}

/** Spawns a TypeScript entry point under tsx and waits until its output matches `ready`. */
export async function spawnTs(
  entry: string,
  env: Record<string, string>,
  ready: RegExp,
  nodeArgs: string[] = [],
  timeoutMs = 30_000,
): Promise<Proc> {
  const t0 = performance.now();
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', './scripts/bench/probe.ts', ...nodeArgs, entry],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${entry} did not start in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const check = () => {
      const m = ready.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout?.on('data', check);
    proc.stderr?.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited before starting:\n${out}`));
    });
  });
  const startupMs = performance.now() - t0;
  return {
    proc,
    url,
    startupMs,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** Asks a process started by spawnTs (probe.ts preloaded) for its memory and CPU. */
export function probe(p: Proc): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('probe timed out')), 5000);
    const on = (m: unknown) => {
      const r = (m as { probe?: Probe }).probe;
      if (!r) return;
      clearTimeout(timer);
      p.proc.off('message', on);
      resolve(r);
    };
    p.proc.on('message', on);
    p.proc.send('probe');
  });
}

/** Samples a process's memory every 250 ms while `work` runs; returns the peaks too. */
export async function sampled<T>(
  p: Proc,
  work: () => Promise<T>,
): Promise<{
  result: T;
  peakRss: number;
  peakHeap: number;
  cpuMs: number;
  loop: { p99: number; max: number };
  commit: { p99: number; max: number };
}> {
  let peakRss = 0;
  let peakHeap = 0;
  const first = await probe(p);
  p.proc.send('probe-reset');
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const m = await probe(p).catch(() => null);
      if (m) {
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const result = await work();
  stop = true;
  await loop;
  const last = await probe(p);
  peakRss = Math.max(peakRss, last.rss);
  peakHeap = Math.max(peakHeap, last.heapUsed);
  return {
    result,
    peakRss,
    peakHeap,
    cpuMs: last.cpuMs - first.cpuMs,
    loop: { p99: last.loopP99Ms, max: last.loopMaxMs },
    commit: { p99: last.commitP99Ms, max: last.commitMaxMs },
  };
}

/** Runs the load generator as its own process; resolves with what it measured. */
export function runLoadProcess(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts/bench/loadgen.ts'), JSON.stringify(spec)],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => {
      out += d;
    });
    proc.stderr.on('data', (d) => {
      err += d;
    });
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as LoadResult);
      } catch {
        reject(new Error(`load generator exited with ${code}: ${err}${out.slice(0, 500)}`));
      }
    });
  });
}

/** Total size of the files under `dir`, bytes. */
export function du(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += du(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

export function machine(dataDir: string): Record<string, string> {
  const sh = (cmd: string) => {
    try {
      return execSync(cmd, { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'unknown';
    }
  };
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf-8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown';
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf-8'))?.[1] ?? 0);
  const dev = sh(`df --output=source ${dataDir} | tail -1`);
  const name = dev.replace('/dev/', '').replace(/\d+$/, '');
  const rota = sh(`cat /sys/block/${name}/queue/rotational`);
  const fs = sh(`df --output=fstype ${dataDir} | tail -1`);
  return {
    nproc: sh('nproc'),
    cpu: model,
    memory: `${(memKb / 1024 / 1024).toFixed(1)} GiB`,
    node: process.version,
    os: sh('uname -sr'),
    disk: `${dev} (${fs}; rotational=${rota === '0' ? 'no' : rota === '1' ? 'yes, or a virtual disk reporting so' : rota})`,
  };
}
