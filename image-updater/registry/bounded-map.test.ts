import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedMap } from './bounded-map.ts';

test('keeps the most recently used entries and tells what it drops', () => {
  const dropped: string[] = [];
  const map = new BoundedMap<string, number>(2, (_v, k) => dropped.push(k));
  map.set('a', 1);
  map.set('b', 2);
  assert.equal(map.get('a'), 1); // a is now newer than b
  map.set('c', 3);
  assert.deepEqual(dropped, ['b']);
  assert.equal(map.get('b'), undefined);
  for (let i = 0; i < 1000; i++) map.set(`k${i}`, i);
  assert.equal(map.size, 2);
  assert.deepEqual(map.values(), [998, 999]);
  assert.throws(() => new BoundedMap(0), RangeError);
});
