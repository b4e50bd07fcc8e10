import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveInside } from './paths.ts';

describe('resolveInside', () => {
  let base: string;
  let root: string;

  before(async () => {
    base = await realpath(await mkdtemp(join(tmpdir(), 'tidemark-paths-test-')));
    root = join(base, 'checkout');
    await mkdir(join(root, 'apps', 'web'), { recursive: true });
    await writeFile(join(root, 'apps', 'web', 'deploy.yaml'), 'x');
    await writeFile(join(base, 'secret.txt'), 'outside');
    await symlink('../secret.txt', join(root, 'escape-file'));
    await symlink(base, join(root, 'escape-dir'));
    await symlink('/etc', join(root, 'apps', 'etc'));
    await symlink('apps/web', join(root, 'inside-link'));
    await symlink('does-not-exist', join(root, 'dangling'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('resolves paths inside the checkout', async () => {
    assert.equal(await resolveInside(root, './apps/web'), join(root, 'apps', 'web'));
    assert.equal(await resolveInside(root, 'apps/web/deploy.yaml'), join(root, 'apps', 'web', 'deploy.yaml'));
    assert.equal(await resolveInside(root, ''), root);
    assert.equal(await resolveInside(root, '.'), root);
    assert.equal(await resolveInside(root, 'apps/../apps/web'), join(root, 'apps', 'web'));
  });

  it('treats a leading slash as the checkout root', async () => {
    assert.equal(await resolveInside(root, '/apps/web'), join(root, 'apps', 'web'));
  });

  it('follows symlinks that stay inside', async () => {
    assert.equal(await resolveInside(root, 'inside-link'), join(root, 'apps', 'web'));
  });

  it('allows paths that do not exist yet, checked through their parent', async () => {
    assert.equal(await resolveInside(root, 'apps/new/file.yaml'), join(root, 'apps', 'new', 'file.yaml'));
  });

  for (const path of [
    '..',
    '../secret.txt',
    'apps/../../secret.txt',
    '/../secret.txt',
    'escape-file',
    'escape-dir',
    'escape-dir/secret.txt',
    'apps/etc/passwd',
    'escape-dir/new-file',
    'dangling',
  ]) {
    it(`refuses ${path}`, async () => {
      await assert.rejects(resolveInside(root, path), (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'PathOutsideCheckout');
        assert.equal((err as { kind?: string }).kind, 'terminal');
        return true;
      });
    });
  }
});
