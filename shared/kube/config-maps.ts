import { isNotFound } from './errors.ts';
import { isObject } from './object.ts';
import type { KubeRest } from './rest.ts';

/**
 * A ConfigMap's `data` (and `binaryData` decoded as UTF-8, as Flux reads substituteFrom sources),
 * or undefined when there is no such ConfigMap.
 */
export async function readConfigMapData(
  rest: KubeRest,
  namespace: string,
  name: string,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<Record<string, string> | undefined> {
  let object: unknown;
  try {
    object = await rest.request({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`,
      signal: options.signal,
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const data: Record<string, string> = {};
  if (!isObject(object)) return data;
  if (isObject(object.binaryData)) {
    for (const [key, value] of Object.entries(object.binaryData)) {
      if (typeof value === 'string') data[key] = Buffer.from(value, 'base64').toString('utf8');
    }
  }
  if (isObject(object.data)) {
    for (const [key, value] of Object.entries(object.data)) if (typeof value === 'string') data[key] = value;
  }
  return data;
}
