import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { percentile } from './helpers/percentile';

test('nearest rank: the ⌈p/100 · n⌉-th smallest value', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
  assert.is(percentile(hundred, 99), 99, 'one sample of 100 above the p99');
  assert.is(percentile(hundred, 50), 50);
  assert.is(percentile(hundred, 100), 100);
  assert.is(percentile(hundred, 1), 1);
  assert.is(hundred[0], 100, 'the input is not sorted in place');
  const ten = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000];
  assert.is(percentile(ten, 95), 1000, 'rank ⌈9.5⌉ = 10');
  assert.is(percentile(ten, 90), 90, 'rank 9');
  assert.is(percentile(Float64Array.from([3, 1, 2]), 50), 2);
  assert.is(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)), 'no samples: no figure');
});

test.run();
