import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { TidemarkError } from '../errors/index.ts';
import { registry } from '../metrics/index.ts';
import { parseTextFormat } from '../metrics/text-format.ts';
import { RegistryClient, type RegistryClientOptions } from './client.ts';
import { fakeClock, json, localServer, type LocalServer } from './fixtures/local-server.ts';

const servers: LocalServer[] = [];
const clients: RegistryClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(handler: Parameters<typeof localServer>[0]): Promise<LocalServer> {
  const server = await localServer(handler);
  servers.push(server);
  return server;
}

function client(options: RegistryClientOptions = {}) {
  const clock = fakeClock();
  const c = new RegistryClient({ clock, random: () => 0.5, ...options });
  clients.push(c);
  return { client: c, clock };
}

const access = { insecure: true };

function codeOf(err: unknown): string {
  assert.ok(err instanceof TidemarkError, `expected a TidemarkError, got ${String(err)}`);
  return err.code;
}

async function failure(promise: Promise<unknown>): Promise<TidemarkError> {
  try {
    await promise;
  } catch (err) {
    codeOf(err);
    return err as TidemarkError;
  }
  assert.fail('expected the call to fail');
}

describe('listTags pagination', () => {
  it('follows relative and absolute next links to the end', async () => {
    const server = await serve((req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      const last = url.searchParams.get('last');
      if (last === null) {
        json(res, 200, { name: 'team/app', tags: ['a', 'b'] }, { link: '</v2/team/app/tags/list?last=b&n=2>; rel="next"' });
      } else if (last === 'b') {
        json(res, 200, { name: 'team/app', tags: ['c', 'd'] }, { link: `<${server.url}/v2/team/app/tags/list?last=d&n=2>; rel="next"` });
      } else {
        json(res, 200, { name: 'team/app', tags: ['e'] });
      }
    });
    const { client: c } = client({ pageSize: 2 });
    const result = await c.listTags(`${server.host}/team/app`, { access });
    assert.deepEqual(result.tags, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(result.pages, 3);
    assert.equal(result.requests, 3);
    assert.ok(result.bytes > 0);
    assert.equal(server.requests[0]?.url, '/v2/team/app/tags/list?n=2');
  });

  it('stops on a repeated link and drops duplicate tags', async () => {
    const server = await serve((_req, res) => {
      json(res, 200, { tags: ['x', 'y'] }, { link: '</v2/app/tags/list?last=y>; rel="next"' });
    });
    const { client: c } = client();
    const result = await c.listTags(`${server.host}/app`, { access });
    assert.deepEqual(result.tags, ['x', 'y']);
    assert.equal(server.requests.length, 2, 'the first page and the linked page, then the repeat is noticed');
  });

  it('refuses a next link to another origin without contacting it', async () => {
    const elsewhere = await serve((_req, res) => json(res, 200, { tags: ['stolen'] }));
    const server = await serve((_req, res) => {
      json(res, 200, { tags: ['a'] }, { link: `<${elsewhere.url}/v2/app/tags/list?last=a>; rel="next"` });
    });
    const { client: c } = client();
    const err = await failure(
      c.listTags(`${server.host}/app`, { access: { insecure: true, credentials: { username: 'u', password: 'p' } } }),
    );
    assert.equal(err.code, 'RegistryPaginationError');
    assert.equal(err.kind, 'terminal');
    assert.match(err.message, /another origin/);
    assert.equal(elsewhere.requests.length, 0);
  });

  it('asks for fewer tags per page when the registry refuses the page size (Quay)', async () => {
    const server = await serve((req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      const n = Number(url.searchParams.get('n'));
      if (n > 100) {
        json(res, 400, { errors: [{ code: 'TOO_MANY_TAGS_REQUESTED', message: 'at most 100' }] });
        return;
      }
      json(res, 200, { tags: ['only'] });
    });
    const { client: c } = client();
    const first = await c.listTags(`${server.host}/org/app`, { access });
    assert.deepEqual(first.tags, ['only']);
    assert.deepEqual(
      server.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('n')),
      ['1000', '100'],
    );
    await c.listTags(`${server.host}/org/app`, { access });
    assert.equal(new URL(server.requests[2]?.url ?? '', 'http://x').searchParams.get('n'), '100', 'the limit is remembered');
  });

  it('caps the number of tags', async () => {
    const server = await serve((req, res) => {
      const last = Number(new URL(req.url ?? '', 'http://x').searchParams.get('last') ?? 0);
      const tags = Array.from({ length: 10 }, (_, i) => `t${last + i}`);
      json(res, 200, { tags }, { link: `</v2/app/tags/list?last=${last + 10}>; rel="next"` });
    });
    const { client: c } = client({ maxTags: 25 });
    const err = await failure(c.listTags(`${server.host}/app`, { access }));
    assert.equal(err.code, 'RegistryTooManyTags');
    assert.equal(err.kind, 'terminal');
    assert.equal(server.requests.length, 3);
  });

  it('bounds the body size', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // No content-length: the limit must hold while streaming.
      res.write('{"tags":[');
      res.end(Array.from({ length: 5000 }, (_, i) => `"tag-${i}"`).join(',') + ']}');
    });
    const { client: c } = client({ maxBodyBytes: 4096 });
    const err = await failure(c.listTags(`${server.host}/app`, { access }));
    assert.equal(err.code, 'RegistryResponseTooLarge');
  });

  it('treats tags: null as an empty repository', async () => {
    const server = await serve((_req, res) => json(res, 200, { name: 'app', tags: null }));
    const { client: c } = client();
    assert.deepEqual((await c.listTags(`${server.host}/app`, { access })).tags, []);
  });
});

describe('reply errors', () => {
  it('reports a non-JSON body with the status and a short excerpt, without retrying', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<html><body><h1>Welcome to our proxy</h1><p>${'lorem '.repeat(200)}</p></body></html>`);
    });
    const { client: c } = client();
    const err = await failure(c.listTags(`${server.host}/app`, { access }));
    assert.equal(err.code, 'RegistryBadResponse');
    assert.match(err.message, /answered 200 with a body that is not JSON: Welcome to our proxy lorem/);
    assert.ok(err.message.length < 300, 'the excerpt is short');
    assert.equal(server.requests.length, 1);
  });

  it('reports JSON of the wrong shape', async () => {
    const server = await serve((_req, res) => json(res, 200, { tags: [1, 2] }));
    const { client: c } = client();
    const err = await failure(c.listTags(`${server.host}/app`, { access }));
    assert.equal(err.code, 'RegistryBadResponse');
    assert.match(err.message, /not a tag list/);
  });

  it('retries an HTML 502 page and then reports it', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>');
    });
    const { client: c, clock } = client({ attempts: 3 });
    const err = await failure(c.listTags(`${server.host}/app`, { access }));
    assert.equal(err.code, 'RegistryUnavailable');
    assert.equal(err.kind, 'transient');
    assert.match(err.message, /502 \(502 Bad Gateway 502 Bad Gateway\)/);
    assert.equal(server.requests.length, 3);
    assert.equal(clock.sleeps.length, 2);
  });

  for (const [status, code] of [
    [401, 'RegistryUnauthorized'],
    [403, 'RegistryForbidden'],
    [404, 'RepositoryNotFound'],
  ] as const) {
    it(`does not retry ${status} (${code})`, async () => {
      const server = await serve((_req, res) => json(res, status, { errors: [{ code: 'DENIED', message: 'no' }] }));
      const { client: c, clock } = client();
      const err = await failure(c.listTags(`${server.host}/app`, { access }));
      assert.equal(err.code, code);
      assert.equal(err.kind, 'terminal');
      assert.equal(server.requests.length, 1);
      assert.deepEqual(clock.sleeps, []);
    });
  }
});

describe('retries', () => {
  it('retries 429 and honours Retry-After in seconds', async () => {
    const server = await serve((_req, res, i) => {
      if (i === 0) json(res, 429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }, { 'retry-after': '7' });
      else json(res, 200, { tags: ['ok'] });
    });
    const { client: c, clock } = client();
    const result = await c.listTags(`${server.host}/app`, { access });
    assert.deepEqual(result.tags, ['ok']);
    assert.equal(result.requests, 2);
    assert.deepEqual(clock.sleeps, [7000]);
    // The throttling shows in tidemark_registry_requests_total, under this registry's host.
    const samples = parseTextFormat(await registry.metrics()).get('tidemark_registry_requests_total')?.samples ?? [];
    assert.deepEqual(
      samples.filter((s) => s.labels.host === server.host).map((s) => [s.labels.code, s.value]),
      [
        ['429', 1],
        ['200', 1],
      ],
    );
  });

  it('honours Retry-After as an HTTP-date from the injected clock', async () => {
    const { client: c, clock } = client();
    const when = new Date(clock.now() + 12_000).toUTCString();
    const server = await serve((_req, res, i) => {
      if (i === 0) {
        res.writeHead(503, { 'retry-after': when });
        res.end('maintenance');
      } else json(res, 200, { tags: ['ok'] });
    });
    await c.listTags(`${server.host}/app`, { access });
    assert.deepEqual(clock.sleeps, [12_000]);
  });

  it('backs off exponentially with a cap, and never waits past the cap for Retry-After', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(503, { 'retry-after': '86400' });
      res.end();
    });
    const { client: c, clock } = client({
      attempts: 4,
      backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 },
    });
    const err = await failure(c.listTags(`${server.host}/app`, { access }));
    assert.equal(err.code, 'RegistryUnavailable');
    assert.deepEqual(clock.sleeps, [1000, 1000, 1000]);

    const flaky = await serve((_req, res) => json(res, 500, {}));
    const second = client({ attempts: 4, backoff: { initialMs: 100, maxMs: 300, factor: 2, jitter: 0 } });
    await failure(second.client.listTags(`${flaky.host}/app`, { access }));
    assert.deepEqual(second.clock.sleeps, [100, 200, 300]);
  });

  it('retries a refused connection and reports the registry unreachable', async () => {
    const gone = await serve(() => {});
    const host = gone.host;
    await gone.close();
    const { client: c, clock } = client({ attempts: 2 });
    const err = await failure(c.listTags(`${host}/app`, { access }));
    assert.equal(err.code, 'RegistryUnreachable');
    assert.equal(err.kind, 'transient');
    assert.equal(clock.sleeps.length, 1);
  });

  it('times out a registry that never answers', async () => {
    const server = await serve(() => {
      // Never answer.
    });
    const { client: c } = client({ attempts: 1, timeoutMs: 150 });
    const err = await failure(c.listTags(`${server.host}/app`, { access }));
    assert.equal(err.code, 'RegistryTimeout');
    assert.equal(err.kind, 'transient');
  });

  it('stops at once when the caller aborts', async () => {
    const server = await serve((_req, res) => json(res, 503, {}));
    const controller = new AbortController();
    const clock = fakeClock();
    clock.sleep = () => {
      const reason = new Error('shutting down');
      controller.abort(reason);
      return Promise.reject(reason);
    };
    const c = new RegistryClient({ clock });
    clients.push(c);
    await assert.rejects(c.listTags(`${server.host}/app`, { access, signal: controller.signal }), /shutting down/);
    assert.equal(server.requests.length, 1);
  });
});

describe('manifests and digests', () => {
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: 10,
          digest: `sha256:${'b'.repeat(64)}`,
          platform: { architecture: 'arm64', os: 'linux' },
        },
      ],
    }),
  );
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;

  it('reads the digest from a HEAD with the manifest Accept header', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, {
        'docker-content-digest': digest,
        'content-type': 'application/vnd.oci.image.index.v1+json',
        'content-length': body.length,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    const { client: c } = client();
    const result = await c.getDigest(`${server.host}/app:1.0`, undefined, { access });
    assert.equal(result.digest, digest);
    assert.equal(result.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(server.requests[0]?.method, 'HEAD');
    assert.equal(server.requests[0]?.url, '/v2/app/manifests/1.0');
    assert.match(
      server.requests[0]?.accept ?? '',
      /^application\/vnd\.oci\.image\.index\.v1\+json, application\/vnd\.docker\.distribution\.manifest\.list\.v2\+json/,
    );
  });

  it('falls back to GET and hashes the body when HEAD gives no digest', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    const { client: c } = client();
    const result = await c.getDigest(`${server.host}/app`, 'v2', { access });
    assert.equal(result.digest, digest);
    assert.deepEqual(
      server.requests.map((r) => r.method),
      ['HEAD', 'GET'],
    );
  });

  it('uses GET when the registry does not allow HEAD', async () => {
    const server = await serve((req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(405);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
      res.end(body);
    });
    const { client: c } = client();
    assert.equal((await c.getDigest(`${server.host}/app:v1`, undefined, { access })).digest, digest);
    assert.deepEqual(
      server.requests.map((r) => r.method),
      ['HEAD', 'GET'],
    );
  });

  it('parses an index and refuses a body that does not match its digest', async () => {
    const server = await serve((req, res) => {
      const wrong = req.url?.includes('wrong');
      res.writeHead(200, {
        'docker-content-digest': wrong ? `sha256:${'c'.repeat(64)}` : digest,
        'content-type': 'application/vnd.oci.image.index.v1+json',
      });
      res.end(body);
    });
    const { client: c } = client();
    const good = await c.getManifest(`${server.host}/app:ok`, undefined, { access });
    assert.equal(good.manifest.kind, 'index');
    assert.equal(good.digest, digest);
    assert.deepEqual(good.manifest.kind === 'index' ? good.manifest.manifests[0]?.platform : undefined, {
      architecture: 'arm64',
      os: 'linux',
    });
    const err = await failure(c.getManifest(`${server.host}/app:wrong`, undefined, { access }));
    assert.equal(err.code, 'RegistryDigestMismatch');
  });

  it('maps a missing manifest to ManifestNotFound', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    const { client: c } = client();
    assert.equal((await failure(c.getDigest(`${server.host}/app:gone`, undefined, { access }))).code, 'ManifestNotFound');
  });

  it('refuses a reference that is neither tag nor digest', async () => {
    const { client: c } = client();
    assert.equal((await failure(c.getDigest('127.0.0.1:1/app', '../../etc', { access }))).code, 'InvalidImageReference');
  });
});

describe('per-registry concurrency', () => {
  it('keeps at most the configured number of requests in flight to one host', async () => {
    let inFlight = 0;
    let peak = 0;
    const server = await serve((_req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200, { 'docker-content-digest': `sha256:${'d'.repeat(64)}` });
        res.end();
      }, 20);
    });
    const { client: c } = client({ concurrencyPerRegistry: 2 });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => c.getDigest(`${server.host}/app:t${i}`, undefined, { access })));
    assert.equal(results.length, 8);
    assert.equal(server.requests.length, 8);
    assert.ok(peak <= 2, `peak ${peak}`);
  });
});

describe('getBlob', () => {
  const body = Buffer.from('layer bytes');
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const credentials = { username: 'u', password: 'p' };

  it('downloads a blob and checks it against its digest', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(body);
    });
    const { client: c } = client();
    const result = await c.getBlob(`${server.host}/team/app`, digest, { access });
    assert.deepEqual(result.data, body);
    assert.equal(server.requests[0]?.url, `/v2/team/app/blobs/${digest}`);
    const other = `sha256:${'0'.repeat(64)}`;
    assert.equal((await failure(c.getBlob(`${server.host}/team/app`, other, { access }))).code, 'RegistryDigestMismatch');
  });

  it('follows a redirect to blob storage without the registry credentials', async () => {
    const storage = await serve((_req, res) => {
      res.writeHead(200);
      res.end(body);
    });
    const server = await serve((req, res) => {
      if (req.headers.authorization === undefined) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' });
        res.end();
        return;
      }
      res.writeHead(307, { location: `${storage.url}/bucket/blob?sig=1` });
      res.end();
    });
    const { client: c } = client();
    const result = await c.getBlob(`${server.host}/team/app`, digest, { access: { ...access, credentials } });
    assert.deepEqual(result.data, body);
    assert.ok(server.requests.some((r) => r.authorization?.startsWith('Basic ')));
    assert.deepEqual(
      storage.requests.map((r) => [r.url, r.authorization]),
      [['/bucket/blob?sig=1', undefined]],
    );
  });

  it('refuses a blob larger than asked for, and endless redirects', async () => {
    const big = await serve((_req, res) => {
      res.writeHead(200);
      res.end(Buffer.alloc(4096));
    });
    const { client: c } = client();
    assert.equal((await failure(c.getBlob(`${big.host}/app`, digest, { access, maxBytes: 1024 }))).code, 'RegistryResponseTooLarge');
    const loop = await serve((req, res) => {
      res.writeHead(302, { location: req.url ?? '/' });
      res.end();
    });
    assert.equal((await failure(c.getBlob(`${loop.host}/app`, digest, { access }))).code, 'RegistryBadResponse');
    assert.equal(loop.requests.length, 4, 'the first request and three redirects');
  });
});
