import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { KubeObject } from '../../shared/kube/object.ts';
import { describeRef, isObject, refOf } from '../../shared/kube/object.ts';
import { decryptDocument, isSopsEncrypted, type SopsKeys } from './decrypt.ts';
import { decryptFlatFile, emitFlatFile, parseSopsDotenv, parseSopsIni } from './formats.ts';

/** Larger values are not looked into: a SOPS file a generator reads is small. */
const MAX_VALUE_BYTES = 1024 * 1024;

/**
 * A Secret (or ConfigMap) kustomize's secretGenerator (configMapGenerator) built from
 * SOPS-encrypted files, decrypted in memory, as Flux decrypts both.
 * Flux decrypts those files in the checkout before the build, which puts plaintext on disk;
 * here the build runs on the encrypted files and its output is decrypted instead:
 * - `envs:` an encrypted dotenv file: each of its lines became a data key, the `sops_*` metadata
 *   too. The values are decrypted with the key path each authenticates (AES-GCM); the MAC, over
 *   the file's order that the Secret no longer has, was checked on the file itself (sources.ts).
 * - `files:` an encrypted file as one value (dotenv, INI, YAML, JSON, or sops's binary format):
 *   decrypted whole, its MAC checked, and written back in its format as `sops decrypt` would.
 * Only files a generator of the checkout reads count (`generatorMacs`, sources.ts): a Secret or
 * ConfigMap written in Git that carries an encrypted file for its application stays as written.
 * Returns the object itself when nothing in it is a generator's SOPS file.
 */
export async function decryptGeneratedSecret(
  obj: KubeObject,
  keys: SopsKeys,
  sources: { verifiedMacs: ReadonlySet<string>; generatorMacs: ReadonlySet<string> },
  revealed?: string[],
): Promise<KubeObject> {
  const { verifiedMacs, generatorMacs } = sources;
  if ((obj.kind !== 'Secret' && obj.kind !== 'ConfigMap') || obj.apiVersion !== 'v1' || !isObject(obj.data)) return obj;
  const what = describeRef(refOf(obj));
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj.data)) if (typeof value === 'string') data[key] = value;
  const secret = obj.kind === 'Secret';
  const decoded = (value: string) => (secret ? Buffer.from(value, 'base64').toString('utf8') : value);
  const encode = (text: string) => (secret ? Buffer.from(text, 'utf8').toString('base64') : text);

  if ('sops_mac' in data && 'sops_version' in data) {
    const text = Object.entries(data)
      .map(([key, value]) => `${key}=${decoded(value)}`)
      .join('\n');
    const file = parseSopsDotenv(text, `${what} (generated from envs)`);
    if (file && generatorMacs.has(String(file.meta.mac))) {
      const entries = await decryptFlatFile(file, keys, `${what} (generated from envs)`, revealed, verifiedMacs);
      return { ...obj, data: Object.fromEntries(entries.map((e) => [e.path[0] ?? '', encode(e.value)])) };
    }
  }

  let changed = false;
  const out: Record<string, unknown> = { ...obj.data };
  for (const [key, value] of Object.entries(data)) {
    if (value.length > (MAX_VALUE_BYTES * 4) / 3) continue;
    const plain = await decryptFileValue(decoded(value), key, keys, generatorMacs, `${what} data.${key} (generated from files)`, revealed);
    if (plain === undefined) continue;
    out[key] = encode(plain);
    changed = true;
  }
  return changed ? { ...obj, data: out } : obj;
}

/** One generated value that is a whole SOPS file, decrypted; undefined when it is not one. */
async function decryptFileValue(
  text: string,
  key: string,
  keys: SopsKeys,
  generatorMacs: ReadonlySet<string>,
  what: string,
  revealed?: string[],
): Promise<string | undefined> {
  if (!text.includes('sops') || !text.includes('mac')) return undefined;
  const ours = (mac: unknown) => typeof mac === 'string' && generatorMacs.has(mac);
  if (/^sops_mac=/m.test(text)) {
    const file = readOrUndefined(() => parseSopsDotenv(text, what));
    if (file && ours(file.meta.mac)) return emitFlatFile('dotenv', await decryptFlatFile(file, keys, what, revealed));
  }
  if (/^\s*\[sops\]\s*$/m.test(text)) {
    const file = readOrUndefined(() => parseSopsIni(text, what));
    if (file && ours(file.meta.mac)) return emitFlatFile('ini', await decryptFlatFile(file, keys, what, revealed));
  }
  const json = text.trimStart().startsWith('{');
  const doc = readOrUndefined(() => (json ? (JSON.parse(text) as unknown) : (parseYaml(text) as unknown)));
  if (!isObject(doc) || !isSopsEncrypted(doc) || !ours((doc.sops as { mac?: unknown }).mac)) return undefined;
  const plain = await decryptDocument(doc, keys, what, revealed);
  // sops's binary store: the file is one encrypted `data` string (what Flux's `token=token.encrypted` is).
  const keysOf = Object.keys(doc).filter((k) => k !== 'sops');
  if (!/\.(json|ya?ml)$/i.test(key) && keysOf.length === 1 && keysOf[0] === 'data' && typeof plain.data === 'string') return plain.data;
  return json ? `${JSON.stringify(plain, null, '\t')}\n` : stringifyYaml(plain);
}

function readOrUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
