import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePktLines, encodePktLines, PKT_DELIM, PKT_END, PKT_FLUSH } from './pkt-line.ts';
import { parseLsRefs, parseV0Advertisement } from './smart-http.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

test('pkt-lines round-trip, with the lengths git writes', () => {
  const encoded = encodePktLines(['command=ls-refs', PKT_DELIM, 'peel', PKT_FLUSH]);
  assert.equal(encoded.toString(), '0014command=ls-refs\n00010009peel\n0000');
  assert.deepEqual(decodePktLines(Buffer.concat([encoded, Buffer.from('0002')])), [
    'command=ls-refs',
    PKT_DELIM,
    'peel',
    PKT_FLUSH,
    PKT_END,
  ]);
});

test('a malformed or truncated pkt-line ends the parse; what came before is kept', () => {
  assert.deepEqual(decodePktLines(Buffer.from('0009peel\nzzzzjunk')), ['peel']);
  assert.deepEqual(decodePktLines(Buffer.from('0009peel\n00ffshort')), ['peel']);
  assert.deepEqual(decodePktLines(Buffer.from('0003')), []);
});

test('ls-refs (protocol v2): refs, peeled tags and the HEAD symref', () => {
  const refs = parseLsRefs([
    `${A} HEAD symref-target:refs/heads/main`,
    `${A} refs/heads/main`,
    `${B} refs/tags/v1.0.0 peeled:${C}`,
    'not a ref line',
    PKT_FLUSH,
    `${C} refs/heads/after-flush`,
  ]);
  assert.equal(refs.headTarget, 'refs/heads/main');
  assert.deepEqual(
    [...refs.refs],
    [
      ['HEAD', A],
      ['refs/heads/main', A],
      ['refs/tags/v1.0.0', B],
    ],
  );
  assert.deepEqual([...refs.peeled], [['refs/tags/v1.0.0', C]]);
});

test('a protocol v0 advertisement: capabilities after NUL on the first line, ^{} lines peeled', () => {
  const refs = parseV0Advertisement([
    `${A} HEAD\0multi_ack symref=HEAD:refs/heads/trunk agent=git/2.39`,
    `${A} refs/heads/trunk`,
    `${B} refs/tags/v2`,
    `${C} refs/tags/v2^{}`,
  ]);
  assert.equal(refs.headTarget, 'refs/heads/trunk');
  assert.equal(refs.refs.get('refs/tags/v2'), B);
  assert.equal(refs.peeled.get('refs/tags/v2'), C);
  assert.equal(refs.refs.get('HEAD'), A);
});

test('an empty repository advertises only capabilities^{}, which is no ref', () => {
  const refs = parseV0Advertisement([`${'0'.repeat(40)} capabilities^{}\0agent=git/2.39`]);
  assert.equal(refs.refs.size, 0);
  assert.equal(refs.peeled.size, 0);
});
