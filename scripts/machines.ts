/**
 * `npm run machines`: writes `docs/machines/<name>.mmd` (Mermaid stateDiagram-v2) for every machine in
 * machines/index.ts and regenerates the README's machines section. `--check` changes nothing and
 * exits 1 when a committed diagram no longer matches its machine.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { opt, startCli } from '../server/ops/cli';
import { DIAGRAM_DIR, diagramFiles, withMachinesSection } from './machine-docs';

const check = startCli({
  name: 'machines',
  purpose: "writes docs/machines/<name>.mmd for every machine and the README's machines section",
  usage: ['[--check]'],
  options: { check: opt.flag('change nothing; exit 1 when a diagram is out of date') },
  examples: ['', '--check'],
  dotEnv: false,
}).values.check;
const root = new URL('..', import.meta.url).pathname;
const read = (p: string) => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : undefined);

const wanted = diagramFiles();
const readme = read('README.md') ?? '';
wanted.set('README.md', withMachinesSection(readme));
const stale = existsSync(join(root, DIAGRAM_DIR))
  ? readdirSync(join(root, DIAGRAM_DIR))
      .filter((f) => f.endsWith('.mmd'))
      .map((f) => `${DIAGRAM_DIR}/${f}`)
      .filter((p) => !wanted.has(p))
  : [];
const changed = [...wanted].filter(([p, text]) => read(p) !== text).map(([p]) => p);

if (check) {
  for (const p of [...changed, ...stale]) process.stdout.write(`out of date: ${p}\n`);
  if (changed.length + stale.length > 0) {
    process.stdout.write('run `npm run machines` and commit the result\n');
    process.exit(1);
  }
  process.stdout.write(`${wanted.size - 1} diagrams up to date\n`);
} else {
  mkdirSync(join(root, DIAGRAM_DIR), { recursive: true });
  for (const p of changed) writeFileSync(join(root, p), wanted.get(p) as string);
  for (const p of stale) rmSync(join(root, p));
  for (const p of [...changed, ...stale.map((s) => `${s} (removed)`)]) process.stdout.write(`wrote ${p}\n`);
  if (changed.length + stale.length === 0) process.stdout.write('diagrams already up to date\n');
}
