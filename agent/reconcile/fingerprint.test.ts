import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../shared/kube/object.ts';
import { stepContext } from './context.ts';
import { fingerprint, planObjects } from './plan.ts';
import { configMap, world } from './test-kit.ts';

const hashed = (obj: KubeObject) => createHash('sha256').update(JSON.stringify(obj)).digest('base64url');

test('fingerprint: a planned object of a rendered one seen before gets the same print as hashing it, per owner and namespace', async () => {
  const rendered = [configMap('a', { x: '1' }), configMap('b', { x: '2' })];
  const w = world();
  const first = await planObjects(stepContext(w.input(), w.deps), rendered);
  const second = await planObjects(stepContext(w.input(), w.deps), rendered);
  for (const [i, object] of first.objects.entries()) {
    assert.equal(fingerprint(object), hashed(object));
    const again = second.objects[i]!;
    assert.notEqual(again, object, 'a fresh copy each run');
    assert.equal(fingerprint(again), hashed(again));
  }

  // The same rendered objects planned for another deployment, or into another namespace, are other objects.
  const other = world({ targetNamespace: 'elsewhere' });
  const moved = await planObjects(stepContext(other.input(), other.deps), rendered);
  for (const [i, object] of moved.objects.entries()) {
    assert.equal(fingerprint(object), hashed(object));
    assert.notEqual(fingerprint(object), fingerprint(first.objects[i]!));
  }
  const renamed = world();
  renamed.cd.metadata.name = 'api';
  const owned = await planObjects(stepContext(renamed.input(), renamed.deps), rendered);
  for (const [i, object] of owned.objects.entries()) {
    assert.equal(fingerprint(object), hashed(object));
    assert.notEqual(fingerprint(object), fingerprint(first.objects[i]!));
  }
});

test('fingerprint: an object the planner did not make is hashed as it is now', () => {
  const object = configMap('a', { x: '1' });
  const before = fingerprint(object);
  object.data = { x: '2' };
  assert.notEqual(fingerprint(object), before);
  assert.equal(fingerprint(object), hashed(object));
});
