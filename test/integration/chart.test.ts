import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { parse } from 'yaml';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { waitFor } from '../harness/process.ts';
import { CHART_DIR, applyObjects, describeObject, helm3, helm4, isHelmBinary, renderChart, runHelm } from '../harness/helm.ts';
import type { HelmBinary } from '../harness/helm.ts';
import { testClient } from '../harness/tidemark.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { KubeApiError } from '../../shared/kube/errors.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { isObject } from '../../shared/kube/object.ts';
import { DEFAULT_AUTHOR } from '../../image-updater/automation/spec.ts';
import { METRICS, registry as metricsRegistry } from '../../shared/metrics/index.ts';
import { parseTextFormat } from '../../shared/metrics/text-format.ts';

/**
 * The Helm chart: lint and template with Helm 3 and Helm 4, the schema, the pod hardening the
 * issue asks for, and the rendered manifests against the real API server (CRDs applied for real,
 * everything else server-side dry-run) in both RBAC modes.
 */

const repoFile = (path: string) => new URL(`../../${path}`, import.meta.url);

const NAMESPACE_MODE = (namespaces: string[]) => ({
  agent: { rbac: { namespaces } },
  imageUpdater: { watchNamespace: namespaces[0], rbac: { secretNames: ['git-credentials', 'registry-credentials'] } },
  podDisruptionBudget: { enabled: true },
});

/** The flags `tidemark agent|image-updater` accepts, read from cli/main.ts (strict parseArgs). */
function cliFlags(): Set<string> {
  const source = readFileSync(repoFile('cli/main.ts'), 'utf8');
  const block = /async function runProgram[\s\S]*?options: \{([\s\S]*?)\n\s*\},\s*\n\s*strict: true/.exec(source)?.[1] ?? '';
  const flags = new Set([...block.matchAll(/^\s+'?([a-z][a-z-]*)'?: \{ type: '(?:string|boolean)'/gm)].map((m) => m[1] ?? ''));
  assert.ok(flags.has('health-addr') && flags.has('namespace'), `could not read the flags from cli/main.ts (got ${[...flags].join(', ')})`);
  return flags;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown, what: string): Obj => {
  assert.ok(isObject(v), `${what} is not an object`);
  return v;
};
const list = (v: unknown, what: string): unknown[] => {
  assert.ok(Array.isArray(v), `${what} is not a list`);
  return v;
};

function podSpecOf(deployment: KubeObject): Obj {
  return obj(obj(obj(deployment.spec, 'spec').template, 'spec.template').spec, 'spec.template.spec');
}

const ofKind = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);
const names = (objects: KubeObject[]) => objects.map(describeObject).sort();

describe('chart: helm lint and template, Helm 3 and Helm 4', () => {
  const helms: Array<{ label: string; get: () => Promise<HelmBinary | { unavailable: string }> }> = [
    { label: 'Helm 4', get: helm4 },
    { label: 'Helm 3', get: helm3 },
  ];

  const withHelm = async (t: TestContext, get: () => Promise<HelmBinary | { unavailable: string }>): Promise<HelmBinary | undefined> => {
    const h = await get();
    if (isHelmBinary(h)) return h;
    t.skip(h.unavailable);
    return undefined;
  };

  for (const { label, get } of helms) {
    it(`${label}: lint --strict passes with the default values and with namespace-restricted RBAC`, async (t) => {
      const helm = await withHelm(t, get);
      if (!helm) return;
      const monitoring = {
        metrics: { serviceMonitor: { enabled: true }, podMonitor: { enabled: true }, grafanaDashboard: { enabled: true } },
      };
      for (const values of [undefined, NAMESPACE_MODE(['team-a', 'team-b']), monitoring]) {
        const res = await runHelm(helm, ['lint', '--strict', CHART_DIR], values);
        assert.equal(res.code, 0, `helm ${helm.version} lint --strict:\n${res.stdout}\n${res.stderr}`);
        assert.match(res.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
        assert.doesNotMatch(res.stdout, /\[(WARNING|ERROR)\]/);
      }
    });

    it(`${label}: template renders every object, without warnings, for the default Kubernetes version too`, async (t) => {
      const helm = await withHelm(t, get);
      if (!helm) return;
      const res = await runHelm(helm, ['template', 'tm', CHART_DIR, '--namespace', 'tidemark-system', '--include-crds']);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stderr.trim(), '', 'helm template printed warnings');
      const objects = await renderChart(helm, { release: 'tm', namespace: 'tidemark-system', includeCrds: true });
      assert.deepEqual(names(ofKind(objects, 'CustomResourceDefinition')), [
        'CustomResourceDefinition alerts.tidemark.dev',
        'CustomResourceDefinition continuousdeployments.tidemark.dev',
        'CustomResourceDefinition imagepolicies.tidemark.dev',
        'CustomResourceDefinition imagerepositories.tidemark.dev',
        'CustomResourceDefinition imageupdateautomations.tidemark.dev',
        'CustomResourceDefinition providers.tidemark.dev',
        'CustomResourceDefinition receivers.tidemark.dev',
      ]);
      assert.deepEqual(names(ofKind(objects, 'Deployment')), [
        'Deployment tidemark-system/tm-tidemark-agent',
        'Deployment tidemark-system/tm-tidemark-image-updater',
      ]);
      assert.deepEqual(names(ofKind(objects, 'ServiceAccount')), [
        'ServiceAccount tidemark-system/tm-tidemark-agent',
        'ServiceAccount tidemark-system/tm-tidemark-image-updater',
      ]);
      assert.deepEqual(names(ofKind(objects, 'Service')), [
        'Service tidemark-system/tm-tidemark-agent',
        'Service tidemark-system/tm-tidemark-image-updater',
      ]);
      // Every cluster-scoped object carries the release name, so two releases never share one.
      for (const o of [...ofKind(objects, 'ClusterRole'), ...ofKind(objects, 'ClusterRoleBinding')]) {
        assert.ok(o.metadata.name.startsWith('tm-tidemark-'), `${describeObject(o)} is not release-specific`);
      }
      assert.equal(ofKind(objects, 'PodDisruptionBudget').length, 0, 'the PDB is optional and off by default');
      assert.equal(ofKind(objects, 'ServiceMonitor').length, 0, 'the ServiceMonitor needs the Prometheus Operator and is off by default');
      assert.equal(ofKind(objects, 'PodMonitor').length, 0, 'the PodMonitor needs the Prometheus Operator and is off by default');
      assert.equal(ofKind(objects, 'ConfigMap').length, 0, 'the Grafana dashboard is off by default');
    });

    it(`${label}: values.schema.json rejects bad values (helm template fails, naming the field)`, async (t) => {
      const helm = await withHelm(t, get);
      if (!helm) return;
      const bad: Array<[string, Record<string, unknown>, RegExp]> = [
        ['a misspelt key', { agnet: { enabled: false } }, /agnet/],
        ['an unknown log level', { logLevel: 'verbose' }, /logLevel/],
        ['a namespace that is not a DNS label', { agent: { rbac: { namespaces: ['Team_A'] } } }, /namespaces/],
        ['zero workers', { imageUpdater: { workers: 0 } }, /workers/],
        ['a digest without algorithm', { image: { digest: 'latest' } }, /digest/],
        ['the cache dir on /tmp', { agent: { cacheDir: '/tmp' } }, /cacheDir/],
        ['a privileged health port', { healthPort: 80 }, /healthPort/],
        ['an emptyDir without a size limit', { imageUpdater: { tmpSizeLimit: '' } }, /tmpSizeLimit/],
        ['a size limit of zero (no limit to the kubelet)', { agent: { cacheSizeLimit: 0 } }, /cacheSizeLimit/],
        ['a size limit that is not a quantity', { agent: { tmpSizeLimit: 'lots' } }, /tmpSizeLimit/],
        ['a scrape interval that is not a duration', { metrics: { serviceMonitor: { interval: 'often' } } }, /interval/],
        [
          'a ServiceMonitor without the Services it scrapes',
          { service: { enabled: false }, metrics: { serviceMonitor: { enabled: true } } },
          /service\.enabled/,
        ],
      ];
      for (const [what, values, field] of bad) {
        const res = await runHelm(helm, ['template', 'tm', CHART_DIR], values);
        assert.notEqual(res.code, 0, `${what} was accepted`);
        assert.match(res.stderr, field, `${what}: the error does not name the field:\n${res.stderr}`);
      }
      // The same runner accepts good values, so the failures above are the schema's doing.
      const ok = await runHelm(helm, ['template', 'tm', CHART_DIR], { logLevel: 'debug', agent: { workers: 2 } });
      assert.equal(ok.code, 0, ok.stderr);
    });
  }
});

describe('chart: rendered pods', () => {
  let helm: HelmBinary;
  before(async () => {
    helm = await helm4();
  });

  it('Chart.yaml is apiVersion v2 and its appVersion is the version of package.json', () => {
    const chart = obj(parse(readFileSync(`${CHART_DIR}Chart.yaml`, 'utf8')), 'Chart.yaml');
    const pkg = obj(JSON.parse(readFileSync(repoFile('package.json'), 'utf8')), 'package.json');
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.appVersion, pkg.version);
  });

  it('every program runs hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp, limits, probes', async () => {
    const flags = cliFlags();
    const objects = await renderChart(helm, { release: 'tm', namespace: 'tidemark-system', values: { notification: { enabled: true } } });
    const deployments = ofKind(objects, 'Deployment');
    assert.equal(deployments.length, 3);
    for (const deployment of deployments) {
      const what = describeObject(deployment);
      const pod = podSpecOf(deployment);
      const podSecurity = obj(pod.securityContext, `${what} pod securityContext`);
      assert.equal(podSecurity.runAsNonRoot, true, what);
      assert.equal(typeof podSecurity.runAsUser === 'number' && podSecurity.runAsUser > 0, true, `${what} runAsUser`);
      assert.deepEqual(podSecurity.seccompProfile, { type: 'RuntimeDefault' }, what);
      const containers = list(pod.containers, `${what} containers`);
      assert.equal(containers.length, 1);
      const c = obj(containers[0], `${what} container`);
      const security = obj(c.securityContext, `${what} container securityContext`);
      assert.equal(security.readOnlyRootFilesystem, true, what);
      assert.equal(security.allowPrivilegeEscalation, false, what);
      assert.deepEqual(obj(security.capabilities, 'capabilities').drop, ['ALL'], what);
      assert.deepEqual(security.seccompProfile, { type: 'RuntimeDefault' }, what);
      const resources = obj(c.resources, `${what} resources`);
      assert.ok(obj(resources.requests, 'requests').cpu && obj(resources.requests, 'requests').memory, `${what} requests`);
      assert.ok(obj(resources.limits, 'limits').memory, `${what} memory limit`);
      assert.equal(obj(obj(c.livenessProbe, 'livenessProbe').httpGet, 'httpGet').path, '/healthz', what);
      assert.equal(obj(obj(c.readinessProbe, 'readinessProbe').httpGet, 'httpGet').path, '/readyz', what);

      // The program and the flags the CLI takes; a flag it does not know would stop it at start.
      const args = list(c.args, `${what} args`).map(String);
      const component = deployment.metadata.labels?.['app.kubernetes.io/component'];
      assert.equal(args[0], component, `${what} runs the wrong program`);
      assert.ok(args.includes('--health-addr=:8080'), `${what} args ${args.join(' ')}`);
      for (const arg of args.slice(1)) {
        const flag = /^--([a-z-]+)(?:=|$)/.exec(arg)?.[1];
        assert.ok(flag && flags.has(flag), `${what}: ${arg} is not a flag of tidemark ${component}`);
      }
      const cacheDir = args.find((a) => a.startsWith('--cache-dir='))?.slice('--cache-dir='.length);
      assert.ok(cacheDir, `${what} has no --cache-dir`);

      // A read-only root needs writable emptyDirs where the programs write, and HOME among them.
      const env = list(c.env, `${what} env`).map((e) => obj(e, 'env entry'));
      assert.deepEqual(
        env.find((e) => e.name === 'HOME'),
        { name: 'HOME', value: '/tmp' },
        what,
      );
      // A bounded young generation (values nodeOptions); Node takes every flag in it or does not start.
      const nodeOptions = env.find((e) => e.name === 'NODE_OPTIONS');
      assert.deepEqual(nodeOptions, { name: 'NODE_OPTIONS', value: '--max-semi-space-size=4' }, what);
      assert.ok(process.allowedNodeEnvironmentFlags.has('--max-semi-space-size'), 'Node refuses --max-semi-space-size in NODE_OPTIONS');
      const volumes = new Map(
        list(pod.volumes, 'volumes')
          .map((v) => obj(v, 'volume'))
          .map((v) => [v.name, v]),
      );
      const mounts = list(c.volumeMounts, 'volumeMounts').map((m) => obj(m, 'mount'));
      for (const path of ['/tmp', cacheDir]) {
        const mount = mounts.find((m) => m.mountPath === path);
        assert.ok(mount, `${what}: nothing mounted at ${path}`);
        assert.ok(isObject(volumes.get(mount.name)?.emptyDir), `${what}: ${path} is not an emptyDir`);
      }
      assert.deepEqual(
        [...volumes.values()].map((v) => `${String(v.name)}=${String(obj(v.emptyDir, `${what} volume ${String(v.name)}`).sizeLimit)}`),
        { agent: ['tmp=256Mi', 'cache=2Gi'], 'image-updater': ['tmp=1Gi', 'cache=2Gi'], notification: ['tmp=16Mi', 'cache=16Mi'] }[
          component ?? ''
        ],
        `${what}: every emptyDir has the sizeLimit values.yaml gives it`,
      );
      assert.equal(pod.serviceAccountName, `tm-tidemark-${component}`, `${what} runs with the wrong ServiceAccount`);
    }
  });

  it('every emptyDir of every rendered object has a sizeLimit, taken from values', async () => {
    /** Every `emptyDir` anywhere in an object, with where it is. */
    const emptyDirs = (value: unknown, path: string, out: Array<{ path: string; emptyDir: unknown }>) => {
      if (Array.isArray(value)) value.forEach((v, i) => emptyDirs(v, `${path}[${i}]`, out));
      else if (isObject(value)) {
        for (const [key, v] of Object.entries(value)) {
          if (key === 'emptyDir') out.push({ path: `${path}.emptyDir`, emptyDir: v });
          else emptyDirs(v, `${path}.${key}`, out);
        }
      }
      return out;
    };
    const custom = {
      agent: { tmpSizeLimit: '300Mi', cacheSizeLimit: '3Gi' },
      imageUpdater: { tmpSizeLimit: '5Gi', cacheSizeLimit: 1048576 },
    };
    const cases: Array<[string, Record<string, unknown> | undefined, string[]]> = [
      ['default values', undefined, ['256Mi', '2Gi', '1Gi', '2Gi']],
      ['namespace-restricted RBAC', NAMESPACE_MODE(['team-a']), ['256Mi', '2Gi', '1Gi', '2Gi']],
      ['custom limits', custom, ['300Mi', '3Gi', '5Gi', '1048576']],
    ];
    for (const [label, values, expected] of cases) {
      const objects = await renderChart(helm, { release: 'tm', namespace: 'tidemark-system', ...(values ? { values } : {}) });
      const found = objects.flatMap((o) => emptyDirs(o, describeObject(o), []));
      assert.equal(found.length, 4, `${label}: two emptyDirs per program`);
      for (const { path, emptyDir } of found)
        assert.ok(isObject(emptyDir) && emptyDir.sizeLimit !== undefined, `${label}: ${path} has no sizeLimit`);
      assert.deepEqual(
        found.map(({ emptyDir }) => String(obj(emptyDir, 'emptyDir').sizeLimit)),
        expected,
        `${label}: ${found.map((f) => f.path).join(', ')}`,
      );
    }
  });

  it('notification: off by default; on, a Deployment with the receiver port, a Service for it alone, least-privilege RBAC', async () => {
    const off = await renderChart(helm, { release: 'tm', namespace: 'ns' });
    assert.ok(!off.some((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'notification'));
    const objects = await renderChart(helm, { release: 'tm', namespace: 'ns', values: { notification: { enabled: true } } });
    const mine = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'notification');
    assert.deepEqual(names(mine), [
      'ClusterRole tm-tidemark-notification',
      'ClusterRole tm-tidemark-notification-secrets',
      'ClusterRoleBinding tm-tidemark-notification',
      'Deployment ns/tm-tidemark-notification',
      'RoleBinding ns/tm-tidemark-notification-secrets',
      'Service ns/tm-tidemark-notification',
      'Service ns/tm-tidemark-receiver',
      'ServiceAccount ns/tm-tidemark-notification',
    ]);
    const container = obj(list(podSpecOf(ofKind(mine, 'Deployment')[0]!).containers, 'containers')[0], 'container');
    assert.ok(list(container.args, 'args').includes('--receiver-addr=:9292'));
    assert.deepEqual(
      list(container.ports, 'ports').map((p) => `${String(obj(p, 'port').name)}=${String(obj(p, 'port').containerPort)}`),
      ['http=8080', 'receiver=9292'],
    );
    const receiver = mine.find((o) => o.kind === 'Service' && o.metadata.name === 'tm-tidemark-receiver')!;
    assert.deepEqual(
      list(obj(receiver.spec, 'spec').ports, 'ports').map((p) => obj(p, 'port').targetPort),
      ['receiver'],
      'the receiver Service exposes no health or metrics',
    );
    const rules = list(mine.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'tm-tidemark-notification')!.rules, 'rules');
    assert.deepEqual(
      rules.map((r) => `${list(obj(r, 'rule').resources, 'resources').join(',')}: ${list(obj(r, 'rule').verbs, 'verbs').join(',')}`),
      [
        'receivers,providers,alerts: get,list,watch',
        'receivers/status,providers/status,alerts/status: get,update,patch',
        'continuousdeployments,imagerepositories: get,list,patch',
        'imagepolicies,imageupdateautomations: get',
        'events: create,patch,list,watch',
      ],
    );
  });

  it('console: off by default; on, a Deployment without rights or token, hardened, answering only to its hosts', async () => {
    const off = await renderChart(helm, { release: 'tm', namespace: 'ns' });
    assert.ok(!off.some((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'console'));
    const values = {
      console: {
        enabled: true,
        hosts: ['tm-tidemark-console.ns.svc'],
        ingress: { enabled: true, host: 'console.example.com', tlsSecretName: 'console-tls' },
      },
    };
    const objects = await renderChart(helm, { release: 'tm', namespace: 'ns', values });
    const mine = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'console');
    assert.deepEqual(names(mine), [
      'Deployment ns/tm-tidemark-console',
      'Ingress ns/tm-tidemark-console',
      'Service ns/tm-tidemark-console',
      'ServiceAccount ns/tm-tidemark-console',
    ]);
    assert.ok(
      !objects.some((o) => /Binding$/.test(o.kind) && JSON.stringify(o.subjects ?? []).includes('tm-tidemark-console')),
      'nothing binds the console ServiceAccount to a role',
    );
    assert.equal(mine.find((o) => o.kind === 'ServiceAccount')!.automountServiceAccountToken, false);
    const pod = podSpecOf(ofKind(mine, 'Deployment')[0]!);
    assert.equal(pod.automountServiceAccountToken, false);
    const container = obj(list(pod.containers, 'containers')[0], 'container');
    const args = list(container.args, 'args');
    for (const arg of [
      'dashboard',
      '--in-cluster',
      '--host=tm-tidemark-console.ns.svc',
      '--host=console.example.com',
      '--secure',
      '--session-lifetime=12h',
      '--max-sessions=200',
      '--max-sessions-per-token=5',
      '--login-failures=10/5m',
      '--login-failures-total=100/1m',
      // Behind the Ingress, the client is the last X-Forwarded-For address.
      '--trust-forwarded-for',
      '--cache-dir=/tmp/tidemark-console',
    ])
      assert.ok(args.includes(arg), arg);
    const tmp = list(pod.volumes, 'volumes')
      .map((v) => obj(v, 'volume'))
      .find((v) => v.name === 'tmp');
    assert.deepEqual(tmp?.emptyDir, { sizeLimit: '1Gi' }, 'a bounded writable /tmp for the Git checkouts');
    const direct = await renderChart(helm, {
      release: 'tm',
      namespace: 'ns',
      values: { console: { enabled: true, hosts: ['tm-tidemark-console.ns.svc'], sessionLifetime: '1h', maxSessions: 7 } },
    });
    const directArgs = list(
      obj(
        list(podSpecOf(ofKind(direct, 'Deployment').find((d) => d.metadata.name === 'tm-tidemark-console')!).containers, 'containers')[0],
        'container',
      ).args,
      'args',
    );
    for (const arg of ['--session-lifetime=1h', '--max-sessions=7']) assert.ok(directArgs.includes(arg), arg);
    assert.ok(!directArgs.includes('--trust-forwarded-for'), 'without an Ingress the TCP peer is the client');
    const security = obj(container.securityContext, 'securityContext');
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.equal(security.runAsNonRoot, true);

    await assert.rejects(renderChart(helm, { release: 'tm', namespace: 'ns', values: { console: { enabled: true } } }), /console\.hosts/);
  });

  it('each program can be disabled, taking its ServiceAccount, RBAC, Service and PDB along', async () => {
    for (const [off, on] of [
      ['agent', 'image-updater'],
      ['image-updater', 'agent'],
    ] as const) {
      const key = off === 'agent' ? 'agent' : 'imageUpdater';
      const objects = await renderChart(helm, {
        release: 'tm',
        namespace: 'ns',
        values: { [key]: { enabled: false }, podDisruptionBudget: { enabled: true } },
      });
      const components = new Set(objects.map((o) => o.metadata.labels?.['app.kubernetes.io/component']));
      assert.deepEqual([...components], [on], `with ${key}.enabled=false`);
      assert.equal(ofKind(objects, 'PodDisruptionBudget').length, 1);
    }
  });

  it('metrics.serviceMonitor: one ServiceMonitor per program, selecting exactly its Service, scraping /metrics on its port', async () => {
    const objects = await renderChart(helm, {
      release: 'tm',
      namespace: 'ns',
      values: { metrics: { serviceMonitor: { enabled: true, labels: { release: 'prometheus' }, interval: '1m', scrapeTimeout: '15s' } } },
    });
    const services = ofKind(objects, 'Service');
    const monitors = ofKind(objects, 'ServiceMonitor');
    assert.deepEqual(names(monitors), ['ServiceMonitor ns/tm-tidemark-agent', 'ServiceMonitor ns/tm-tidemark-image-updater']);
    for (const monitor of monitors) {
      assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
      assert.equal(monitor.metadata.labels?.release, 'prometheus', 'the labels Prometheus selects monitors by');
      const spec = obj(monitor.spec, 'spec');
      const matchLabels = obj(obj(spec.selector, 'selector').matchLabels, 'matchLabels');
      const selected = services.filter((svc) => Object.entries(matchLabels).every(([k, v]) => svc.metadata.labels?.[k] === v));
      assert.deepEqual(names(selected), [`Service ns/${monitor.metadata.name}`], `${describeObject(monitor)} selects`);
      assert.deepEqual(obj(spec.namespaceSelector, 'namespaceSelector').matchNames, ['ns']);
      const [endpoint, ...more] = list(spec.endpoints, 'endpoints').map((e) => obj(e, 'endpoint'));
      assert.equal(more.length, 0);
      const ports = list(obj(selected[0]?.spec, 'service spec').ports, 'ports').map((p) => obj(p, 'port').name);
      assert.ok(ports.includes(endpoint?.port), `port ${String(endpoint?.port)} is one of the Service's: ${ports.join(', ')}`);
      assert.deepEqual([endpoint?.path, endpoint?.interval, endpoint?.scrapeTimeout], ['/metrics', '1m', '15s']);
    }
  });

  it('leaderElection: each program elects on its own Lease, may renew only that one, and rolls over without a gap', async () => {
    const objects = await renderChart(helm, { release: 'tm', namespace: 'ns', values: { agent: { replicas: 2 } } });
    for (const component of ['agent', 'image-updater']) {
      const deployment = ofKind(objects, 'Deployment').find((d) => d.metadata.name === `tm-tidemark-${component}`);
      assert.ok(deployment);
      const spec = obj(deployment.spec, 'spec');
      assert.equal(spec.replicas, component === 'agent' ? 2 : 1);
      assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
      const args = list(obj(list(podSpecOf(deployment).containers, 'containers')[0], 'container').args, 'args').map(String);
      for (const arg of ['--leader-elect', `--leader-election-id=tm-tidemark-${component}`, '--leader-election-namespace=ns']) {
        assert.ok(args.includes(arg), `${component}: ${arg} in ${args.join(' ')}`);
      }
      const role = ofKind(objects, 'Role').find((r) => r.metadata.name === `tm-tidemark-${component}-leader-election`);
      assert.deepEqual(role?.rules, [
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: [`tm-tidemark-${component}`],
          verbs: ['get', 'update'],
        },
      ]);
    }
    await assert.rejects(
      renderChart(helm, { release: 'tm', namespace: 'ns', values: { leaderElection: { enabled: false }, imageUpdater: { replicas: 2 } } }),
      /imageUpdater\.replicas above 1 needs leaderElection\.enabled/,
    );
    const single = await renderChart(helm, { release: 'tm', namespace: 'ns', values: { leaderElection: { enabled: false } } });
    for (const deployment of ofKind(single, 'Deployment')) assert.deepEqual(obj(deployment.spec, 'spec').strategy, { type: 'Recreate' });
    assert.equal(ofKind(single, 'Role').filter((r) => r.metadata.name.endsWith('-leader-election')).length, 0);
  });

  it('agent.autoSharding: every replica works on its share, with rights on Leases only in the release namespace', async () => {
    const objects = await renderChart(helm, {
      release: 'tm',
      namespace: 'ns',
      values: { leaderElection: { enabled: false }, agent: { replicas: 3, autoSharding: { enabled: true }, shards: ['eu'] } },
    });
    for (const name of ['tm-tidemark-agent', 'tm-tidemark-agent-eu']) {
      const deployment = ofKind(objects, 'Deployment').find((d) => d.metadata.name === name);
      assert.ok(deployment, name);
      const spec = obj(deployment.spec, 'spec');
      assert.equal(spec.replicas, 3);
      assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
      const args = list(obj(list(podSpecOf(deployment).containers, 'containers')[0], 'container').args, 'args').map(String);
      for (const arg of ['--shard-auto', `--shard-group=${name}`, '--leader-election-namespace=ns']) {
        assert.ok(args.includes(arg), `${name}: ${arg} in ${args.join(' ')}`);
      }
      assert.ok(!args.includes('--leader-elect'), `${name}: no leader election with --shard-auto`);
    }
    const role = ofKind(objects, 'Role').find((r) => r.metadata.name === 'tm-tidemark-agent-shard-members');
    assert.equal(role?.metadata.namespace, 'ns');
    assert.deepEqual(role?.rules, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'list', 'update', 'delete'] },
    ]);
    const off = await renderChart(helm, { release: 'tm', namespace: 'ns', values: {} });
    assert.equal(ofKind(off, 'Role').filter((r) => r.metadata.name.endsWith('-shard-members')).length, 0);
  });

  it('agent.shards: one more agent per shard, each selecting its own deployments, with its own pods, Lease and PodMonitor', async () => {
    const objects = await renderChart(helm, {
      release: 'tm',
      namespace: 'ns',
      values: { agent: { shards: ['eu', 'us'] }, metrics: { podMonitor: { enabled: true } } },
    });
    const agents = ofKind(objects, 'Deployment').filter((d) => d.metadata.name.startsWith('tm-tidemark-agent'));
    const selectorArg = (d: KubeObject) =>
      list(obj(list(podSpecOf(d).containers, 'containers')[0], 'container').args, 'args')
        .map(String)
        .filter((a) => a.startsWith('--watch-label-selector=') || a.startsWith('--leader-election-id='));
    assert.deepEqual(
      agents.map((d) => [d.metadata.name, ...selectorArg(d)]),
      [
        ['tm-tidemark-agent', '--watch-label-selector=!sharding.tidemark.dev/key', '--leader-election-id=tm-tidemark-agent'],
        ['tm-tidemark-agent-eu', '--watch-label-selector=sharding.tidemark.dev/key in (eu)', '--leader-election-id=tm-tidemark-agent-eu'],
        ['tm-tidemark-agent-us', '--watch-label-selector=sharding.tidemark.dev/key in (us)', '--leader-election-id=tm-tidemark-agent-us'],
      ],
    );
    // No Deployment's selector picks another's pods.
    const podLabels = (d: KubeObject) =>
      obj(obj(obj(d.spec, 'spec').template, 'template').metadata, 'metadata').labels as Record<string, string>;
    for (const d of agents) {
      const matchLabels = obj(obj(obj(d.spec, 'spec').selector, 'selector').matchLabels, 'matchLabels');
      const picked = agents.filter((other) => Object.entries(matchLabels).every(([k, v]) => podLabels(other)[k] === v));
      assert.deepEqual(names(picked), [`Deployment ns/${d.metadata.name}`]);
    }
    const role = ofKind(objects, 'Role').find((r) => r.metadata.name === 'tm-tidemark-agent-leader-election');
    assert.deepEqual(obj(list(role?.rules, 'rules')[1], 'rule').resourceNames, [
      'tm-tidemark-agent',
      'tm-tidemark-agent-eu',
      'tm-tidemark-agent-us',
    ]);
    assert.deepEqual(names(ofKind(objects, 'PodMonitor')), [
      'PodMonitor ns/tm-tidemark-agent',
      'PodMonitor ns/tm-tidemark-agent-eu',
      'PodMonitor ns/tm-tidemark-agent-us',
      'PodMonitor ns/tm-tidemark-image-updater',
    ]);
  });

  it('monitors cover the notification program when it runs, scraping its health port and never the receiver', async () => {
    const objects = await renderChart(helm, {
      release: 'tm',
      namespace: 'ns',
      values: { notification: { enabled: true }, metrics: { serviceMonitor: { enabled: true }, podMonitor: { enabled: true } } },
    });
    for (const kind of ['ServiceMonitor', 'PodMonitor']) {
      assert.ok(names(ofKind(objects, kind)).includes(`${kind} ns/tm-tidemark-notification`), `${kind} for notification`);
    }
    const monitor = ofKind(objects, 'ServiceMonitor').find((m) => m.metadata.name === 'tm-tidemark-notification')!;
    const spec = obj(monitor.spec, 'spec');
    const matchLabels = obj(obj(spec.selector, 'selector').matchLabels, 'matchLabels');
    const [endpoint] = list(spec.endpoints, 'endpoints').map((e) => obj(e, 'endpoint'));
    const scraped = ofKind(objects, 'Service')
      .filter((svc) => Object.entries(matchLabels).every(([k, v]) => svc.metadata.labels?.[k] === v))
      .filter((svc) => list(obj(svc.spec, 'spec').ports, 'ports').some((p) => obj(p, 'port').name === endpoint?.port));
    assert.deepEqual(names(scraped), ['Service ns/tm-tidemark-notification'], 'only the health Service has the scraped port');
  });

  it('metrics.podMonitor: one PodMonitor per program, selecting exactly its pods, scraping /metrics on the container port', async () => {
    const objects = await renderChart(helm, {
      release: 'tm',
      namespace: 'ns',
      values: { service: { enabled: false }, metrics: { podMonitor: { enabled: true, labels: { release: 'prometheus' } } } },
    });
    const monitors = ofKind(objects, 'PodMonitor');
    assert.deepEqual(names(monitors), ['PodMonitor ns/tm-tidemark-agent', 'PodMonitor ns/tm-tidemark-image-updater']);
    for (const monitor of monitors) {
      assert.equal(monitor.metadata.labels?.release, 'prometheus');
      const spec = obj(monitor.spec, 'spec');
      const matchLabels = obj(obj(spec.selector, 'selector').matchLabels, 'matchLabels');
      const selected = ofKind(objects, 'Deployment').filter((d) => {
        const labels = obj(obj(obj(d.spec, 'spec').template, 'template').metadata, 'metadata').labels as Record<string, string>;
        return Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
      });
      assert.deepEqual(names(selected), [`Deployment ns/${monitor.metadata.name}`], `${describeObject(monitor)} selects`);
      const [endpoint] = list(spec.podMetricsEndpoints, 'podMetricsEndpoints').map((e) => obj(e, 'endpoint'));
      const ports = list(obj(list(podSpecOf(selected[0]!).containers, 'containers')[0], 'container').ports, 'ports').map(
        (p) => obj(p, 'port').name,
      );
      assert.ok(ports.includes(endpoint?.port), `port ${String(endpoint?.port)} is one of the container's: ${ports.join(', ')}`);
      assert.deepEqual([endpoint?.path, endpoint?.interval, endpoint?.scrapeTimeout], ['/metrics', '30s', '10s']);
    }
  });

  it('metrics.grafanaDashboard: a sidecar-labelled ConfigMap whose every query names a metric the programs serve', async () => {
    const objects = await renderChart(helm, {
      release: 'tm',
      namespace: 'ns',
      values: { metrics: { grafanaDashboard: { enabled: true, namespace: 'monitoring', folder: 'Platform' } } },
    });
    const [configMap, ...more] = ofKind(objects, 'ConfigMap');
    assert.equal(more.length, 0);
    assert.equal(describeObject(configMap!), 'ConfigMap monitoring/tm-tidemark-dashboard');
    assert.equal(configMap!.metadata.labels?.grafana_dashboard, '1');
    assert.equal(configMap!.metadata.annotations?.grafana_folder, 'Platform');
    const dashboard = obj(JSON.parse(String(obj(configMap!.data, 'data')['tidemark.json'])), 'dashboard');
    assert.equal(dashboard.uid, 'tidemark-overview');
    const exprs = list(dashboard.panels, 'panels').flatMap((p) =>
      list(obj(p, 'panel').targets, 'targets').map((t) => String(obj(t, 'target').expr)),
    );
    assert.ok(exprs.length >= 15, `${exprs.length} queries`);
    // What a program really serves: the definitions, and Node's process metrics from a live scrape.
    const served = new Set([...parseTextFormat(await metricsRegistry.metrics()).keys(), ...Object.values(METRICS).map((m) => m.name)]);
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\btidemark_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ''))));
    assert.deepEqual(
      [...used].filter((name) => !served.has(name)),
      [],
      'metrics the dashboard queries that no program serves',
    );
    const defined = Object.values(METRICS).map((m) => m.name);
    assert.deepEqual(
      defined.filter((name) => !used.has(name)),
      [],
      'every metric has a panel',
    );
  });

  it('namespace-restricted RBAC: Roles only in the listed namespaces, nothing cluster-wide to apply with, the agent confined', async () => {
    const objects = await renderChart(helm, {
      release: 'tm',
      namespace: 'tidemark-system',
      values: NAMESPACE_MODE(['team-a', 'team-b']),
    });
    const agentClusterRoles = ofKind(objects, 'ClusterRole').filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'agent');
    assert.deepEqual(names(agentClusterRoles), ['ClusterRole tm-tidemark-agent'], "only the agent's own-kinds role is a ClusterRole");
    for (const role of ofKind(objects, 'ClusterRole')) {
      for (const rule of list(role.rules, 'rules').map((r) => obj(r, 'rule'))) {
        assert.ok(!list(rule.resources ?? [], 'resources').includes('*'), `${describeObject(role)} grants * in namespace mode`);
      }
    }
    assert.deepEqual(names(ofKind(objects, 'Role')), [
      'Role team-a/tm-tidemark-agent-apply',
      'Role team-b/tm-tidemark-agent-apply',
      'Role tidemark-system/tm-tidemark-agent-leader-election',
      'Role tidemark-system/tm-tidemark-image-updater-leader-election',
    ]);
    assert.deepEqual(names(ofKind(objects, 'ClusterRoleBinding')), [], 'every binding is namespaced');
    const agent = ofKind(objects, 'Deployment').find((d) => d.metadata.name === 'tm-tidemark-agent');
    assert.ok(agent);
    const args = list(obj(list(podSpecOf(agent).containers, 'containers')[0], 'container').args, 'args');
    assert.ok(args.includes('--namespace=tidemark-system'), `agent args ${args.join(' ')}`);
    const secrets = ofKind(objects, 'ClusterRole').find((o) => o.metadata.name === 'tm-tidemark-image-updater-secrets');
    assert.deepEqual(obj(list(secrets?.rules, 'rules')[0], 'rule').resourceNames, ['git-credentials', 'registry-credentials']);
  });
});

describe('chart: manifests against the real API server', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let helm: HelmBinary;
  const namespaces: string[] = [];

  before(async () => {
    cluster = await testCluster();
    kube = testClient(cluster);
    helm = await helm4();
  });

  after(async () => {
    for (const ns of namespaces) await cluster.deleteNamespace(ns).catch(() => undefined);
    await kube?.close();
  });

  const namespace = async (prefix: string): Promise<string> => {
    const ns = await cluster.createNamespace(prefix);
    namespaces.push(ns);
    return ns;
  };

  it('the CRDs apply for real, become established, default and validate an ImageUpdateAutomation', async () => {
    const crds = ofKind(await renderChart(helm, { release: 'tm', namespace: 'default', includeCrds: true }), 'CustomResourceDefinition');
    assert.equal(crds.length, 7);
    assert.deepEqual(await applyObjects(kube, crds, { dryRun: false }), []);
    await waitFor(
      async () => {
        for (const crd of crds) {
          const live = await kube.rest.request<KubeObject>({
            method: 'GET',
            path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
          });
          const conditions = list(obj(live.status, 'status').conditions ?? [], 'conditions').map((c) => obj(c, 'condition'));
          if (!conditions.some((c) => c.type === 'Established' && c.status === 'True')) return false;
        }
        return true;
      },
      { what: 'the chart CRDs to be established', timeoutMs: 60_000 },
    );
    kube.mapper.reset();

    const ns = await namespace('chart-crd');
    const path = `/apis/tidemark.dev/v1alpha1/namespaces/${ns}/imageupdateautomations`;
    const created = await kube.rest.request<KubeObject>({
      method: 'POST',
      path,
      body: {
        apiVersion: 'tidemark.dev/v1alpha1',
        kind: 'ImageUpdateAutomation',
        metadata: { name: 'app' },
        spec: { sourceRef: { name: 'app' }, git: { commit: { author: {}, messageTemplateValues: { team: 'a' } } } },
      },
    });
    const spec = obj(created.spec, 'spec');
    assert.deepEqual(spec.sourceRef, { kind: 'ContinuousDeployment', name: 'app' });
    // The API server's defaults are the image updater's: both sides agree on the bot.
    assert.deepEqual(obj(obj(spec.git, 'git').commit, 'commit').author, DEFAULT_AUTHOR);
    assert.deepEqual(spec.update, { strategy: 'Setters' });
    assert.equal(spec.interval, '5m');
    assert.equal(spec.suspend, false);

    // Status through the subresource, as the image updater writes it.
    await kube.rest.request({
      method: 'PATCH',
      path: `${path}/app/status`,
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          lastPushCommit: 'a'.repeat(40),
          lastAutomationRunTime: '2024-01-01T00:00:00Z',
          observedPolicies: { 'apps/web': { name: 'nginx', tag: '1.25.3' } },
        },
      },
    });
    const withStatus = await kube.rest.request<KubeObject>({ method: 'GET', path: `${path}/app` });
    assert.deepEqual(obj(obj(withStatus.status, 'status').observedPolicies, 'observedPolicies'), {
      'apps/web': { name: 'nginx', tag: '1.25.3' },
    });

    const invalid: Array<[string, Obj]> = [
      [
        'an unknown update strategy',
        {
          sourceRef: { name: 'app' },
          git: { commit: { author: { email: 'b@example.com' } } },
          update: { strategy: 'Regex' },
        },
      ],
      [
        'a sourceRef of another kind',
        { sourceRef: { kind: 'GitRepository', name: 'app' }, git: { commit: { author: { email: 'b@example.com' } } } },
      ],
      ['an empty author email', { sourceRef: { name: 'app' }, git: { commit: { author: { email: '' } } } }],
      ['no sourceRef', { git: {} }],
      [
        'a push branch that reads as an option',
        {
          sourceRef: { name: 'app' },
          git: { push: { branch: '--force' }, commit: { author: { email: 'b@example.com' } } },
        },
      ],
    ];
    for (const [what, badSpec] of invalid) {
      await assert.rejects(
        kube.rest.request({
          method: 'POST',
          path,
          body: {
            apiVersion: 'tidemark.dev/v1alpha1',
            kind: 'ImageUpdateAutomation',
            metadata: { name: 'bad' },
            spec: badSpec,
          },
        }),
        (err: unknown) => err instanceof KubeApiError && err.status === 422,
        `${what} was accepted`,
      );
    }
  });

  it('default values: every rendered object passes a server-side dry-run apply', async () => {
    const ns = await namespace('chart-dry');
    const objects = await renderChart(helm, {
      release: `dry-${ns.slice(-6)}`,
      namespace: ns,
      values: { podDisruptionBudget: { enabled: true } },
    });
    assert.ok(objects.length >= 14, `only ${objects.length} objects rendered`);
    assert.deepEqual(await applyObjects(kube, objects, { dryRun: true }), []);
    // A dry run writes nothing.
    await assert.rejects(
      kube.rest.request({
        method: 'GET',
        path: `/apis/apps/v1/namespaces/${ns}/deployments/dry-${ns.slice(-6)}-tidemark-agent`,
      }),
      (err: unknown) => err instanceof KubeApiError && err.status === 404,
    );
  });

  it('notification with its Ingress: every rendered object passes a server-side dry run; the Ingress routes /hook/ only', async () => {
    const ns = await namespace('chart-notify');
    const objects = await renderChart(helm, {
      release: `nt-${ns.slice(-6)}`,
      namespace: ns,
      values: { notification: { enabled: true, ingress: { enabled: true, host: 'hooks.example.com', tlsSecretName: 'hooks-tls' } } },
    });
    const [ingress, ...more] = ofKind(objects, 'Ingress');
    assert.equal(more.length, 0);
    const rules = list(obj(ingress!.spec, 'spec').rules, 'rules').map((r) => obj(r, 'rule'));
    assert.deepEqual(
      rules.map((r) => [
        r.host,
        list(obj(r.http, 'http').paths, 'paths').map((p) => `${String(obj(p, 'path').path)} → ${JSON.stringify(obj(p, 'path').backend)}`),
      ]),
      [['hooks.example.com', [`/hook/ → {"service":{"name":"nt-${ns.slice(-6)}-tidemark-receiver","port":{"name":"receiver"}}}`]]],
    );
    assert.deepEqual(await applyObjects(kube, objects, { dryRun: true }), []);
  });

  it('namespace-restricted RBAC values: every rendered object passes a server-side dry-run apply', async () => {
    const ns = await namespace('chart-dry-ns');
    const teamA = await namespace('team-a');
    const teamB = await namespace('team-b');
    const objects = await renderChart(helm, {
      release: `dry-${ns.slice(-6)}`,
      namespace: ns,
      values: NAMESPACE_MODE([teamA, teamB]),
    });
    assert.deepEqual(names(ofKind(objects, 'Role')).length, 4, 'two to apply with, two for the leader Leases');
    assert.deepEqual(await applyObjects(kube, objects, { dryRun: true }), []);
  });

  for (const { label, get } of [
    { label: 'Helm 4', get: helm4 },
    { label: 'Helm 3', get: helm3 },
  ]) {
    it(`${label}: install --dry-run=server against the API server, and NOTES.txt tells the next step`, async (t) => {
      const binary = await get();
      if (!isHelmBinary(binary)) return t.skip(binary.unavailable);
      const ns = await namespace('chart-notes');
      const res = await runHelm(
        binary,
        ['install', `notes-${ns.slice(-6)}`, CHART_DIR, '--namespace', ns, '--dry-run=server'],
        { agent: { rbac: { namespaces: [ns] } } },
        { kubeconfig: cluster.kubeconfigPath },
      );
      assert.equal(res.code, 0, `helm ${binary.version} install --dry-run=server:\n${res.stderr}`);
      const notes = res.stdout.slice(res.stdout.indexOf('NOTES:'));
      assert.match(notes, new RegExp(`watching ContinuousDeployments in namespace ${ns}`));
      assert.match(notes, new RegExp(`It may apply only in: ${ns}\\.`));
      assert.match(notes, /kind: ContinuousDeployment/, 'NOTES do not show how to create a ContinuousDeployment');
      assert.match(notes, /kubectl get cd -A/);
      assert.match(notes, /WARNING: lockdown is off\. Deployments that name no spec\.serviceAccountName run with the agent's\s+own rights/);
      // Lockdown on: NOTES say who still runs with the agent's cluster-wide rights, and who does not.
      const locked = await runHelm(
        binary,
        ['install', `locked-${ns.slice(-6)}`, CHART_DIR, '--namespace', ns, '--dry-run=server'],
        { lockdown: { enabled: true, defaultServiceAccount: 'default', agentIdentityNamespaces: ['platform'] } },
        { kubeconfig: cluster.kubeconfigPath },
      );
      assert.equal(locked.code, 0, `helm ${binary.version} install --dry-run=server with lockdown:\n${locked.stderr}`);
      const lockedNotes = locked.stdout.slice(locked.stdout.indexOf('NOTES:'));
      assert.match(lockedNotes, /Lockdown is ON/);
      assert.match(lockedNotes, /Deployments in platform that name no ServiceAccount run with the agent's own rights, cluster-wide\./);
      assert.doesNotMatch(lockedNotes, /lockdown is off/);
      // A dry run installs nothing.
      await assert.rejects(
        kube.rest.request({
          method: 'GET',
          path: `/api/v1/namespaces/${ns}/serviceaccounts/notes-${ns.slice(-6)}-tidemark-agent`,
        }),
        (err: unknown) => err instanceof KubeApiError && err.status === 404,
      );
    });
  }

  it('the dry run is a real check: the API server refuses an invalid rendered object', async () => {
    const ns = await namespace('chart-dry-bad');
    const objects = await renderChart(helm, { release: 'bad', namespace: ns });
    const deployment = structuredClone(ofKind(objects, 'Deployment')[0]);
    assert.ok(deployment);
    const container = obj(list(podSpecOf(deployment).containers, 'containers')[0], 'container');
    obj(container.livenessProbe, 'livenessProbe').httpGet = {
      path: '/healthz',
      port: 'no-such-port-name-longer-than-15',
    };
    const failures = await applyObjects(kube, [deployment], { dryRun: true });
    assert.equal(failures.length, 1, 'an invalid probe port was accepted');
  });
});
