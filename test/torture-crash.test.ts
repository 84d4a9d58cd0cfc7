import { test } from 'uvu';
import { printSection } from './torture/common';
import { run } from './torture/crash';

test('torture (short): SIGKILL at random moments, redelivery, checked against a model', async () => {
  printSection(await run('short'));
});

test.run();
