import { terminal } from '../../shared/errors/index.ts';
import { decryptLeaves, type Leaf, type SopsKeys, type SopsLeaf } from './decrypt.ts';

/**
 * SOPS's flat formats, read as its stores read them (stores/dotenv, stores/ini, stores/flatten.go
 * and stores/metadata.go of getsops/sops): the values are leaves with a key path, the metadata is
 * flattened into `sops_`-prefixed keys (dotenv) or a `[sops]` section (INI), with `__map_` and
 * `__list_` marking nesting. Comments are not part of the MAC, so they are dropped.
 */
export interface FlatSopsFile {
  format: 'dotenv' | 'ini';
  leaves: SopsLeaf[];
  meta: Record<string, unknown>;
}

/** The format sops (and Flux, for a secretGenerator's files) infers from a file name. */
export function sopsFormatOf(path: string): 'yaml' | 'json' | 'dotenv' | 'ini' | 'binary' {
  if (/\.ya?ml$/i.test(path)) return 'yaml';
  if (/\.json$/i.test(path)) return 'json';
  if (/\.env$/i.test(path)) return 'dotenv';
  if (/\.ini$/i.test(path)) return 'ini';
  return 'binary';
}

const SOPS_PREFIX = 'sops_';

/**
 * A dotenv file as sops's store reads it: lines split on `\n` only, empty lines skipped, `#`
 * lines are comments, the key is everything before the first `=` (spaces included) and `\n` in a
 * value is a newline. Undefined when no line carries SOPS metadata: not a SOPS file.
 */
export function parseSopsDotenv(text: string, what: string): FlatSopsFile | undefined {
  const leaves: SopsLeaf[] = [];
  const metadata: Array<[string, string]> = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    if (at === -1) throw notSops(what, `the line ${JSON.stringify(line.slice(0, 40))} is not KEY=VALUE`);
    const key = line.slice(0, at);
    const value = line.slice(at + 1).replaceAll('\\n', '\n');
    if (key.startsWith(SOPS_PREFIX)) metadata.push([key.slice(SOPS_PREFIX.length), value]);
    else leaves.push({ path: [key], value });
  }
  if (metadata.length === 0) return undefined;
  return { format: 'dotenv', leaves, meta: unflatten(metadata, what) };
}

/**
 * An INI file as sops reads it through go-ini (AllowNonUniqueSections): keys before the first
 * section belong to `DEFAULT`, `=` or `:` separates key and value, `;` and `#` start a comment
 * (also after a value), surrounding quotes are dropped and `"""` opens a multi-line value.
 * Each value's key path is `[section, key]`. Undefined without a `[sops]` section.
 */
export function parseSopsIni(text: string, what: string): FlatSopsFile | undefined {
  const sections: Array<{ name: string; entries: Array<[string, string]> }> = [{ name: 'DEFAULT', entries: [] }];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trimStart();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      const end = line.indexOf(']');
      if (end === -1) throw notSops(what, `the section line ${JSON.stringify(line.slice(0, 40))} has no ]`);
      sections.push({ name: line.slice(1, end).trim(), entries: [] });
      continue;
    }
    const at = line.search(/[=:]/);
    if (at === -1) throw notSops(what, `the line ${JSON.stringify(line.slice(0, 40))} is not key = value`);
    const key = line.slice(0, at).trim();
    let value = line.slice(at + 1).trim();
    if (value.startsWith('"""') && value.length > 3) {
      const rest = value.slice(3);
      const close = rest.indexOf('"""');
      if (close !== -1) value = rest.slice(0, close);
      else {
        const parts = [rest];
        for (i++; i < lines.length; i++) {
          const next = lines[i] ?? '';
          const end = next.indexOf('"""');
          if (end !== -1) {
            parts.push(next.slice(0, end));
            break;
          }
          parts.push(next);
        }
        value = parts.join('\n');
      }
    } else {
      const comment = value.search(/[#;]/);
      if (comment !== -1) value = value.slice(0, comment).trim();
      for (const quote of ['"', "'"]) {
        if (value.length >= 2 && value.startsWith(quote) && value.endsWith(quote) && value.split(quote).length === 3)
          value = value.slice(1, -1);
      }
    }
    sections.at(-1)?.entries.push([key, value]);
  }
  const leaves: SopsLeaf[] = [];
  let metadata: Array<[string, string]> | undefined;
  for (const section of sections) {
    if (section.name === 'sops') {
      // sops stores metadata newlines escaped in INI on top of what the format does.
      metadata ??= section.entries.map(([k, v]) => [k, v.replaceAll('\\n', '\n')]);
      continue;
    }
    for (const [key, value] of section.entries) leaves.push({ path: [section.name, key], value });
  }
  if (!metadata) return undefined;
  return { format: 'ini', leaves, meta: unflatten(metadata, what) };
}

/** The file's values decrypted and its MAC checked (or found among `verifiedMacs`), in file order. */
export async function decryptFlatFile(
  file: FlatSopsFile,
  keys: SopsKeys,
  what: string,
  revealed?: string[],
  verifiedMacs?: ReadonlySet<string>,
): Promise<Array<{ path: string[]; value: string }>> {
  const plain = await decryptLeaves(file.leaves, file.meta, keys, what, revealed, verifiedMacs);
  return file.leaves.map((leaf, i) => ({ path: leaf.path, value: text(plain[i] ?? null) }));
}

/** The decrypted entries written back in the file's format, as `sops decrypt` emits it (comments aside). */
export function emitFlatFile(format: FlatSopsFile['format'], entries: ReadonlyArray<{ path: string[]; value: string }>): string {
  if (format === 'dotenv') return entries.map((e) => `${e.path[0] ?? ''}=${e.value.replaceAll('\n', '\\n')}\n`).join('');
  const out: string[] = [];
  let section: string | undefined;
  for (const { path, value } of entries) {
    const [name = 'DEFAULT', key = ''] = path;
    if (name !== section) {
      if (section !== undefined) out.push('');
      if (name !== 'DEFAULT') out.push(`[${name}]`);
      section = name;
    }
    out.push(`${key} = ${value}`);
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

function text(value: Leaf): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value === null ? '' : String(value);
}

/** The flattened metadata keys (`pgp__list_0__map_enc`) as the nested object sops builds from them. */
function unflatten(entries: ReadonlyArray<[string, string]>, what: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [flat, raw] of entries) {
    const tokens = flat.split(/(__map_|__list_)/);
    let node: Record<string, unknown> | unknown[] = root;
    let key: string | number = tokens[0] ?? '';
    for (let i = 1; i + 1 < tokens.length; i += 2) {
      const list = tokens[i] === '__list_';
      const next: string | number = list ? Number(tokens[i + 1]) : (tokens[i + 1] ?? '');
      if (list && !Number.isSafeInteger(next)) throw notSops(what, `the metadata key sops_${flat} has a bad list index`);
      const existing: unknown = (node as Record<string, unknown>)[key as string];
      const child: Record<string, unknown> | unknown[] =
        existing !== null && typeof existing === 'object' ? (existing as Record<string, unknown> | unknown[]) : list ? [] : {};
      (node as Record<string, unknown>)[key as string] = child;
      node = child;
      key = next;
    }
    (node as Record<string, unknown>)[key as string] = key === 'mac_only_encrypted' ? raw === 'true' : raw;
  }
  return root;
}

function notSops(what: string, problem: string) {
  return terminal(
    'DecryptionFailed',
    `${what}: not a SOPS file sops could read: ${problem}`,
    'encrypt the file with sops and keep it as written',
  );
}
