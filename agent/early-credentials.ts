import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { namespaceOf } from '../shared/controller/objects.ts';
import type { ServiceAccountIdentity } from '../shared/kube/impersonation.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import { deploymentIdentity, type TenancyOptions } from './tenancy.ts';

/** Reads a Secret's data as text, as `identity` when one is given (else as the agent). */
export type SecretReader = (namespace: string, name: string, identity?: ServiceAccountIdentity) => Promise<Record<string, string>>;

/** A read of the Git credentials Secret started before the run's own copy of its spec arrived. */
export interface EarlyCredentials {
  namespace: string;
  name: string;
  /** Whom it was read as (identityKey). */
  identity: string;
  data: Promise<Record<string, string>>;
}

/**
 * The Git credentials Secret as the watched spec names it, read while the run's GET of its
 * ContinuousDeployment is in flight: one round trip less on every run's path. Still one read per
 * run, as the deployment's identity (ReferenceWatch keeps no values); `credentialsFor` uses it
 * only when the fresh copy names the same Secret and identity. None for a deployment being
 * deleted or suspended: its run reads no credentials, so the read would be a request for nothing.
 */
export function readCredentialsEarly(
  watched: ContinuousDeployment & KubeObject,
  secrets: SecretReader,
  tenancy: TenancyOptions,
): EarlyCredentials | undefined {
  if (watched.metadata.deletionTimestamp || watched.spec?.suspend === true) return undefined;
  const name: unknown = watched.spec?.secretRef;
  if (typeof name !== 'string' || name === '') return undefined;
  let identity: ServiceAccountIdentity | undefined;
  try {
    identity = deploymentIdentity(watched, tenancy);
  } catch {
    // The run reports the bad spec from its fresh copy; nothing to read ahead of it.
    return undefined;
  }
  const namespace = namespaceOf(watched);
  const data = secrets(namespace, name, identity);
  // Unused when the spec changed meanwhile; its failure is the run's only when it is used.
  data.catch(() => undefined);
  return { namespace, name, identity: identityKey(identity), data };
}

/** The Secret `name` as `identity`: the early read when it is that one, else a read now. */
export function credentialsFor(
  namespace: string,
  name: string,
  identity: ServiceAccountIdentity | undefined,
  early: EarlyCredentials | undefined,
  secrets: SecretReader,
): Promise<Record<string, string>> {
  if (early && early.namespace === namespace && early.name === name && early.identity === identityKey(identity)) return early.data;
  return secrets(namespace, name, identity);
}

function identityKey(identity: ServiceAccountIdentity | undefined): string {
  return identity ? `${identity.namespace}/${identity.name}` : '';
}
