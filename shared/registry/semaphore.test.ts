import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedSemaphore } from './semaphore.ts';

describe('KeyedSemaphore', () => {
  it('bounds holders per key and hands slots over in order', async () => {
    const sem = new KeyedSemaphore(2);
    const a1 = await sem.acquire('a');
    const a2 = await sem.acquire('a');
    const b1 = await sem.acquire('b'); // another key is not held up
    const order: string[] = [];
    const a3 = sem.acquire('a').then((r) => (order.push('a3'), r));
    const a4 = sem.acquire('a').then((r) => (order.push('a4'), r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, []);
    assert.equal(sem.pending('a'), 4);
    a1();
    a1(); // releasing twice is harmless
    const r3 = await a3;
    assert.deepEqual(order, ['a3']);
    a2();
    const r4 = await a4;
    assert.deepEqual(order, ['a3', 'a4']);
    r3();
    r4();
    b1();
    assert.equal(sem.pending('a'), 0);
    assert.equal(sem.pending('b'), 0);
  });

  it('drops a waiter whose signal aborts', async () => {
    const sem = new KeyedSemaphore(1);
    const held = await sem.acquire('k');
    const controller = new AbortController();
    const waiting = sem.acquire('k', controller.signal);
    controller.abort(new Error('stop'));
    await assert.rejects(waiting, /stop/);
    held();
    assert.equal(sem.pending('k'), 0);
  });
});
