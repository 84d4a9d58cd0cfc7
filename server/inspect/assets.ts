import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../lib/package-root';

/**
 * Everything the inspector page loads, served by this server (the page must work without internet):
 * Mermaid's browser bundle straight from its npm package, and the page's own script modules and style.
 * Only the names listed here are served.
 */
// From the package root, not from this module: bundled, this code runs from dist/ (`npm run build`).
const require = createRequire(join(PACKAGE_ROOT, 'package.json'));
const here = (name: string) => join(PACKAGE_ROOT, 'server', 'inspect', 'static', name);

const JS = 'application/javascript; charset=utf-8';
/** The page's own script in static/: `inspect.js` and the modules it imports. */
const PAGE_SCRIPTS = [
  'inspect.js',
  'actor.js',
  'diagram.js',
  'dom.js',
  'playground.js',
  'section.js',
  'view.js',
];

const ASSETS: Record<string, { file: () => string; type: string }> = {
  'mermaid.min.js': { file: () => require.resolve('mermaid/dist/mermaid.min.js'), type: JS },
  ...Object.fromEntries(PAGE_SCRIPTS.map((name) => [name, { file: () => here(name), type: JS }])),
  'inspect.css': { file: () => here('inspect.css'), type: 'text/css; charset=utf-8' },
};

const cache = new Map<string, Buffer>();

/** The asset's bytes (read once), or undefined for a name that is not an asset. */
export async function readAsset(name: string): Promise<{ body: Buffer; type: string } | undefined> {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) return undefined;
  let body = cache.get(name);
  if (!body) {
    body = await readFile(asset.file());
    cache.set(name, body);
  }
  return { body, type: asset.type };
}
