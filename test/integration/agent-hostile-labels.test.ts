import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useAgentWorld } from '../harness/agent-world.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, getObject, requestSync, waitForCd } from '../harness/tidemark.ts';
import { Resources } from '../../shared/api/resources.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { ObjectCache } from '../../shared/kube/object-cache.ts';
import { mapLimit } from '../../shared/kube/pool.ts';
import type { Logger } from '../../shared/log/index.ts';
import { silentLogger } from '../../shared/log/index.ts';
import { systemClock } from '../../shared/time/clock.ts';
import { carriesOwnership, ownershipValue } from '../../agent/plan.ts';

/*
 * Issue 21 item 11 on the real API server: a tenant puts the agent's label (and even a forged
 * ownership annotation) on 500 ConfigMaps of its own naming another tenant's deployment. The
 * agent's watch sees every one of them; none reconciles the victim, and the cache keeps only
 * identities for the merely labelled ones and slimmed copies of the rest, listed in pages.
 */

const FORGED = 500;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Every line the agent logs, and every child logger it makes: the controller loop makes one
 * (`{controller, object}`) as each run starts, before anything else, so runs are counted by them.
 */
function recordingLogger(lines: Array<Record<string, unknown>>, bound: Record<string, unknown> = {}): Logger {
  const record = (fields: Record<string, unknown>, msg: string) => void lines.push({ ...bound, ...fields, msg });
  return {
    debug: record,
    info: record,
    warn: record,
    error: record,
    child: (f) => {
      lines.push({ ...bound, ...f, msg: '(child)' });
      return recordingLogger(lines, { ...bound, ...f });
    },
  };
}

const configMap = (name: string, color: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  color: ${color}\n`;

describe('agent: hostile labels', () => {
  const lines: Array<Record<string, unknown>> = [];
  const world = useAgentWorld('hostile', { workers: 4, agent: { log: recordingLogger(lines) } });

  /** Runs started for a ContinuousDeployment: a run has started by the time its status shows. */
  const runsOf = (name: string) =>
    lines.filter((l) => l.msg === '(child)' && l.controller === 'continuousdeployment' && l.object === `${world().ns}/${name}`).length;
  const synced = (cd: ContinuousDeployment) => cd.status?.sync?.status === 'Synced' && (cd.status.resources ?? []).length === 1;
  const syncAndWait = async (name: string, what: string) => {
    const { kube, ns } = world();
    const stamp = await requestSync(kube, ns, name);
    return waitForCd(kube, ns, name, (c) => c.status?.lastHandledRequestedAt === stamp, what);
  };
  const deploy = async (name: string) => {
    const { kube, git, ns, apps } = world();
    await git.repos.createRepo(name, { 'deploy/cm.yaml': configMap(`${name}-settings`, 'blue') }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name, namespace: ns },
      spec: { url: git.repos.fileUrl(name), path: 'deploy', pullInterval: '1h', targetNamespace: apps, syncPolicy: { selfHeal: true } },
    });
    await waitForCd(kube, ns, name, synced, `${name}: first sync`);
  };
  const cmPath = (namespace: string, name?: string) => `/api/v1/namespaces/${namespace}/configmaps${name ? `/${name}` : ''}`;

  it(`${FORGED} ConfigMaps labelled with another tenant's deployment do not reconcile it; the cache keeps slim copies`, async () => {
    const { cluster, kube, ns, apps } = world();
    const tenant = await cluster.createNamespace('hostile-tenant');
    await deploy('victim');
    await deploy('sentinel');
    await syncAndWait('victim', 'victim: settled');
    const base = runsOf('victim');

    // Half carry the label alone, half also a forged, self-consistent ownership annotation; all
    // carry kubectl's last-applied record and 4 KiB of data.
    const labels = { 'tidemark.dev/name': 'victim', 'tidemark.dev/namespace': ns };
    const forged = (i: number): KubeObject => {
      const name = `forged-${i}`;
      const annotations: Record<string, string> = { [LAST_APPLIED]: JSON.stringify({ data: { payload: 'p'.repeat(512) } }) };
      if (i % 2 === 1) {
        annotations['tidemark.dev/owned-by'] = ownershipValue(
          { namespace: ns, name: 'victim' },
          { group: '', kind: 'ConfigMap', namespace: tenant, name },
        );
      }
      return {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: tenant, labels, annotations },
        data: { payload: 'x'.repeat(4096) },
      };
    };
    const indexes = Array.from({ length: FORGED }, (_, i) => i);
    await mapLimit(indexes, 16, (i) =>
      kube.rest.request({ method: 'POST', path: cmPath(tenant), query: { fieldManager: 'tenant' }, body: forged(i) }),
    );
    await mapLimit(indexes.slice(0, 100), 16, (i) =>
      kube.rest.request({
        method: 'PATCH',
        path: cmPath(tenant, `forged-${i}`),
        contentType: 'application/merge-patch+json',
        body: { data: { payload: 'y'.repeat(4096) } },
      }),
    );
    await mapLimit(indexes.slice(400), 16, (i) => kube.rest.request({ method: 'DELETE', path: cmPath(tenant, `forged-${i}`) }));

    // The sentinel's repair goes through the same ConfigMap watch, after every forged event.
    await kube.rest.request({
      method: 'PATCH',
      path: cmPath(apps, 'sentinel-settings'),
      contentType: 'application/merge-patch+json',
      body: { data: { color: 'red' } },
    });
    await waitFor(
      async () => ((await getObject(kube, cmPath(apps, 'sentinel-settings')))?.data as { color?: string } | undefined)?.color === 'blue',
      {
        timeoutMs: 30_000,
        what: 'sentinel repaired through the watch',
      },
    );
    const answered = await syncAndWait('victim', 'victim: the one requested run');
    assert.equal(answered.status?.sync?.status, 'Synced');
    assert.equal(runsOf('victim'), base + 1, 'the forged objects caused no reconcile of the victim');
    const listed = (await kube.rest.request<{ items: KubeObject[] }>({ method: 'GET', path: cmPath(tenant) })).items.filter((o) =>
      o.metadata.name.startsWith('forged-'),
    );
    assert.equal(listed.length, 400, 'the tenant keeps its objects: nothing was pruned or healed');

    // A watch cache as the agent builds one, listing in pages of 50 from the real server.
    const cache = new ObjectCache(kube.port, {
      labelSelector: 'tidemark.dev/name',
      clock: systemClock,
      log: silentLogger,
      keepWhole: carriesOwnership,
      pageSize: 50,
    });
    try {
      await cache.watch(Resources.ConfigMap);
      const kept = cache.kept(Resources.ConfigMap).filter((o) => o.metadata.namespace === tenant);
      assert.equal(kept.length, 400, 'every page was read');
      let keptBytes = 0;
      for (const o of kept) {
        keptBytes += JSON.stringify(o).length;
        assert.equal(o.metadata.managedFields, undefined, o.metadata.name);
        assert.equal(o.metadata.annotations?.[LAST_APPLIED], undefined, o.metadata.name);
        const stamped = Number(o.metadata.name.slice('forged-'.length)) % 2 === 1;
        if (!stamped) {
          assert.equal(o.data, undefined, `${o.metadata.name}: the label alone buys an identity only`);
          assert.equal(cache.get(Resources.ConfigMap, tenant, o.metadata.name), undefined);
        }
      }
      const rawBytes = listed.reduce((sum, o) => sum + JSON.stringify(o).length, 0);
      assert.ok(keptBytes < rawBytes * 0.6, `kept ${keptBytes} bytes of ${rawBytes}`);
      const ours = cache.get(Resources.ConfigMap, apps, 'victim-settings');
      assert.equal((ours?.data as Record<string, string> | undefined)?.color, 'blue', 'ours is kept whole');
      assert.equal(ours?.metadata.managedFields, undefined);
    } finally {
      cache.stop();
    }
  });
});
