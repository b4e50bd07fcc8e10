import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { main } from '../../cli/main.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { useAgentWorld } from '../harness/agent-world.ts';
import { configMapYaml } from '../harness/manifests.ts';
import { applyCd, condition, getObject, requestSync, waitForCd } from '../harness/tidemark.ts';
import { kubectlTools } from '../harness/tools.ts';

const run = promisify(execFile);

/*
 * Issue 17 part 5 against the real API server: a commit that adds a Namespace with objects in
 * it while nothing may be written; the sync status when the source cannot be read; the CRD's
 * printer columns as kubectl shows them; kustomize components; a CRD, its custom resources and
 * a Namespace with objects in one commit.
 */

// A kind only this file defines, so parallel files never see it.
const GADGET_GROUP = 'exact.test.tidemark.dev';
const GADGETS = `gadgets.${GADGET_GROUP}`;
const gadgetCrd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${GADGETS}
spec:
  group: ${GADGET_GROUP}
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
`;
const gadget = (name: string, namespace: string, size: number) =>
  `apiVersion: ${GADGET_GROUP}/v1\nkind: Gadget\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  size: ${size}\n`;

const nsYaml = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

describe('agent: exactness', () => {
  const suffix = randomBytes(3).toString('hex');
  const createdNamespaces: string[] = [];
  const world = useAgentWorld('exact', {
    workers: 4,
    cleanup: async ({ cluster, kube }) => {
      for (const name of createdNamespaces) await cluster.deleteNamespace(name).catch(() => undefined);
      await kube.rest
        .request({ method: 'DELETE', path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${GADGETS}` })
        .catch(() => undefined);
    },
  });

  const cd = (name: string, spec: Record<string, unknown>) => {
    const { kube, git, ns, apps } = world();
    return applyCd(kube, {
      metadata: { name, namespace: ns },
      spec: { url: git.repos.fileUrl(name), path: 'deploy', pullInterval: '1h', targetNamespace: apps, ...spec },
    });
  };
  const cli = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await main([...argv, '--kubeconfig', world().cluster.kubeconfigPath], {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      env: {},
    });
    return { code, out, err };
  };
  /** Settled on the newest commit: compared (or failed) at `sha`. */
  const attempted = (sha: string) => (c: ContinuousDeployment) =>
    c.status?.lastAttemptedRevision === `main@sha1:${sha}` && c.status.sync?.status !== undefined;

  describe('a new Namespace with objects in it, while nothing may be written', () => {
    const cases = [
      { name: 'ns-manual', policy: { manual: true }, reason: 'ManualSyncRequired' },
      {
        name: 'ns-window',
        policy: { windows: [{ kind: 'deny', schedule: '* * * * *', duration: '1h', manualSync: true }] },
        reason: 'SyncWindowBlocked',
      },
    ];
    for (const { name, policy, reason } of cases) {
      it(`${name}: OutOfSync with planned creates, no dry-run failure; tidemark diff lists them; a requested sync applies`, async () => {
        const { kube, git, ns } = world();
        const target = `${name}-${suffix}`;
        createdNamespaces.push(target);
        // The commit adds the Namespace and the objects in it together.
        const sha = await git.repos.createRepo(
          name,
          {
            'deploy/cm.yaml': configMapYaml('outside', { a: '1' }),
            'deploy/ns.yaml': nsYaml(target),
            'deploy/inside.yaml': configMapYaml('inside', { b: '2' }, { namespace: target }),
            'deploy/sa.yaml': `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n  namespace: ${target}\n`,
          },
          { branch: 'main' },
        );
        await cd(name, { syncPolicy: policy });
        const status = await waitForCd(kube, ns, name, attempted(sha), `${name}: compared at the commit`);
        const ready = condition(status, 'Ready');
        assert.equal(status.status?.sync?.status, 'OutOfSync', ready?.message);
        assert.equal(ready?.reason, reason, ready?.message);
        assert.notEqual(condition(status, 'Stalled')?.status, 'True', condition(status, 'Stalled')?.message);
        assert.deepEqual(
          status.status?.resources
            ?.filter((r) => r.namespace === target || r.kind === 'Namespace')
            .map((r) => `${r.kind}/${r.name}=${r.status}`)
            .sort(),
          [`ConfigMap/inside=OutOfSync`, `Namespace/${target}=OutOfSync`, 'ServiceAccount/runner=OutOfSync'],
        );
        assert.equal(await getObject(kube, `/api/v1/namespaces/${target}`), undefined, 'nothing written');

        const diff = await cli('diff', name, '-n', ns);
        assert.equal(diff.code, 1, diff.err + diff.out);
        assert.match(diff.out, new RegExp(`^\\+ create Namespace/${target}$`, 'm'));
        assert.match(diff.out, new RegExp(`^\\+ create ConfigMap/${target}/inside$`, 'm'));
        assert.match(diff.out, new RegExp(`^\\+ create ServiceAccount/${target}/runner$`, 'm'));
        assert.match(diff.out, /^\+ {2}b: "2"$/m);

        const stamp = await requestSync(kube, ns, name);
        const synced = await waitForCd(kube, ns, name, (c) => c.status?.lastHandledRequestedAt === stamp, `${name}: requested sync`);
        assert.equal(synced.status?.sync?.status, 'Synced', condition(synced, 'Ready')?.message);
        assert.ok(await getObject(kube, `/api/v1/namespaces/${target}/configmaps/inside`));
      });
    }
  });

  /** `kubectl get cd NAME` (v1.35) as a person reads it: the header and the row, split on runs of spaces. */
  const kubectlRow = async (name: string, wide = false): Promise<Record<string, string>> => {
    const { kubectl } = await kubectlTools();
    const { cluster, ns } = world();
    const args = ['--kubeconfig', cluster.kubeconfigPath, 'get', 'continuousdeployments.tidemark.dev', '--namespace', ns];
    const { stdout } = await run(kubectl, [...args, ...(wide ? ['-o', 'wide'] : []), '--', name]);
    const [header, row, ...rest] = stdout.trimEnd().split('\n');
    assert.equal(rest.length, 0, stdout);
    // Headers are single words except none; values may hold one space (a Ready message), so cut
    // at the header's column starts, as kubectl aligns them.
    const starts = [...(header ?? '').matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
    return Object.fromEntries(starts.map((c, i) => [c.name, (row ?? '').slice(c.at, starts[i + 1]?.at ?? undefined).trim()]));
  };

  it('the printer columns: kubectl get shows health, sync, revision, location and the last sync time', async () => {
    const { kube, git, ns, apps } = world();
    const sha = await git.repos.createRepo('columns', { 'deploy/cm.yaml': configMapYaml('columns', { a: '1' }) }, { branch: 'main' });
    await cd('columns', {});
    const status = await waitForCd(kube, ns, 'columns', (c) => c.status?.sync?.status === 'Synced', 'columns synced');
    const row = await kubectlRow('columns');
    assert.deepEqual(Object.keys(row), ['NAME', 'HEALTH', 'SYNC', 'REVISION', 'LOCATION', 'UPDATED', 'AGE']);
    assert.equal(row.NAME, 'columns');
    assert.equal(row.HEALTH, 'Healthy');
    assert.equal(row.SYNC, 'Synced');
    assert.equal(row.REVISION, `main@sha1:${sha}`);
    assert.equal(row.LOCATION, apps);
    assert.equal(status.status?.location?.namespace, apps);
    // A date column prints an age: the sync happened within the test, so seconds or minutes.
    assert.match(row.UPDATED ?? '', /^\d+(s|m\d*s?)$/);
    assert.ok(status.status?.lastSyncTime, 'the Updated column reads status.lastSyncTime');
    const wide = await kubectlRow('columns', true);
    assert.equal(wide.READY, 'True');
    assert.match(wide.MESSAGE ?? '', /^Applied revision: main@sha1:/);
  });

  it('sync.status Unknown when the source cannot be read: Git gone after a sync, or its credentials Secret missing', async () => {
    const { kube, git, ns } = world();
    const sha = await git.repos.createRepo('vanishing', { 'deploy/cm.yaml': configMapYaml('vanishing', { a: '1' }) }, { branch: 'main' });
    await cd('vanishing', {});
    await waitForCd(kube, ns, 'vanishing', (c) => c.status?.sync?.status === 'Synced', 'vanishing synced');
    await rm(git.repos.path('vanishing'), { recursive: true, force: true });
    await requestSync(kube, ns, 'vanishing');
    const gone = await waitForCd(kube, ns, 'vanishing', (c) => c.status?.sync?.status === 'Unknown', 'vanishing: Unknown');
    assert.equal(condition(gone, 'Ready')?.status, 'False');
    assert.equal(gone.status?.sync?.revision, `main@sha1:${sha}`, 'the last revision it knew stays');
    assert.equal((await kubectlRow('vanishing')).SYNC, 'Unknown');

    await git.repos.createRepo('locked', { 'deploy/cm.yaml': configMapYaml('locked', { a: '1' }) }, { branch: 'main' });
    await cd('locked', { secretRef: 'no-such-secret' });
    const locked = await waitForCd(kube, ns, 'locked', (c) => condition(c, 'Ready')?.status === 'False', 'locked: failed');
    assert.equal(locked.status?.sync?.status, 'Unknown', condition(locked, 'Ready')?.message);
    assert.equal(condition(locked, 'Ready')?.reason, 'SecretNotFound');
  });

  it('kustomize components: each component adds its objects and patches the base', async () => {
    const { kube, git, ns, apps } = world();
    const component = (body: string) => `apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n${body}`;
    await git.repos.createRepo(
      'components',
      {
        'deploy/kustomization.yaml': 'resources: [app.yaml]\ncomponents: [../components/metrics, ../components/tier]\n',
        'deploy/app.yaml': configMapYaml('app', { mode: 'plain' }),
        'components/metrics/kustomization.yaml': component(
          'resources: [svc.yaml]\npatches:\n  - target: {kind: ConfigMap, name: app}\n' +
            '    patch: |\n      - op: add\n        path: /data/metrics\n        value: "on"\n',
        ),
        // A Service as most are written, without protocol.
        'components/metrics/svc.yaml':
          'apiVersion: v1\nkind: Service\nmetadata:\n  name: metrics\nspec:\n  selector: {app: app}\n  ports:\n    - port: 9090\n',
        'components/tier/kustomization.yaml': component('labels:\n  - pairs: {tier: backend}\n    includeSelectors: false\n'),
      },
      { branch: 'main' },
    );
    await cd('components', {});
    const status = await waitForCd(kube, ns, 'components', (c) => condition(c, 'Ready')?.status !== undefined, 'components settled');
    assert.equal(status.status?.sync?.status, 'Synced', condition(status, 'Ready')?.message);
    assert.deepEqual(status.status?.resources?.map((r) => `${r.kind}/${r.name}`).sort(), ['ConfigMap/app', 'Service/metrics']);
    const app = await getObject(kube, `/api/v1/namespaces/${apps}/configmaps/app`);
    assert.deepEqual(app?.data, { mode: 'plain', metrics: 'on' });
    assert.equal(app?.metadata.labels?.tier, 'backend');
    const svc = await getObject(kube, `/api/v1/namespaces/${apps}/services/metrics`);
    assert.equal(svc?.metadata.labels?.tier, 'backend', 'a later component applies to an earlier one');
    assert.deepEqual(
      (svc?.spec as { ports: Array<{ protocol: string }> }).ports.map((p) => p.protocol),
      ['TCP'],
    );
  });

  it('a CRD, its custom resources and a Namespace with objects in one commit: planned as creates, then synced', async () => {
    const { kube, git, ns, apps } = world();
    const target = `gadgets-${suffix}`;
    createdNamespaces.push(target);
    await git.repos.createRepo(
      'gadgets',
      {
        'deploy/crd.yaml': gadgetCrd,
        'deploy/ns.yaml': nsYaml(target),
        'deploy/in-ns.yaml': `${gadget('inside', target, 1)}---\n${configMapYaml('inside', { b: '2' }, { namespace: target })}`,
        'deploy/in-target.yaml': gadget('outside', apps, 2),
      },
      { branch: 'main' },
    );
    // Manual first: nothing exists yet, so nothing can be dry-run below the CRD and the Namespace.
    await cd('gadgets', { syncPolicy: { manual: true } });
    const planned = await waitForCd(kube, ns, 'gadgets', (c) => condition(c, 'Ready')?.status !== undefined, 'gadgets: compared');
    assert.equal(planned.status?.sync?.status, 'OutOfSync', condition(planned, 'Ready')?.message);
    assert.equal(condition(planned, 'Ready')?.reason, 'ManualSyncRequired', condition(planned, 'Ready')?.message);
    const diff = await cli('diff', 'gadgets', '-n', ns);
    assert.equal(diff.code, 1, diff.err + diff.out);
    for (const label of [
      `CustomResourceDefinition/${GADGETS}`,
      `Namespace/${target}`,
      `Gadget/${target}/inside`,
      `ConfigMap/${target}/inside`,
      `Gadget/${apps}/outside`,
    ]) {
      assert.match(diff.out, new RegExp(`^\\+ create ${label.replaceAll('.', '\\.')}$`, 'm'), diff.out);
    }

    const stamp = await requestSync(kube, ns, 'gadgets');
    const synced = await waitForCd(kube, ns, 'gadgets', (c) => c.status?.lastHandledRequestedAt === stamp, 'gadgets: requested sync');
    assert.equal(synced.status?.sync?.status, 'Synced', condition(synced, 'Ready')?.message);
    assert.equal(synced.status?.resources?.length, 5);
    const inside = await getObject(kube, `/apis/${GADGET_GROUP}/v1/namespaces/${target}/gadgets/inside`);
    assert.equal((inside?.spec as { size: number }).size, 1);
    const outside = await getObject(kube, `/apis/${GADGET_GROUP}/v1/namespaces/${apps}/gadgets/outside`);
    assert.equal((outside?.spec as { size: number }).size, 2);
    assert.ok(await getObject(kube, `/api/v1/namespaces/${target}/configmaps/inside`));
  });
});
