import { test } from 'uvu';
import { printSection } from './torture/common';
import { run } from './torture/storage';

test('torture (short): broken store files refuse the start; a failing disk never acknowledges', async () => {
  printSection(await run('short'));
});

test.run();
