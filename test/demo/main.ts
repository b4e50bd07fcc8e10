/**
 * `npm run demo`: seed 003 end to end on loopback. A real control plane and node, a Git server, a
 * registry; the agent, the image updater and the webhook receiver the registry notifies of each
 * push; new `master-<sha>-<ts>` tags; then the bot commit in `git log`, the new image running and
 * the deployment Healthy. `--keep` leaves everything running.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { main as cli } from '../../cli/main.ts';
import { startAgent } from '../../agent/index.ts';
import { startImageUpdater } from '../../image-updater/index.ts';
import { startNotification, webhookPath } from '../../notification/index.ts';
import { TidemarkError } from '../../shared/errors/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { startControlPlane } from '../harness/control-plane.ts';
import { startNode } from '../harness/node.ts';
import type { TestNode } from '../harness/node.ts';
import { pushAppImage } from '../harness/node-images.ts';
import { startGitServers } from '../harness/git.ts';
import { startRegistry } from '../harness/registry.ts';
import { waitFor } from '../harness/process.ts';
import { freePort } from '../harness/ports.ts';
import { kubectlTools } from '../harness/tools.ts';
import { applyCd, getObject, installCrds, testClient, waitForCd } from '../harness/tidemark.ts';

const { values } = parseArgs({
  options: { keep: { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false } },
});
const say = (line: string) => process.stdout.write(`\n▶ ${line}\n`);
const log = createLogger({ name: 'demo', level: values.verbose ? 'info' : 'warn', destination: process.stderr });

say('Starting a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager)');
const cluster = await startControlPlane({ log: (line) => process.stdout.write(`  ${line}\n`) });
const git = await startGitServers({ http: true, ssh: false });
// The registry posts each push to the Receiver `registry` (created below): its path follows from
// the token, so the registry can be told where before the receiver runs (it retries until then).
const receiverToken = randomBytes(16).toString('hex');
const receiverAddress = `127.0.0.1:${await freePort()}`;
const receiverUrl = `http://${receiverAddress}${webhookPath(receiverToken, 'registry', 'default')}`;
const registry = await startRegistry({ auth: 'none', notifications: { url: receiverUrl } });
const cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-demo-'));
let node: TestNode | undefined;
const stopAll = async () => {
  await Promise.allSettled([agent?.stop(), updater?.stop(), notification?.stop()]);
  await node?.stop();
  await Promise.allSettled([git.stop(), registry.stop()]);
  await cluster.stop();
  await rm(cacheDir, { recursive: true, force: true });
};
let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
let updater: Awaited<ReturnType<typeof startImageUpdater>> | undefined;
let notification: Awaited<ReturnType<typeof startNotification>> | undefined;
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  say('Starting a node (containerd, kubelet, kube-scheduler) that pulls only from the local registry');
  try {
    node = await startNode(cluster, { registry, log: (line) => process.stdout.write(`  ${line}\n`) });
  } catch (err) {
    if (!(err instanceof TidemarkError && err.code === 'NodeUnavailable')) throw err;
    process.stdout.write(`  no node: ${err.message}\n  (Pods stay Pending, so health stays Progressing)\n`);
  }
  await installCrds(cluster);
  const kube = testClient(cluster);
  const http = git.http!;
  const image = `${registry.host}/team/my-app`;
  const tag = () => `master-${randomBytes(4).toString('hex')}-${Date.now()}`;

  say(`Pushing images to the registry at ${registry.url}`);
  const first = tag();
  // Runnable images (busybox httpd); the label gives each tag its own digest, as a CI build would.
  await pushAppImage(registry.url, 'team/my-app', [first], { label: first });
  // The node resolves docker.io's short names in this registry too, so web's nginx:1.27 (and
  // my-app's plain `nginx` before the bot's first commit) run without the internet.
  await pushAppImage(registry.url, 'library/nginx', ['1.27', 'latest']);
  process.stdout.write(`  ${image}:${first}\n  ${registry.host}/library/nginx:1.27 (what nginx:1.27 resolves to on the node)\n`);

  say(`Creating the config repository at ${http.url('config')}`);
  await git.repos.createRepo(
    'config',
    {
      'infrastructure/namespace.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: infra-settings\ndata:\n  region: local\n',
      'infrastructure/web.yaml': deployment('web', 'nginx:1.27'),
      // As most Services on the internet are written: no `protocol`, which server-side apply on
      // a 1.20 API server cannot merge unless the agent fills in the default (issue 17 part 4).
      'infrastructure/web-svc.yaml': service('web'),
    },
    { branch: 'infra' },
  );
  await git.repos.commitFiles(
    'config',
    'image',
    {
      'application/my-app.yaml': deployment('my-app', `nginx # {"$imagepolicy": "default:image-gitops"}`),
    },
    'my-app on the image branch',
  );

  await kube.rest.request({
    method: 'POST',
    path: '/api/v1/namespaces/default/secrets',
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-secret' },
      stringData: { username: http.writer.username, password: http.writer.password },
    },
  });
  say('Applying the two ContinuousDeployments of seed 003');
  await applyCd(kube, {
    metadata: { name: 'infra-gitops', namespace: 'default' },
    spec: {
      repoType: 'git',
      url: http.url('config'),
      secretRef: 'git-secret',
      pullInterval: '10m',
      git: { branch: 'infra' },
      path: './infrastructure',
      prune: true,
    },
  });
  await applyCd(kube, {
    metadata: { name: 'image-gitops', namespace: 'default' },
    spec: {
      repoType: 'git',
      url: http.url('config'),
      secretRef: 'git-secret',
      pullInterval: '10m',
      git: { branch: 'image' },
      path: './application',
      prune: true,
      imageRepository: {
        image,
        insecure: true,
        // An hour: the next tag arrives through the registry's notification to the receiver.
        interval: '1h',
        filterTags: { pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' },
        policy: { numerical: { order: 'asc' } },
        commitMessage: 'Image: {{range .Updated.Images}}{{println .}}{{end}}',
      },
    },
  });

  say(`Creating the Receiver the registry notifies (${receiverUrl})`);
  await kube.rest.request({
    method: 'POST',
    path: '/api/v1/namespaces/default/secrets',
    body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-webhook' }, stringData: { token: receiverToken } },
  });
  await kube.rest.request({
    method: 'POST',
    path: '/apis/tidemark.dev/v1alpha1/namespaces/default/receivers',
    body: {
      apiVersion: 'tidemark.dev/v1alpha1',
      kind: 'Receiver',
      metadata: { name: 'registry' },
      spec: { type: 'distribution', secretRef: { name: 'registry-webhook' }, resources: [{ kind: 'ImageRepository', name: '*' }] },
    },
  });

  say('Starting the agent, the image updater and the webhook receiver');
  const { kubectl } = await kubectlTools();
  agent = await startAgent({
    // The demo serves its repositories from local directories too.
    allowLocalGit: true,
    kubeconfigPath: cluster.kubeconfigPath,
    cacheDir: join(cacheDir, 'agent'),
    kustomizeCommand: [kubectl, 'kustomize'],
    log,
  });
  updater = await startImageUpdater({
    allowLocalGit: true,
    kubeconfigPath: cluster.kubeconfigPath,
    cacheDir: join(cacheDir, 'updater'),
    log,
  });
  notification = await startNotification({ kubeconfigPath: cluster.kubeconfigPath, receiverAddress, log });

  await waitForCd(kube, 'default', 'infra-gitops', (c) => c.status?.sync?.status === 'Synced', 'infra-gitops synced', 180_000);
  const second = tag();
  say(`Pushing a newer tag: ${image}:${second}`);
  await pushAppImage(registry.url, 'team/my-app', [second], { label: second });
  const pushedAt = performance.now();
  await waitFor(
    async () => {
      const live = await getObject(kube, '/apis/apps/v1/namespaces/default/deployments/my-app');
      const containers = (live?.spec as { template?: { spec?: { containers?: Array<{ image: string }> } } } | undefined)?.template?.spec
        ?.containers;
      return containers?.[0]?.image === `${image}:${second}`;
    },
    { timeoutMs: 300_000, intervalMs: 50, what: 'the new image in the cluster' },
  );
  process.stdout.write(
    `  in the cluster's desired state ${((performance.now() - pushedAt) / 1000).toFixed(1)} s after the push ` +
      '(registry notification → receiver → scan → policy → bot commit → sync)\n',
  );

  if (node) {
    say('Waiting for the new Pod to run, then asking the agent to look again: tidemark sync image-gitops --wait');
    await waitFor(
      async () => {
        const live = await getObject(kube, '/apis/apps/v1/namespaces/default/deployments/my-app');
        const status = live?.status as { updatedReplicas?: number; availableReplicas?: number; replicas?: number } | undefined;
        return (
          live?.metadata.generation === (live?.status as { observedGeneration?: number } | undefined)?.observedGeneration &&
          status?.updatedReplicas === 1 &&
          status.availableReplicas === 1 &&
          status.replicas === 1
        );
      },
      { timeoutMs: 300_000, intervalMs: 500, what: 'the new my-app Pod to be available' },
    );
    await cli(['sync', 'image-gitops', '--wait', '-n', 'default', '--kubeconfig', cluster.kubeconfigPath]);
  }

  say('tidemark get cd');
  await cli(['get', 'cd', '-n', 'default', '--kubeconfig', cluster.kubeconfigPath]);
  say('git log --format="%h %an %s" image');
  for (const entry of await git.repos.readLog('config', 'image'))
    process.stdout.write(`  ${entry.sha.slice(0, 7)} ${entry.authorName}  ${entry.message.split('\n')[0]}\n`);
  const bot = (await git.repos.readLog('config', 'image'))[0];
  process.stdout.write(
    `\n  full message of the bot commit:\n${bot?.message
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}\n`,
  );
  say('kubectl get deployment my-app -o jsonpath={..image}');
  const live = await getObject(kube, '/apis/apps/v1/namespaces/default/deployments/my-app');
  const images = (live?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers.map(
    (c) => c.image,
  );
  process.stdout.write(`  ${images.join(' ')}\n`);
  if (node) {
    say('kubectl get pods -l app=my-app');
    const pods = await kube.rest.request<{
      items: Array<{
        metadata: { name: string; deletionTimestamp?: string };
        spec: { nodeName?: string; containers: Array<{ image: string }> };
        status: { phase?: string };
      }>;
    }>({ method: 'GET', path: '/api/v1/namespaces/default/pods', query: { labelSelector: 'app=my-app' } });
    for (const pod of pods.items) {
      // As kubectl shows it: a Pod being deleted still has phase Running.
      const phase = pod.metadata.deletionTimestamp ? 'Terminating' : (pod.status.phase ?? 'Unknown');
      process.stdout.write(`  ${pod.metadata.name}  ${phase}  ${pod.spec.nodeName ?? '-'}  ${pod.spec.containers[0]?.image ?? ''}\n`);
    }
  } else {
    process.stdout.write('  (health stays Progressing here: no node could start, so Pods stay Pending)\n');
  }
  await kube.close();

  if (values.keep) {
    say('Everything keeps running (Ctrl-C stops it):');
    process.stdout.write(
      `  export KUBECONFIG=${cluster.kubeconfigPath}\n` +
        `  git clone ${http.url('config')}   (user ${http.writer.username})\n` +
        `  registry ${registry.url}\n` +
        `  receiver ${receiverUrl}\n` +
        '  tidemark: node bin/tidemark.ts get cd\n',
    );
    await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
  }
  await stopAll();
  say('Done.');
} catch (err) {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  await stopAll();
  process.exitCode = 1;
}

function deployment(name: string, image: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: ${name}
          image: ${image}
          ports:
            - containerPort: 80
`;
}

function service(name: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector: {app: ${name}}
  ports:
    - name: http
      port: 80
      targetPort: 80
`;
}
