import { test } from 'uvu';
import { printSection } from './torture/common';
import { run } from './torture/redelivery';

test('torture (short): every webhook twice or thrice, statuses out of order: zero duplicate effects', async () => {
  printSection(await run('short'));
});

test.run();
