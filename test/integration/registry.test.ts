import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { TidemarkError } from '../../shared/errors/index.ts';
import { credentialsFor, MediaType, parseDockerConfigJson, RegistryClient, type RegistryAccess } from '../../shared/registry/index.ts';
import { startRegistry, type PushedManifest, type RegistryAuthMode, type TestRegistry } from '../harness/registry.ts';

/**
 * The registry client against a real registry (CNCF distribution 2.8.2) in its three auth modes,
 * with skopeo as an independent client listing the same tags.
 *
 * distribution 2.8 ignores `n` on tags/list and answers every tag in one reply (paging arrived in
 * v3), so here the page sizes are only sent; Link paging itself is covered by the unit tests.
 */

const execFileAsync = promisify(execFile);
const TAG_COUNT = 2500;
const REPO = 'team/app';

async function skopeoTags(registry: TestRegistry, repo: string, authFile: string | undefined): Promise<string[]> {
  // Credentials go through an auth file, never the command line.
  const args = [
    'list-tags',
    '--tls-verify=false',
    ...(authFile ? ['--authfile', authFile] : []),
    '--',
    `docker://${registry.host}/${repo}`,
  ];
  const { stdout } = await execFileAsync('skopeo', args, {
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, REGISTRY_AUTH_FILE: authFile ?? '/nonexistent' },
  });
  const doc: unknown = JSON.parse(stdout);
  const tags = (doc as { Tags?: unknown }).Tags;
  assert.ok(Array.isArray(tags));
  return tags.map(String);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TidemarkError, String(err));
    return err.code;
  }
  return 'no error';
}

for (const mode of ['none', 'htpasswd', 'token'] as const satisfies readonly RegistryAuthMode[]) {
  describe(`registry client against docker-registry (${mode})`, () => {
    let registry: TestRegistry;
    let dir: string;
    let authFile: string | undefined;
    let access: RegistryAccess;
    let image: string;
    let pushed: PushedManifest;
    let other: PushedManifest;
    const expected = new Set<string>();
    const clients: RegistryClient[] = [];
    const newClient = (options: ConstructorParameters<typeof RegistryClient>[0] = {}) => {
      const client = new RegistryClient(options);
      clients.push(client);
      return client;
    };

    before(async () => {
      registry = await startRegistry({ auth: mode });
      dir = await mkdtemp(join(tmpdir(), 'tidemark-registry-test-'));
      image = `${registry.host}/${REPO}`;
      const tags = Array.from({ length: TAG_COUNT }, (_, i) => `1.${Math.floor(i / 100)}.${i % 100}-build.${i}`);
      pushed = await registry.pushImage(REPO, tags);
      other = await registry.pushImage(REPO, ['other'], { label: 'other' });
      for (const tag of [...tags, 'other']) expected.add(tag);
      if (mode !== 'none') {
        // The same file feeds skopeo and the client's dockerconfigjson parsing.
        authFile = join(dir, 'auth.json');
        const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
        const text = JSON.stringify({ auths: { [`http://${registry.host}`]: { auth } } });
        await writeFile(authFile, text, { mode: 0o600 });
        access = { insecure: true, credentials: credentialsFor(parseDockerConfigJson(text), registry.host) };
        assert.ok(access.credentials);
      } else {
        access = { insecure: true };
      }
    });

    after(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await registry?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    for (const pageSize of [100, 1000]) {
      it(`lists all ${TAG_COUNT + 1} tags asking for pages of ${pageSize}`, async () => {
        const result = await newClient({ pageSize }).listTags(image, { access });
        assert.equal(result.tags.length, expected.size);
        assert.deepEqual(new Set(result.tags), expected);
        assert.ok(result.bytes > TAG_COUNT * 10, `read ${result.bytes} bytes`);
        assert.ok(result.requests >= result.pages);
      });
    }

    it('lists the same tag set as skopeo', async () => {
      const ours = await newClient().listTags(image, { access });
      const theirs = await skopeoTags(registry, REPO, authFile);
      assert.equal(theirs.length, expected.size);
      assert.deepEqual(new Set(ours.tags), new Set(theirs));
    });

    it('resolves digests with HEAD that match what was pushed', async () => {
      const client = newClient();
      assert.equal((await client.getDigest(image, '1.0.0-build.0', { access })).digest, pushed.digest);
      // Once authenticated, resolving is a single HEAD that reads no body.
      const byTag = await client.getDigest(image, '1.24.99-build.2499', { access });
      assert.equal(byTag.digest, pushed.digest);
      assert.equal(byTag.mediaType, MediaType.dockerManifest);
      assert.equal(byTag.requests, 1);
      assert.equal(byTag.bytes, 0);
      assert.equal((await client.getDigest(`${image}:other`, undefined, { access })).digest, other.digest);
      assert.notEqual(other.digest, pushed.digest);
      const manifest = await client.getManifest(image, pushed.digest, { access });
      assert.equal(manifest.manifest.kind, 'image');
      assert.equal(manifest.digest, pushed.digest);
    });

    it('resolves an OCI index and a Docker manifest list to the index digest', async () => {
      const client = newClient();
      for (const format of ['oci', 'docker'] as const) {
        const { index, children } = await registry.pushIndex('team/multi', `multi-${format}`, { format });
        const digest = await client.getDigest(`${registry.host}/team/multi:multi-${format}`, undefined, { access });
        assert.equal(digest.digest, index.digest);
        assert.equal(digest.mediaType, format === 'oci' ? MediaType.ociIndex : MediaType.dockerManifestList);
        const got = await client.getManifest(`${registry.host}/team/multi:multi-${format}`, undefined, { access });
        assert.equal(got.manifest.kind, 'index');
        assert.deepEqual(
          got.manifest.kind === 'index' ? got.manifest.manifests.map((m) => m.digest) : [],
          children.map((c) => c.digest),
        );
        assert.deepEqual(got.manifest.kind === 'index' ? got.manifest.manifests.map((m) => m.platform?.architecture) : [], [
          'amd64',
          'arm64',
        ]);
      }
    });

    it('maps a missing repository and a missing tag to terminal codes', async () => {
      const client = newClient();
      assert.equal(await codeOf(client.listTags(`${registry.host}/team/missing`, { access })), 'RepositoryNotFound');
      assert.equal(await codeOf(client.getDigest(image, 'no-such-tag', { access })), 'ManifestNotFound');
    });

    it('drops a deleted tag from the list', async () => {
      await registry.pushImage('team/deletes', ['keep', 'drop']);
      await registry.deleteTag('team/deletes', 'drop');
      const client = newClient();
      assert.deepEqual((await client.listTags(`${registry.host}/team/deletes`, { access })).tags, ['keep']);
      assert.deepEqual(await skopeoTags(registry, 'team/deletes', authFile), ['keep']);
      assert.equal(await codeOf(client.getDigest(`${registry.host}/team/deletes:drop`, undefined, { access })), 'ManifestNotFound');
    });

    if (mode !== 'none') {
      it('reports a wrong password as RegistryUnauthorized, and no credentials likewise', async () => {
        const client = newClient();
        const wrong = {
          insecure: true,
          credentials: { username: registry.username, password: `${registry.password}x` },
        };
        assert.equal(await codeOf(client.listTags(image, { access: wrong })), 'RegistryUnauthorized');
        assert.equal(await codeOf(client.getDigest(image, 'other', { access: wrong })), 'RegistryUnauthorized');
        assert.equal(await codeOf(client.listTags(image, { access: { insecure: true } })), 'RegistryUnauthorized');
      });
    }

    if (mode === 'token') {
      it('caches the token per repository scope', async () => {
        const issuer = registry.issuer;
        assert.ok(issuer);
        issuer.requests = 0;
        const client = newClient();
        await client.listTags(image, { access });
        assert.equal(issuer.requests, 1);
        await client.listTags(image, { access });
        await client.getDigest(image, 'other', { access });
        await client.getManifest(image, 'other', { access });
        assert.equal(issuer.requests, 1, 'one token serves every call on the repository');
        await client.listTags(`${registry.host}/team/deletes`, { access });
        assert.equal(issuer.requests, 2, 'another repository is another scope');
        await newClient().listTags(image, { access });
        assert.equal(issuer.requests, 3, 'the cache belongs to the client');
      });

      it('gets a fresh token when the cached one has expired', async () => {
        const issuer = registry.issuer;
        assert.ok(issuer);
        let now = Date.now();
        const clock = { now: () => now, sleep: async () => {} };
        const client = newClient({ clock });
        issuer.requests = 0;
        await client.listTags(image, { access });
        now += 10 * 60_000; // past the issuer's 300 s lifetime
        await client.listTags(image, { access });
        assert.equal(issuer.requests, 2);
      });
    }

    if (mode === 'htpasswd') {
      it('needs one challenge round per client, then sends basic credentials directly', async () => {
        const client = newClient();
        assert.equal((await client.listTags(image, { access })).requests, 2);
        assert.equal((await client.listTags(image, { access })).requests, 1);
      });
    }
  });
}
