import { test } from 'uvu';
import { printSection } from './torture/common';
import { run } from './torture/fuzz';

test('torture (short): fuzzing every webhook route with fast-check: no 5xx, no store change, flat heap', async () => {
  printSection(await run('short'));
});

test.run();
