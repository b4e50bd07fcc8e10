import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RegistryClientOptions } from '../shared/registry/index.ts';
import { FakeClock } from '../shared/time/fake-clock.ts';
import { silentLogger } from '../shared/log/index.ts';
import { lazyRegistry } from './lazy-registry.ts';

test('the registry client loads on the first OCI call, once, and is closed only if it was loaded', async () => {
  const calls: string[] = [];
  let loads = 0;
  class FakeClient {
    constructor(options: RegistryClientOptions) {
      calls.push(`new ${options.userAgent ?? ''}`);
    }
    getDigest() {
      calls.push('getDigest');
      return Promise.resolve({ digest: 'sha256:1' });
    }
    getManifest() {
      return Promise.reject(new Error('unused'));
    }
    getBlob() {
      return Promise.reject(new Error('unused'));
    }
    listTags() {
      calls.push('listTags');
      return Promise.resolve({ tags: ['1.0.0'] });
    }
    close() {
      calls.push('close');
      return Promise.resolve();
    }
  }
  const load = () => {
    loads++;
    return Promise.resolve({ RegistryClient: FakeClient as never });
  };
  const options = { clock: new FakeClock(), logger: silentLogger, userAgent: 'tidemark-agent' } as RegistryClientOptions;

  const unused = lazyRegistry(options, load);
  await unused.close();
  assert.equal(loads, 0);
  assert.equal(unused.loaded, false);

  const registry = lazyRegistry(options, load);
  const image = { registry: 'r.test', repository: 'app' } as never;
  await Promise.all([registry.getDigest(image, 'v1', {}), registry.listTags(image, {})]);
  await registry.close();
  assert.equal(loads, 1);
  assert.equal(registry.loaded, true);
  assert.deepEqual(calls, ['new tidemark-agent', 'getDigest', 'listTags', 'close']);
});
