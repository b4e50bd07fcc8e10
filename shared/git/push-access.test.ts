import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probePushAccess, pushAccessOfStatus } from './push-access.ts';

test('the receive-pack discovery’s status says whether the credential may push', () => {
  assert.deepEqual(pushAccessOfStatus(200), { writable: true, reason: undefined });
  assert.equal(pushAccessOfStatus(401).writable, false);
  assert.match(pushAccessOfStatus(403).reason ?? '', /may read the repository but not push/);
  assert.equal(pushAccessOfStatus(404).writable, false);
  // A redirect or a server error says nothing about the credential: the push will tell.
  assert.equal(pushAccessOfStatus(302).writable, undefined);
  assert.equal(pushAccessOfStatus(503).writable, undefined);
});

test('over HTTP the probe asks for receive-pack with the credential, and no secret reaches the reason', async (t) => {
  const seen: Array<{ url: string; authorization: string | undefined }> = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    const writer = req.headers.authorization === `Basic ${Buffer.from('writer:w-secret').toString('base64')}`;
    res.writeHead(writer ? 200 : 403, { 'content-type': 'text/plain' }).end(writer ? '' : 'push not allowed');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/shop.git`;
  assert.deepEqual(await probePushAccess(url, { username: 'writer', password: 'w-secret' }), { writable: true, reason: undefined });
  const reader = await probePushAccess(`${url}/`, { username: 'reader', password: 'r-secret' });
  assert.equal(reader.writable, false);
  assert.ok(!JSON.stringify(reader).includes('r-secret'));
  assert.deepEqual(
    seen.map((s) => s.url),
    ['/shop.git/info/refs?service=git-receive-pack', '/shop.git/info/refs?service=git-receive-pack'],
  );
});

test('over HTTP a server that does not answer is "unknown", not "read-only"', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const answer = await probePushAccess(`http://127.0.0.1:${port}/x.git`, undefined);
  assert.equal(answer.writable, undefined);
});

test('without HTTP the probe is a dry-run push: it reaches receive-pack and writes nothing', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'tidemark-probe-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const bare = join(root, 'origin.git');
  execFileSync('git', ['init', '--quiet', '--bare', bare]);
  assert.deepEqual(await probePushAccess(`file://${bare}`, undefined), { writable: true, reason: undefined });
  assert.equal(execFileSync('git', ['for-each-ref'], { cwd: bare, encoding: 'utf8' }), '', 'nothing was pushed');
  const missing = await probePushAccess(`file://${join(root, 'nothing.git')}`, undefined);
  assert.equal(missing.writable, false);
});
