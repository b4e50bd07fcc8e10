import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TidemarkError } from '../../shared/errors/index.ts';
import { chooseTag, ociRepository } from './chart-oci.ts';

test('oci:// names the registry and the repository; plain HTTP only for loopback registries', () => {
  const remote = ociRepository({ repository: 'oci://ghcr.io/org/charts/', name: 'shop', version: '*' });
  assert.equal(remote.base.href, 'https://ghcr.io/');
  assert.equal(remote.path, 'org/charts/shop');
  const local = ociRepository({ repository: 'oci://127.0.0.1:5000', name: 'shop', version: '*' });
  assert.equal(local.base.href, 'http://127.0.0.1:5000/');
  assert.equal(local.path, 'shop');
});

test("the newest tag the range admits; helm's _ reads as +; tags that are no version are ignored", () => {
  const tags = ['latest', '1.0.0', '1.10.0', '1.9.3', '2.0.0-rc.1', '1.2.0_build.5', 'sha256-abc.sig'];
  assert.equal(chooseTag(tags, '^1.0.0', 'x'), '1.10.0');
  assert.equal(chooseTag(tags, '~1.2.0', 'x'), '1.2.0_build.5');
  assert.equal(chooseTag(tags, '>=2.0.0-0', 'x'), '2.0.0-rc.1');
  assert.throws(
    () => chooseTag(tags, '^3', 'oci://r/shop'),
    (err: unknown) =>
      err instanceof TidemarkError &&
      err.code === 'HelmRepositoryFailed' &&
      err.transient &&
      /oci:\/\/r\/shop: no tag matches "\^3"/.test(err.message),
  );
});
