import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { HealthResult } from './index.ts';
import { assessHealth } from './index.ts';

/**
 * Argo CD's gitops-engine as the oracle for the built-in kinds: its own test fixtures, its own
 * expected statuses (pkg/health/health_test.go) and the messages its rules set. See the README in
 * the fixture folder for the commit.
 */
const DIR = join(import.meta.dirname, 'fixtures', 'upstream', 'gitops-engine');

/** sigs.k8s.io/yaml lets a repeated key overwrite the earlier one (statefulset-ondelete.yaml has one). */
function load(file: string): KubeObject {
  const obj = parse(readFileSync(join(DIR, file), 'utf8'), { uniqueKeys: false }) as KubeObject;
  // Two upstream fixtures omit metadata, which the API server always sets.
  obj.metadata ??= { name: '' };
  return obj;
}

const ctx = { now: Date.parse('2026-06-01T00:00:00Z') };

interface Upstream {
  file: string;
  status: HealthResult['status'];
  /** Argo's message, where it sets a non-empty one; where it sets none ours may explain more. */
  message?: string;
}

const UPSTREAM: Upstream[] = [
  { file: 'apiservice-v1-true.yaml', status: 'Healthy', message: 'Passed: all checks passed' },
  { file: 'apiservice-v1beta1-true.yaml', status: 'Healthy', message: 'Passed: all checks passed' },
  {
    file: 'apiservice-v1-false.yaml',
    status: 'Progressing',
    message: 'MissingEndpoints: endpoints for service/cert-manager-webhook in "external-dns" have no addresses',
  },
  {
    file: 'apiservice-v1beta1-false.yaml',
    status: 'Progressing',
    message: 'MissingEndpoints: endpoints for service/cert-manager-webhook in "external-dns" have no addresses',
  },
  { file: 'daemonset-ondelete.yaml', status: 'Healthy', message: 'daemon set 0 out of 1 new pods have been updated' },
  { file: 'nginx.yaml', status: 'Healthy' },
  {
    file: 'deployment-progressing.yaml',
    status: 'Progressing',
    message: 'Waiting for rollout to finish: 1 old replicas are pending termination...',
  },
  { file: 'deployment-suspended.yaml', status: 'Suspended', message: 'Deployment is paused' },
  { file: 'deployment-degraded.yaml', status: 'Degraded', message: 'Deployment "guestbook-ui" exceeded its progress deadline' },
  { file: 'hpa-v1-degraded.yaml', status: 'Degraded', message: "the HPA controller was unable to get the target's current scale" },
  { file: 'hpa-v1-healthy.yaml', status: 'Healthy', message: 'the HPA controller was able to update the target scale to 1' },
  { file: 'hpa-v1-healthy-toofew.yaml', status: 'Healthy', message: 'recommended size matches current size' },
  { file: 'hpa-v1-progressing.yaml', status: 'Progressing', message: 'Waiting to Autoscale' },
  { file: 'hpa-v1-progressing-with-no-annotations.yaml', status: 'Progressing', message: 'Waiting to Autoscale' },
  {
    file: 'hpa-v2-degraded.yaml',
    status: 'Degraded',
    message: 'the HPA controller was unable to get the target\'s current scale: deployments/scale.apps "sandbox-test-app-8" not found',
  },
  { file: 'hpa-v2-healthy.yaml', status: 'Healthy', message: 'recommended size matches current size' },
  { file: 'hpa-v2-progressing.yaml', status: 'Progressing', message: 'Waiting to Autoscale' },
  { file: 'hpa-v2beta1-healthy.yaml', status: 'Healthy', message: 'recommended size matches current size' },
  {
    file: 'hpa-v2beta1-healthy-disabled.yaml',
    status: 'Healthy',
    message: "the HPA controller was able to get the target's current scale",
  },
  { file: 'hpa-v2beta2-healthy.yaml', status: 'Healthy', message: 'recommended size matches current size' },
  { file: 'ingress.yaml', status: 'Healthy' },
  { file: 'ingress-nonemptylist.yaml', status: 'Healthy' },
  { file: 'ingress-unassigned.yaml', status: 'Progressing' },
  { file: 'job-running.yaml', status: 'Progressing' },
  { file: 'job-failed.yaml', status: 'Degraded', message: 'Job has reached the specified backoff limit' },
  { file: 'job-succeeded.yaml', status: 'Healthy' },
  { file: 'job-suspended.yaml', status: 'Suspended' },
  { file: 'pod-pending.yaml', status: 'Progressing' },
  { file: 'pod-running-not-ready.yaml', status: 'Progressing' },
  {
    file: 'pod-crashloop.yaml',
    status: 'Degraded',
    message: 'Back-off 40s restarting failed container=main pod=my-pod_argocd(63674389-f613-11e8-a057-fe5f49266390)',
  },
  { file: 'pod-imagepullbackoff.yaml', status: 'Degraded', message: 'Back-off pulling image "gcr.io/heptio-images/ks-guestbook-demo:0.3"' },
  { file: 'pod-error.yaml', status: 'Degraded' },
  { file: 'pod-running-restart-always.yaml', status: 'Healthy' },
  { file: 'pod-running-restart-never.yaml', status: 'Progressing' },
  { file: 'pod-running-restart-onfailure.yaml', status: 'Progressing' },
  { file: 'pod-failed.yaml', status: 'Degraded', message: 'container "main" failed with exit code 1' },
  { file: 'pod-succeeded.yaml', status: 'Healthy' },
  { file: 'pod-deletion.yaml', status: 'Progressing', message: 'Pending deletion' },
  { file: 'pvc-bound.yaml', status: 'Healthy' },
  { file: 'pvc-pending.yaml', status: 'Progressing' },
  { file: 'statefulset.yaml', status: 'Healthy', message: 'statefulset has 1 ready pods' },
  { file: 'statefulset-ondelete.yaml', status: 'Healthy', message: 'statefulset has 1 ready pods' },
  { file: 'svc-clusterip.yaml', status: 'Healthy' },
  { file: 'svc-loadbalancer.yaml', status: 'Healthy' },
  { file: 'svc-loadbalancer-unassigned.yaml', status: 'Progressing' },
  { file: 'svc-loadbalancer-nonemptylist.yaml', status: 'Healthy' },
];

/** `TestGetArgoWorkflowHealth` builds its objects inline; the same objects, as the same rows. */
const workflow = (status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Workflow',
  metadata: { name: 'sample' },
  spec: { entrypoint: 'sampleEntryPoint', extraneousKey: 'we are agnostic to extraneous keys' },
  ...(status ? { status } : {}),
});
const UPSTREAM_INLINE: { label: string; obj: KubeObject; want: HealthResult }[] = [
  {
    label: 'Workflow Running',
    obj: workflow({ phase: 'Running', message: 'This node is running' }),
    want: { status: 'Progressing', message: 'This node is running' },
  },
  {
    label: 'Workflow Succeeded',
    obj: workflow({ phase: 'Succeeded', message: 'This node is has succeeded' }),
    want: { status: 'Healthy', message: 'This node is has succeeded' },
  },
  { label: 'Workflow without status', obj: workflow(), want: { status: 'Progressing' } },
];

/**
 * Fixtures for which gitops-engine deliberately has no built-in rule (it returns nil and leaves
 * them to Argo CD's resource customizations). Not part of the agreement count; what we answer
 * instead, and why.
 */
const NO_UPSTREAM_RULE: { file: string; want: HealthResult; why: string }[] = [
  {
    file: 'application-healthy.yaml',
    want: { status: 'Healthy' },
    why: "Argo CD's documented opt-in Application check: the child application's own health",
  },
  {
    file: 'application-degraded.yaml',
    want: { status: 'Degraded' },
    why: "Argo CD's documented opt-in Application check: the child application's own health",
  },
  {
    file: 'knative-service.yaml',
    want: { status: 'Progressing', message: 'Waiting for status update.' },
    why: "Argo CD's resource customization for serving.knative.dev/Service (crd-rules/knative.ts): no status yet",
  },
];

function agrees(got: HealthResult, want: Upstream): boolean {
  return got.status === want.status && (want.message === undefined || got.message === want.message);
}

describe("health: agreement with Argo CD's gitops-engine", () => {
  for (const row of UPSTREAM) {
    it(`${row.file} → ${row.status}`, () => {
      const got = assessHealth(load(row.file), ctx);
      assert.equal(got.status, row.status);
      if (row.message !== undefined) assert.equal(got.message, row.message);
    });
  }
  for (const row of UPSTREAM_INLINE) {
    it(`${row.label} → ${row.want.status}`, () => {
      const got = assessHealth(row.obj, ctx);
      assert.equal(got.status, row.want.status);
      if (row.want.message !== undefined) assert.equal(got.message, row.want.message);
    });
  }
  for (const row of NO_UPSTREAM_RULE) {
    it(`${row.file} (no gitops-engine rule: ${row.why})`, () => {
      assert.deepEqual(assessHealth(load(row.file), ctx), row.want);
    });
  }

  it('every upstream fixture has a row, and the agreement figure is 100 %', () => {
    const rows = new Set([...UPSTREAM.map((r) => r.file), ...NO_UPSTREAM_RULE.map((r) => r.file)]);
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
    assert.deepEqual(
      files.filter((f) => !rows.has(f)),
      [],
    );
    const total = UPSTREAM.length + UPSTREAM_INLINE.length;
    const agreed =
      UPSTREAM.filter((r) => agrees(assessHealth(load(r.file), ctx), r)).length +
      UPSTREAM_INLINE.filter((r) => agrees(assessHealth(r.obj, ctx), { file: r.label, ...r.want })).length;
    assert.equal(`${agreed} of ${total}`, `${total} of ${total}`);
  });
});
