import { LruMap } from '../shared/cache/lru.ts';
import type { ResourceMapping } from '../shared/kube/discovery.ts';
import type { KubePort } from '../shared/kube/port.ts';
import type { Clock } from '../shared/time/clock.ts';
import { list, rec, str } from './health/fields.ts';
import type { CrdFacts } from './health/index.ts';

const CRDS: ResourceMapping = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
};

/** How long a CRD's answer is reused: a CRD that gains a status subresource is seen within this. */
export const CRD_FACTS_TTL_MS = 60_000;
/** Kinds remembered per cluster; the kinds come from what tenants deploy, so they are bounded. */
const CAPACITY = 512;

interface Entry {
  at: number;
  facts: CrdFacts | undefined;
}

/**
 * Reads what a custom resource's CRD declares, for the health rules (which stay pure and get the
 * answer in their context). One GET per kind and cluster a minute at most: the answers are kept
 * per KubePort (one per target cluster). A kind without a CRD (an aggregated API) or a CRD the
 * agent may not read has no facts, and the rule falls back to what it does without them.
 */
export class CrdFactsReader {
  private readonly clock: Clock;
  private readonly byCluster = new WeakMap<KubePort, LruMap<string, Entry>>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  async read(kube: KubePort, mapping: ResourceMapping): Promise<CrdFacts | undefined> {
    let cache = this.byCluster.get(kube);
    if (!cache) {
      cache = new LruMap(CAPACITY);
      this.byCluster.set(kube, cache);
    }
    const key = `${mapping.plural}.${mapping.group}/${mapping.version}`;
    const now = this.clock.now();
    const cached = cache.get(key);
    if (cached && now - cached.at < CRD_FACTS_TTL_MS) return cached.facts;
    let facts: CrdFacts | undefined;
    try {
      const crd = await kube.get(CRDS, undefined, `${mapping.plural}.${mapping.group}`);
      facts = crd ? factsOf(crd.spec, mapping.version) : undefined;
    } catch {
      // Not readable (RBAC, a flaky server): no facts this time, and no caching of the failure.
      return undefined;
    }
    cache.set(key, { at: now, facts });
    return facts;
  }
}

/** The served version's `subresources.status`; a CRD that does not list the version has no facts. */
export function factsOf(spec: unknown, version: string): CrdFacts | undefined {
  for (const item of list(rec(spec)?.versions)) {
    const entry = rec(item);
    if (str(entry?.name) !== version) continue;
    return { statusSubresource: rec(rec(entry?.subresources)?.status) !== undefined };
  }
  return undefined;
}
