import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { KubeObject } from '../shared/kube/object.ts';
import type { GitCredentials } from '../shared/git/types.ts';
import { isPlainDirectory, RenderCache, type RenderKey } from './render-cache.ts';

const cm = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
const names = (objects: KubeObject[] | undefined) => objects?.map((o) => o.metadata.name);
const key = (sha: string, path: string, url = 'https://git.example/a', credentials?: GitCredentials): RenderKey => ({
  url,
  credentials,
  sha,
  path,
});

describe('RenderCache', () => {
  it('answers by commit and path, and only for what was stored', () => {
    const cache = new RenderCache();
    cache.set(key('aaa', './deploy'), [cm('a'), cm('b')]);
    assert.deepEqual(names(cache.get(key('aaa', './deploy'))), ['a', 'b']);
    assert.equal(cache.get(key('aaa', './other')), undefined);
    assert.equal(cache.get(key('bbb', './deploy')), undefined);
  });

  it('never answers another repository or other credentials with a render of the same commit and path', () => {
    const cache = new RenderCache();
    const tenantA = { username: 'a', password: 'secret-a' };
    cache.set(key('aaa', './deploy', 'https://git.example/a', tenantA), [cm('private')]);
    assert.deepEqual(names(cache.get(key('aaa', './deploy', 'https://git.example/a', { ...tenantA }))), ['private']);
    // The attack: the same SHA and path pinned on the attacker's own repository, or on A's with other credentials.
    assert.equal(cache.get(key('aaa', './deploy', 'https://git.example/b', tenantA)), undefined);
    assert.equal(cache.get(key('aaa', './deploy', 'https://git.example/b')), undefined);
    assert.equal(cache.get(key('aaa', './deploy', 'https://git.example/a')), undefined);
    assert.equal(cache.get(key('aaa', './deploy', 'https://git.example/a', { username: 'a', password: 'guess' })), undefined);
  });

  it('hands out a copy of the list, so a caller pushing into it changes nothing stored', () => {
    const cache = new RenderCache();
    cache.set(key('aaa', 'p'), [cm('a')]);
    cache.get(key('aaa', 'p'))?.push(cm('intruder'));
    assert.deepEqual(names(cache.get(key('aaa', 'p'))), ['a']);
  });

  it('drops the least recently used entry beyond maxEntries', () => {
    const cache = new RenderCache({ maxEntries: 2 });
    cache.set(key('1', 'p'), [cm('one')]);
    cache.set(key('2', 'p'), [cm('two')]);
    cache.get(key('1', 'p'));
    cache.set(key('3', 'p'), [cm('three')]);
    assert.equal(cache.size, 2);
    assert.equal(cache.get(key('2', 'p')), undefined, 'the least recently used went');
    assert.deepEqual(names(cache.get(key('1', 'p'))), ['one']);
    assert.deepEqual(names(cache.get(key('3', 'p'))), ['three']);
  });

  it('keeps the object count within maxObjects and never stores a render larger than that', () => {
    const cache = new RenderCache({ maxObjects: 3 });
    cache.set(key('1', 'p'), [cm('a'), cm('b')]);
    cache.set(key('2', 'p'), [cm('c'), cm('d')]);
    assert.equal(cache.get(key('1', 'p')), undefined);
    assert.deepEqual(names(cache.get(key('2', 'p'))), ['c', 'd']);
    cache.set(key('3', 'p'), [cm('e'), cm('f'), cm('g'), cm('h')]);
    assert.equal(cache.get(key('3', 'p')), undefined);
    assert.deepEqual(names(cache.get(key('2', 'p'))), ['c', 'd']);
  });

  it('replacing an entry does not count its objects twice', () => {
    const cache = new RenderCache({ maxObjects: 3 });
    cache.set(key('1', 'p'), [cm('a'), cm('b')]);
    cache.set(key('1', 'p'), [cm('a'), cm('b')]);
    cache.set(key('2', 'q'), [cm('c')]);
    assert.deepEqual(names(cache.get(key('1', 'p'))), ['a', 'b']);
    assert.deepEqual(names(cache.get(key('2', 'q'))), ['c']);
  });
});

describe('isPlainDirectory', () => {
  it('is false where a kustomization decides the output, and for paths outside the checkout', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tidemark-render-cache-'));
    try {
      await mkdir(join(root, 'plain'));
      await mkdir(join(root, 'kust'));
      await writeFile(join(root, 'plain', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n');
      await writeFile(join(root, 'kust', 'kustomization.yaml'), 'resources: []\n');
      assert.equal(await isPlainDirectory(root, './plain'), true);
      assert.equal(await isPlainDirectory(root, 'kust'), false);
      assert.equal(await isPlainDirectory(root, '../..'), false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
