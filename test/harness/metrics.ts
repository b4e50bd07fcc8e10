import assert from 'node:assert/strict';
import { request } from 'undici';
import type { Agent } from 'undici';
import type { ClusterAccess } from './control-plane.ts';

/**
 * Write counts read at the API server itself (`/metrics`), so a test of "no writes" does not
 * trust the code it tests. The counter has no namespace label: count a resource only one test uses.
 */
/**
 * Non-dry-run creates, updates, patches and applies the API server counted for one resource (main
 * resource, not subresources). Deletes are not counted: the namespace controller sends a collection
 * delete for every namespaced kind, empty ones included, in every namespace it deletes, and for a
 * namespaced kind this counter cannot tell that from one object's delete (both are DELETE with
 * scope "namespace"). Counted, another file's cleanup on the shared cluster showed up as our writes
 * (3 for 1 in full runs); a test that must see a delete checks the object itself.
 */
export async function serverWrites(cluster: ClusterAccess, dispatcher: Agent, group: string, resource: string): Promise<number> {
  const res = await request(`${cluster.server}/metrics`, {
    headers: { authorization: `Bearer ${cluster.adminToken}` },
    dispatcher,
  });
  const text = await res.body.text();
  assert.equal(res.statusCode, 200, text.slice(0, 200));
  let total = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = /^apiserver_request_total\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l): [string, string] => [l[1] ?? '', l[2] ?? '']),
    );
    // Kubernetes 1.20 labels every request with dry_run; a server without it would count dry-runs too.
    if (labels.dry_run === undefined) throw new Error('apiserver_request_total has no dry_run label on this server');
    seen = true;
    if (labels.group !== group || labels.resource !== resource || labels.subresource !== '' || labels.dry_run !== '') continue;
    if (['POST', 'PUT', 'PATCH', 'APPLY'].includes(labels.verb ?? '')) total += Number(m[2]);
  }
  assert.ok(seen, 'no apiserver_request_total samples in /metrics');
  return total;
}

/**
 * serverWrites once the counter has settled: the API server counts a request after its handler
 * returns, which can be after the client already has the answer, so a count read right after a
 * write may miss that write and charge it to the next window.
 */
export async function settledServerWrites(cluster: ClusterAccess, dispatcher: Agent, group: string, resource: string): Promise<number> {
  let last = await serverWrites(cluster, dispatcher, group, resource);
  // Bounded: a count that keeps moving is returned as it is, and the test's own check then says so.
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = await serverWrites(cluster, dispatcher, group, resource);
    if (now === last) return now;
    last = now;
  }
  return last;
}
