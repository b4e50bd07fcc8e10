import { lstat, opendir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isObject } from '../../shared/kube/object.ts';
import { decryptDocument, isSopsEncrypted, type SopsKeys } from './decrypt.ts';
import { decryptFlatFile, parseSopsDotenv, parseSopsIni, sopsFormatOf } from './formats.ts';

/** Bounds of the scan: it reads files only to verify them, never more than this. */
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_FILES = 20_000;
const EXTENSIONS = /\.(ya?ml|json|env|ini)$/i;

/**
 * The MACs of SOPS files in a checkout that verify with these keys. A kustomization may change
 * an encrypted object on its way (a namespace, a name prefix, labels), after which the object's
 * MAC no longer matches its values. Flux decrypts the files before the build for that reason,
 * which writes plaintext to disk; instead each file is verified here in memory (its plaintext
 * dropped at once), and a built object whose `sops.mac` is one of these is decrypted value by
 * value: each value still authenticates itself and its key path (AES-GCM), the MAC of the file
 * it came from was checked, and what the overlay changed is Git's content like any other.
 * Files that do not verify are skipped: they may belong to another deployment. Dotenv and INI
 * files are verified too, for the Secrets a secretGenerator builds from them (generated.ts).
 */
export async function verifiedSourceMacs(dir: string, keys: SopsKeys, signal?: AbortSignal): Promise<Set<string>> {
  const verified = new Set<string>();
  let files = 0;
  const walk = async (path: string): Promise<void> => {
    let entries: Awaited<ReturnType<typeof opendir>>;
    try {
      entries = await opendir(path);
    } catch {
      return; // unreadable: nothing verified there
    }
    for await (const entry of entries) {
      signal?.throwIfAborted();
      if (files >= MAX_FILES) return;
      if (entry.name === '.git') continue;
      const child = join(path, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile() && EXTENSIONS.test(entry.name)) {
        files++;
        await verifyFile(child, keys, verified);
      }
    }
  };
  await walk(dir);
  return verified;
}

async function verifyFile(path: string, keys: SopsKeys, verified: Set<string>): Promise<void> {
  const info = await lstat(path);
  if (info.size > MAX_FILE_BYTES) return;
  const text = await readFile(path, 'utf8');
  if (!text.includes('sops') || !text.includes('mac')) return;
  const format = sopsFormatOf(path);
  if (format === 'dotenv' || format === 'ini') {
    // A secretGenerator's envs file: the Secret built from it keeps no line order, so its MAC is checked here.
    try {
      const file = format === 'dotenv' ? parseSopsDotenv(text, path) : parseSopsIni(text, path);
      if (!file) return;
      await decryptFlatFile(file, keys, path);
      verified.add(file.meta.mac as string);
    } catch {
      // As below: the object built from it reports why.
    }
    return;
  }
  let docs: unknown[];
  try {
    docs = parseAllDocuments(text).map((d) => d.toJS() as unknown);
  } catch {
    return;
  }
  for (const doc of docs) {
    if (!isObject(doc) || !isSopsEncrypted(doc)) continue;
    try {
      await decryptDocument(doc, keys, path);
      verified.add((doc.sops as { mac: string }).mac);
    } catch {
      // Not ours to judge here: the object built from it, if any, reports why.
    }
  }
}
