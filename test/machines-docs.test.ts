import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MACHINES } from '../machines/index';
import { DIAGRAM_DIR, diagramFiles, readmeSection } from '../scripts/machine-docs';

const root = new URL('..', import.meta.url).pathname;
const read = (p: string) => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : undefined);
const RUN = 'a machine changed: run `npm run machines` and commit docs/machines/ and README.md';

const test = suite('committed machine diagrams');

test('docs/machines/<name>.mmd matches what every machine produces now', () => {
  for (const [path, text] of diagramFiles()) {
    const committed = read(path);
    assert.ok(committed !== undefined, `${path} is missing; ${RUN}`);
    if (committed !== text) assert.unreachable(`${path} no longer matches its machine; ${RUN}`);
  }
});

test('no diagram of a machine that is no longer registered', () => {
  const wanted = new Set(Object.keys(MACHINES).map((n) => `${n}.mmd`));
  const extra = readdirSync(join(root, DIAGRAM_DIR)).filter((f) => f.endsWith('.mmd') && !wanted.has(f));
  assert.equal(extra, [], `stale diagrams in ${DIAGRAM_DIR}; ${RUN}`);
});

test("the README's machines section embeds the current diagrams", () => {
  const readme = read('README.md') ?? '';
  if (!readme.includes(readmeSection()))
    assert.unreachable(`README.md's machines section is out of date; ${RUN}`);
});

test.run();
