import type { KubeRest } from '../../shared/kube/rest.ts';
import { readSecret } from '../../shared/kube/secrets.ts';
import {
  credentialsFor,
  dockerConfigFromSecret,
  tlsFromSecret,
  type ImageReference,
  type RegistryAccess,
} from '../../shared/registry/index.ts';

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
        const secret = await readSecret(rest, namespace, spec.secretRef, { field: 'spec.secretRef', signal });
        access.credentials = credentialsFor(dockerConfigFromSecret(secret), ref.registry);
      }
      if (spec.certSecretRef !== undefined) {
        access.tls = tlsFromSecret(await readSecret(rest, namespace, spec.certSecretRef, { field: 'spec.certSecretRef', signal }));
      }
      return access;
    },
  };
}
