import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryTagStore } from './tag-store.ts';

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
