import type { KubeObject } from '../../shared/kube/object.ts';
import { isObject } from '../../shared/kube/object.ts';

/*
 * Server-side apply on API servers before 1.22 cannot merge an entry of an associative list whose
 * key field the user left to defaulting: `.spec.ports: element 0: associative list with keys has
 * an element that omits key field "protocol"` (kubernetes-sigs/structured-merge-diff#130,
 * kubernetes/kubernetes#98576). `kubectl apply` without `--server-side` never meets it, so the
 * most common manifests on the internet omit `protocol`. Like Flux's apply library
 * (fluxcd/pkg ssa `SetNativeKindsDefaults`, now `normalize.UnstructuredList`), we write the
 * value the API server would default before the dry run and the apply. Newer servers default it
 * to the same value, so the stored object is the same on every version.
 */

/** The API server's default for every `protocol` key of ports (core/v1 SetDefaults_*Port). */
const DEFAULT_PROTOCOL = 'TCP';

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
 * The object with the defaults filled in that server-side apply needs to merge list entries
 * (`protocol` of Service and container ports) and with a Secret's `stringData` folded into
 * `data`. Pure; returns the very same object when nothing was missing, and never changes a value
 * the object already states. Kinds and versions not listed are returned as they are.
 */
export function withNativeDefaults(obj: KubeObject): KubeObject {
  const key = `${obj.apiVersion}|${obj.kind}`;
  if (key === 'v1|Service') return withServiceDefaults(obj);
  if (key === 'v1|Secret') return withSecretData(obj);
  const path = POD_SPEC_PATHS[key];
  return path ? withPodSpecDefaults(obj, path) : obj;
}

function withServiceDefaults(obj: KubeObject): KubeObject {
  const spec = obj.spec;
  if (!isObject(spec)) return obj;
  const ports = withProtocols(spec.ports);
  return ports === spec.ports ? obj : { ...obj, spec: { ...spec, ports } };
}

/** Rebuilds only the objects on the path down to the pod spec, and only when a port changed. */
function withPodSpecDefaults(obj: KubeObject, path: readonly string[]): KubeObject {
  const rebuilt = rebuild(obj, path, (podSpec) => {
    let next = podSpec;
    for (const list of CONTAINER_LISTS) {
      const containers = podSpec[list];
      if (!Array.isArray(containers)) continue;
      let changed = false;
      const updated = containers.map((container: unknown) => {
        if (!isObject(container)) return container;
        const ports = withProtocols(container.ports);
        if (ports === container.ports) return container;
        changed = true;
        return { ...container, ports };
      });
      if (changed) next = { ...next, [list]: updated };
    }
    return next;
  });
  return rebuilt as KubeObject;
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
