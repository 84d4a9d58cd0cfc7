/**
 * `npm test`: runs every `test/**\/*.test.ts` file in its own Node process (suites start servers and
 * kill processes, so they must not share one), two at a time, and ends with the one line CI reads:
 * `N passed, N failed`. A file that crashes before uvu's summary counts as one failure.
 * `npm test -- period whatsapp` runs only the files whose name contains one of the words.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2);
const FILE_TIMEOUT_S = Number(process.env.TEST_FILE_TIMEOUT_S ?? 300);

function findTests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return findTests(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  ms: number;
  output: string;
  code: number | null;
}

function runFile(file: string): Promise<FileResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    // A file that hangs must not stall the whole suite (CI has a time limit): kill it, count a failure.
    const timer = setTimeout(() => {
      output += `\n✘ killed after ${FILE_TIMEOUT_S} s (TEST_FILE_TIMEOUT_S)\n`;
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_S * 1000);
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const plain = stripVTControlCharacters(output);
      const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? Number.NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? Number.NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      let result: { passed: number; failed: number };
      if (Number.isNaN(total) || Number.isNaN(passed)) result = { passed: 0, failed: 1 };
      else result = { passed, failed: Math.max(total - passed - skipped, code === 0 ? 0 : 1) };
      resolve({ file: relative(root, file), ...result, ms: Date.now() - started, output: plain, code });
    });
  });
}

async function main(): Promise<void> {
  const files = findTests(join(root, 'test'))
    .filter((f) => filters.length === 0 || filters.some((w) => relative(root, f).includes(w)))
    .sort();
  const queue = [...files];
  const results: FileResult[] = [];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const r = await runFile(f);
      results.push(r);
      const mark = r.failed === 0 ? '✔' : '✘';
      process.stdout.write(
        `${mark} ${r.file}: ${r.passed} passed, ${r.failed} failed (${(r.ms / 1000).toFixed(1)} s)\n`,
      );
      // Lines a suite prints as its report (`model <name>: …` from the model-based tests) are shown.
      for (const line of r.output.split('\n')) {
        const report = /(?:^|\s)((?:model|torture) [\w-]+: .*)$/.exec(line)?.[1];
        if (report) process.stdout.write(`    ${report}\n`);
      }
      if (r.failed > 0)
        process.stdout.write(
          `${r.output
            .split('\n')
            .map((l) => `    ${l}`)
            .join('\n')}\n`,
        );
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  process.stdout.write(`\n${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (files.length === 0) process.stdout.write('no test files matched\n');
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exit(failed > 0 || files.length === 0 ? 1 : 0);
}

void main();
