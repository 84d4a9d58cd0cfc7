/**
 * `npm run doctor [-- --json] [--env-file FILE]`: checks the settings, the data folder and each
 * platform's credentials and registered webhook, one line each (✔, ✘ with the fix, or – skipped).
 * Exit code 0 only when nothing failed. `--json` prints `[{check, ok, detail, fix}]` instead.
 */
import { formatCheck } from '../server/ops/check';
import { opt, startCli } from '../server/ops/cli';
import { runDoctor } from '../server/ops/doctor';

async function main(): Promise<void> {
  const { values } = startCli({
    name: 'doctor',
    purpose: "checks the settings, the data folder and each platform's credentials and webhook",
    usage: ['[--json]'],
    options: { json: opt.flag('print [{check, ok, detail, fix}] instead of lines') },
    notes: ['One line per check: ✔, ✘ with the fix, or – skipped. Exit code 0 only when nothing failed.'],
    examples: ['', '--env-file /etc/switchboard/env', '--json'],
  });
  const results = await runDoctor(process.env);
  const failed = results.filter((r) => !r.ok).length;
  if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else {
    for (const r of results) process.stdout.write(`${formatCheck(r)}\n`);
    const skipped = results.filter((r) => r.skipped).length;
    const passed = results.length - failed - skipped;
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
