/**
 * `node --import tsx test/helpers/churn-writer.ts DIR`: rewrites two store-like files with the store's
 * own atomic writer, forever, in order: `store/p-00.json` = {n}, then `store/p-01.json` = {n}, n = 1, 2, ….
 * At every instant p-00 holds n or n + 1 when p-01 holds n; a copy that breaks that rule was not taken at
 * one moment. Prints "ready" after the first round.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DurableJsonFile } from '../../storage/json-file';

const dir = process.argv[2] as string;
mkdirSync(join(dir, 'store'), { recursive: true });
const a = new DurableJsonFile<{ n: number }>(join(dir, 'store', 'p-00.json'));
const b = new DurableJsonFile<{ n: number }>(join(dir, 'store', 'p-01.json'));
for (let n = 1; ; n++) {
  await a.write({ n });
  await b.write({ n });
  if (n === 1) process.stdout.write('ready\n');
  await new Promise((r) => setTimeout(r, 2));
}
