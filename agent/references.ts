import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { Resources } from '../shared/api/resources.ts';
import { listAndWatch } from '../shared/controller/watch.ts';
import { isForbidden } from '../shared/kube/errors.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import { isObject } from '../shared/kube/object.ts';
import type { KubePort } from '../shared/kube/port.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';

/** `ConfigMap/<namespace>/<name>` or `Secret/<namespace>/<name>`. */
export type ReferenceKey = string;

/**
 * The ConfigMaps and Secrets a deployment's spec names (postBuild.substituteFrom,
 * decryption.secretRef, helm.chart.secretRef), read from the raw spec so a spec with other
 * problems still counts.
 */
export function referencesOf(cd: ContinuousDeployment): ReferenceKey[] {
  const namespace = cd.metadata.namespace ?? 'default';
  const spec: unknown = cd.spec;
  if (!isObject(spec)) return [];
  const out = new Set<ReferenceKey>();
  const postBuild = spec.postBuild;
  if (isObject(postBuild) && Array.isArray(postBuild.substituteFrom)) {
    for (const source of postBuild.substituteFrom) {
      if (!isObject(source) || typeof source.name !== 'string') continue;
      if (source.kind === 'ConfigMap' || source.kind === 'Secret') out.add(`${source.kind}/${namespace}/${source.name}`);
    }
  }
  const decryption = spec.decryption;
  if (isObject(decryption) && isObject(decryption.secretRef) && typeof decryption.secretRef.name === 'string') {
    out.add(`Secret/${namespace}/${decryption.secretRef.name}`);
  }
  // A chart repository's credentials fixed (or rotated) should not wait for the next poll either.
  const helm = spec.helm;
  if (isObject(helm) && isObject(helm.chart) && typeof helm.chart.secretRef === 'string' && helm.chart.secretRef !== '') {
    out.add(`Secret/${namespace}/${helm.chart.secretRef}`);
  }
  return [...out];
}

/**
 * Wakes the deployments that use a ConfigMap or Secret when it changes, appears or goes. Values
 * are read afresh by every reconcile (as the deployment's identity); this watch only says when.
 * It runs as the agent, keeps no data (each object is cut to its identity as it arrives, so no
 * Secret value stays in memory), and starts only once some deployment names a source.
 */
export class ReferenceWatch {
  private readonly users = new Map<ReferenceKey, Set<string>>();
  private readonly byDeployment = new Map<string, ReferenceKey[]>();
  private readonly versions = new Map<ReferenceKey, string | undefined>();
  private readonly abort = new AbortController();
  private started = false;
  private readonly port: KubePort;
  private readonly options: { clock: Clock; log: Logger; namespace?: string | undefined; wake: (deploymentKey: string) => void };

  constructor(
    port: KubePort,
    options: { clock: Clock; log: Logger; namespace?: string | undefined; wake: (deploymentKey: string) => void },
  ) {
    this.port = port;
    this.options = options;
  }

  /** Records what `namespace/name` refers to now (an empty list forgets it). */
  set(deploymentKey: string, references: readonly ReferenceKey[]): void {
    for (const ref of this.byDeployment.get(deploymentKey) ?? []) this.users.get(ref)?.delete(deploymentKey);
    if (references.length === 0) this.byDeployment.delete(deploymentKey);
    else this.byDeployment.set(deploymentKey, [...references]);
    for (const ref of references) {
      let set = this.users.get(ref);
      if (!set) this.users.set(ref, (set = new Set()));
      set.add(deploymentKey);
    }
    if (references.length > 0) this.start();
  }

  /** Deployments that use this reference. */
  usersOf(ref: ReferenceKey): string[] {
    return [...(this.users.get(ref) ?? [])];
  }

  stop(): void {
    this.abort.abort();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    for (const resource of [Resources.ConfigMap, Resources.Secret]) {
      const keyOf = (obj: KubeObject): ReferenceKey => `${resource.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
      const seen = (obj: KubeObject, gone: boolean) => {
        const key = keyOf(obj);
        const users = this.usersOf(key);
        // Only what some deployment names is remembered: a version string per reference.
        if (users.length === 0) {
          this.versions.delete(key);
          return;
        }
        const before = this.versions.get(key);
        const version = gone ? undefined : obj.metadata.resourceVersion;
        if (gone) this.versions.delete(key);
        else this.versions.set(key, version);
        // The first list only learns versions: every deployment reads its sources on its own first run.
        if (!this.listed.has(resource.kind) || before === version) return;
        for (const user of users) this.options.wake(user);
      };
      // Refused (an agent confined to some namespaces by agent.rbac.namespaces): stop asking; each
      // run still reads its sources afresh, so a change lands at the next pullInterval.
      const kindAbort = new AbortController();
      this.abort.signal.addEventListener('abort', () => kindAbort.abort(), { once: true });
      void listAndWatch<KubeObject>(
        this.port,
        resource,
        {
          onList: (items) => {
            const present = new Set(items.map(keyOf));
            for (const key of [...this.versions.keys()]) {
              if (key.startsWith(`${resource.kind}/`) && !present.has(key)) {
                this.versions.delete(key);
                for (const user of this.usersOf(key)) this.options.wake(user);
              }
            }
            for (const obj of items) seen(obj, false);
            this.listed.add(resource.kind);
          },
          onUpsert: (obj) => seen(obj, false),
          onDelete: (obj) => seen(obj, true),
        },
        {
          signal: kindAbort.signal,
          clock: this.options.clock,
          log: this.options.log,
          namespace: this.options.namespace,
          transform: identity,
          onError: (err: unknown) => {
            if (!isForbidden(err)) return;
            this.options.log.info(
              { kind: resource.kind },
              'may not watch the ConfigMaps and Secrets deployments name; their changes apply at each pullInterval',
            );
            kindAbort.abort();
          },
        },
      );
    }
  }

  private readonly listed = new Set<string>();
}

/** Name, namespace and version only: the data never outlives the page it arrived in. */
function identity(obj: KubeObject): KubeObject {
  const { name, namespace, resourceVersion } = obj.metadata;
  const metadata: KubeObject['metadata'] = { name };
  if (namespace !== undefined) metadata.namespace = namespace;
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata };
}
