import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { TidemarkError } from '../errors/index.ts';
import { RegistryClient } from './client.ts';
import { fakeClock, json, localServer, type LocalServer } from './fixtures/local-server.ts';

const servers: LocalServer[] = [];
const clients: RegistryClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
});

const USER = 'robot';
const PASS = 'hunter2-not-in-messages';
const basic = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;

interface BearerRegistry {
  registry: LocalServer;
  tokenRequests: () => number;
  tokenAuth: () => Array<string | undefined>;
  /** Tokens the registry accepts; clearing it simulates revocation. */
  valid: Set<string>;
  /** Lifetime sent as expires_in. */
  expiresIn: { value: number | undefined };
  failTokenOnce: { value: boolean };
}

/** A registry that demands Bearer tokens from a realm served by the same test server. */
async function bearerRegistry(options: { requireCredentials?: boolean } = {}): Promise<BearerRegistry> {
  const valid = new Set<string>();
  const expiresIn = { value: 300 as number | undefined };
  const failTokenOnce = { value: false };
  let issued = 0;
  const registry: LocalServer = await localServer((req, res) => {
    const url = new URL(req.url ?? '', 'http://x');
    if (url.pathname === '/token') {
      if (failTokenOnce.value) {
        failTokenOnce.value = false;
        json(res, 503, {});
        return;
      }
      if (options.requireCredentials && req.headers.authorization !== basic) {
        json(res, 401, { details: 'bad credentials' });
        return;
      }
      const token = `tok-${++issued}-${url.searchParams.getAll('scope').join('+')}`;
      valid.add(token);
      json(res, 200, expiresIn.value === undefined ? { token } : { token, expires_in: expiresIn.value });
      return;
    }
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !valid.has(auth.slice(7))) {
      const scope = `repository:${url.pathname.split('/').slice(2, -2).join('/')}:pull`;
      json(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
        {
          'www-authenticate': `Bearer realm="${registry.url}/token",service="test-registry",scope="${scope}"`,
        },
      );
      return;
    }
    json(res, 200, { tags: ['1.0', '1.1'] });
  });
  servers.push(registry);
  const tokens = () => registry.requests.filter((r) => r.url.startsWith('/token'));
  return {
    registry,
    tokenRequests: () => tokens().length,
    tokenAuth: () => tokens().map((r) => r.authorization),
    valid,
    expiresIn,
    failTokenOnce,
  };
}

function newClient() {
  const clock = fakeClock();
  const client = new RegistryClient({ clock, random: () => 0.5 });
  clients.push(client);
  return { client, clock };
}

async function failure(promise: Promise<unknown>): Promise<TidemarkError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TidemarkError, String(err));
    return err;
  }
  assert.fail('expected the call to fail');
}

describe('bearer token flow', () => {
  it('gets a token with the credentials, caches it per scope, and skips the anonymous probe next time', async () => {
    const reg = await bearerRegistry({ requireCredentials: true });
    const { client } = newClient();
    const access = { insecure: true, credentials: { username: USER, password: PASS } };
    const first = await client.listTags(`${reg.registry.host}/team/app`, { access });
    assert.deepEqual(first.tags, ['1.0', '1.1']);
    assert.equal(first.requests, 3, 'anonymous probe, token, retry');
    assert.deepEqual(reg.tokenAuth(), [basic]);
    const tokenUrl = new URL(reg.registry.requests[1]?.url ?? '', 'http://x');
    assert.equal(tokenUrl.searchParams.get('service'), 'test-registry');
    assert.deepEqual(tokenUrl.searchParams.getAll('scope'), ['repository:team/app:pull']);

    const second = await client.listTags(`${reg.registry.host}/team/app`, { access });
    assert.equal(second.requests, 1);
    assert.equal(reg.tokenRequests(), 1);

    // Another repository is another scope: one new token, no probe.
    const other = await client.listTags(`${reg.registry.host}/team/other`, { access });
    assert.equal(other.requests, 2);
    assert.equal(reg.tokenRequests(), 2);
  });

  it('shares one token request among concurrent calls', async () => {
    const reg = await bearerRegistry();
    const { client } = newClient();
    await client.listTags(`${reg.registry.host}/warm/up`, { access: { insecure: true } });
    const before = reg.tokenRequests();
    await Promise.all(Array.from({ length: 5 }, () => client.listTags(`${reg.registry.host}/team/app`, { access: { insecure: true } })));
    assert.equal(reg.tokenRequests() - before, 1);
  });

  it('fetches a new token once the old one expires (default 60 s without expires_in)', async () => {
    const reg = await bearerRegistry();
    reg.expiresIn.value = undefined;
    const { client, clock } = newClient();
    await client.listTags(`${reg.registry.host}/app`, { access: { insecure: true } });
    clock.advance(30_000);
    await client.listTags(`${reg.registry.host}/app`, { access: { insecure: true } });
    assert.equal(reg.tokenRequests(), 1);
    clock.advance(30_000);
    await client.listTags(`${reg.registry.host}/app`, { access: { insecure: true } });
    assert.equal(reg.tokenRequests(), 2);
  });

  it('refreshes a refused token once, then gives up', async () => {
    const reg = await bearerRegistry();
    const { client } = newClient();
    await client.listTags(`${reg.registry.host}/app`, { access: { insecure: true } });
    reg.valid.clear(); // revoked server-side while still cached here
    const again = await client.listTags(`${reg.registry.host}/app`, { access: { insecure: true } });
    assert.deepEqual(again.tags, ['1.0', '1.1']);
    assert.equal(again.requests, 3, 'cached token refused, new token, retry');
    assert.equal(reg.tokenRequests(), 2);

    // A registry that refuses every token: one refresh, then RegistryUnauthorized.
    const refusing = await localServer((req, res) => {
      if (req.url?.startsWith('/token')) return json(res, 200, { token: 'never-accepted' });
      json(res, 401, {}, { 'www-authenticate': `Bearer realm="${refusing.url}/token",service="s",error="insufficient_scope"` });
    });
    servers.push(refusing);
    const err = await failure(client.listTags(`${refusing.host}/app`, { access: { insecure: true } }));
    assert.equal(err.code, 'RegistryUnauthorized');
    assert.match(err.hint ?? '', /lack pull access/);
    assert.equal(refusing.requests.length, 3, 'probe, token, one retry');
  });

  it('reports wrong credentials from the token service as RegistryUnauthorized, without the password', async () => {
    const reg = await bearerRegistry({ requireCredentials: true });
    const { client, clock } = newClient();
    const err = await failure(
      client.listTags(`${reg.registry.host}/app`, {
        access: { insecure: true, credentials: { username: USER, password: 'wrong' } },
      }),
    );
    assert.equal(err.code, 'RegistryUnauthorized');
    assert.equal(err.kind, 'terminal');
    assert.doesNotMatch(`${err.message} ${err.hint}`, /wrong|hunter2/);
    assert.equal(reg.tokenRequests(), 1);
    assert.deepEqual(clock.sleeps, []);
  });

  it('retries a token service that is briefly unavailable', async () => {
    const reg = await bearerRegistry();
    reg.failTokenOnce.value = true;
    const { client, clock } = newClient();
    const result = await client.listTags(`${reg.registry.host}/app`, { access: { insecure: true } });
    assert.deepEqual(result.tags, ['1.0', '1.1']);
    assert.equal(reg.tokenRequests(), 2);
    assert.equal(clock.sleeps.length, 1);
  });

  it('keeps tokens of different credentials apart', async () => {
    const reg = await bearerRegistry();
    const { client } = newClient();
    await client.listTags(`${reg.registry.host}/app`, {
      access: { insecure: true, credentials: { username: 'a', password: '1' } },
    });
    await client.listTags(`${reg.registry.host}/app`, {
      access: { insecure: true, credentials: { username: 'b', password: '2' } },
    });
    assert.equal(reg.tokenRequests(), 2);
  });
});

describe('basic auth flow', () => {
  async function basicRegistry() {
    const server = await localServer((req, res) => {
      if (req.headers.authorization === basic) return json(res, 200, { tags: ['v1'] });
      json(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
        { 'www-authenticate': 'Basic realm="test"' },
      );
    });
    servers.push(server);
    return server;
  }

  it('answers a Basic challenge with the credentials and sends them up front afterwards', async () => {
    const server = await basicRegistry();
    const { client } = newClient();
    const access = { insecure: true, credentials: { username: USER, password: PASS } };
    assert.equal((await client.listTags(`${server.host}/app`, { access })).requests, 2);
    assert.equal((await client.listTags(`${server.host}/app`, { access })).requests, 1);
    assert.deepEqual(
      server.requests.map((r) => r.authorization),
      [undefined, basic, basic],
    );
  });

  it('fails without looping on wrong or missing credentials', async () => {
    const server = await basicRegistry();
    const { client } = newClient();
    const wrong = await failure(
      client.listTags(`${server.host}/app`, {
        access: { insecure: true, credentials: { username: USER, password: 'nope' } },
      }),
    );
    assert.equal(wrong.code, 'RegistryUnauthorized');
    assert.match(wrong.hint ?? '', /check the username and password/);
    assert.equal(server.requests.length, 2);
    const missing = await failure(client.listTags(`${server.host}/app`, { access: { insecure: true } }));
    assert.equal(missing.code, 'RegistryUnauthorized');
    assert.match(missing.hint ?? '', /secretRef/);
    assert.equal(server.requests.length, 3);
  });
});

describe('token realm checks (SSRF)', () => {
  /** A registry on 127.0.0.1 whose Bearer challenge names `realm`. */
  async function pointingAt(realm: string) {
    const server = await localServer((_req, res) => json(res, 401, {}, { 'www-authenticate': `Bearer realm="${realm}",service="s"` }));
    servers.push(server);
    return server;
  }

  it('refuses a realm on another loopback address or on cloud metadata, before sending anything', async () => {
    // 127.0.0.2 is loopback but not the registry's address: an internal service, not the registry's token service.
    const internal = createServer((_req, res) => json(res, 200, { token: 'leaked' }));
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.2', resolve));
    const internalPort = (internal.address() as AddressInfo).port;
    let internalRequests = 0;
    internal.on('request', () => internalRequests++);
    try {
      const { client, clock } = newClient();
      for (const [realm, why] of [
        [`http://127.0.0.2:${internalPort}/token`, /resolves to 127\.0\.0\.2, a loopback address; refusing$/],
        ['http://169.254.169.254/latest/meta-data/iam', /resolves to 169\.254\.169\.254, a link-local \(cloud metadata\) address/],
        ['http://[fe80::1]/token', /resolves to fe80::1, a link-local address/],
      ] as const) {
        const registry = await pointingAt(realm);
        const err = await failure(client.listTags(`${registry.host}/app`, { access: { insecure: true } }));
        assert.equal(err.code, 'RegistryRealmRefused', err.message);
        assert.equal(err.kind, 'terminal');
        assert.match(err.message, why);
        assert.match(err.hint ?? '', /unless the registry is on that host/);
        assert.equal(registry.requests.length, 1, 'the probe only');
      }
      assert.equal(internalRequests, 0, 'the internal service was never contacted');
      assert.deepEqual(clock.sleeps, [], 'not retried');
    } finally {
      internal.closeAllConnections();
      await new Promise((resolve) => internal.close(resolve));
    }
  });

  it('checks what a realm name resolves to, and connects to the address it checked (no second lookup)', async () => {
    const dns: Record<string, string> = { 'metadata.evil.test': '169.254.169.254', 'tokens.evil.test': '127.0.0.1' };
    const clock = fakeClock();
    const client = new RegistryClient({
      clock,
      random: () => 0.5,
      resolveHost: (host) => Promise.resolve(dns[host] ? [{ address: dns[host], family: 4 }] : [{ address: host, family: 4 }]),
    });
    clients.push(client);
    const metadata = await pointingAt('http://metadata.evil.test/latest/meta-data');
    const err = await failure(client.listTags(`${metadata.host}/app`, { access: { insecure: true } }));
    assert.equal(err.code, 'RegistryRealmRefused');
    assert.match(err.message, /metadata\.evil\.test resolves to 169\.254\.169\.254/);

    // The same host as the registry (127.0.0.1): allowed, and reached although no real DNS knows the name.
    const reg = await bearerRegistry();
    const realmPort = new URL(reg.registry.url).port;
    const viaName = await localServer((req, res) => {
      if (req.headers.authorization?.startsWith('Bearer tok-')) return json(res, 200, { tags: ['named'] });
      json(res, 401, {}, { 'www-authenticate': `Bearer realm="http://tokens.evil.test:${realmPort}/token",service="s"` });
    });
    servers.push(viaName);
    // The realm is reg's server on the same 127.0.0.1; its tokens are issued there.
    const result = await client.listTags(`${viaName.host}/app`, { access: { insecure: true } });
    assert.deepEqual(result.tags, ['named']);
    assert.equal(reg.tokenRequests(), 1, 'the token came from the pinned 127.0.0.1');
  });

  it('never puts a token endpoint reply body into the error: status code and content type only', async () => {
    const secretBody = 'AccessKeyId=AKIAEXAMPLE SecretAccessKey=wJalrXUtnFEMI/K7MDENG internal-admin-page';
    const realm = await localServer((req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      res.writeHead(url.searchParams.getAll('scope')[0]?.includes('broken') ? 500 : 200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<html>${secretBody}</html>`);
    });
    servers.push(realm);
    const registry = await pointingAt(`${realm.url}/token`);
    const { client } = newClient();
    const notJson = await failure(client.listTags(`${registry.host}/app`, { access: { insecure: true } }));
    assert.equal(notJson.code, 'RegistryBadResponse');
    assert.match(
      notJson.message,
      /the token service at 127\.0\.0\.1:\d+ \(content type text\/html\) answered 200 with a body that is not JSON$/,
    );
    const failed = await failure(client.listTags(`${registry.host}/broken`, { access: { insecure: true } }));
    assert.equal(failed.code, 'RegistryUnavailable');
    assert.match(failed.message, /\(content type text\/html\): registry answered 500$/);
    for (const err of [notJson, failed]) {
      assert.doesNotMatch(`${err.message} ${err.hint ?? ''}`, /AKIA|wJalr|internal-admin|html>/);
    }
  });
});
