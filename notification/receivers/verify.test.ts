import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { imageMatches, registryPushes, splitImage } from './registry-events.ts';
import { verifyCall, webhookPath, type Verdict, type WebhookCall } from './verify.ts';

const TOKEN = 'a-shared-secret';
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const sign = (algorithm: string, body: Buffer, key = TOKEN) => createHmac(algorithm, key).update(body).digest('hex');
const call = (body: Buffer, headers: Record<string, string>): WebhookCall => ({ body, headers });
const kind = (verdict: Verdict) => (verdict.kind === 'accepted' ? 'accepted' : `${verdict.kind}: ${verdict.why}`);

test('webhookPath is /hook/ + sha256(token + name + namespace), as Flux derives it', () => {
  const expected = createHash('sha256').update(`${TOKEN}webapps`).digest('hex');
  assert.equal(webhookPath(TOKEN, 'web', 'apps'), `/hook/${expected}`);
  assert.notEqual(webhookPath(TOKEN, 'web', 'apps'), webhookPath(`${TOKEN}x`, 'web', 'apps'));
});

test('github: X-Hub-Signature-256 over the exact body; ping answered; the event filter; the delivery id', () => {
  const body = fixture('github-push.json');
  const good = { 'x-hub-signature-256': `sha256=${sign('sha256', body)}`, 'x-github-event': 'push', 'x-github-delivery': 'd-1' };
  assert.deepEqual(verifyCall('github', call(body, good), TOKEN, ['push']), {
    kind: 'accepted',
    event: 'push',
    deliveries: ['d-1'],
    pushes: undefined,
  });
  const table: [string, Record<string, string>, Buffer, string][] = [
    ['no signature', { 'x-github-event': 'push' }, body, 'unauthorized: x-hub-signature-256 is missing'],
    [
      'another key',
      { ...good, 'x-hub-signature-256': `sha256=${sign('sha256', body, 'other')}` },
      body,
      'unauthorized: x-hub-signature-256 does not match',
    ],
    [
      'sha1 only',
      { ...good, 'x-hub-signature-256': `sha1=${sign('sha1', body)}` },
      body,
      'unauthorized: x-hub-signature-256 is not sha256=<hex>',
    ],
    ['one byte changed', good, Buffer.concat([body, Buffer.from(' ')]), 'unauthorized: x-hub-signature-256 does not match'],
    ['a short digest', { ...good, 'x-hub-signature-256': 'sha256=abcd' }, body, 'unauthorized: x-hub-signature-256 does not match'],
    ['not hex', { ...good, 'x-hub-signature-256': `sha256=${'z'.repeat(64)}` }, body, 'unauthorized: x-hub-signature-256 does not match'],
    ['ping', { ...good, 'x-github-event': 'ping' }, body, 'ignored: ping answered'],
    ['an event not listed', { ...good, 'x-github-event': 'release' }, body, 'ignored: event not in spec.events'],
  ];
  for (const [what, headers, sent, expected] of table)
    assert.equal(kind(verifyCall('github', call(sent, headers), TOKEN, ['push'])), expected, what);
  // Without an events filter every signed event is accepted.
  assert.equal(kind(verifyCall('github', call(body, { ...good, 'x-github-event': 'release' }), TOKEN, [])), 'accepted');
});

test('gitlab: X-Gitlab-Token equals the token; X-Gitlab-Event filtered', () => {
  const body = Buffer.from('{"object_kind":"push"}');
  const headers = { 'x-gitlab-token': TOKEN, 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'u-1' };
  assert.deepEqual(verifyCall('gitlab', call(body, headers), TOKEN, ['Push Hook']), {
    kind: 'accepted',
    event: 'Push Hook',
    deliveries: ['u-1'],
    pushes: undefined,
  });
  assert.equal(
    kind(verifyCall('gitlab', call(body, { ...headers, 'x-gitlab-token': `${TOKEN}x` }), TOKEN, [])),
    'unauthorized: X-Gitlab-Token does not match',
  );
  assert.equal(
    kind(verifyCall('gitlab', call(body, { 'x-gitlab-event': 'Push Hook' }), TOKEN, [])),
    'unauthorized: X-Gitlab-Token does not match',
  );
  assert.equal(
    kind(verifyCall('gitlab', call(body, { ...headers, 'x-gitlab-event': 'Tag Push Hook' }), TOKEN, ['Push Hook'])),
    'ignored: event not in spec.events',
  );
});

test('gitea: the bare hex HMAC in X-Gitea-Signature', () => {
  const body = fixture('github-push.json');
  const headers = { 'x-gitea-signature': sign('sha256', body), 'x-gitea-event': 'push', 'x-gitea-delivery': 'g-1' };
  assert.equal(kind(verifyCall('gitea', call(body, headers), TOKEN, ['push'])), 'accepted');
  assert.equal(
    kind(verifyCall('gitea', call(body, { ...headers, 'x-gitea-signature': sign('sha256', body, 'x') }), TOKEN, [])),
    'unauthorized: X-Gitea-Signature does not match',
  );
  assert.equal(kind(verifyCall('gitea', call(body, { 'x-gitea-event': 'push' }), TOKEN, [])), 'unauthorized: X-Gitea-Signature is missing');
});

test('bitbucket (server): sha256= HMAC in X-Hub-Signature; the diagnostics ping answered', () => {
  const body = Buffer.from('{"eventKey":"repo:refs_changed"}');
  const headers = { 'x-hub-signature': `sha256=${sign('sha256', body)}`, 'x-event-key': 'repo:refs_changed', 'x-request-id': 'b-1' };
  assert.equal(kind(verifyCall('bitbucket', call(body, headers), TOKEN, ['repo:refs_changed'])), 'accepted');
  assert.equal(
    kind(verifyCall('bitbucket', call(body, { ...headers, 'x-event-key': 'diagnostics:ping' }), TOKEN, [])),
    'ignored: ping answered',
  );
  assert.equal(kind(verifyCall('bitbucket', call(Buffer.from('{}'), headers), TOKEN, [])), 'unauthorized: x-hub-signature does not match');
});

test('generic: the path is the secret; generic-hmac: X-Signature with sha1, sha256 or sha512', () => {
  const body = Buffer.from('{"anything":true}');
  assert.equal(kind(verifyCall('generic', call(body, {}), TOKEN, [])), 'accepted');
  for (const algorithm of ['sha1', 'sha256', 'sha512']) {
    const headers = { 'x-signature': `${algorithm}=${sign(algorithm, body)}` };
    assert.equal(kind(verifyCall('generic-hmac', call(body, headers), TOKEN, [])), 'accepted', algorithm);
    const forged = { 'x-signature': `${algorithm}=${sign(algorithm, body, 'wrong')}` };
    assert.equal(kind(verifyCall('generic-hmac', call(body, forged), TOKEN, [])), 'unauthorized: x-signature does not match', algorithm);
  }
  assert.equal(
    kind(verifyCall('generic-hmac', call(body, { 'x-signature': `md5=${sign('md5', body)}` }), TOKEN, [])),
    'unauthorized: x-signature is not sha1=<hex> or sha256=<hex> or sha512=<hex>',
  );
  assert.equal(kind(verifyCall('generic-hmac', call(body, {}), TOKEN, [])), 'unauthorized: x-signature is missing');
});

test("distribution: the registry's envelope, tag pushes only (no blobs, no pulls), each with its event id", () => {
  const verdict = verifyCall('distribution', call(fixture('distribution-push.json'), {}), TOKEN, []);
  assert.deepEqual(verdict, {
    kind: 'accepted',
    event: undefined,
    deliveries: [],
    pushes: [{ repository: { host: undefined, path: 'team/app' }, id: 'asdf-asdf-asdf-asdf-1' }],
  });
  assert.equal(kind(verifyCall('distribution', call(Buffer.from('{"events":[]}'), {}), TOKEN, [])), 'ignored: no tag push in the call');
  assert.equal(kind(verifyCall('distribution', call(Buffer.from('not json'), {}), TOKEN, [])), 'bad-request: the body is not JSON');
  assert.equal(kind(verifyCall('distribution', call(Buffer.from('{"events":{}}'), {}), TOKEN, [])), 'bad-request: events is not a list');
});

test('dockerhub, quay, harbor and ghcr payloads name the pushed repository with its registry', () => {
  const repos = (type: Parameters<typeof registryPushes>[0], name: string) => {
    const read = registryPushes(type, fixture(name));
    assert.ok(read.ok, name);
    return read.pushes.map((p) => `${p.repository.host}/${p.repository.path}`);
  };
  assert.deepEqual(repos('dockerhub', 'dockerhub-push.json'), ['docker.io/svendowideit/testhook']);
  assert.deepEqual(repos('quay', 'quay-push.json'), ['quay.io/mynamespace/repository']);
  assert.deepEqual(repos('harbor', 'harbor-push.json'), ['harbor.example.com/library/app']);
  assert.deepEqual(repos('ghcr', 'ghcr-package.json'), ['ghcr.io/org/app']);
  // Harbor's Authorization header carries the token; ghcr is signed as GitHub.
  const harbor = fixture('harbor-push.json');
  assert.equal(kind(verifyCall('harbor', call(harbor, { authorization: TOKEN }), TOKEN, [])), 'accepted');
  assert.equal(
    kind(verifyCall('harbor', call(harbor, { authorization: 'guess' }), TOKEN, [])),
    'unauthorized: Authorization does not match',
  );
  const ghcr = fixture('ghcr-package.json');
  const signed = { 'x-hub-signature-256': `sha256=${sign('sha256', ghcr)}`, 'x-github-event': 'package', 'x-github-delivery': 'p-1' };
  assert.equal(kind(verifyCall('ghcr', call(ghcr, signed), TOKEN, [])), 'accepted');
  assert.equal(
    kind(verifyCall('ghcr', call(ghcr, { 'x-github-event': 'package' }), TOKEN, [])),
    'unauthorized: x-hub-signature-256 is missing',
  );
});

test('an ImageRepository image matches a pushed repository by path, and by registry when the payload names one', () => {
  assert.deepEqual(splitImage('nginx'), { host: 'docker.io', path: 'library/nginx' });
  assert.deepEqual(splitImage('127.0.0.1:5000/team/app'), { host: '127.0.0.1:5000', path: 'team/app' });
  assert.deepEqual(splitImage('index.docker.io/org/app'), { host: 'docker.io', path: 'org/app' });
  assert.ok(imageMatches('127.0.0.1:5000/team/app', { host: undefined, path: 'team/app' }));
  assert.ok(!imageMatches('127.0.0.1:5000/team/other', { host: undefined, path: 'team/app' }));
  assert.ok(!imageMatches('127.0.0.1:5000/team/app-2', { host: undefined, path: 'team/app' }));
  assert.ok(imageMatches('ghcr.io/org/app', { host: 'ghcr.io', path: 'org/app' }));
  assert.ok(!imageMatches('quay.io/org/app', { host: 'ghcr.io', path: 'org/app' }));
  assert.ok(imageMatches('nginx', { host: 'docker.io', path: 'library/nginx' }));
});
