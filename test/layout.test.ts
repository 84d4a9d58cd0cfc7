/**
 * The layout is the architecture (docs/ARCHITECTURE.md): folders depend on each other in one
 * direction only. This reads every relative import under machines/, storage/ and server/ and fails on
 * a cycle between folders, or on a lower layer importing a higher one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'static' ? [] : sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** folder → the folders its files import from (relative imports only). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of ['machines', 'storage', 'server'].flatMap(sources)) {
    const from = dirname(file);
    const deps = graph.get(from) ?? new Set<string>();
    graph.set(from, deps);
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const to = dirname(normalize(join(from, m[1] as string)));
      if (to !== from) deps.add(relative(root, join(root, to)));
    }
  }
  return graph;
}

/** Strongly connected components with more than one folder (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

test('no import cycle between folders', () => {
  assert.equal(cycles(folderGraph()), []);
});

test('machines/ import nothing but machines/; storage/ nothing from server/', () => {
  const graph = folderGraph();
  for (const [folder, deps] of graph) {
    for (const dep of deps) {
      if (folder.startsWith('machines')) assert.ok(dep.startsWith('machines'), `${folder} imports ${dep}`);
      if (folder.startsWith('storage')) assert.not.ok(dep.startsWith('server'), `${folder} imports ${dep}`);
    }
  }
});

test('the engine core imports no channel, route or deployment', () => {
  for (const dep of folderGraph().get('server/engine') ?? []) {
    assert.ok(['storage', 'server/lib'].includes(dep), `server/engine imports ${dep}`);
  }
});

test.run();
