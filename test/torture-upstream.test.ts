import { test } from 'uvu';
import { printSection } from './torture/common';
import { run } from './torture/upstream';

test('torture (short): 500, 429, hang, reset, garbage from every upstream API', async () => {
  printSection(await run('short'));
});

test.run();
