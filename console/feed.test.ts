import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_VERSION } from '../shared/api/constants.ts';
import { FakeKubePort } from '../shared/kube/fake-port.ts';
import { silentLogger } from '../shared/log/index.ts';
import { systemClock } from '../shared/time/clock.ts';
import { CdFeed } from './feed.ts';
import type { FeedMessage } from './feed.ts';
import type { ConsoleKube } from './kube.ts';

const unused = () => Promise.reject(new Error('not used by the feed'));

describe('the feed', () => {
  it('a snapshot in code-unit order of namespace/name, the order the page inserts new rows in', async () => {
    const fake = new FakeKubePort();
    for (const [namespace, name] of [
      ['a', 'x'],
      ['a-b', 'x'],
      ['a', 'x-1'],
    ] as const)
      fake.seed({ apiVersion: API_VERSION, kind: 'ContinuousDeployment', metadata: { name, namespace }, spec: { url: 'u' } });
    const kube: ConsoleKube = {
      port: fake,
      getCd: unused,
      patchCd: unused,
      deleteCd: unused,
      listRepositories: unused,
      createSecret: unused,
      listTidemark: unused,
      createCd: unused,
      replaceCd: unused,
      events: unused,
    };
    const feed = new CdFeed(kube, { clock: systemClock, log: silentLogger, fallbackNamespace: 'default' });
    const synced = new Promise<FeedMessage>((resolve) => feed.subscribe(resolve));
    await feed.start();
    await synced;
    const keys = feed.snapshot().data.rows.map((r) => `${r.namespace}/${r.name}`);
    await feed.stop();
    assert.deepEqual(keys, ['a-b/x', 'a/x', 'a/x-1']);
  });
});
