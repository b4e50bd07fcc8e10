import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LruMap } from './lru.ts';

test('an LRU map holds at most its capacity and drops the least recently used', () => {
  const lru = new LruMap<string, number>(3);
  lru.set('a', 1).set('b', 2).set('c', 3);
  assert.equal(lru.get('a'), 1, 'a is now the most recent');
  lru.set('d', 4);
  assert.deepEqual([...lru.keys()], ['c', 'a', 'd'], 'b, the least recently used, went');
  assert.equal(lru.has('b'), false);
  lru.set('c', 30);
  assert.deepEqual([...lru.keys()], ['a', 'd', 'c'], 'setting a key again makes it the most recent');
  assert.equal(lru.has('a'), true);
  assert.deepEqual([...lru.keys()], ['a', 'd', 'c'], 'has does not count as a use');
  assert.equal(lru.delete('d'), true);
  assert.equal(lru.size, 2);
  lru.clear();
  assert.equal(lru.size, 0);
});

test('an LRU map stays at its capacity under a stream of distinct keys, and keeps undefined values', () => {
  const lru = new LruMap<string, number | undefined>(100);
  for (let i = 0; i < 100_000; i++) lru.set(`tenant-key-${i}`, i);
  assert.equal(lru.size, 100);
  assert.equal(lru.get('tenant-key-99999'), 99_999);
  assert.equal(lru.get('tenant-key-0'), undefined);
  lru.set('nothing', undefined);
  assert.equal(lru.has('nothing'), true);
  assert.equal(lru.get('nothing'), undefined);
  assert.throws(() => new LruMap(0), RangeError);
});

test('an LRU map tells what it drops to make room, and never grows past its capacity', () => {
  const dropped: string[] = [];
  const map = new LruMap<string, number>(2, (_v, k) => dropped.push(k));
  map.set('a', 1);
  map.set('b', 2);
  assert.equal(map.get('a'), 1); // a is now newer than b
  map.set('c', 3);
  assert.deepEqual(dropped, ['b']);
  assert.equal(map.get('b'), undefined);
  for (let i = 0; i < 1000; i++) map.set(`k${i}`, i);
  assert.equal(map.size, 2);
  assert.deepEqual(map.values(), [998, 999]);
});
