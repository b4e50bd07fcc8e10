import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { TidemarkError } from '../../shared/errors/index.ts';
import { kubectlTools } from '../../test/harness/tools.ts';
import { chooseChartVersion, fetchChart } from './chart-repository.ts';

/**
 * A real Helm repository: charts built by `helm package`, indexed by `helm repo index`, served
 * over HTTP with basic auth by a local server (the network boundary).
 */

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'tidemark-chart-repo-test-'));
const repoDir = join(work, 'repo');
let server: Server;
let base = '';
const requests: Array<{ url: string; auth: string | undefined }> = [];
/** Files served in place of the real ones (tampered archives). */
const overrides = new Map<string, Buffer>();

async function helmPackage(helm: string, name: string, version: string): Promise<void> {
  const src = join(work, 'src', `${name}-${version}`, name);
  mkdirSync(join(src, 'templates'), { recursive: true });
  writeFileSync(join(src, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
  writeFileSync(join(src, 'templates', 'cm.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v${version.replace(/\./g, '-')}}\n`);
  const env = { PATH: process.env.PATH ?? '', HOME: work, HELM_CACHE_HOME: work, HELM_CONFIG_HOME: work, HELM_DATA_HOME: work };
  await run(helm, ['package', src, '--destination', repoDir], { env });
}

before(async () => {
  const { helm } = await kubectlTools();
  mkdirSync(repoDir, { recursive: true });
  for (const v of ['1.0.0', '1.2.0', '1.10.1', '2.0.0', '2.1.0-rc.1']) await helmPackage(helm, 'shop', v);
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', auth: req.headers.authorization });
    if (req.headers.authorization !== `Basic ${Buffer.from('user:pass').toString('base64')}`) {
      res.writeHead(401).end();
      return;
    }
    const name = (req.url ?? '').replace(/^\/charts\//, '');
    const body =
      overrides.get(name) ??
      (() => {
        try {
          return readFileSync(join(repoDir, name));
        } catch {
          return undefined;
        }
      })();
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/charts`;
  // Relative chart URLs, as `helm repo index` writes them without --url.
  const env = { PATH: process.env.PATH ?? '', HOME: work, HELM_CACHE_HOME: work, HELM_CONFIG_HOME: work, HELM_DATA_HOME: work };
  await run(helm, ['repo', 'index', repoDir], { env });
});

after(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  rmSync(work, { recursive: true, force: true });
});

const auth = { username: 'user', password: 'pass' };
let n = 0;
const target = () => join(work, `out-${++n}`);

async function refused(promise: Promise<unknown>, code: string, kind: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TidemarkError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.kind, kind);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('charts from a Helm repository', () => {
  it('takes the newest version the range admits (numerically, pre-releases only when asked), extracted from the real archive', async () => {
    const dir = target();
    const got = await fetchChart({ repository: base, name: 'shop', version: '^1.0.0' }, dir, { auth });
    assert.equal(got.version, '1.10.1');
    assert.equal(got.dir, join(dir, 'shop'));
    assert.match(readFileSync(join(got.dir, 'templates', 'cm.yaml'), 'utf8'), /name: v1-10-1/);
    const newest = await fetchChart({ repository: `${base}/`, name: 'shop', version: '*' }, target(), { auth });
    assert.equal(newest.version, '2.0.0');
    const rc = await fetchChart({ repository: base, name: 'shop', version: '>=2.1.0-0' }, target(), { auth });
    assert.equal(rc.version, '2.1.0-rc.1');
  });

  it('a repository it cannot read, or without the chart or version, is transient', async () => {
    await refused(
      fetchChart({ repository: base, name: 'shop', version: '*' }, target()),
      'HelmRepositoryFailed',
      'transient',
      /HTTP 401 \(check spec\.helm\.chart\.secretRef\)/,
    );
    await refused(
      fetchChart({ repository: base, name: 'cart', version: '*' }, target(), { auth }),
      'HelmRepositoryFailed',
      'transient',
      /no chart named "cart"/,
    );
    await refused(
      fetchChart({ repository: base, name: 'shop', version: '^3' }, target(), { auth }),
      'HelmRepositoryFailed',
      'transient',
      /no version of shop matches "\^3"/,
    );
    await refused(
      fetchChart({ repository: 'http://127.0.0.1:9/charts', name: 'shop', version: '*' }, target(), { auth }),
      'HelmRepositoryFailed',
      'transient',
      /GET http:\/\/127\.0\.0\.1:9\/charts\/index\.yaml/,
    );
  });

  it('checks the digest the index gives, and holds to the download size', async () => {
    overrides.set('shop-1.2.0.tgz', gzipSync(Buffer.alloc(1024)));
    try {
      await refused(
        fetchChart({ repository: base, name: 'shop', version: '1.2.0' }, target(), { auth }),
        'HelmRepositoryFailed',
        'transient',
        /has sha256 [0-9a-f]{64}, but the index says/,
      );
    } finally {
      overrides.delete('shop-1.2.0.tgz');
    }
    await refused(
      fetchChart({ repository: base, name: 'shop', version: '1.2.0' }, target(), { auth, limits: { maxChartBytes: 100 } }),
      'ArchiveTooLarge',
      'terminal',
      /shop-1\.2\.0\.tgz is larger than 100 bytes/,
    );
  });

  it('sends credentials to the repository only, never to a chart hosted on another origin', async () => {
    const seen: Array<string | undefined> = [];
    const other = createServer((req, res) => {
      seen.push(req.headers.authorization);
      const body = readFileSync(join(repoDir, 'shop-1.0.0.tgz'));
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const elsewhere = `http://127.0.0.1:${(other.address() as AddressInfo).port}/shop-1.0.0.tgz`;
    const index = readFileSync(join(repoDir, 'index.yaml'), 'utf8').replace('- shop-1.0.0.tgz', `- ${elsewhere}`);
    assert.equal(chooseChartVersion(index, { repository: base, name: 'shop', version: '1.0.0' }).url, elsewhere);
    overrides.set('index.yaml', Buffer.from(index));
    try {
      const got = await fetchChart({ repository: base, name: 'shop', version: '1.0.0' }, target(), { auth });
      assert.equal(got.version, '1.0.0');
      assert.deepEqual(seen, [undefined]);
    } finally {
      overrides.delete('index.yaml');
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });
});
