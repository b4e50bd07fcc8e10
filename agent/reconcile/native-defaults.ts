import type { KubeObject } from '../../shared/kube/object.ts';
import { isObject } from '../../shared/kube/object.ts';

/*
 * Server-side apply on API servers before 1.22 cannot merge an entry of an associative list whose
 * key field the user left to defaulting: `.spec.ports: element 0: associative list with keys has
 * an element that omits key field "protocol"` (kubernetes-sigs/structured-merge-diff#130,
 * kubernetes/kubernetes#98576). Nor does it take a resource quantity written as a YAML number:
 * `.resources.limits.cpu: expected string, got ... 1`. `kubectl apply` without `--server-side`
 * accepts both, so the most common manifests on the internet are written that way. Like Flux's
 * apply library (fluxcd/pkg ssa `SetNativeKindsDefaults`, now `normalize.UnstructuredList`,
 * whose round trip through the typed objects does both), we write the value the API server
 * would store before the dry run and the apply. Newer servers store the same, so the result is
 * the same on every version.
 */

/** The API server's default for every `protocol` key of ports (core/v1 SetDefaults_*Port). */
const DEFAULT_PROTOCOL = 'TCP';

/** Resource lists (name → quantity) in kinds that are not pod template carriers, by `apiVersion|kind`. */
const QUANTITY_MAPS: Record<string, ReadonlyArray<readonly string[]>> = {
  'v1|ResourceQuota': [['spec', 'hard']],
  'v1|PersistentVolumeClaim': [
    ['spec', 'resources', 'requests'],
    ['spec', 'resources', 'limits'],
  ],
  'v1|PersistentVolume': [['spec', 'capacity']],
};

/** Where the pod spec sits in each kind that carries one, by `apiVersion|kind`. */
const POD_SPEC_PATHS: Record<string, readonly string[]> = {
  'v1|Pod': ['spec'],
  'v1|PodTemplate': ['template', 'spec'],
  'v1|ReplicationController': ['spec', 'template', 'spec'],
  'apps/v1|Deployment': ['spec', 'template', 'spec'],
  'apps/v1|StatefulSet': ['spec', 'template', 'spec'],
  'apps/v1|DaemonSet': ['spec', 'template', 'spec'],
  'apps/v1|ReplicaSet': ['spec', 'template', 'spec'],
  'batch/v1|Job': ['spec', 'template', 'spec'],
  'batch/v1|CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  // The only CronJob version a 1.20 server serves.
  'batch/v1beta1|CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/**
 * The object as server-side apply on every supported server takes it: the `protocol` of Service
 * and container ports filled in, resource quantities written as numbers turned into strings,
 * and a Secret's `stringData` folded into `data`. Pure; returns the very same object when
 * nothing was missing, and never changes a value the object already states (a quantity keeps
 * its number, only as text). Kinds and versions not listed are returned as they are.
 */
export function withNativeDefaults(obj: KubeObject): KubeObject {
  const key = `${obj.apiVersion}|${obj.kind}`;
  if (key === 'v1|Service') return withServiceDefaults(obj);
  if (key === 'v1|Secret') return withSecretData(obj);
  if (key === 'v1|LimitRange') return withLimitRangeQuantities(obj);
  const maps = QUANTITY_MAPS[key];
  if (maps) return maps.reduce<KubeObject>((o, path) => rebuild(o, path, quantityMap) as KubeObject, obj);
  const path = POD_SPEC_PATHS[key];
  return path ? (rebuild(obj, path, withPodSpecDefaults) as KubeObject) : obj;
}

function withServiceDefaults(obj: KubeObject): KubeObject {
  const spec = obj.spec;
  if (!isObject(spec)) return obj;
  const ports = withProtocols(spec.ports);
  return ports === spec.ports ? obj : { ...obj, spec: { ...spec, ports } };
}

/** Ports and quantities of every container list, the pod's overhead and emptyDir size limits. */
function withPodSpecDefaults(podSpec: Record<string, unknown>): Record<string, unknown> {
  let next = podSpec;
  for (const list of CONTAINER_LISTS) {
    const updated = mapList(next[list], (container) => {
      let c = container;
      const ports = withProtocols(c.ports);
      if (ports !== c.ports) c = { ...c, ports };
      c = rebuild(c, ['resources', 'limits'], quantityMap);
      return rebuild(c, ['resources', 'requests'], quantityMap);
    });
    if (updated !== next[list]) next = { ...next, [list]: updated };
  }
  next = rebuild(next, ['overhead'], quantityMap);
  const volumes = mapList(next.volumes, (volume) => rebuild(volume, ['emptyDir'], (dir) => quantityField(dir, 'sizeLimit')));
  return volumes === next.volumes ? next : { ...next, volumes };
}

function withLimitRangeQuantities(obj: KubeObject): KubeObject {
  return rebuild(obj, ['spec'], (spec) => {
    const limits = mapList(spec.limits, (limit) =>
      ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'].reduce((l, field) => rebuild(l, [field], quantityMap), limit),
    );
    return limits === spec.limits ? spec : { ...spec, limits };
  }) as KubeObject;
}

/** The same array when `change` returned every object element unchanged. */
function mapList(list: unknown, change: (item: Record<string, unknown>) => Record<string, unknown>): unknown {
  if (!Array.isArray(list)) return list;
  let changed = false;
  const next = list.map((item: unknown) => {
    if (!isObject(item)) return item;
    const updated = change(item);
    if (updated !== item) changed = true;
    return updated;
  });
  return changed ? next : list;
}

/**
 * A quantity the YAML wrote as a number, as the text of that same number ("1", "0.5"): the
 * server parses both forms to the same quantity and stores its canonical text either way.
 */
function quantityMap(map: Record<string, unknown>): Record<string, unknown> {
  let next = map;
  for (const name of Object.keys(map)) next = quantityField(next, name);
  return next;
}

function quantityField(node: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = node[field];
  return typeof value === 'number' && Number.isFinite(value) ? { ...node, [field]: String(value) } : node;
}

function rebuild(
  node: Record<string, unknown>,
  path: readonly string[],
  change: (leaf: Record<string, unknown>) => Record<string, unknown>,
): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return change(node);
  const child = node[head];
  if (!isObject(child)) return node;
  const next = rebuild(child, rest, change);
  return next === child ? node : { ...node, [head]: next };
}

/** The same array when every port states its protocol (or is not a port object at all). */
function withProtocols(ports: unknown): unknown {
  if (!Array.isArray(ports)) return ports;
  if (!ports.some(needsProtocol)) return ports;
  return ports.map((port: unknown) => (needsProtocol(port) ? { ...port, protocol: DEFAULT_PROTOCOL } : port));
}

function needsProtocol(port: unknown): port is Record<string, unknown> {
  // An empty string is what the API server defaults too (Flux: `port.Protocol == ""`).
  return isObject(port) && (port.protocol === undefined || port.protocol === null || port.protocol === '');
}

/**
 * `stringData` is write-only: the server folds it into `data`, so field ownership is recorded
 * for keys in `data` that no apply of ours names: a key renamed or removed in `stringData` then
 * stays in the Secret (kubernetes/kubernetes#108008). Sending `data` owns every key.
 */
function withSecretData(obj: KubeObject): KubeObject {
  const stringData = obj.stringData;
  if (!isObject(stringData) || Object.keys(stringData).length === 0) return obj;
  const data: Record<string, unknown> = isObject(obj.data) ? { ...obj.data } : {};
  for (const [name, value] of Object.entries(stringData)) {
    // A non-string is left for the server to reject with its own message and field path.
    if (typeof value !== 'string') return obj;
    data[name] = Buffer.from(value, 'utf8').toString('base64');
  }
  const next: KubeObject = { ...obj, data };
  delete next.stringData;
  return next;
}
