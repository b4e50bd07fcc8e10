import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MISSING, RestMapper } from './discovery.ts';
import { KubeApiError } from './errors.ts';
import type { KubeRest } from './rest.ts';

/** A discovery endpoint that serves only `v1` (ConfigMap), and counts the requests per path. */
function server() {
  const requests = new Map<string, number>();
  const rest = {
    request: ({ path }: { path: string }) => {
      requests.set(path, (requests.get(path) ?? 0) + 1);
      if (path === '/api/v1') {
        return Promise.resolve({ resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }] });
      }
      return Promise.reject(new KubeApiError(404, 'NotFound', 'the server could not find the requested resource'));
    },
  } as unknown as KubeRest;
  return { rest, requests: (path: string) => requests.get(path) ?? 0 };
}

/**
 * Issue 21 item 16: every apiVersion a manifest names was remembered for ever, found or not, so
 * a tenant writing made-up group versions grew the agent without bound.
 */
test('discovery remembers only the most recent group versions the server does not serve, and every one it serves', async () => {
  const { rest, requests } = server();
  const mapper = new RestMapper(rest);
  assert.equal((await mapper.find('v1', 'ConfigMap'))?.plural, 'configmaps');
  for (let i = 0; i < 2_000; i++) assert.equal(await mapper.find(`made-up-${i}.example.com/v1`, 'Thing'), undefined);

  // The oldest misses were dropped: asking again asks the server twice (the lookup, then the refresh).
  const first = '/apis/made-up-0.example.com/v1';
  const asked = requests(first);
  await mapper.find('made-up-0.example.com/v1', 'Thing');
  assert.equal(requests(first), asked + 2, 'an evicted miss is looked up again, then refreshed');
  // The newest misses are still known: the refresh on a miss is the only request.
  const recent = `/apis/made-up-${1_999}.example.com/v1`;
  const before = requests(recent);
  await mapper.find(`made-up-${1_999}.example.com/v1`, 'Thing');
  assert.equal(requests(recent), before + 1, 'a remembered miss costs only the refresh');
  // The served group version is never pushed out by misses.
  const served = requests('/api/v1');
  assert.equal((await mapper.find('v1', 'ConfigMap'))?.kind, 'ConfigMap');
  assert.equal(requests('/api/v1'), served, 'v1 still cached');
  assert.ok(MAX_MISSING < 2_000);
});
