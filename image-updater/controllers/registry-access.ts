import { terminal } from '../../shared/errors/index.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import { isObject } from '../../shared/kube/object.ts';
import type { KubeRest } from '../../shared/kube/rest.ts';
import {
  credentialsFor,
  dockerConfigFromSecret,
  tlsFromSecret,
  type ImageReference,
  type RegistryAccess,
  type SecretLike,
} from '../registry/index.ts';

/** The parts of a validated ImageRepository spec that say how to reach the registry. */
export interface AccessSpec {
  secretRef: string | undefined;
  certSecretRef: string | undefined;
  insecure: boolean;
}

/**
 * How to reach a registry for one ImageRepository: credentials from its dockerconfigjson Secret
 * and TLS material from its certSecretRef, read fresh on every call so a rotated Secret takes
 * effect on the next scan. Nothing read here is logged or put into an error message.
 */
export interface AccessResolver {
  resolve(namespace: string, spec: AccessSpec, ref: ImageReference, signal?: AbortSignal): Promise<RegistryAccess>;
}

export function createAccessResolver(rest: KubeRest): AccessResolver {
  return {
    async resolve(namespace, spec, ref, signal) {
      const access: RegistryAccess = { insecure: spec.insecure };
      if (spec.secretRef !== undefined) {
        const secret = await readSecret(rest, namespace, spec.secretRef, 'secretRef', signal);
        access.credentials = credentialsFor(dockerConfigFromSecret(secret), ref.registry);
      }
      if (spec.certSecretRef !== undefined) {
        access.tls = tlsFromSecret(await readSecret(rest, namespace, spec.certSecretRef, 'certSecretRef', signal));
      }
      return access;
    },
  };
}

async function readSecret(
  rest: KubeRest,
  namespace: string,
  name: string,
  field: string,
  signal: AbortSignal | undefined,
): Promise<SecretLike> {
  let secret: unknown;
  try {
    secret = await rest.request({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      signal,
    });
  } catch (err) {
    if (isNotFound(err))
      throw terminal('SecretNotFound', `Secret ${namespace}/${name} (spec.${field}) not found`, `create the Secret or fix spec.${field}`);
    throw err;
  }
  if (!isObject(secret)) return {};
  const data: Record<string, string> = {};
  if (isObject(secret.data)) {
    for (const [key, value] of Object.entries(secret.data)) if (typeof value === 'string') data[key] = value;
  }
  return { type: typeof secret.type === 'string' ? secret.type : undefined, data };
}
