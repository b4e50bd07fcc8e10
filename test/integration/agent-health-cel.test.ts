import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useAgentWorld } from '../harness/agent-world.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, condition, getObject, requestSync, waitForCd } from '../harness/tidemark.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { systemClock, type Clock } from '../../shared/time/clock.ts';

/*
 * User-written CEL health checks (spec.healthCheckExprs), extra objects to wait for
 * (spec.healthChecks) and custom resources without status, against the real API server: the
 * test plays the custom resources' controller and writes their status through the status
 * subresource, as an operator would.
 */

const GROUP = 'cel.test.tidemark.dev';
const HOUR = 3_600_000;

/** A CRD in this file's own group; `status` says whether its version has a status subresource. */
function crd(plural: string, kind: string, status: boolean) {
  const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          ...(status ? { subresources: { status: {} } } : {}),
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: open, status: open } } },
        },
      ],
    },
  };
}

const CRDS = [crd('gizmos', 'Gizmo', true), crd('notes', 'Note', false)];

const gizmo = (name: string) => `apiVersion: ${GROUP}/v1\nkind: Gizmo\nmetadata:\n  name: ${name}\nspec:\n  size: 1\n`;
const note = (name: string) => `apiVersion: ${GROUP}/v1\nkind: Note\nmetadata:\n  name: ${name}\nspec:\n  text: plain configuration\n`;

const READY = "status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')";
const BROKEN = "status.conditions.exists(c, c.type == 'Ready' && c.status == 'False' && c.reason == 'Broken')";

describe('agent: CEL health checks and custom resources without status', () => {
  let plain: string;
  // An hour ahead: every object is far past the old 30 s grace for custom resources without
  // status, so only what their CRD declares can keep one Progressing.
  const clock: Clock = { now: () => systemClock.now() + HOUR, sleep: (ms, signal) => systemClock.sleep(ms, signal) };
  const world = useAgentWorld('cel', {
    workers: 2,
    agent: { clock },
    setup: async ({ cluster, kube }) => {
      for (const c of CRDS) {
        await kube.rest.request({
          method: 'PATCH',
          path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${c.metadata.name}`,
          query: { fieldManager: 'tidemark-test', force: true },
          contentType: 'application/apply-patch+yaml',
          body: c,
        });
      }
      await waitFor(
        async () => {
          for (const c of CRDS) {
            const live = await getObject(kube, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${c.metadata.name}`);
            const conditions = (live?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? [];
            if (!conditions.some((x) => x.type === 'Established' && x.status === 'True')) return false;
          }
          return true;
        },
        { timeoutMs: 60_000, what: 'test CRDs established' },
      );
      plain = await cluster.createNamespace('cel-plain');
    },
    cleanup: async ({ kube }) => {
      for (const c of CRDS) {
        await kube.rest
          .request({ method: 'DELETE', path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${c.metadata.name}` })
          .catch(() => undefined);
      }
    },
  });

  const gizmoPath = (namespace: string, name: string) => `/apis/${GROUP}/v1/namespaces/${namespace}/gizmos/${name}`;
  /** Plays the Gizmo controller: writes status through the status subresource. */
  const writeStatus = (namespace: string, name: string, status: Record<string, unknown>) =>
    world().kube.rest.request({
      method: 'PATCH',
      path: `${gizmoPath(namespace, name)}/status`,
      contentType: 'application/merge-patch+json',
      body: { status },
    });
  const ready = (status: 'True' | 'False', reason: string) => ({
    conditions: [{ type: 'Ready', status, reason, message: `${reason} (from the test)`, lastTransitionTime: new Date().toISOString() }],
  });
  /** Requests a sync and waits until the agent has answered exactly that request. */
  const syncAndWait = async (name: string, check: (cd: ContinuousDeployment) => boolean, what: string) => {
    const { kube, ns } = world();
    const stamp = await requestSync(kube, ns, name);
    return waitForCd(kube, ns, name, (cd) => cd.status?.lastHandledRequestedAt === stamp && check(cd), what);
  };
  const healthOf = (cd: ContinuousDeployment, name: string) => cd.status?.resources?.find((r) => r.name === name)?.health;

  it('a custom resource is as healthy as its expressions say; extra healthChecks objects are waited for and reported', async () => {
    const { kube, git, ns, apps } = world();
    // Outside Git: an object the deployment only watches, already ready.
    await kube.rest.request({
      method: 'POST',
      path: `/apis/${GROUP}/v1/namespaces/${apps}/gizmos`,
      body: { apiVersion: `${GROUP}/v1`, kind: 'Gizmo', metadata: { name: 'outside' }, spec: { size: 2 } },
    });
    await writeStatus(apps, 'outside', ready('True', 'Running'));
    await git.repos.createRepo('gizmos', { 'deploy/gizmo.yaml': gizmo('g1'), 'deploy/note.yaml': note('n1') }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'gizmos', namespace: ns },
      spec: {
        url: git.repos.fileUrl('gizmos'),
        path: 'deploy',
        pullInterval: '1h',
        timeout: '3s',
        targetNamespace: apps,
        healthCheckExprs: [{ apiVersion: `${GROUP}/v1`, kind: 'Gizmo', current: READY, failed: BROKEN }],
        healthChecks: [{ apiVersion: `${GROUP}/v1`, kind: 'Gizmo', name: 'outside' }],
      },
    });

    // No status yet: `status.conditions` cannot be read, so the health is Unknown (Flux waits the same way).
    const first = await waitForCd(kube, ns, 'gizmos', (cd) => cd.status?.health?.status === 'Unknown', 'gizmos: Unknown before status');
    assert.equal(first.status?.health?.message, `Gizmo/${apps}/g1 is Unknown: spec.healthCheckExprs[0].failed: no such key: status`);
    // The Note's CRD has no status subresource: nothing will ever write one, and it is Healthy.
    assert.deepEqual(healthOf(first, 'n1'), { status: 'Healthy', message: 'No status reported (its CRD declares no status subresource)' });
    assert.deepEqual(first.status?.healthChecks, [
      {
        apiVersion: `${GROUP}/v1`,
        kind: 'Gizmo',
        namespace: apps,
        name: 'outside',
        health: { status: 'Healthy', message: 'spec.healthCheckExprs[0].current is true' },
      },
    ]);
    assert.deepEqual(
      first.status?.resources?.map((r) => r.name).sort(),
      ['g1', 'n1'],
      'a healthChecks object is never in the inventory (it would be pruned)',
    );

    await writeStatus(apps, 'g1', ready('True', 'Running'));
    const healthy = await syncAndWait('gizmos', (cd) => cd.status?.health?.status === 'Healthy', 'gizmos: Healthy');
    assert.deepEqual(healthOf(healthy, 'g1'), { status: 'Healthy', message: 'spec.healthCheckExprs[0].current is true' });
    assert.equal(condition(healthy, 'Ready')?.status, 'True');

    await writeStatus(apps, 'g1', ready('False', 'Broken'));
    const degraded = await syncAndWait('gizmos', (cd) => cd.status?.health?.status === 'Degraded', 'gizmos: Degraded');
    assert.equal(degraded.status?.health?.message, `Gizmo/${apps}/g1 is Degraded: spec.healthCheckExprs[0].failed is true`);

    // The watched object goes bad: the deployment reports it, by name.
    await writeStatus(apps, 'g1', ready('True', 'Running'));
    await writeStatus(apps, 'outside', ready('False', 'Broken'));
    const outside = await syncAndWait('gizmos', (cd) => cd.status?.health?.status === 'Degraded', 'gizmos: outside Degraded');
    assert.equal(outside.status?.health?.message, `Gizmo/${apps}/outside is Degraded: spec.healthCheckExprs[0].failed is true`);
    assert.deepEqual(healthOf(outside, 'g1'), { status: 'Healthy', message: 'spec.healthCheckExprs[0].current is true' });
  });

  it('without expressions, a custom resource whose CRD has a status subresource is Progressing until status is written', async () => {
    const { kube, git, ns } = world();
    await git.repos.createRepo('plain', { 'deploy/gizmo.yaml': gizmo('g2') }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'plain', namespace: ns },
      spec: { url: git.repos.fileUrl('plain'), path: 'deploy', pullInterval: '1h', targetNamespace: plain },
    });
    const waiting = await waitForCd(kube, ns, 'plain', (cd) => healthOf(cd, 'g2') !== undefined, 'plain: g2 assessed');
    // An hour past creation by the agent's clock: the old rule would have called it Healthy.
    assert.deepEqual(healthOf(waiting, 'g2'), { status: 'Progressing', message: 'Waiting for the controller to report status' });
    assert.equal(waiting.status?.health?.status, 'Progressing');

    await writeStatus(plain, 'g2', { observedGeneration: 1, ...ready('True', 'Running') });
    const done = await syncAndWait('plain', (cd) => cd.status?.health?.status === 'Healthy', 'plain: Healthy once status is written');
    assert.equal(healthOf(done, 'g2')?.status, 'Healthy');
  });

  it('a bad expression is a spec problem with its field path, in the Ready condition, not a crash', async () => {
    const { kube, git, ns } = world();
    await git.repos.createRepo('broken', { 'deploy/gizmo.yaml': gizmo('g3') }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'broken', namespace: ns },
      spec: {
        url: git.repos.fileUrl('broken'),
        path: 'deploy',
        targetNamespace: plain,
        healthCheckExprs: [{ apiVersion: `${GROUP}/v1`, kind: 'Gizmo', current: "status.conditions.exists(c, c.type == 'Ready' &&" }],
      },
    });
    const cd = await waitForCd(kube, ns, 'broken', (c) => condition(c, 'Ready')?.status === 'False', 'broken: Ready=False');
    const ready = condition(cd, 'Ready');
    assert.equal(ready?.reason, 'InvalidCELExpression');
    assert.match(ready?.message ?? '', /spec\.healthCheckExprs\[0\]\.current: invalid CEL expression: 1:\d+: /);
    assert.equal(condition(cd, 'Stalled')?.reason, 'InvalidCELExpression');
    assert.equal(await getObject(kube, gizmoPath(plain, 'g3')), undefined, 'nothing was applied from a spec that does not read');
    // The agent is still at work: another deployment goes on being reconciled.
    await syncAndWait('plain', (c) => c.status?.health?.status === 'Healthy', 'plain: still reconciled');
  });
});
