import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KubeRest } from '../rest.ts';
import { connectionFromSecret, connectionFromText, inClusterConnection, loadKubeconfig } from './index.ts';
import type { KubeConnection } from './index.ts';

// Every module this file resolves, so the test can tell whether client-node was loaded at all.
const resolved = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    resolved.add(specifier);
    return next(specifier, context);
  },
});

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
const text = (name: string) => readFileSync(fixture(name), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'tidemark-kubeconfig-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const operator = (context?: string) => loadKubeconfig({ path: fixture('operator.yaml'), context, env: {}, prefer: 'home' });
const invalid = (pattern: RegExp) => (err: Error & { code?: string; kind?: string }) => {
  assert.equal(err.code, 'InvalidKubeconfig', err.message);
  assert.equal(err.kind, 'terminal');
  assert.match(err.message, pattern);
  return true;
};

describe('the operator kubeconfig', () => {
  it('resolves current-context: server, cluster, namespace, CA and client certificate from files beside it', async () => {
    const c = operator();
    assert.equal(c.server, 'https://127.0.0.1:6443');
    assert.deepEqual([c.clusterName, c.contextName, c.namespace], ['prod', 'jane@prod', 'team-a']);
    assert.equal(c.tls.ca, text('tls/ca.crt'));
    assert.equal(c.tls.cert, text('tls/client.crt'));
    assert.equal(c.tls.key, text('tls/client.key'));
    assert.equal(c.tls.serverName, 'kubernetes.test');
    assert.equal(c.tls.rejectUnauthorized, true);
    assert.deepEqual(await c.auth.credentials(), {});
  });

  it('a token user with impersonation; insecure-skip-tls-verify', async () => {
    const c = operator('robot@lab');
    assert.equal(c.tls.rejectUnauthorized, false);
    assert.equal(c.tls.ca, undefined);
    assert.equal((await c.auth.credentials()).authorization, 'Bearer robot-token');
    assert.deepEqual(c.headers, {
      'impersonate-user': 'alice',
      'impersonate-group': ['ops', 'audit'],
      'impersonate-extra-scopes': ['view'],
    });
  });

  it('username and password become basic auth; a context without a user is anonymous', async () => {
    assert.equal(
      (await operator('basic@lab').auth.credentials()).authorization,
      `Basic ${Buffer.from('admin:hunter2').toString('base64')}`,
    );
    const anonymous = operator('anonymous@lab');
    assert.equal(anonymous.auth.kind, 'none');
    assert.deepEqual(await anonymous.auth.credentials(), {});
  });

  it('a tokenFile is read at load and again once it may have rotated', async () => {
    const dir = mkdtempSync(join(scratch, 'rotating-'));
    writeFileSync(join(dir, 'config'), text('operator.yaml'));
    writeFileSync(join(dir, 'token'), 'first\n');
    let now = 0;
    const c = loadKubeconfig({
      path: join(dir, 'config'),
      context: 'rotating@lab',
      env: {},
      prefer: 'home',
      tokenFile: { now: () => now, refreshMs: 60_000 },
    });
    assert.equal((await c.auth.credentials()).authorization, 'Bearer first');
    writeFileSync(join(dir, 'token'), 'second\n');
    now = 59_999;
    assert.equal((await c.auth.credentials()).authorization, 'Bearer first', 'not re-read within the minute');
    now = 60_000;
    assert.equal((await c.auth.credentials()).authorization, 'Bearer second');
    rmSync(join(dir, 'token'));
    now = 200_000;
    assert.equal((await c.auth.credentials()).authorization, 'Bearer second', 'a failed re-read keeps the last token');
  });

  it('refuses unknown contexts and users, a missing file and an empty one', () => {
    assert.throws(() => operator('nope'), invalid(/no context "nope"/));
    assert.throws(() => operator('ghost-user'), invalid(/user "nobody", which is not in it/));
    assert.throws(() => loadKubeconfig({ path: join(scratch, 'missing'), env: {}, prefer: 'home' }), invalid(/does not exist/));
    writeFileSync(join(scratch, 'empty'), '');
    assert.throws(() => loadKubeconfig({ path: join(scratch, 'empty'), env: {}, prefer: 'home' }), invalid(/no current-context/));
  });
});

describe('where the operator kubeconfig comes from', () => {
  const serviceAccount = (token = 'sa-token') => {
    const dir = mkdtempSync(join(scratch, 'sa-'));
    writeFileSync(join(dir, 'token'), `${token}\n`);
    writeFileSync(join(dir, 'ca.crt'), text('tls/ca.crt'));
    writeFileSync(join(dir, 'namespace'), 'tidemark-system');
    return dir;
  };
  const podEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

  it('KUBECONFIG: files merged like kubectl, the first to name something wins, missing files skipped', async () => {
    const KUBECONFIG = [join(scratch, 'missing.yaml'), fixture('merge-a.yaml'), fixture('merge-b.yaml'), fixture('merge-c.yaml')].join(':');
    const current = loadKubeconfig({ env: { KUBECONFIG }, prefer: 'home' });
    // current-context from b (the first file that sets it), its cluster only in b.
    assert.deepEqual([current.contextName, current.server], ['b', 'https://only-b.example.com']);
    // user "shared" is a's, though b names it too.
    assert.equal((await current.auth.credentials()).authorization, 'Bearer token-from-a');
    // context "a" is a's: cluster "shared" from a, namespace from-a.
    const a = loadKubeconfig({ env: { KUBECONFIG }, context: 'a', prefer: 'home' });
    assert.deepEqual([a.server, a.namespace], ['https://a.example.com', 'from-a']);
  });

  it('--kubeconfig wins over KUBECONFIG', () => {
    const c = loadKubeconfig({ path: fixture('merge-b.yaml'), env: { KUBECONFIG: fixture('merge-a.yaml') }, prefer: 'home' });
    assert.equal(c.contextName, 'b');
  });

  it('programs prefer the service account to ~/.kube/config, the CLI the other way round', () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), text('merge-b.yaml'));
    const dir = serviceAccount();
    const env = { ...podEnv, HOME: home };
    assert.equal(loadKubeconfig({ env, prefer: 'in-cluster', serviceAccountDir: dir }).clusterName, 'in-cluster');
    assert.equal(loadKubeconfig({ env, prefer: 'home', serviceAccountDir: dir }).clusterName, 'only-b');
    // Outside a pod both find the home file; with a --context the service account never applies.
    assert.equal(loadKubeconfig({ env: { HOME: home }, prefer: 'in-cluster', serviceAccountDir: dir }).clusterName, 'only-b');
    assert.equal(loadKubeconfig({ env, context: 'b', prefer: 'in-cluster', serviceAccountDir: dir }).contextName, 'b');
  });

  it('KUBECONFIG naming only missing files: the service account, else an error (never ~/.kube/config)', () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), text('merge-b.yaml'));
    const KUBECONFIG = join(scratch, 'gone.yaml');
    assert.throws(
      () => loadKubeconfig({ env: { KUBECONFIG, HOME: home }, prefer: 'home' }),
      invalid(/none of the files in KUBECONFIG exists/),
    );
    assert.equal(
      loadKubeconfig({ env: { ...podEnv, KUBECONFIG, HOME: home }, prefer: 'home', serviceAccountDir: serviceAccount() }).clusterName,
      'in-cluster',
    );
  });

  it('nothing at all is an error that says where it looked', () => {
    assert.throws(
      () => loadKubeconfig({ env: {}, prefer: 'in-cluster', serviceAccountDir: join(scratch, 'no-sa') }),
      (err: Error & { hint?: string }) => {
        invalid(/no kubeconfig found/)(err);
        assert.match(err.hint ?? '', /--kubeconfig.*KUBECONFIG.*service account/);
        return true;
      },
    );
  });

  it('in-cluster: server from the environment (IPv6 bracketed), CA, namespace, the token re-read as it rotates', async () => {
    const dir = serviceAccount('one');
    let now = 1_000;
    const c = inClusterConnection({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      dir,
      tokenFile: { now: () => now },
    });
    assert.ok(c);
    assert.equal(c.server, 'https://[fd00::1]:443');
    assert.equal(c.namespace, 'tidemark-system');
    assert.equal(c.tls.ca, text('tls/ca.crt'));
    assert.equal((await c.auth.credentials()).authorization, 'Bearer one');
    writeFileSync(join(dir, 'token'), 'two\n');
    now += 60_000;
    assert.equal((await c.auth.credentials()).authorization, 'Bearer two');
    assert.equal(inClusterConnection({ env: {}, dir }), undefined, 'not a pod without the service variables');
    assert.equal(inClusterConnection({ env: podEnv, dir: join(scratch, 'no-sa') }), undefined, 'not a pod without a token');
  });
});

describe('credential plugins', () => {
  it('@kubernetes/client-node is loaded only for an exec or auth-provider user, and gives its token', async () => {
    const isClientNode = (s: string) => s.startsWith('@kubernetes/client-node');
    for (const context of ['jane@prod', 'robot@lab', 'basic@lab', 'rotating@lab']) await operator(context).auth.credentials();
    connectionFromSecret(text('secret-static.yaml'), 'Secret ns/static');
    assert.equal([...resolved].some(isClientNode), false, 'static credentials never import client-node');

    const c = loadKubeconfig({ path: fixture('exec.yaml'), env: {}, prefer: 'home' });
    assert.equal(c.auth.kind, 'plugin');
    assert.equal([...resolved].some(isClientNode), false, 'loading the kubeconfig does not import it either');
    assert.equal((await c.auth.credentials()).authorization, 'Bearer token-from-plugin');
    assert.equal([...resolved].some(isClientNode), true);
  });

  it('a failing plugin is a transient KubeCredentialsFailed', async () => {
    const yaml = text('exec.yaml').replace('./exec-plugin.sh', '/bin/false');
    const c = connectionFromText(yaml);
    await assert.rejects(
      c.auth.credentials(),
      (err: Error & { code?: string; kind?: string }) => err.code === 'KubeCredentialsFailed' && err.kind === 'transient',
    );
  });
});

describe('a kubeconfig from a Secret', () => {
  const what = 'the kubeconfig in Secret apps/edge';
  const withUser = (user: string, cluster = 'server: https://edge.example.com') => `
apiVersion: v1
kind: Config
current-context: edge
clusters: [{name: edge, cluster: {${cluster}}}]
users: [{name: edge-admin, user: {${user}}}]
contexts: [{name: edge, context: {cluster: edge, user: edge-admin}}]
`;

  it('static credentials: token, CA data; an unused plugin user elsewhere in the file is harmless', async () => {
    const c = connectionFromSecret(text('secret-static.yaml'), what);
    assert.deepEqual([c.server, c.clusterName, c.namespace], ['https://edge.example.com:6443', 'edge', 'apps']);
    assert.match(c.tls.ca ?? '', /^-----BEGIN CERTIFICATE-----/);
    assert.equal((await c.auth.credentials()).authorization, 'Bearer edge-token');
  });

  it('client certificate and key as data', () => {
    const cert = Buffer.from(text('tls/client.crt')).toString('base64');
    const key = Buffer.from(text('tls/client.key')).toString('base64');
    const c = connectionFromSecret(withUser(`client-certificate-data: ${cert}, client-key-data: ${key}`), what);
    assert.equal(c.tls.cert, text('tls/client.crt'));
    assert.equal(c.tls.key, text('tls/client.key'));
  });

  const marker = join(scratch, 'pwned');
  for (const [name, user, cluster, field] of [
    [
      'exec',
      `exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, "touch ${marker}"]}`,
      undefined,
      /exec \(runs a command/,
    ],
    ['auth-provider', 'auth-provider: {name: gcp, config: {cmd-path: /bin/sh}}', undefined, /auth-provider/],
    ['tokenFile', 'tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token', undefined, /tokenFile \(a file; use token\)/],
    ['token-file', 'token-file: /etc/shadow', undefined, /tokenFile/],
    [
      'client-certificate',
      'client-certificate: /etc/ssl/private/agent.crt, client-key-data: eA==',
      undefined,
      /client-certificate \(a file; use client-certificate-data\)/,
    ],
    [
      'client-key',
      'client-certificate-data: eA==, client-key: /etc/ssl/private/agent.key',
      undefined,
      /client-key \(a file; use client-key-data\)/,
    ],
    [
      'certificate-authority',
      'token: t',
      'server: https://edge.example.com, certificate-authority: /etc/passwd',
      /certificate-authority \(a file; use certificate-authority-data\)/,
    ],
  ] as const) {
    it(`refuses ${name}, saying what to use instead, before anything runs or is read`, () => {
      assert.throws(
        () => connectionFromSecret(withUser(user, cluster), what),
        (err: Error & { hint?: string }) => {
          invalid(field)(err);
          assert.match(err.message, /Secret apps\/edge/);
          assert.match(
            err.hint ?? '',
            /only static credentials: token, client-certificate-data with client-key-data, certificate-authority-data/,
          );
          return true;
        },
      );
      assert.equal(existsSync(marker), false);
    });
  }

  for (const [name, yaml, pattern] of [
    ['not YAML', 'clusters: [', /not valid YAML/],
    ['not a mapping', '- a\n- b\n', /not a kubeconfig/],
    ['no current-context', withUser('token: t').replace('current-context: edge', ''), /no current-context/],
    ['a proxy', withUser('token: t', 'server: https://edge.example.com, proxy-url: http://proxy:3128'), /proxy-url/],
    ['a server that is no URL', withUser('token: t', 'server: "not a url"'), /invalid server URL/],
    ['a host:port without a scheme', withUser('token: t', 'server: edge.example.com:6443'), /must be an https:\/\/ URL/],
    ['credentials in the server URL', withUser('token: t', 'server: https://u:p@edge.example.com'), /may not carry credentials/],
    ['another scheme', withUser('token: t', 'server: file:///etc/passwd'), /must be an https:\/\/ URL/],
    [
      'insecure with a CA',
      withUser('token: t', 'server: https://e.example.com, insecure-skip-tls-verify: true, certificate-authority-data: eA=='),
      /both insecure-skip-tls-verify and a certificate authority/,
    ],
    [
      'CA data that is not base64',
      withUser('token: t', 'server: https://e.example.com, certificate-authority-data: "not base64!"'),
      /certificate-authority-data is not base64/,
    ],
    [
      'CA data that is not PEM',
      withUser('token: t', 'server: https://e.example.com, certificate-authority-data: aGVsbG8='),
      /does not decode to PEM/,
    ],
    [
      'a certificate without its key',
      withUser(`client-certificate-data: ${Buffer.from(text('tls/client.crt')).toString('base64')}`),
      /needs its key/,
    ],
    [
      'two ways to authenticate',
      withUser('token: t, username: u, password: p'),
      /more than one way to authenticate \(token, username\/password\)/,
    ],
    [
      'a name twice',
      `${withUser('token: t')}\n`.replace(
        'clusters: [{name: edge, cluster: {server: https://edge.example.com}}]',
        'clusters: [{name: edge, cluster: {server: "https://a"}}, {name: edge, cluster: {server: "https://b"}}]',
      ),
      /clusters has "edge" twice/,
    ],
    ['a field of the wrong type', withUser('token: 42'), /users\["edge-admin"\]\.token is not a string/],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.throws(() => connectionFromSecret(yaml, what), invalid(pattern));
    });
  }
});

describe('the REST client over a resolved connection', () => {
  // A TLS server that wants a client certificate but accepts requests without one.
  const seen: Array<{ headers: IncomingHttpHeaders; clientCN: string | undefined }> = [];
  const server = createServer(
    { key: text('tls/server.key'), cert: text('tls/server.crt'), ca: text('tls/ca.crt'), requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
      seen.push({ headers: req.headers, clientCN: typeof peer?.subject?.CN === 'string' ? peer.subject.CN : undefined });
      res.setHeader('content-type', 'application/json');
      res.end('{"kind":"Status","status":"Success"}');
    },
  );
  const listening = new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`https://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
  after(() => server.close());

  const call = async (connection: KubeConnection) => {
    const rest = new KubeRest(connection);
    try {
      await rest.request({ method: 'GET', path: '/version' });
    } finally {
      await rest.close();
    }
    return seen.at(-1);
  };
  const withServer = async (yaml: string) =>
    yaml.replaceAll('https://127.0.0.1:6443/', `${await listening}/`).replaceAll('https://lab.example.com:6443', await listening);

  it('presents the client certificate and checks the server against the CA and tls-server-name', async () => {
    const c = connectionFromText(await withServer(text('operator.yaml')), { dir: FIXTURES });
    const got = await call(c);
    assert.equal(got?.clientCN, 'jane');
    assert.equal(got?.headers.authorization, undefined);
  });

  it('sends the bearer token and the impersonation headers', async () => {
    const got = await call(connectionFromText(await withServer(text('operator.yaml')), { dir: FIXTURES, context: 'robot@lab' }));
    assert.equal(got?.headers.authorization, 'Bearer robot-token');
    assert.equal(got?.headers['impersonate-user'], 'alice');
    assert.equal(got?.headers['impersonate-group'], 'ops, audit');
    assert.equal(got?.clientCN, undefined);
  });

  it('refuses a server whose certificate does not name tls-server-name', async () => {
    const yaml = (await withServer(text('operator.yaml'))).replace('tls-server-name: kubernetes.test', 'tls-server-name: other.test');
    await assert.rejects(
      call(connectionFromText(yaml, { dir: FIXTURES })),
      (err: Error & { code?: string }) => err.code === 'APIServerUnreachable',
    );
  });
});
