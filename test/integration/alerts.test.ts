import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgent, type RunningAgent } from '../../agent/index.ts';
import { startAlerting, type RunningAlerting } from '../../notification/alerts/dispatch.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { EventRecorder } from '../../shared/kube/events.ts';
import { systemClock } from '../../shared/time/clock.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers, type GitServers } from '../harness/git.ts';
import { configMapYaml } from '../harness/manifests.ts';
import { waitFor } from '../harness/process.ts';
import { templateEngine } from '../harness/template-engine.ts';
import { applyCd, condition, installCrds, testClient, testLogger, waitForCd } from '../harness/tidemark.ts';

/**
 * Alerts on the real servers: the agent fails and succeeds for real, records its Events, and the
 * alerting watches them and posts to HTTP servers on loopback, which check what arrives — a
 * generic-hmac signature over the exact body, and a commit status on the synced commit in the
 * GitHub API's shape (a GitHub Enterprise address, so the server is ours), and messages an
 * Alert's spec.messageTemplate rendered (Go's engine as WebAssembly) or, when it failed, the plain one.
 */

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function receiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(201).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const API = '/apis/tidemark.dev/v1alpha1';
const KEY = 'hmac-key-for-the-alert-test';
// Sets TIDEMARK_TEMPLATE_MODULE to a build of this checkout's Go sources (the event model).
const engine = templateEngine();
const TEMPLATE = '{{ .InvolvedObject.Kind }}/{{ .InvolvedObject.Name }} failed ({{ .Reason }}, {{ .Metadata.env }}): {{ .Message }}';

describe('alerts: Events of a real sync reach real HTTP providers', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let git: GitServers;
  let agent: RunningAgent | undefined;
  let alerting: RunningAlerting | undefined;
  let hooks: Awaited<ReturnType<typeof receiver>>;
  let ns = '';
  let apps = '';
  let cacheDir = '';

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    git = await startGitServers({ http: false });
    ns = await cluster.createNamespace('alerts');
    apps = await cluster.createNamespace('alerts-apps');
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-alerts-'));
    hooks = await receiver();
    const apply = (plural: string, name: string, body: object) =>
      kube.rest.request({
        method: 'PATCH',
        path: `${API}/namespaces/${ns}/${plural}/${name}`,
        query: { fieldManager: 'tidemark-test', force: true },
        contentType: 'application/apply-patch+yaml',
        body,
      });
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hook' }, stringData: { token: KEY, address: `${hooks.url}/hmac` } },
    });
    const kind = (k: string) => ({ apiVersion: 'tidemark.dev/v1alpha1', kind: k });
    const templated: Array<readonly ['providers' | 'alerts', string]> = [];
    if (!engine.skip) {
      await kube.rest.request({
        method: 'POST',
        path: `/api/v1/namespaces/${ns}/secrets`,
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'hook-templated' },
          stringData: { token: KEY, address: `${hooks.url}/templated` },
        },
      });
      await apply('providers', 'templated', {
        ...kind('Provider'),
        metadata: { name: 'templated' },
        spec: { type: 'generic-hmac', secretRef: { name: 'hook-templated' } },
      });
      await apply('providers', 'plain', {
        ...kind('Provider'),
        metadata: { name: 'plain' },
        spec: { type: 'generic', address: `${hooks.url}/plain` },
      });
      const failures = { eventSeverity: 'error', eventSources: [{ kind: 'ContinuousDeployment', name: 'broken' }] };
      await apply('alerts', 'templated', {
        ...kind('Alert'),
        metadata: { name: 'templated' },
        spec: { providerRef: { name: 'templated' }, ...failures, eventMetadata: { env: 'test' }, messageTemplate: TEMPLATE },
      });
      // Parses, but fails for every event (a string has no fields): the plain message goes out.
      await apply('alerts', 'template-fails', {
        ...kind('Alert'),
        metadata: { name: 'template-fails' },
        spec: { providerRef: { name: 'plain' }, ...failures, messageTemplate: '{{ .Message.nope }}' },
      });
      templated.push(['providers', 'templated'], ['providers', 'plain'], ['alerts', 'templated'], ['alerts', 'template-fails']);
    }
    await apply('providers', 'signed', {
      ...kind('Provider'),
      metadata: { name: 'signed' },
      spec: { type: 'generic-hmac', secretRef: { name: 'hook' } },
    });
    await apply('providers', 'forge', {
      ...kind('Provider'),
      metadata: { name: 'forge' },
      spec: { type: 'github', address: `${hooks.url}/org/app` },
    });
    await apply('alerts', 'failures', {
      ...kind('Alert'),
      metadata: { name: 'failures' },
      spec: { providerRef: { name: 'signed' }, eventSeverity: 'error', eventSources: [{ kind: 'ContinuousDeployment', name: '*' }] },
    });
    await apply('alerts', 'statuses', {
      ...kind('Alert'),
      metadata: { name: 'statuses' },
      spec: {
        providerRef: { name: 'forge' },
        eventSources: [{ kind: 'ContinuousDeployment', name: 'good' }],
        eventMetadata: { env: 'test' },
      },
    });
    alerting = startAlerting({
      port: kube.port,
      clock: systemClock,
      log: testLogger(),
      workers: 2,
      namespace: ns,
      events: new EventRecorder(kube.rest, { component: 'tidemark-notification', clock: systemClock, log: testLogger() }),
    });
    await waitFor(() => Promise.resolve(alerting?.ready() === true), { timeoutMs: 30_000, what: 'alerting listed' });
    for (const [plural, name] of [
      ['providers', 'signed'],
      ['providers', 'forge'],
      ['alerts', 'failures'],
      ['alerts', 'statuses'],
      ...templated,
    ] as const) {
      await waitFor(
        async () => {
          const obj = await kube.rest.request<{ status?: { conditions?: Array<{ type: string; status: string }> } }>({
            method: 'GET',
            path: `${API}/namespaces/${ns}/${plural}/${name}`,
          });
          return obj.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        },
        { timeoutMs: 30_000, what: `${plural}/${name} Ready` },
      );
    }
    agent = await startAgent({
      allowLocalGit: true,
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: ns,
      cacheDir,
      log: testLogger(),
      workers: 2,
    });
  });

  after(async () => {
    await agent?.stop();
    await alerting?.stop();
    await new Promise((resolve) => hooks?.server.close(resolve));
    await git?.stop();
    await kube?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it('a failing sync reaches the generic-hmac provider, signed over the exact body', async () => {
    await applyCd(kube, {
      metadata: { name: 'broken', namespace: ns },
      spec: { url: git.repos.fileUrl('no-such-repository'), path: '.', pullInterval: '1h', targetNamespace: apps },
    });
    await waitForCd(kube, ns, 'broken', (c) => condition(c, 'Ready')?.status === 'False', 'failed sync');
    await waitFor(() => Promise.resolve(hooks.received.some((r) => r.path === '/hmac')), {
      timeoutMs: 30_000,
      what: 'the alert delivered',
    });
    // Every message is signed over its exact bytes (a retried sync may add another; dedupe has unit tests).
    const delivered = hooks.received.filter((r) => r.path === '/hmac');
    for (const each of delivered) {
      const signature = String(each.headers['x-signature'] ?? '');
      const expected = `sha256=${createHmac('sha256', KEY).update(each.body).digest('hex')}`;
      assert.ok(signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected)), 'valid signature');
    }
    const [message] = delivered as [Received];
    const event = JSON.parse(message.body) as {
      involvedObject: { name: string; kind: string };
      severity: string;
      reason: string;
      message: string;
    };
    assert.deepEqual([event.involvedObject.kind, event.involvedObject.name, event.severity], ['ContinuousDeployment', 'broken', 'error']);
    assert.match(event.reason, /^Git/);
    assert.ok(!message.body.includes(KEY), 'the key is never sent');
  });

  it(
    'the templated alert sends its rendered message, signed; the failing template sends the plain one and says why',
    { skip: engine.skip },
    async () => {
      // The broken deployment of the first test fails again on each retry; its first failure suffices.
      await waitFor(() => Promise.resolve(['/templated', '/plain'].every((path) => hooks.received.some((r) => r.path === path))), {
        timeoutMs: 30_000,
        what: 'both templated alerts delivered',
      });
      const [rendered] = hooks.received.filter((r) => r.path === '/templated') as [Received];
      const expected = `sha256=${createHmac('sha256', KEY).update(rendered.body).digest('hex')}`;
      assert.equal(rendered.headers['x-signature'], expected, 'signed over the body with the rendered message');
      const event = JSON.parse(rendered.body) as { message: string; reason: string; involvedObject: { name: string } };
      assert.equal(event.involvedObject.name, 'broken');
      assert.ok(event.message.startsWith(`ContinuousDeployment/broken failed (${event.reason}, test): `), event.message);
      assert.ok(event.message.length > `ContinuousDeployment/broken failed (${event.reason}, test): `.length, 'the event message follows');

      const [plain] = hooks.received.filter((r) => r.path === '/plain') as [Received];
      const sent = JSON.parse(plain.body) as { message: string; reason: string };
      assert.ok(!sent.message.includes('failed ('), 'the plain message, not a rendering');
      assert.match(sent.reason, /^Git/);
      await waitFor(
        async () => {
          const alert = await kube.rest.request<{
            status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
          }>({
            method: 'GET',
            path: `${API}/namespaces/${ns}/alerts/template-fails`,
          });
          const c = alert.status?.conditions?.find((x) => x.type === 'MessageTemplate');
          return c?.status === 'False' && c.reason === 'AlertTemplateFailed' && /can't evaluate field nope/.test(c.message);
        },
        { timeoutMs: 30_000, what: 'MessageTemplate=False AlertTemplateFailed on the Alert' },
      );
      await waitFor(
        async () => {
          const list = await kube.rest.request<{
            items: Array<{ reason: string; type: string; involvedObject: { kind: string; name: string } }>;
          }>({
            method: 'GET',
            path: `/api/v1/namespaces/${ns}/events`,
          });
          return list.items.some(
            (e) =>
              e.reason === 'AlertTemplateFailed' &&
              e.type === 'Warning' &&
              e.involvedObject.kind === 'Alert' &&
              e.involvedObject.name === 'template-fails',
          );
        },
        { timeoutMs: 30_000, what: 'a Warning AlertTemplateFailed Event about the Alert' },
      );
    },
  );

  it('a successful sync posts a success status on the synced commit, and info events never reach an error alert', async () => {
    const sha = await git.repos.createRepo('good', { 'deploy/cm.yaml': configMapYaml('good', { ok: 'yes' }) }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'good', namespace: ns },
      spec: { url: git.repos.fileUrl('good'), git: { branch: 'main' }, path: 'deploy', pullInterval: '1h', targetNamespace: apps },
    });
    await waitForCd(kube, ns, 'good', (c) => condition(c, 'Ready')?.status === 'True', 'synced');
    const statusPath = `/api/v3/repos/org/app/statuses/${sha}`;
    await waitFor(() => Promise.resolve(hooks.received.some((r) => r.path === statusPath)), {
      timeoutMs: 30_000,
      what: 'the commit status',
    });
    const status = hooks.received.find((r) => r.path === statusPath);
    const body = JSON.parse(status?.body ?? '{}') as { state: string; context: string };
    assert.deepEqual([body.state, body.context], ['success', `tidemark/${ns}/good`]);
    const aboutGood = hooks.received.filter((r) => r.path === '/hmac' && r.body.includes('"name":"good"'));
    assert.deepEqual(aboutGood, [], 'the error alert sent nothing for a success');
  });
});
