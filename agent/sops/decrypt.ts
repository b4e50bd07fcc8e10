import { createDecipheriv, createHash } from 'node:crypto';
import type * as openpgp from 'openpgp';
import { terminal, type TidemarkError } from '../../shared/errors/index.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { describeRef, isObject, refOf } from '../../shared/kube/object.ts';

/**
 * SOPS files as the `sops` tool writes them (stores/, aes/cipher.go, sops.go of getsops/sops):
 * every leaf value is `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`, encrypted under one 256-bit
 * data key with the leaf's key path (`a:b:`) as additional data; `sops.mac` is the SHA-512 of
 * every plaintext leaf in document order, encrypted the same way with `sops.lastmodified` as
 * additional data; the data key is wrapped once per recipient (`sops.age[].enc`, `sops.pgp[].enc`).
 * Everything happens on the parsed object in memory: the plaintext never reaches a file.
 */

/** The private keys of a decryption Secret: `*.agekey` (age identities) and `*.asc` (OpenPGP). */
export interface SopsKeys {
  age: string[];
  pgp: string[];
  /** Where the keys come from, for messages: `Secret ns/name (spec.decryption.secretRef)`. */
  source: string;
}

/** Keys of a Secret's data as Flux reads them: every `.agekey` value may hold several identities. */
export function keysFromSecretData(data: Record<string, string>, source: string): SopsKeys {
  const keys: SopsKeys = { age: [], pgp: [], source };
  for (const [name, value] of Object.entries(data)) {
    if (name.endsWith('.agekey')) {
      for (const line of value.split(/\r?\n/)) {
        const trimmed = line.trim();
        if (trimmed.startsWith('AGE-SECRET-KEY-')) keys.age.push(trimmed);
      }
    } else if (name.endsWith('.asc')) keys.pgp.push(value);
  }
  return keys;
}

/** True for an object carrying SOPS metadata (`sops.mac` and `sops.version`). */
export function isSopsEncrypted(obj: Record<string, unknown>): boolean {
  const meta = obj.sops;
  return isObject(meta) && typeof meta.mac === 'string' && meta.version !== undefined;
}

/**
 * One object decrypted, its `sops` block dropped; the input is left as it was. Each decrypted
 * string is also pushed to `revealed` when given, so what shows objects can mask them.
 */
export async function decryptObject(
  obj: KubeObject,
  keys: SopsKeys,
  revealed?: string[],
  verifiedMacs?: ReadonlySet<string>,
): Promise<KubeObject> {
  return (await decryptDocument(obj, keys, describeRef(refOf(obj)), revealed, verifiedMacs)) as KubeObject;
}

/** Any SOPS YAML or JSON document, parsed; `what` names it in errors. */
export async function decryptDocument(
  doc: Record<string, unknown>,
  keys: SopsKeys,
  what: string,
  revealed?: string[],
  /** MACs of the source files this object was built from, checked there (sources.ts). */
  verifiedMacs?: ReadonlySet<string>,
): Promise<Record<string, unknown>> {
  const { sops: meta, ...tree } = doc;
  if (!isObject(meta)) return doc;
  const leaves: SopsLeaf[] = [];
  walk(tree, [], (value, path) => {
    leaves.push({ path, value });
    return value;
  });
  const plain = await decryptLeaves(leaves, meta, keys, what, revealed, verifiedMacs);
  let next = 0;
  return walk(tree, [], () => plain[next++] ?? null) as Record<string, unknown>;
}

/** One leaf of a SOPS tree: its key path (list items share their list's) and its value as stored. */
export interface SopsLeaf {
  path: string[];
  value: Leaf;
}

/**
 * The format-independent part of sops's Tree.Decrypt: each leaf the metadata's rules say is
 * encrypted is decrypted with its key path as additional data, and the MAC over every leaf, in
 * document order, is checked — unless `verifiedMacs` holds it (checked on the source file).
 * Returns the leaves' plain values in the same order.
 */
export async function decryptLeaves(
  leaves: readonly SopsLeaf[],
  meta: Record<string, unknown>,
  keys: SopsKeys,
  what: string,
  revealed?: string[],
  verifiedMacs?: ReadonlySet<string>,
): Promise<Leaf[]> {
  const rules = leafRules(meta);
  const dataKey = await unwrapDataKey(meta, keys, what);
  const hash = createHash('sha512');
  const plain = leaves.map(({ value, path }) => {
    let out = value;
    if (rules.encrypted(path) && typeof value === 'string') {
      out = decryptValue(value, dataKey, `${path.join(':')}:`, what);
      if (typeof out === 'string' && out !== '') revealed?.push(out);
    }
    if (!rules.macOnlyEncrypted || rules.encrypted(path)) hash.update(leafBytes(out));
    return out;
  });
  if (typeof meta.mac !== 'string') {
    throw terminal('DecryptionFailed', `${what}: the SOPS metadata has no mac`, SOPS_HINT);
  }
  const macValue = meta.mac;
  const lastModified = typeof meta.lastmodified === 'string' ? meta.lastmodified : String(meta.lastmodified);
  const expected = decryptValue(macValue, dataKey, lastModified, what);
  const actual = hash.digest('hex').toUpperCase();
  if (expected !== actual && !verifiedMacs?.has(macValue)) {
    throw terminal(
      'DecryptionMACMismatch',
      `${what}: the SOPS MAC does not match its values (the file was changed after it was encrypted)`,
      'encrypt the file again with sops (sops --encrypt, or edit it with sops), never by hand',
    );
  }
  return plain;
}

export type Leaf = string | number | boolean | null;

/** Visits every leaf in document order; list items share their list's path, as in sops. */
function walk(value: unknown, path: string[], onLeaf: (value: Leaf, path: string[]) => Leaf): unknown {
  if (Array.isArray(value)) return value.map((item) => walk(item, path, onLeaf));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = walk(child, [...path, key], onLeaf);
    return out;
  }
  return onLeaf(value as Leaf, path);
}

/** sops's ToBytes: the text the MAC is computed over. */
function leafBytes(value: unknown): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'boolean') return Buffer.from(value ? 'True' : 'False');
  if (typeof value === 'number') return Buffer.from(String(value));
  return Buffer.alloc(0);
}

interface LeafRules {
  encrypted(path: readonly string[]): boolean;
  macOnlyEncrypted: boolean;
}

/** Which leaves are encrypted: the metadata's suffix or regex rule (only one is ever set). */
function leafRules(meta: Record<string, unknown>): LeafRules {
  const text = (key: string) => (typeof meta[key] === 'string' && meta[key] !== '' ? meta[key] : undefined);
  const unencryptedSuffix = text('unencrypted_suffix');
  const encryptedSuffix = text('encrypted_suffix');
  const unencryptedRegex = text('unencrypted_regex');
  const encryptedRegex = text('encrypted_regex');
  const compile = (source: string) => new RegExp(source);
  const unRe = unencryptedRegex ? compile(unencryptedRegex) : undefined;
  const enRe = encryptedRegex ? compile(encryptedRegex) : undefined;
  return {
    macOnlyEncrypted: meta.mac_only_encrypted === true,
    encrypted(path) {
      if (unencryptedSuffix) return !path.some((p) => p.endsWith(unencryptedSuffix));
      if (encryptedSuffix) return path.some((p) => p.endsWith(encryptedSuffix));
      if (unRe) return !path.some((p) => unRe.test(p));
      if (enRe) return path.some((p) => enRe.test(p));
      return true;
    },
  };
}

const ENC = /^ENC\[AES256_GCM,data:([^,]*),iv:([^,]*),tag:([^,]*),type:([a-z]*)\]$/;

/** One `ENC[…]` value with AES-256-GCM (node:crypto); the type restores a number or a boolean. */
function decryptValue(value: string, key: Buffer, additionalData: string, what: string): string | number | boolean {
  if (value === '') return '';
  const match = ENC.exec(value);
  if (!match) {
    throw terminal('DecryptionFailed', `${what}: a value that should be encrypted is not a SOPS value (ENC[AES256_GCM,…])`, SOPS_HINT);
  }
  const [, data = '', iv = '', tag = '', type = ''] = match;
  let plain: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(additionalData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    // GCM's tag covers the value and its key path: a changed value, or one moved to another key.
    throw terminal(
      'DecryptionMACMismatch',
      `${what}: a SOPS value does not authenticate (changed, or moved to another key, after it was encrypted)`,
      'encrypt the file again with sops, never edit its values by hand',
    );
  }
  switch (type) {
    case 'int':
    case 'float':
      return Number(plain);
    case 'bool':
      return plain.toLowerCase() === 'true';
    default:
      return plain;
  }
}

const SOPS_HINT = 'encrypt the file with sops (age or PGP) and keep its sops block as written';

/** The data key from the first recipient one of the keys opens. */
async function unwrapDataKey(meta: Record<string, unknown>, keys: SopsKeys, what: string): Promise<Buffer> {
  const recipients: string[] = [];
  if (Array.isArray(meta.key_groups) && meta.key_groups.length > 0) {
    throw terminal('DecryptionFailed', `${what}: SOPS key groups (Shamir secret sharing) are not supported`, SOPS_HINT);
  }
  const age = Array.isArray(meta.age) ? meta.age.filter(isObject) : [];
  const pgp = Array.isArray(meta.pgp) ? meta.pgp.filter(isObject) : [];
  if (keys.age.length > 0) {
    // Loaded on the first decryption: most agents never decrypt, and age's curves cost them memory.
    const { Decrypter, armor } = await import('age-encryption');
    const decrypter = new Decrypter();
    for (const identity of keys.age) decrypter.addIdentity(identity);
    for (const stanza of age) {
      recipients.push(`age ${String(stanza.recipient)}`);
      if (typeof stanza.enc !== 'string') continue;
      const key = await attempt(() => decrypter.decrypt(armor.decode(stanza.enc as string)));
      if (key) return checkedKey(key, what);
    }
  } else recipients.push(...age.map((s) => `age ${String(s.recipient)}`));
  // OpenPGP.js alone is ~2.3 MB of source and its compiled code: loaded only when a PGP key is held.
  const pgpLib = keys.pgp.length > 0 ? await import('openpgp') : undefined;
  const privateKeys = pgpLib ? await readPrivateKeys(pgpLib, keys) : [];
  for (const stanza of pgp) {
    recipients.push(`PGP ${String(stanza.fp)}`);
    if (typeof stanza.enc !== 'string' || !pgpLib || privateKeys.length === 0) continue;
    const enc = stanza.enc;
    const key = await attempt(async () => {
      const message = await pgpLib.readMessage({ armoredMessage: enc });
      const decrypted = await pgpLib.decrypt({ message, decryptionKeys: privateKeys, format: 'binary' });
      return decrypted.data as Uint8Array;
    });
    if (key) return checkedKey(key, what);
  }
  const held = `${keys.age.length} age identities and ${keys.pgp.length} PGP keys`;
  const forWhom = recipients.join(', ') || 'no age or PGP recipient';
  throw terminal(
    'DecryptionFailed',
    `${what}: no key in ${keys.source} (${held}) opens the SOPS data key; it is encrypted for ${forWhom}`,
    'add the matching private key to the Secret as <name>.agekey (age) or <name>.asc (PGP), or re-encrypt the file for your key',
  );
}

async function attempt(step: () => Promise<Uint8Array>): Promise<Uint8Array | undefined> {
  try {
    return await step();
  } catch {
    return undefined;
  }
}

function checkedKey(key: Uint8Array, what: string): Buffer {
  if (key.length !== 32) throw terminal('DecryptionFailed', `${what}: the SOPS data key is ${key.length} bytes, not 32`, SOPS_HINT);
  return Buffer.from(key);
}

async function readPrivateKeys(pgpLib: typeof openpgp, keys: SopsKeys): Promise<openpgp.PrivateKey[]> {
  const out: openpgp.PrivateKey[] = [];
  for (const armored of keys.pgp) {
    try {
      out.push(...(await pgpLib.readPrivateKeys({ armoredKeys: armored })));
    } catch (err) {
      const problem: TidemarkError = terminal(
        'DecryptionFailed',
        `${keys.source}: a .asc value is not an armored OpenPGP private key (${(err as Error).message})`,
        'export the key with gpg --export-secret-keys --armor',
      );
      throw problem;
    }
  }
  return out;
}
