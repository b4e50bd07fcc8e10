import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareBytes, sortStringsByBytes } from './byte-order.ts';

test('byte order puts code points above U+FFFF after U+E000–U+FFFF, unlike UTF-16 order', () => {
  const astral = '\u{1F600}';
  const privateUse = '\uE000';
  assert.ok(astral < privateUse, 'UTF-16 order');
  assert.ok(compareBytes(astral, privateUse) > 0, 'byte order');
  assert.ok(Buffer.compare(Buffer.from(astral), Buffer.from(privateUse)) > 0, 'UTF-8 bytes agree');
});

test('sortStringsByBytes agrees with sorting the UTF-8 encodings, with and without wide units', () => {
  const alphabet = ['a', 'B', '0', '-', '.', 'é', '\uE000', '\uFFFD', '\u{1F600}', '\u{10FFFF}'];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (const pool of [alphabet.slice(0, 6), alphabet]) {
    const items = Array.from({ length: 300 }, () => Array.from({ length: 1 + (next() % 5) }, () => pool[next() % pool.length]).join(''));
    const expected = [...items].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(sortStringsByBytes([...items]), expected);
  }
});
