import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { API_VERSION, Annotations } from '../../shared/api/constants.ts';
import type { ReceiverStatus } from '../../shared/api/receiver.ts';
import { Resources } from '../../shared/api/resources.ts';
import { FakeKubePort } from '../../shared/kube/fake-port.ts';
import { silentLogger } from '../../shared/log/index.ts';
import { registry } from '../../shared/metrics/index.ts';
import { parseTextFormat } from '../../shared/metrics/text-format.ts';
import { FakeClock } from '../../shared/time/fake-clock.ts';
import { ReceiverController, type ReceiverObject } from './controller.ts';
import { ReceiverEndpoint, serveReceivers } from './server.ts';
import { webhookPath } from './verify.ts';

const NS = 'apps';
const TOKEN = 'the-token';
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

function setup(spec: Record<string, unknown>, options: { rateLimit?: { burst: number; perSecond: number } } = {}) {
  const kube = new FakeKubePort([Resources.Receiver, Resources.ImageRepository]);
  const clock = new FakeClock(Date.UTC(2026, 11, 6));
  kube.seed({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'hook', namespace: NS },
    data: { token: Buffer.from(TOKEN).toString('base64') },
  });
  const cd = (name: string, labels: Record<string, string> = {}, image?: string) =>
    kube.seed({
      apiVersion: API_VERSION,
      kind: 'ContinuousDeployment',
      metadata: { name, namespace: NS, labels },
      spec: { url: 'file:///r', ...(image ? { imageRepository: { image } } : {}) },
    });
  const repo = (name: string, image: string) =>
    kube.seed({ apiVersion: API_VERSION, kind: 'ImageRepository', metadata: { name, namespace: NS }, spec: { image } });
  const receiver = kube.seed({ apiVersion: API_VERSION, kind: 'Receiver', metadata: { name: 'hook', namespace: NS, generation: 1 }, spec });
  const events: string[] = [];
  const recorder = {
    record: (object: { name: string }, type: string, reason: string, message: string) => {
      events.push(`${type} ${reason} ${object.name}: ${message}`);
      return Promise.resolve();
    },
  };
  const controller = new ReceiverController({ port: kube, clock, log: silentLogger, workers: 1, events: recorder });
  const endpoint = new ReceiverEndpoint({ routes: controller, kube, clock, log: silentLogger, ...options });
  return { kube, clock, controller, endpoint, receiver: receiver as ReceiverObject, cd, repo, events };
}

const requestedAt = (kube: FakeKubePort, kind: string, name: string) =>
  kube.peek(API_VERSION, kind, NS, name)?.metadata.annotations?.[Annotations.requestedAt];
const status = (kube: FakeKubePort) => kube.peek(API_VERSION, 'Receiver', NS, 'hook')?.status as ReceiverStatus | undefined;
const github = {
  type: 'github',
  events: ['push'],
  secretRef: { name: 'hook' },
  resources: [{ kind: 'ContinuousDeployment', name: 'web' }],
};

function signed(body: Buffer, delivery: string): Record<string, string> {
  const signature = createHmac('sha256', TOKEN).update(body).digest('hex');
  return { 'x-hub-signature-256': `sha256=${signature}`, 'x-github-event': 'push', 'x-github-delivery': delivery };
}

async function call(endpoint: ReceiverEndpoint, path: string, headers: Record<string, string>, body: Buffer) {
  const admitted = endpoint.admit('POST', path);
  if ('answer' in admitted) return admitted.answer;
  return endpoint.answer(admitted.route, headers, body);
}

test('a Receiver is served at /hook/sha256(token+name+namespace), written to status with Ready', async () => {
  const { kube, controller, receiver, events } = setup(github);
  await controller.reconcile(receiver);
  await controller.reconcile(receiver);
  const path = webhookPath(TOKEN, 'hook', NS);
  assert.deepEqual(events, [`Normal ReconciliationSucceeded hook: Receiver initialized for path ${path}`], 'one Event, not one per resync');
  assert.equal(status(kube)?.webhookPath, path);
  assert.equal(status(kube)?.observedGeneration, 1);
  const ready = status(kube)?.conditions?.find((c) => c.type === 'Ready');
  assert.deepEqual(
    [ready?.status, ready?.reason, ready?.message],
    ['True', 'ReconciliationSucceeded', `Receiver initialized for path ${path}`],
  );
  assert.equal(controller.route(path)?.key, `${NS}/hook`);
  assert.equal(controller.route(webhookPath('guess', 'hook', NS)), undefined);
});

test('a missing Secret or token key, or an invalid spec: Ready=False with the reason, and no path served', async () => {
  const missing = setup({ ...github, secretRef: { name: 'nope' } });
  await missing.controller.reconcile(missing.receiver);
  const ready = status(missing.kube)?.conditions?.find((c) => c.type === 'Ready');
  assert.deepEqual([ready?.status, ready?.reason], ['False', 'SecretNotFound']);
  assert.equal(status(missing.kube)?.webhookPath, undefined);
  assert.deepEqual(missing.events, [`Warning SecretNotFound hook: Secret ${NS}/nope (spec.secretRef) not found`]);

  const invalid = setup({ ...github, type: 'svn' });
  await invalid.controller.reconcile(invalid.receiver);
  const conditions = status(invalid.kube)?.conditions ?? [];
  assert.deepEqual(
    conditions.map((c) => [c.type, c.status, c.reason]),
    [
      ['Ready', 'False', 'InvalidSpec'],
      ['Stalled', 'True', 'InvalidSpec'],
    ],
  );
  assert.equal(invalid.controller.route(webhookPath(TOKEN, 'hook', NS)), undefined);
});

test('a rotated token moves the path: the old one answers 404', async () => {
  const { kube, controller, receiver, endpoint, cd } = setup(github);
  cd('web');
  await controller.reconcile(receiver);
  const old = webhookPath(TOKEN, 'hook', NS);
  kube.seed({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'hook', namespace: NS },
    data: { token: Buffer.from('new').toString('base64') },
  });
  await controller.reconcile(receiver);
  assert.equal(status(kube)?.webhookPath, webhookPath('new', 'hook', NS));
  const answer = await call(endpoint, old, signed(Buffer.from('{}'), 'x'), Buffer.from('{}'));
  assert.deepEqual([answer.status, answer.result], [404, 'not_found']);
});

test('github: a signed push annotates the CD; a forged one is 401 and writes nothing; a redelivery is a replay', async () => {
  const { kube, controller, receiver, endpoint, cd, clock } = setup(github);
  cd('web');
  await controller.reconcile(receiver);
  const path = webhookPath(TOKEN, 'hook', NS);
  const body = fixture('github-push.json');

  const writesBefore = kube.writes().length;
  const forged = await call(endpoint, path, { ...signed(body, 'd-0'), 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, body);
  assert.deepEqual([forged.status, forged.result], [401, 'unauthorized']);
  assert.equal(kube.writes().length, writesBefore);
  assert.equal(requestedAt(kube, 'ContinuousDeployment', 'web'), undefined);

  const ok = await call(endpoint, path, signed(body, 'd-1'), body);
  assert.deepEqual([ok.status, ok.result, ok.text], [200, 'accepted', 'reconcile requested for 1 object']);
  assert.equal(requestedAt(kube, 'ContinuousDeployment', 'web'), new Date(clock.now()).toISOString());
  // The agent's sync history calls this sync a webhook by the receiver's name.
  assert.equal(
    kube.peek(API_VERSION, 'ContinuousDeployment', NS, 'web')?.metadata.annotations?.[Annotations.requestedBy],
    `receiver/${NS}/hook`,
  );

  await clock.advance(5_000);
  const again = await call(endpoint, path, signed(body, 'd-1'), body);
  assert.deepEqual([again.status, again.result], [200, 'replayed']);
  assert.equal(requestedAt(kube, 'ContinuousDeployment', 'web'), new Date(clock.now() - 5_000).toISOString());
});

test('name "*" with matchLabels selects by label', async () => {
  const spec = { ...github, resources: [{ kind: 'ContinuousDeployment', name: '*', matchLabels: { team: 'a' } }] };
  const { kube, controller, receiver, endpoint, cd } = setup(spec);
  cd('a1', { team: 'a' });
  cd('a2', { team: 'a' });
  cd('b1', { team: 'b' });
  await controller.reconcile(receiver);
  const body = fixture('github-push.json');
  const answer = await call(endpoint, webhookPath(TOKEN, 'hook', NS), signed(body, 'd-2'), body);
  assert.equal(answer.text, 'reconcile requested for 2 objects');
  assert.ok(requestedAt(kube, 'ContinuousDeployment', 'a1'));
  assert.ok(requestedAt(kube, 'ContinuousDeployment', 'a2'));
  assert.equal(requestedAt(kube, 'ContinuousDeployment', 'b1'), undefined);
});

test('distribution: only ImageRepositories (and inline blocks) of the pushed repository; an event id seen again is a replay', async () => {
  const spec = {
    type: 'distribution',
    secretRef: { name: 'hook' },
    resources: [
      { kind: 'ImageRepository', name: '*' },
      { kind: 'ContinuousDeployment', name: '*' },
    ],
  };
  const { kube, controller, receiver, endpoint, repo, cd } = setup(spec);
  repo('app', '127.0.0.1:5000/team/app');
  repo('other', '127.0.0.1:5000/team/other');
  cd('inline', {}, '127.0.0.1:5000/team/app');
  cd('plain');
  await controller.reconcile(receiver);
  const path = webhookPath(TOKEN, 'hook', NS);
  const answer = await call(endpoint, path, {}, fixture('distribution-push.json'));
  assert.deepEqual([answer.status, answer.result, answer.text], [200, 'accepted', 'reconcile requested for 2 objects']);
  assert.ok(requestedAt(kube, 'ImageRepository', 'app'));
  assert.ok(requestedAt(kube, 'ContinuousDeployment', 'inline'));
  assert.equal(requestedAt(kube, 'ImageRepository', 'other'), undefined);
  assert.equal(requestedAt(kube, 'ContinuousDeployment', 'plain'), undefined);

  const again = await call(endpoint, path, {}, fixture('distribution-push.json'));
  assert.equal(again.result, 'replayed');
  const push = (repository: string) =>
    Buffer.from(JSON.stringify({ events: [{ id: 'e-9', action: 'push', target: { repository, tag: '1.0' } }] }));
  const elsewhere = await call(endpoint, path, {}, push('team/unwatched'));
  assert.deepEqual([elsewhere.status, elsewhere.result], [200, 'unmatched']);
});

test('rate limit per Receiver: 429 with Retry-After once the burst is spent, and tokens come back with time', async () => {
  const { controller, receiver, endpoint, cd, clock } = setup(github, { rateLimit: { burst: 2, perSecond: 0.5 } });
  cd('web');
  await controller.reconcile(receiver);
  const path = webhookPath(TOKEN, 'hook', NS);
  const body = fixture('github-push.json');
  const results = [];
  for (let i = 0; i < 3; i++) results.push(await call(endpoint, path, signed(body, `r-${i}`), body));
  assert.deepEqual(
    results.map((r) => r.status),
    [200, 200, 429],
  );
  assert.deepEqual(results[2]?.headers, { 'retry-after': '2' });
  await clock.advance(2_000);
  assert.equal((await call(endpoint, path, signed(body, 'r-3'), body)).status, 200);
});

test('over HTTP: 413 past the body limit, 405 for GET, 404 for an unknown path; each counted by receiver and result', async () => {
  const { controller, receiver, cd } = setup(github);
  cd('web');
  await controller.reconcile(receiver);
  const kube = new FakeKubePort([Resources.Receiver, Resources.ImageRepository]);
  const endpoint = new ReceiverEndpoint({ routes: controller, kube, clock: new FakeClock(), log: silentLogger, maxBodyBytes: 1024 });
  const server = await serveReceivers('127.0.0.1:0', endpoint, silentLogger);
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const path = webhookPath(TOKEN, 'hook', NS);
    const big = Buffer.alloc(4096, 'a');
    const tooLarge = await fetch(`${base}${path}`, { method: 'POST', body: big, headers: signed(big, 'big') });
    assert.equal(tooLarge.status, 413);
    await tooLarge.text();
    const get = await fetch(`${base}${path}`);
    assert.deepEqual([get.status, get.headers.get('allow')], [405, 'POST']);
    await get.text();
    const unknown = await fetch(`${base}/hook/${'0'.repeat(64)}`, { method: 'POST', body: '{}' });
    assert.equal(unknown.status, 404);
    await unknown.text();
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const samples = parseTextFormat(await registry.metrics()).get('tidemark_webhook_requests_total')?.samples ?? [];
  const count = (receiverLabel: string, result: string) =>
    samples.find((s) => s.labels.receiver === receiverLabel && s.labels.result === result)?.value ?? 0;
  assert.ok(count(`${NS}/hook`, 'too_large') >= 1);
  assert.ok(count(`${NS}/hook`, 'method_not_allowed') >= 1);
  assert.ok(count('unknown', 'not_found') >= 1);
});
