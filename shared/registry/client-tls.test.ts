import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { TidemarkError } from '../errors/index.ts';
import { RegistryClient } from './client.ts';
import { fakeClock, json, localServer, type LocalServer } from './fixtures/local-server.ts';
import { tlsFromSecret } from './tls.ts';

/** A throwaway CA, a server cert for 127.0.0.1 and a client cert, made with openssl. */
function makePki(dir: string) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-x509', ...ec, '-subj', '/CN=tidemark-test-ca', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt')]);
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    run([
      'req',
      '-x509',
      ...ec,
      '-subj',
      `/CN=tidemark-test-${name}`,
      '-addext',
      ext,
      '-CA',
      join(dir, 'ca.crt'),
      '-CAkey',
      join(dir, 'ca.key'),
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      join(dir, `${name}.crt`),
    ]);
  }
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
  };
}

describe('TLS', () => {
  let dir = '';
  let pki: ReturnType<typeof makePki>;
  let server: Server;
  let host = '';
  let realm: LocalServer;
  const clients: RegistryClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tidemark-registry-tls-'));
    pki = makePki(dir);
    realm = await localServer((_req, res) => json(res, 200, { token: 'anonymous-token' }));
    server = createServer(
      { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const url = new URL(req.url ?? '', 'https://x');
        if (url.pathname.startsWith('/v2/realm/')) {
          if (req.headers.authorization === 'Bearer anonymous-token') return json(res, 200, { tags: ['via-http-realm'] });
          return json(res, 401, {}, { 'www-authenticate': `Bearer realm="${realm.url}/token",service="s"` });
        }
        const authorized = (req.socket as TLSSocket).authorized;
        json(res, 200, { tags: [authorized ? 'client-cert-accepted' : 'no-client-cert'] });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await realm.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function newClient() {
    const clock = fakeClock();
    const client = new RegistryClient({ clock, attempts: 3 });
    clients.push(client);
    return { client, clock };
  }

  it('refuses an unknown CA as a terminal TLS error, without retrying', async () => {
    const { client, clock } = newClient();
    await assert.rejects(client.listTags(`${host}/app`), (err: unknown) => {
      assert.ok(err instanceof TidemarkError);
      assert.equal(err.code, 'RegistryTLSError');
      assert.equal(err.kind, 'terminal');
      assert.match(err.hint ?? '', /certSecretRef/);
      return true;
    });
    assert.deepEqual(clock.sleeps, []);
  });

  it('trusts the CA from certSecretRef and presents the client certificate', async () => {
    const { client } = newClient();
    const caOnly = tlsFromSecret({ data: { 'ca.crt': pki.ca } });
    assert.deepEqual((await client.listTags(`${host}/app`, { access: { tls: caOnly } })).tags, ['no-client-cert']);
    const mutual = tlsFromSecret({
      data: { 'ca.crt': pki.ca, 'tls.crt': pki.clientCert, 'tls.key': pki.clientKey },
    });
    assert.deepEqual((await client.listTags(`${host}/app`, { access: { tls: mutual } })).tags, ['client-cert-accepted']);
  });

  it('talking plain HTTP to a TLS registry is a clear error', async () => {
    const { client } = newClient();
    await assert.rejects(client.listTags(`${host}/app`, { access: { insecure: true } }), (err: unknown) => {
      assert.ok(err instanceof TidemarkError);
      // Node's TLS server hangs up on plain HTTP; other servers answer 400. Either way it is named.
      assert.ok(['RegistryUnreachable', 'RegistryBadRequest'].includes(err.code), err.code);
      assert.match(err.message, /http:\/\/127\.0\.0\.1/);
      return true;
    });
  });

  it('an HTTPS registry may not name a plain-HTTP realm, with or without credentials', async () => {
    const { client } = newClient();
    const tls = { ca: pki.ca };
    const before = realm.requests.length;
    await assert.rejects(
      client.listTags(`${host}/realm/app`, {
        access: { tls, credentials: { username: 'u', password: 'secret-pass' } },
      }),
      (err: unknown) => {
        assert.ok(err instanceof TidemarkError);
        assert.equal(err.code, 'RegistryInsecureRealm');
        assert.equal(err.kind, 'terminal');
        assert.doesNotMatch(err.message, /secret-pass/);
        return true;
      },
    );
    // Without credentials too: a downgrade to plain HTTP is refused, so the token cannot be read on the way.
    await assert.rejects(client.listTags(`${host}/realm/app`, { access: { tls } }), { code: 'RegistryInsecureRealm' });
    assert.equal(realm.requests.length, before, 'the realm was not contacted');
  });

  it('refuses malformed TLS material up front', () => {
    assert.throws(() => tlsFromSecret({ data: { 'ca.crt': 'not a pem' } }), {
      code: 'InvalidRegistryTLS',
    });
    assert.throws(() => tlsFromSecret({ data: { 'tls.crt': pki.clientCert } }), {
      code: 'InvalidRegistryTLS',
    });
    assert.throws(() => tlsFromSecret({ data: {} }), { code: 'InvalidRegistryTLS' });
  });
});
