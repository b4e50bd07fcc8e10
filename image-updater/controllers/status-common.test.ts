import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { terminal } from '../../shared/errors/index.ts';
import { MemoryTagStore } from './tag-store.ts';
import { combineErrors, sameJson } from './status-common.ts';

describe('sameJson', () => {
  it('ignores key order and undefined fields but not values', () => {
    assert.equal(sameJson({ a: 1, b: { c: [1, 2], d: undefined } }, { b: { c: [1, 2] }, a: 1 }), true);
    assert.equal(sameJson({ a: [1, 2] }, { a: [2, 1] }), false);
    assert.equal(sameJson({ a: '1' }, { a: 1 }), false);
  });
});

describe('combineErrors', () => {
  it('keeps the first code and every message', () => {
    const combined = combineErrors([terminal('InvalidFilterPattern', 'pattern bad', 'fix it'), terminal('InvalidPolicy', 'policy bad')]);
    assert.equal(combined.code, 'InvalidFilterPattern');
    assert.equal(combined.message, 'pattern bad; policy bad');
    assert.equal(combined.hint, 'fix it');
    assert.equal(combined.kind, 'terminal');
  });
});

describe('MemoryTagStore', () => {
  it('keeps a copy the writer cannot change afterwards', async () => {
    const store = new MemoryTagStore();
    const tags = ['a', 'b'];
    await store.set('ns/app', { uid: 'u', generation: 1, image: 'x', canonicalImageName: 'x', tags, scanTimeMs: 0 });
    tags.push('c');
    assert.deepEqual((await store.get('ns/app'))?.tags, ['a', 'b']);
    assert.deepEqual(await store.keys(), ['ns/app']);
    await store.delete('ns/app');
    assert.equal(await store.get('ns/app'), undefined);
  });
});
