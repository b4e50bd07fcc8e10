/** Caches keyed by tenant input (CA bundles, registry hosts, credentials) stay within their limits. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RegistryClient } from './client.ts';
import { fakeClock, json, localServer, type LocalServer } from './fixtures/local-server.ts';

const servers: LocalServer[] = [];
const clients: RegistryClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
});

function newClient(limits: { tlsSetups?: number; registries?: number; tokens?: number }) {
  const client = new RegistryClient({ clock: fakeClock(), random: () => 0.5, limits });
  clients.push(client);
  return client;
}

async function bearerRegistry() {
  const server: LocalServer = await localServer((req, res) => {
    if (req.url?.startsWith('/token')) return json(res, 200, { token: `tok-${req.headers.authorization ?? 'anon'}` });
    if (req.headers.authorization?.startsWith('Bearer tok-')) return json(res, 200, { tags: ['v1'] });
    json(res, 401, {}, { 'www-authenticate': `Bearer realm="${server.url}/token",service="s"` });
  });
  servers.push(server);
  return server;
}

test('one connection pool per CA bundle, at most tlsSetups of them', async () => {
  const server = await localServer((_req, res) => json(res, 200, { tags: ['v1'] }));
  servers.push(server);
  const client = newClient({ tlsSetups: 3 });
  for (let i = 0; i < 10; i++) {
    const ca = `-----BEGIN CERTIFICATE-----\ntenant-${i}\n-----END CERTIFICATE-----\n`;
    await client.listTags(`${server.host}/app`, { access: { insecure: true, tls: { ca } } });
  }
  assert.equal(client.cacheSizes().tlsSetups, 3);
  // An evicted pool was closed after its request; new requests still work.
  assert.deepEqual((await client.listTags(`${server.host}/app`, { access: { insecure: true } })).tags, ['v1']);
});

test('remembered challenges and tokens stay within their limits, whatever tenants write', async () => {
  const client = newClient({ registries: 2, tokens: 5 });
  for (let i = 0; i < 4; i++) {
    const registry = await bearerRegistry();
    for (let j = 0; j < 6; j++) {
      const access = { insecure: true, credentials: { username: `tenant-${i}`, password: `p${j}` } };
      assert.deepEqual((await client.listTags(`${registry.host}/app-${j}`, { access })).tags, ['v1']);
    }
  }
  const sizes = client.cacheSizes();
  assert.equal(sizes.registries, 2);
  assert.ok(sizes.tokens <= 5, `tokens: ${sizes.tokens}`);
});
