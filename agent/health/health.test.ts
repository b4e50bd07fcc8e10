import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { HealthOptions, HealthResult } from './index.ts';
import { assessHealth, HEALTH_ORDER, missingHealth, worstHealth } from './index.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const load = (file: string): KubeObject => parse(readFileSync(join(FIXTURES, file), 'utf8')) as KubeObject;

/** Any instant long after every fixture was written: rules that do not read `now` must not care. */
const LATER = Date.parse('2026-06-01T00:00:00Z');

interface Case {
  file: string;
  status: HealthResult['status'];
  message?: string;
  now?: number;
  options?: HealthOptions;
  label?: string;
}

const CASES: Case[] = [
  // Deployment
  { file: 'deployment-healthy.yaml', status: 'Healthy' },
  {
    file: 'deployment-progressing.yaml',
    status: 'Progressing',
    message: 'Waiting for rollout to finish: 1 of 3 updated replicas are available...',
  },
  {
    file: 'deployment-updating.yaml',
    status: 'Progressing',
    message: 'Waiting for rollout to finish: 1 out of 3 new replicas have been updated...',
  },
  {
    file: 'deployment-old-replicas.yaml',
    status: 'Progressing',
    message: 'Waiting for rollout to finish: 1 old replicas are pending termination...',
  },
  {
    file: 'deployment-generation-lag.yaml',
    status: 'Progressing',
    message: 'Waiting for rollout to finish: observed deployment generation less than desired generation',
  },
  { file: 'deployment-degraded.yaml', status: 'Degraded', message: 'Deployment "web" exceeded its progress deadline' },
  { file: 'deployment-paused.yaml', status: 'Suspended', message: 'Deployment is paused' },
  // StatefulSet
  {
    file: 'statefulset-healthy.yaml',
    status: 'Healthy',
    message: 'roll out complete: 3 new pods have been updated...',
  },
  { file: 'statefulset-progressing.yaml', status: 'Progressing', message: 'Waiting for 2 pods to be ready...' },
  {
    file: 'statefulset-generation.yaml',
    status: 'Progressing',
    message: 'Waiting for statefulset spec update to be observed...',
  },
  {
    file: 'statefulset-rolling.yaml',
    status: 'Progressing',
    message: 'Waiting for rolling update to finish: 1 out of 3 new pods have been updated...',
  },
  {
    file: 'statefulset-partition.yaml',
    status: 'Progressing',
    message: 'Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...',
  },
  {
    file: 'statefulset-partition-done.yaml',
    status: 'Healthy',
    message: 'partitioned roll out complete: 1 new pods have been updated...',
  },
  { file: 'statefulset-ondelete.yaml', status: 'Healthy', message: 'statefulset has 3 ready pods' },
  // DaemonSet
  { file: 'daemonset-healthy.yaml', status: 'Healthy' },
  {
    file: 'daemonset-progressing.yaml',
    status: 'Progressing',
    message: 'Waiting for daemon set "node-exporter" rollout to finish: 1 out of 3 new pods have been updated...',
  },
  {
    file: 'daemonset-unavailable.yaml',
    status: 'Progressing',
    message: 'Waiting for daemon set "node-exporter" rollout to finish: 2 of 3 updated pods are available...',
  },
  {
    file: 'daemonset-generation.yaml',
    status: 'Progressing',
    message: 'Waiting for rollout to finish: observed daemon set generation less than desired generation',
  },
  { file: 'daemonset-ondelete.yaml', status: 'Healthy', message: 'daemon set 0 out of 3 new pods have been updated' },
  // ReplicaSet
  { file: 'replicaset-healthy.yaml', status: 'Healthy' },
  {
    file: 'replicaset-progressing.yaml',
    status: 'Progressing',
    message: 'Waiting for rollout to finish: 1 out of 3 new replicas are available...',
  },
  {
    file: 'replicaset-degraded.yaml',
    status: 'Degraded',
    message:
      'pods "web-7d9c5b8f4d-x2lqp" is forbidden: exceeded quota: compute, ' +
      'requested: limits.cpu=500m, used: limits.cpu=1500m, limited: limits.cpu=2',
  },
  // Pod
  { file: 'pod-running.yaml', status: 'Healthy' },
  {
    file: 'pod-crashloop.yaml',
    status: 'Degraded',
    message: 'back-off 2m40s restarting failed container=web pod=web-7d9c5b8f4d-4kqzn_shop(7a3e5c9b-1d2f-4b8a-9e6c-0f4d2a7b3c15)',
  },
  {
    file: 'pod-imagepullbackoff.yaml',
    status: 'Degraded',
    message: 'Back-off pulling image "registry.example.com/shop/web:1.9.9-missing"',
  },
  {
    file: 'pod-createcontainerconfigerror.yaml',
    status: 'Degraded',
    message: 'secret "db-credentials" not found',
  },
  {
    file: 'pod-init-crashloop.yaml',
    status: 'Degraded',
    message: 'back-off 1m20s restarting failed container=migrate pod=web-7d9c5b8f4d-4kqzn_shop(7a3e5c9b-1d2f-4b8a-9e6c-0f4d2a7b3c15)',
  },
  {
    file: 'pod-pending.yaml',
    status: 'Progressing',
    message:
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
  },
  { file: 'pod-running-not-ready.yaml', status: 'Progressing', message: 'containers with unready status: [web]' },
  {
    file: 'pod-running-restarted-not-ready.yaml',
    status: 'Degraded',
    message: 'containers with unready status: [web]',
  },
  { file: 'pod-deleting.yaml', status: 'Progressing', message: 'Pending deletion' },
  { file: 'deleting.yaml', status: 'Progressing', message: 'Pending deletion' },
  { file: 'pod-succeeded.yaml', status: 'Healthy' },
  { file: 'pod-failed.yaml', status: 'Degraded', message: 'container "backup" failed with exit code 2' },
  {
    file: 'pod-evicted.yaml',
    status: 'Degraded',
    message:
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 91212Ki. ' +
      'Container backup was using 1811236Ki, request is 0, has larger consumption of memory. ',
  },
  // restartPolicy Never: a hook-like pod may still succeed once the image shows up (Argo CD).
  { file: 'pod-job-imagepullbackoff.yaml', status: 'Progressing' },
  { file: 'pod-running-restart-never.yaml', status: 'Progressing' },
  // Job / CronJob
  {
    file: 'job-running.yaml',
    status: 'Progressing',
    message: 'Waiting for Job to complete: 0 of 1 succeeded, 1 active',
  },
  { file: 'job-complete.yaml', status: 'Healthy', message: 'Reached expected number of succeeded pods' },
  { file: 'job-failed.yaml', status: 'Degraded', message: 'Job has reached the specified backoff limit' },
  { file: 'job-failure-target.yaml', status: 'Degraded', message: 'Job was active longer than specified deadline' },
  { file: 'job-suspended.yaml', status: 'Suspended', message: 'Job suspended' },
  { file: 'cronjob-healthy.yaml', status: 'Healthy', message: 'CronJob has completed its last execution successfully' },
  {
    file: 'cronjob-failed.yaml',
    status: 'Degraded',
    message: 'CronJob has not completed its last execution successfully',
  },
  { file: 'cronjob-running.yaml', status: 'Healthy', message: 'The job is running. Its last execution may not have been successful' },
  { file: 'cronjob-suspended.yaml', status: 'Suspended', message: 'CronJob is suspended' },
  { file: 'cronjob-never-scheduled.yaml', status: 'Healthy', message: 'CronJob has not been scheduled yet' },
  {
    file: 'cronjob-never-succeeded.yaml',
    status: 'Degraded',
    message: 'CronJob has never completed an execution successfully',
  },
  { file: 'cronjob-first-run.yaml', status: 'Healthy', message: 'The job is running. Its last execution may not have been successful' },
  // Service / Ingress, with and without the leniency options
  { file: 'service-clusterip.yaml', status: 'Healthy' },
  {
    file: 'service-lb-pending.yaml',
    status: 'Progressing',
    message: 'Waiting for the load balancer to get an address',
  },
  {
    file: 'service-lb-pending.yaml',
    status: 'Healthy',
    message: 'no load balancer address yet (not required by configuration)',
    options: { loadBalancerRequiresIngress: false },
    label: 'LB not required',
  },
  { file: 'service-lb-ready.yaml', status: 'Healthy' },
  {
    file: 'ingress-pending.yaml',
    status: 'Progressing',
    message: 'Waiting for the ingress controller to publish an address',
  },
  {
    file: 'ingress-pending.yaml',
    status: 'Healthy',
    message: 'no load balancer address yet (not required by configuration)',
    options: { ingressRequiresAddress: false },
    label: 'address not required',
  },
  {
    file: 'ingress-pending.yaml',
    status: 'Progressing',
    message: 'Waiting for the ingress controller to publish an address',
    options: { loadBalancerRequiresIngress: false },
    label: 'the Service option does not apply',
  },
  { file: 'ingress-ready.yaml', status: 'Healthy' },
  // PVC
  { file: 'pvc-bound.yaml', status: 'Healthy' },
  { file: 'pvc-pending.yaml', status: 'Progressing', message: 'Waiting for the claim to be bound' },
  { file: 'pvc-lost.yaml', status: 'Degraded', message: 'The claim lost its underlying volume' },
  // HPA
  { file: 'hpa-healthy.yaml', status: 'Healthy', message: 'recommended size matches current size' },
  // Argo reads the conditions in order: AbleToScale=True comes first and decides (gitops-engine hpa-v1-healthy.yaml).
  { file: 'hpa-degraded.yaml', status: 'Healthy', message: "the HPA controller was able to get the target's current scale" },
  { file: 'hpa-progressing.yaml', status: 'Progressing', message: 'Waiting to Autoscale' },
  {
    file: 'hpa-scaling-disabled.yaml',
    status: 'Healthy',
    message: "the HPA controller was able to get the target's current scale",
  },
  {
    file: 'hpa-v1-annotation.yaml',
    status: 'Healthy',
    message: 'recommended size matches current size',
  },
  // AbleToScale=False (Backoff*) and ScalingLimited=False decide nothing: Argo waits.
  { file: 'hpa-backoff.yaml', status: 'Progressing', message: 'Waiting to Autoscale' },
  {
    file: 'hpa-failed-get-scale.yaml',
    status: 'Degraded',
    message: 'the HPA controller was unable to get the target\'s current scale: deployments/scale.apps "web-api" not found',
  },
  // APIService
  { file: 'apiservice-available.yaml', status: 'Healthy', message: 'Passed: all checks passed' },
  {
    file: 'apiservice-unavailable.yaml',
    status: 'Progressing',
    message:
      'FailedDiscoveryCheck: failing or missing response from https://10.244.1.9:10250/apis/metrics.k8s.io/v1beta1: Get "https://10.244.1.9:10250/apis/metrics.k8s.io/v1beta1": dial tcp 10.244.1.9:10250: connect: connection refused',
  },
  { file: 'apiservice-pending.yaml', status: 'Progressing', message: 'Waiting to be processed' },
  { file: 'apiservice-local.yaml', status: 'Healthy', message: 'Local: Local APIServices are always available' },
  // CRD
  { file: 'crd-established.yaml', status: 'Healthy', message: 'CRD is healthy' },
  {
    file: 'crd-installing.yaml',
    status: 'Progressing',
    message: 'CRD is being installed',
  },
  {
    file: 'crd-names-not-accepted.yaml',
    status: 'Degraded',
    message: 'CRD names have not been accepted: "gadgets" is already in use',
  },
  { file: 'crd-no-status.yaml', status: 'Progressing', message: 'Status conditions not found' },
  // Namespace and kinds without status
  { file: 'namespace-active.yaml', status: 'Healthy' },
  { file: 'namespace-terminating.yaml', status: 'Progressing', message: 'Pending deletion' },
  { file: 'configmap.yaml', status: 'Healthy' },
  // Custom resources (kstatus)
  {
    file: 'cr-kstatus-ready.yaml',
    status: 'Healthy',
    message: 'ReconciliationSucceeded: Applied revision: main@sha1:4f2a9c1e7b3d5f6a8c0e2b4d6f8a0c2e4b6d8f0a',
  },
  {
    file: 'cr-kstatus-reconciling.yaml',
    status: 'Progressing',
    message: 'Progressing: Detecting drift for revision main@sha1:9d1b3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d with a timeout of 9m30s',
  },
  {
    file: 'cr-kstatus-stalled.yaml',
    status: 'Degraded',
    message: 'ArtifactFailed: kustomization path not found: stat /tmp/kustomization-2846133271/infrastructure: no such file or directory',
  },
  {
    file: 'cr-kstatus-not-ready.yaml',
    status: 'Degraded',
    message:
      'ReconciliationFailed: Namespace/shop dry-run failed (Forbidden): namespaces "shop" is forbidden: ' +
      'User "system:serviceaccount:flux-system:kustomize-controller" cannot patch resource "namespaces" ' +
      'in API group "" in the namespace "shop"',
  },
  {
    file: 'cr-kstatus-not-ready-progressing.yaml',
    status: 'Progressing',
    message: 'Reconciling: The resource is in the process of being reconciled by the operator',
  },
  {
    file: 'cr-kstatus-ready-unknown.yaml',
    status: 'Progressing',
    message: "DependencyNotReady: waiting for dependency 'flux-system/crds' to be ready",
  },
  {
    file: 'cr-kstatus-stale-generation.yaml',
    status: 'Progressing',
    message: 'Waiting for the controller to observe generation 3 (observed 2)',
  },
  {
    file: 'cr-kstatus-stale-condition.yaml',
    status: 'Progressing',
    message: 'Waiting for the controller to observe generation 2 (Ready is from 1)',
  },
  { file: 'cr-kstatus-no-conditions.yaml', status: 'Healthy' },
  // A custom resource with no status yet: Progressing for the grace period after creation, then Healthy.
  {
    file: 'cr-kstatus-no-status.yaml',
    status: 'Progressing',
    message: 'Waiting for the controller to report status',
    now: Date.parse('2026-03-02T12:00:05Z'),
    label: '5 s old',
  },
  {
    file: 'cr-kstatus-no-status.yaml',
    status: 'Progressing',
    message: 'Waiting for the controller to report status',
    now: Date.parse('2026-03-02T12:00:29.999Z'),
    label: 'just inside the grace',
  },
  {
    file: 'cr-kstatus-no-status.yaml',
    status: 'Healthy',
    message: 'No status reported',
    now: Date.parse('2026-03-02T12:00:30Z'),
    label: 'grace over',
  },
  {
    file: 'cr-kstatus-no-status.yaml',
    status: 'Progressing',
    message: 'Waiting for the controller to report status',
    now: Date.parse('2026-03-02T12:01:00Z'),
    options: { statuslessGraceMs: 120_000 },
    label: 'longer grace',
  },
];

describe('health: fixtures of real status shapes', () => {
  for (const c of CASES) {
    it(`${c.file}${c.label ? ` (${c.label})` : ''} → ${c.status}`, () => {
      const got = assessHealth(load(c.file), { now: c.now ?? LATER, options: c.options });
      const expected: HealthResult = c.message === undefined ? { status: c.status } : { status: c.status, message: c.message };
      assert.deepEqual(got, expected);
    });
  }

  it('every fixture has a case', () => {
    const covered = new Set(CASES.map((c) => c.file));
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml'));
    assert.deepEqual(
      files.filter((f) => !covered.has(f)),
      [],
    );
  });
});

describe('health: rules beyond the fixtures', () => {
  const ctx = { now: LATER };
  const obj = (apiVersion: string, kind: string, rest: Record<string, unknown> = {}): KubeObject => ({
    apiVersion,
    kind,
    metadata: { name: 'x', namespace: 'n', creationTimestamp: '2026-03-01T00:00:00Z' },
    ...rest,
  });

  it('anything being deleted is Progressing, whatever its status says', () => {
    for (const file of ['deployment-degraded.yaml', 'cr-kstatus-stalled.yaml', 'configmap.yaml', 'job-failed.yaml']) {
      const live = load(file);
      live.metadata.deletionTimestamp = '2026-03-02T12:00:00Z';
      assert.deepEqual(assessHealth(live, ctx), { status: 'Progressing', message: 'Pending deletion' }, file);
    }
  });

  it('built-in kinds without status semantics are Healthy once they exist', () => {
    for (const [apiVersion, kind] of [
      ['v1', 'Secret'],
      ['v1', 'ServiceAccount'],
      ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
      ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
      ['networking.k8s.io/v1', 'NetworkPolicy'],
      ['storage.k8s.io/v1', 'StorageClass'],
      ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration'],
    ]) {
      assert.deepEqual(assessHealth(obj(apiVersion!, kind!), ctx), { status: 'Healthy' }, kind);
    }
  });

  it('a kind in a custom group ending in .k8s.io (Gateway API) is read as a custom resource', () => {
    const gateway = obj('gateway.networking.k8s.io/v1', 'Gateway', {
      metadata: { name: 'gw', generation: 2, creationTimestamp: '2026-03-02T12:00:00Z' },
    });
    assert.equal(assessHealth(gateway, { now: Date.parse('2026-03-02T12:00:01Z') }).status, 'Progressing');
  });

  it('the rules are keyed by group, not version: extensions/v1beta1 and apps/v1beta2 read alike', () => {
    const d = load('deployment-paused.yaml');
    assert.equal(assessHealth({ ...d, apiVersion: 'apps/v1beta2' }, ctx).status, 'Suspended');
    assert.equal(assessHealth({ ...d, apiVersion: 'extensions/v1beta1' }, ctx).status, 'Suspended');
    assert.equal(assessHealth({ ...load('ingress-pending.yaml'), apiVersion: 'extensions/v1beta1' }, ctx).status, 'Progressing');
  });

  it('malformed status fields are read as absent, never thrown on', () => {
    const weird = [
      obj('apps/v1', 'Deployment', { spec: 'nope', status: { conditions: 'x', replicas: '3' } }),
      obj('v1', 'Pod', { status: { containerStatuses: [null, 5, { state: { waiting: 'x' } }], phase: 7 } }),
      obj('autoscaling/v1', 'HorizontalPodAutoscaler', {
        metadata: { name: 'h', annotations: { 'autoscaling.alpha.kubernetes.io/conditions': '{not json' } },
      }),
      obj('example.com/v1', 'Widget', {
        status: { conditions: [{ status: 'True' }, 'x', { type: 'Ready', status: 'True' }] },
      }),
    ];
    assert.deepEqual(
      weird.map((o) => assessHealth(o, ctx).status),
      ['Healthy', 'Unknown', 'Progressing', 'Healthy'],
    );
  });

  it('a custom resource whose Ready=False reason says it is still working is Progressing, a failure reason is not', () => {
    const cr = (reason: string) =>
      obj('example.com/v1', 'Widget', {
        status: { conditions: [{ type: 'Ready', status: 'False', reason, message: 'm' }] },
      });
    const got = [
      'Progressing',
      'reconciling',
      'ReconciliationInProgress',
      'ProgressDeadlineExceeded',
      'ReconciliationFailed',
      'ProgressingWithRetry',
    ].map((reason) => assessHealth(cr(reason), ctx).status);
    assert.deepEqual(got, ['Progressing', 'Progressing', 'Progressing', 'Degraded', 'Degraded', 'Degraded']);
  });

  it('options default to the strict reading when absent', () => {
    assert.equal(assessHealth(load('service-lb-pending.yaml'), { now: LATER, options: {} }).status, 'Progressing');
    assert.equal(assessHealth(load('ingress-pending.yaml'), { now: LATER }).status, 'Progressing');
    assert.equal(assessHealth(load('cr-kstatus-no-status.yaml'), { now: Date.parse('2026-03-02T12:00:10Z') }).status, 'Progressing');
  });

  it('a job whose spec says suspend is Suspended before the controller confirms it', () => {
    const job = load('job-running.yaml');
    (job.spec as Record<string, unknown>).suspend = true;
    assert.deepEqual(assessHealth(job, ctx), { status: 'Suspended', message: 'Job is suspended' });
  });

  it('missing objects have their own status', () => {
    assert.deepEqual(missingHealth(), { status: 'Missing', message: 'not found in the cluster' });
  });
});

describe('health: aggregation', () => {
  const item = (kind: string, name: string, status: HealthResult['status'], message?: string) => ({
    kind,
    namespace: 'shop',
    name,
    health: message ? { status, message } : { status },
  });

  it("uses Argo CD's order: Healthy < Suspended < Progressing < Missing < Degraded < Unknown", () => {
    assert.deepEqual(HEALTH_ORDER, ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown']);
    for (let i = 0; i < HEALTH_ORDER.length; i++) {
      for (let j = 0; j < HEALTH_ORDER.length; j++) {
        const a: HealthResult['status'] = HEALTH_ORDER[i]!;
        const b: HealthResult['status'] = HEALTH_ORDER[j]!;
        assert.equal(
          worstHealth([item('ConfigMap', 'a', a), item('ConfigMap', 'b', b)]).status,
          HEALTH_ORDER[Math.max(i, j)],
          `${a} + ${b}`,
        );
      }
    }
  });

  it('names the first object with the worst status', () => {
    const got = worstHealth([
      item('ConfigMap', 'settings', 'Healthy'),
      item('Deployment', 'web', 'Progressing', 'Waiting for rollout to finish: 1 of 3 updated replicas are available...'),
      item('Pod', 'web-1', 'Degraded', 'web: CrashLoopBackOff'),
      item('Deployment', 'api', 'Degraded', 'Deployment "api" exceeded its progress deadline'),
      item('CronJob', 'backup', 'Suspended'),
    ]);
    assert.deepEqual(got, { status: 'Degraded', message: 'Pod/shop/web-1 is Degraded: web: CrashLoopBackOff' });
  });

  it('a missing object makes the unit Missing unless something is worse', () => {
    assert.deepEqual(
      worstHealth([item('Deployment', 'web', 'Progressing'), { kind: 'Namespace', name: 'shop', health: missingHealth() }]),
      {
        status: 'Missing',
        message: 'Namespace/shop is Missing: not found in the cluster',
      },
    );
  });

  it('all healthy, nothing at all, or nothing assessed: Healthy without a message', () => {
    assert.deepEqual(worstHealth([item('ConfigMap', 'a', 'Healthy'), item('Service', 'b', 'Healthy', 'fine')]), {
      status: 'Healthy',
    });
    assert.deepEqual(worstHealth([]), { status: 'Healthy' });
    assert.deepEqual(worstHealth([{ kind: 'ConfigMap', name: 'a' }]), { status: 'Healthy' });
  });
});
