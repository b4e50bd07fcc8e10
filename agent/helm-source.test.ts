import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { tarGz } from '../test/harness/registry-push.ts';
import { TidemarkError } from '../shared/errors/index.ts';
import { silentLogger } from '../shared/log/index.ts';
import { validateContinuousDeploymentSpec, type DeploymentConfig } from '../shared/spec/index.ts';
import { HELM_CHART_LAYER, type ChartRegistry } from './render/chart-oci.ts';
import { createHelmSource } from './helm-source.ts';

/**
 * A Helm repository over HTTP on loopback (the network boundary): index.yaml and chart archives,
 * with or without digests in the index, ETag and Last-Modified validators, and basic auth.
 */
class FakeRepository {
  readonly requests: Array<{ path: string; status: number; conditional: boolean; auth: string | undefined }> = [];
  readonly charts = new Map<string, Buffer>();
  /** Which validators the server sends and honours. */
  validators: { etag: boolean; lastModified: boolean } = { etag: true, lastModified: false };
  digests = true;
  private server: Server | undefined;
  private revision = 0;
  private indexText = '';
  private readonly modified = new Map<string, string>();
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '').replace(/^\/charts\//, '');
      const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
      const answer = (status: number, body?: Buffer, headers: Record<string, string> = {}) => {
        this.requests.push({ path, status, conditional, auth: req.headers.authorization });
        res.writeHead(status, headers).end(body);
      };
      if (req.headers.authorization !== `Basic ${Buffer.from('reader:s3cret').toString('base64')}`) return answer(401);
      const body = path === 'index.yaml' ? Buffer.from(this.indexText) : this.charts.get(path);
      if (!body) return answer(404);
      const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
      const lastModified = this.modified.get(path) ?? new Date(0).toUTCString();
      const headers: Record<string, string> = {};
      if (this.validators.etag) headers.etag = etag;
      if (this.validators.lastModified) headers['last-modified'] = lastModified;
      const fresh =
        (this.validators.etag && req.headers['if-none-match'] === etag) ||
        (this.validators.lastModified && req.headers['if-modified-since'] === lastModified);
      if (fresh) return answer(304, undefined, headers);
      answer(200, body, { ...headers, 'content-length': String(body.length) });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/charts`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Packs `name` at `version` (its bytes vary with `flavour`) and rewrites the index, as `helm repo index` does. */
  publish(name: string, version: string, flavour = ''): string {
    const archive = tarGz({
      [`${name}/Chart.yaml`]: `apiVersion: v2\nname: ${name}\nversion: ${version}\n`,
      [`${name}/templates/cm.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {v: "${version}${flavour}"}\n`,
    });
    const file = `${name}-${version}.tgz`;
    this.charts.set(file, archive);
    this.modified.set(file, new Date(Date.UTC(2026, 0, 1, 0, 0, ++this.revision)).toUTCString());
    this.modified.set('index.yaml', new Date(Date.UTC(2026, 0, 1, 0, 0, this.revision)).toUTCString());
    this.writeIndex();
    return `sha256:${createHash('sha256').update(archive).digest('hex')}`;
  }

  writeIndex(): void {
    const lines = ['apiVersion: v1', 'entries:'];
    const byName = new Map<string, string[]>();
    for (const file of this.charts.keys()) {
      const [, name, version] = /^(.*)-(\d+\.\d+\.\d+)\.tgz$/.exec(file) ?? [];
      if (name === undefined || version === undefined) continue;
      byName.set(name, [...(byName.get(name) ?? []), version]);
    }
    for (const [name, versions] of byName) {
      lines.push(`  ${name}:`);
      for (const version of versions) {
        const file = `${name}-${version}.tgz`;
        lines.push(`    - name: ${name}`, `      version: ${version}`, `      urls: [${file}]`);
        if (this.digests)
          lines.push(
            `      digest: ${createHash('sha256')
              .update(this.charts.get(file) ?? '')
              .digest('hex')}`,
          );
      }
    }
    // `helm repo index` stamps every index it writes.
    lines.push(`generated: "${new Date(Date.UTC(2026, 0, 1, 0, 0, this.revision)).toISOString()}"`);
    this.indexText = `${lines.join('\n')}\n`;
  }

  /** What was asked since the last call, as `path status` with `?` for a conditional request. */
  take(): string[] {
    const seen = this.requests.map((r) => `${r.path} ${r.status}${r.conditional ? ' ?' : ''}`);
    this.requests.length = 0;
    return seen;
  }
}

const noRegistry = {} as ChartRegistry;
const auth = { username: 'reader', password: 's3cret' };
const repo = new FakeRepository();
const scratch: string[] = [];
before(() => repo.start());
after(async () => {
  await repo.stop();
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

function helmConfig(name: string, version: string): DeploymentConfig {
  const read = validateContinuousDeploymentSpec({ repoType: 'helm', url: repo.base, helm: { chart: { name, version } } });
  assert.ok(read.ok, JSON.stringify(read));
  return read.value;
}

async function newSource(keep?: number, sweep?: { minIdleMs: number; now: () => number }) {
  const cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-helm-source-'));
  scratch.push(cacheDir);
  const source = createHelmSource({
    registry: noRegistry,
    cacheDir,
    log: silentLogger,
    ...(keep === undefined ? {} : { keep }),
    ...(sweep ?? { minIdleMs: 0 }),
  });
  /** The extracted chart directories of every chart, by digest. */
  const extracted = async () => {
    const out: string[] = [];
    for (const chart of await readdir(join(cacheDir, 'helm'))) {
      for (const dir of await readdir(join(cacheDir, 'helm', chart))) out.push(dir.replace('sha256-', 'sha256:'));
    }
    return out.sort();
  };
  return { source, extracted };
}

describe('repoType helm from a Helm repository', () => {
  beforeEach(() => {
    repo.charts.clear();
    repo.validators = { etag: true, lastModified: false };
    repo.digests = true;
    repo.take();
  });

  it('polls an unchanged index with one conditional GET and downloads no archive it has extracted', async () => {
    repo.digests = false;
    const digest = repo.publish('shop', '1.0.0');
    const { source } = await newSource();
    const config = helmConfig('shop', '^1');
    const first = await source.resolve(config, auth);
    assert.equal(first.revision, `1.0.0@${digest}`);
    assert.deepEqual(repo.take(), ['index.yaml 200', 'shop-1.0.0.tgz 200']);
    for (let i = 0; i < 3; i++) assert.equal((await source.resolve(config, auth)).revision, first.revision);
    assert.deepEqual(repo.take(), ['index.yaml 304 ?', 'index.yaml 304 ?', 'index.yaml 304 ?']);
    const checkout = await source.checkout(config, auth, first);
    assert.match(checkout.dir, /shop$/);
    checkout.release();
  });

  it('with Last-Modified alone as well; an index that changed revalidates an archive it gives no digest for', async () => {
    repo.validators = { etag: false, lastModified: true };
    repo.digests = false;
    const digest = repo.publish('shop', '1.0.0');
    const { source } = await newSource();
    const config = helmConfig('shop', '^1');
    await source.resolve(config, auth);
    assert.deepEqual(repo.take(), ['index.yaml 200', 'shop-1.0.0.tgz 200']);
    await source.resolve(config, auth);
    assert.deepEqual(repo.take(), ['index.yaml 304 ?']);
    // Another chart published: a new index, and the archive of 1.0.0 is asked for with its validators.
    repo.publish('cart', '3.0.0');
    assert.equal((await source.resolve(config, auth)).revision, `1.0.0@${digest}`);
    assert.deepEqual(repo.take(), ['index.yaml 200 ?', 'shop-1.0.0.tgz 304 ?']);
    // Republished under the same version: new bytes, a new revision.
    const again = repo.publish('shop', '1.0.0', '-rebuilt');
    assert.notEqual(again, digest);
    assert.equal((await source.resolve(config, auth)).revision, `1.0.0@${again}`);
    assert.deepEqual(repo.take(), ['index.yaml 200 ?', 'shop-1.0.0.tgz 200 ?']);
  });

  it("takes the index's digest: a changed index downloads no archive whose digest is extracted", async () => {
    const digest = repo.publish('shop', '1.0.0');
    const { source } = await newSource();
    const config = helmConfig('shop', '~1.0');
    await source.resolve(config, auth);
    repo.take();
    repo.publish('shop', '1.1.0');
    assert.equal((await source.resolve(config, auth)).revision, `1.0.0@${digest}`);
    assert.deepEqual(repo.take(), ['index.yaml 200 ?']);
  });

  it('keeps what it remembers per credentials: other credentials are judged by the repository afresh', async () => {
    repo.digests = false;
    repo.publish('shop', '1.0.0');
    const { source } = await newSource();
    const config = helmConfig('shop', '^1');
    await source.resolve(config, auth);
    repo.take();
    for (const other of [undefined, { username: 'reader', password: 'guess' }]) {
      await assert.rejects(source.resolve(config, other), (err: unknown) => {
        assert.ok(err instanceof TidemarkError);
        assert.equal(err.code, 'HelmRepositoryFailed');
        assert.match(err.message, /HTTP 401/);
        return true;
      });
    }
    // Neither sent our validators, and neither got as far as the archive.
    assert.deepEqual(repo.take(), ['index.yaml 401', 'index.yaml 401']);
    await source.resolve(config, auth);
    assert.deepEqual(repo.take(), ['index.yaml 304 ?']);
  });

  it('keeps the last few extracted versions and those checked out, removing older ones', async () => {
    const { source, extracted } = await newSource(2);
    const digests: string[] = [];
    digests.push(repo.publish('shop', '1.0.0'));
    const pinned = helmConfig('shop', '1.0.0');
    const held = await source.checkout(pinned, auth, await source.resolve(pinned, auth));
    const latest = helmConfig('shop', '^1');
    for (const version of ['1.1.0', '1.2.0', '1.3.0', '1.4.0']) {
      digests.push(repo.publish('shop', version));
      await source.resolve(latest, auth);
    }
    // 1.0.0 is in use; of the rest, the two most recently resolved stay.
    assert.deepEqual(await extracted(), [digests[0], digests[3], digests[4]].sort());
    held.release();
    digests.push(repo.publish('shop', '1.5.0'));
    await source.resolve(latest, auth);
    assert.deepEqual(await extracted(), [digests[4], digests[5]].sort());
  });

  it('keeps a version another deployment resolved recently, beyond the last few', async () => {
    let clock = 0;
    const { source, extracted } = await newSource(1, { minIdleMs: 60_000, now: () => clock });
    // Four deployments on four versions of one chart, polled in turn: none evicts the others.
    const digests = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'].map((v) => repo.publish('stage', v));
    const configs = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'].map((v) => helmConfig('stage', v));
    for (let round = 0; round < 2; round++) {
      for (const config of configs) {
        clock += 1_000;
        await source.resolve(config, auth);
      }
    }
    assert.deepEqual(await extracted(), [...digests].sort());
    // Once the others are idle for the whole period, only the newest is kept.
    clock += 60_000;
    await source.resolve(configs[3]!, auth);
    assert.deepEqual(await extracted(), [digests[3]]);
  });
});

describe('repoType helm from an OCI registry', () => {
  it('downloads the chart layer once: a poll of an extracted digest reads the tags and the manifest only', async () => {
    const layer = tarGz({ 'dial/Chart.yaml': 'apiVersion: v2\nname: dial\nversion: 1.0.0\n' });
    const digest = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
    const calls: string[] = [];
    const registry: ChartRegistry = {
      listTags: () => {
        calls.push('tags');
        return Promise.resolve({ tags: ['1.0.0'] } as Awaited<ReturnType<ChartRegistry['listTags']>>);
      },
      getManifest: (_image, reference) => {
        calls.push(`manifest ${reference}`);
        const layers = [{ mediaType: HELM_CHART_LAYER, digest, size: layer.length }];
        return Promise.resolve({ manifest: { kind: 'image', layers } } as unknown as Awaited<ReturnType<ChartRegistry['getManifest']>>);
      },
      getBlob: (_image, blob) => {
        calls.push(`blob ${blob}`);
        return Promise.resolve({ data: layer } as unknown as Awaited<ReturnType<ChartRegistry['getBlob']>>);
      },
    };
    const cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-helm-source-'));
    scratch.push(cacheDir);
    const source = createHelmSource({ registry, cacheDir, log: silentLogger });
    const read = validateContinuousDeploymentSpec({
      repoType: 'helm',
      url: 'oci://127.0.0.1:5000/charts',
      helm: { chart: { name: 'dial', version: '^1' } },
    });
    assert.ok(read.ok);
    for (let i = 0; i < 3; i++) assert.equal((await source.resolve(read.value, undefined)).revision, `1.0.0@${digest}`);
    assert.equal(calls.filter((c) => c.startsWith('blob ')).length, 1, calls.join(', '));
    assert.equal(calls.filter((c) => c.startsWith('manifest ')).length, 3, 'each poll still reads the manifest with its credentials');
  });
});
