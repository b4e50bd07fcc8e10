import { terminal } from '../errors/index.ts';
import { isNotFound } from './errors.ts';
import { isObject } from './object.ts';
import type { KubeRest } from './rest.ts';

/** A Secret as Tidemark reads it: its type and its `data`, each value decoded to UTF-8 text. */
export interface SecretContents {
  type: string | undefined;
  data: Record<string, string>;
}

export interface ReadSecretOptions {
  /** The spec field that names the Secret (`spec.secretRef`), for the not-found message and hint. */
  field?: string | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * The one Secret reader of both programs. A missing Secret is a terminal SecretNotFound that
 * names the Secret and the field that points at it; the values never appear in an error, a log
 * line or a message built here.
 */
export async function readSecret(
  rest: KubeRest,
  namespace: string,
  name: string,
  options: ReadSecretOptions = {},
): Promise<SecretContents> {
  let secret: unknown;
  try {
    secret = await rest.request({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      signal: options.signal,
    });
  } catch (err) {
    if (isNotFound(err)) {
      const field = options.field;
      throw terminal(
        'SecretNotFound',
        `Secret ${namespace}/${name}${field ? ` (${field})` : ''} not found`,
        `create the Secret or fix ${field ?? 'secretRef'}`,
      );
    }
    throw err;
  }
  const data: Record<string, string> = {};
  if (!isObject(secret)) return { type: undefined, data };
  if (isObject(secret.data)) {
    for (const [key, value] of Object.entries(secret.data)) {
      if (typeof value === 'string') data[key] = Buffer.from(value, 'base64').toString('utf8');
    }
  }
  return { type: typeof secret.type === 'string' ? secret.type : undefined, data };
}

/** A Secret's data as UTF-8 strings (see readSecret). */
export async function readSecretData(
  rest: KubeRest,
  namespace: string,
  name: string,
  options: ReadSecretOptions = {},
): Promise<Record<string, string>> {
  return (await readSecret(rest, namespace, name, options)).data;
}
