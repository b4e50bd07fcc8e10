import { terminal } from '../shared/errors/index.ts';
import { isNotFound } from '../shared/kube/errors.ts';
import type { KubeRest } from '../shared/kube/rest.ts';
import { isObject } from '../shared/kube/object.ts';

/** Reads a Secret's data as UTF-8 strings. Values never leave this function in errors. */
export async function readSecretData(rest: KubeRest, namespace: string, name: string): Promise<Record<string, string>> {
  let secret: unknown;
  try {
    secret = await rest.request({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
    });
  } catch (err) {
    if (isNotFound(err)) throw terminal('SecretNotFound', `Secret ${namespace}/${name} not found`, 'create the Secret or fix secretRef');
    throw err;
  }
  const data = isObject(secret) && isObject(secret.data) ? secret.data : {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'string') out[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  return out;
}
