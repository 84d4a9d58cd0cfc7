import { test } from 'uvu';
import { printSection } from './torture/common';
import { run } from './torture/security';

test('torture (short): signatures, secret tokens, allow-list, rate limit, admin token, 413, no secret leaks', async () => {
  printSection(await run('short'));
});

test.run();
