import { LruMap } from '../cache/lru.ts';
import { terminal } from '../errors/index.ts';
import type { KubeRest } from './rest.ts';
import { isObject, joinApiVersion } from './object.ts';

export interface ResourceMapping {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/**
 * Maps apiVersion + kind to the REST resource, one discovery call per group version, cached.
 * A miss refreshes that group version once, because a CRD applied a moment ago only shows up
 * after it is established.
 *
 * Group versions the server serves are kept (there are as many as the server serves); those it
 * does not serve come from what tenants write, so only the MAX_MISSING most recent are kept.
 */
export class RestMapper {
  private readonly rest: KubeRest;
  private readonly cache = new Map<string, Promise<Map<string, ResourceMapping>>>();
  private readonly missing = new LruMap<string, Promise<Map<string, ResourceMapping>>>(MAX_MISSING);

  constructor(rest: KubeRest) {
    this.rest = rest;
  }

  async find(apiVersion: string, kind: string): Promise<ResourceMapping | undefined> {
    const cached = await this.load(apiVersion, false);
    const hit = cached.get(kind);
    if (hit) return hit;
    return (await this.load(apiVersion, true)).get(kind);
  }

  async require(apiVersion: string, kind: string): Promise<ResourceMapping> {
    const mapping = await this.find(apiVersion, kind);
    if (!mapping) {
      throw terminal(
        'UnknownKind',
        `the API server does not serve ${kind} in ${apiVersion}`,
        'install the CRD that defines it, or fix apiVersion/kind',
      );
    }
    return mapping;
  }

  /** Forgets everything, e.g. after CRDs were applied or deleted. */
  reset(): void {
    this.cache.clear();
    this.missing.clear();
  }

  private load(apiVersion: string, refresh: boolean): Promise<Map<string, ResourceMapping>> {
    const existing = this.cache.get(apiVersion) ?? this.missing.get(apiVersion);
    if (existing && !refresh) return existing;
    const loading = this.fetch(apiVersion);
    this.cache.set(apiVersion, loading);
    this.missing.delete(apiVersion);
    const settled = () => this.cache.get(apiVersion) === loading && this.cache.delete(apiVersion);
    loading.then(
      (mappings) => {
        // Not served (a 404, or nothing in it): remembered among the few most recent misses.
        if (mappings.size === 0 && settled()) this.missing.set(apiVersion, loading);
      },
      // A failed discovery must not poison the cache: the next call asks again.
      () => settled(),
    );
    return loading;
  }

  private async fetch(apiVersion: string): Promise<Map<string, ResourceMapping>> {
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/', 2) as [string, string]) : ['', apiVersion];
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    const mappings = new Map<string, ResourceMapping>();
    let list: unknown;
    try {
      list = await this.rest.request<unknown>({ method: 'GET', path });
    } catch (err) {
      if (isObject(err) && (err as { status?: number }).status === 404) return mappings;
      throw err;
    }
    const resources = isObject(list) && Array.isArray(list.resources) ? list.resources : [];
    for (const resource of resources) {
      if (!isObject(resource)) continue;
      const name = resource.name;
      const kind = resource.kind;
      // Subresources (deployments/status, pods/log) share the kind of their parent.
      if (typeof name !== 'string' || typeof kind !== 'string' || name.includes('/')) continue;
      mappings.set(kind, { group, version, kind, plural: name, namespaced: resource.namespaced === true });
    }
    return mappings;
  }
}

/** Group versions the server does not serve, remembered so a repeated miss costs no request. */
export const MAX_MISSING = 128;

/** The REST path of one object, or of a collection when `name` is omitted. */
export function resourcePath(mapping: ResourceMapping, namespace: string | undefined, name?: string): string {
  const base = mapping.group ? `/apis/${joinApiVersion(mapping.group, mapping.version)}` : `/api/${mapping.version}`;
  const ns = mapping.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const tail = name === undefined ? '' : `/${encodeURIComponent(name)}`;
  return `${base}${ns}/${mapping.plural}${tail}`;
}
