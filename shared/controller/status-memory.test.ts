import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../kube/object.ts';
import { StatusMemory } from './status-memory.ts';

interface Status {
  seen: number;
}
type Obj = KubeObject & { status?: Status };

const obj = (uid: string, status?: Status): Obj => ({
  apiVersion: 'v1',
  kind: 'Thing',
  metadata: { name: 'a', namespace: 'ns', uid },
  ...(status ? { status } : {}),
});

describe('StatusMemory', () => {
  it('prefers what this process wrote over the watched copy', () => {
    const memory = new StatusMemory<Status>();
    assert.deepEqual(memory.current(obj('u1', { seen: 1 })), { seen: 1 });
    memory.remember(obj('u1'), { seen: 2 });
    assert.deepEqual(memory.current(obj('u1', { seen: 1 })), { seen: 2 });
  });

  it('does not give a recreated object the status of the one before it', () => {
    const memory = new StatusMemory<Status>();
    memory.remember(obj('u1'), { seen: 2 });
    assert.equal(memory.current(obj('u2')), undefined);
    assert.deepEqual(memory.current(obj('u2', { seen: 7 })), { seen: 7 });
  });

  it('forgets objects that are gone', () => {
    const memory = new StatusMemory<Status>();
    memory.remember(obj('u1'), { seen: 2 });
    memory.retain((key) => key !== 'ns/a');
    assert.deepEqual(memory.current(obj('u1', { seen: 1 })), { seen: 1 });
  });
});
