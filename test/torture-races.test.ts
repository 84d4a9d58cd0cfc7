import { test } from 'uvu';
import { printSection } from './torture/common';
import { run } from './torture/races';

test('torture (short): 100 concurrent events for one user and one call = a sequential run; hot-user bound', async () => {
  printSection(await run('short'));
});

test.run();
