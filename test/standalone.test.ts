import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadRealPayloads, realPayloadsDir } from '../fixtures/real-payloads';

/**
 * A clone with nothing beside it must run its tests and make sense of its comments: no file may read
 * from or point to material outside the repository, and the data the tests need must be tracked.
 */
const root = new URL('..', import.meta.url).pathname;

/** Tracked files (git), or every file outside the usual untracked folders when this is no checkout. */
function trackedFiles(): string[] {
  try {
    const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    return out.split('\0').filter((f) => f !== '');
  } catch {
    const skip = new Set(['.git', 'node_modules', 'data', 'dist', 'test-output']);
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        if (skip.has(e.name)) return [];
        const p = join(dir, e.name);
        return e.isDirectory() ? walk(p) : [relative(root, p).split(sep).join('/')];
      });
    return walk(root);
  }
}

// Built from pieces so that this file does not match its own patterns.
const OUTSIDE = [['..', 'shared'].join('/'), ['shared', 'reference'].join('/'), ['DESIGN', 'md'].join('.')];

test('no tracked file refers to material outside the repository', () => {
  const files = trackedFiles().filter((f) => f !== 'package-lock.json' && existsSync(join(root, f)));
  assert.ok(files.length > 100, `expected the repository's files, found ${files.length}`);
  const hits: string[] = [];
  for (const file of files) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const needle of OUTSIDE) if (line.includes(needle)) hits.push(`${file}:${i + 1}: ${needle}`);
    });
  }
  assert.equal(hits, [], 'point these to docs/ (docs/protocols/*.md) or the README instead');
});

test('the 74 real WhatsApp payloads load from fixtures/, and are tracked with their licence', () => {
  const dir = relative(root, realPayloadsDir()).split(sep).join('/');
  assert.is(dir, 'fixtures/real-payloads/whatsapp-pywa');
  const payloads = loadRealPayloads();
  assert.is(payloads.length, 74);
  assert.is(new Set(payloads.map((p) => `${p.file}/${p.name}`)).size, 74, 'case names are unique per file');
  const tracked = new Set(trackedFiles());
  const files = [...new Set(payloads.map((p) => p.file))];
  const untracked = files.filter((f) => !tracked.has(`${dir}/${f}`));
  assert.equal(untracked, [], 'commit every payload file');
  for (const f of ['LICENSE', '../README.md']) {
    const path = join(dir, f).split(sep).join('/');
    assert.ok(tracked.has(path), `${path} must be committed next to the payloads`);
  }
});

/** GitHub's anchor of a Markdown heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(join(root, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? '')));
}

test('every pointer to a section of docs/protocols names a heading that exists', () => {
  const docs = trackedFiles().filter((f) => /^docs\/protocols\/[^/]+\.md$/.test(f));
  assert.equal(
    ['telegram', 'whatsapp', 'xstate', 'zadarma'].filter((n) => !docs.includes(`docs/protocols/${n}.md`)),
    [],
  );
  const anchors = new Map(docs.map((f) => [f, anchorsOf(f)]));
  const broken: string[] = [];
  const check = (from: string, target: string, anchor: string) => {
    if (!anchors.get(target)?.has(anchor)) broken.push(`${from}: ${target}#${anchor}`);
  };
  for (const file of trackedFiles()) {
    if (file === 'package-lock.json' || !existsSync(join(root, file))) continue;
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/docs\/protocols\/([a-z0-9-]+\.md)#([\w-]+)/g))
      check(file, `docs/protocols/${m[1]}`, m[2] ?? '');
    if (!anchors.has(file)) continue;
    // Links inside the notes: (#anchor) and (other.md#anchor).
    for (const m of text.matchAll(/\]\((?:([a-z0-9-]+\.md))?#([\w-]+)\)/g))
      check(file, m[1] ? `docs/protocols/${m[1]}` : file, m[2] ?? '');
  }
  assert.equal(broken, []);
});

test('every source path that README.md and docs/ name in backticks exists', () => {
  const docs = trackedFiles().filter(
    (f) =>
      (f === 'README.md' || /^docs\/[^/]+\.md$/.test(f) || /^docs\/protocols\/[^/]+\.md$/.test(f)) &&
      existsSync(join(root, f)),
  );
  const missing: string[] = [];
  for (const file of docs) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(
      /`((?:server|storage|machines|scripts|fixtures|test|deploy)\/[\w./-]+\.(?:ts|js|css|json|service|timer))`/g,
    )) {
      if (!existsSync(join(root, m[1] as string))) missing.push(`${file}: ${m[1]}`);
    }
  }
  assert.equal(missing, [], 'a doc names a file that is not there (moved or renamed?)');
});

test.run();
