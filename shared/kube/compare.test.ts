import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonEqual } from './compare.ts';

describe('jsonEqual', () => {
  it('ignores key order and undefined members, as JSON does', () => {
    assert.equal(jsonEqual({ a: 1, b: { c: [1, { d: 'x' }] } }, { b: { c: [1, { d: 'x' }] }, a: 1 }), true);
    assert.equal(jsonEqual({ a: 1, gone: undefined }, { a: 1 }), true);
    assert.equal(jsonEqual({ a: 1 }, { a: 1, gone: undefined }), true);
  });

  it('sees every difference JSON would show', () => {
    assert.equal(jsonEqual({ a: 1 }, { a: 2 }), false);
    assert.equal(jsonEqual({ a: 1 }, { a: 1, b: null }), false);
    assert.equal(jsonEqual([1, 2], [2, 1]), false);
    assert.equal(jsonEqual([1], { 0: 1 }), false);
    assert.equal(jsonEqual({ a: [] }, { a: {} }), false);
    assert.equal(jsonEqual('1', 1), false);
  });
});
