import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedMutex } from './mutex.ts';

/** Promise.withResolvers, which the project's ES2023 lib does not declare. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('KeyedMutex', () => {
  it('runs work for one key strictly one at a time, in order', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const gates = [deferred(), deferred()];
    const first = mutex.run('k', async () => {
      events.push('start 1');
      await gates[0]!.promise;
      events.push('end 1');
    });
    const second = mutex.run('k', async () => {
      events.push('start 2');
      await gates[1]!.promise;
      events.push('end 2');
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(events, ['start 1']);
    gates[1]!.resolve();
    gates[0]!.resolve();
    await Promise.all([first, second]);
    assert.deepEqual(events, ['start 1', 'end 1', 'start 2', 'end 2']);
    assert.equal(mutex.size, 0);
  });

  it('lets different keys run together', async () => {
    const mutex = new KeyedMutex();
    const gate = deferred();
    let otherRan = false;
    const held = mutex.run('a', () => gate.promise);
    await mutex.run('b', () => {
      otherRan = true;
      return Promise.resolve();
    });
    assert.equal(otherRan, true);
    gate.resolve();
    await held;
  });

  it('releases the key when the work throws', async () => {
    const mutex = new KeyedMutex();
    await assert.rejects(
      mutex.run('k', async () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await mutex.run('k', () => Promise.resolve(42)), 42);
  });
});
