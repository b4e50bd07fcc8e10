import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../kube/object.ts';
import { PerGeneration } from './per-generation.ts';

const obj = (uid: string, generation: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Thing',
  metadata: { name: 'a', namespace: 'ns', uid, generation },
});

describe('PerGeneration', () => {
  it('computes once per uid and generation', () => {
    const cache = new PerGeneration<number>();
    let computed = 0;
    const compute = () => ++computed;
    assert.equal(cache.get(obj('u1', 1), compute), 1);
    assert.equal(cache.get(obj('u1', 1), compute), 1);
    assert.equal(cache.get(obj('u1', 2), compute), 2);
    assert.equal(cache.get(obj('u2', 2), compute), 3);
    cache.retain(() => false);
    assert.equal(cache.get(obj('u2', 2), compute), 4);
  });
});
