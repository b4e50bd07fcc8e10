import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { terminal } from '../../shared/errors/index.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { isObject } from '../../shared/kube/object.ts';
import type { RenderedObject } from './types.ts';

const MANIFEST = /\.(ya?ml|json)$/i;

/**
 * Every manifest under `dir`, recursively, in byte order of path so the result never depends on
 * the file system. Dot-directories (.git, .github) are skipped; symlinks are not followed (the
 * caller has already refused links that leave the checkout, and a link inside it would count an
 * object twice).
 */
export async function renderPlainDirectory(root: string, dir: string): Promise<RenderedObject[]> {
  const files = await listManifests(dir);
  const out: RenderedObject[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    out.push(...parseManifests(text, relative(root, file)));
  }
  return out;
}

async function listManifests(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listManifests(path)));
    else if (entry.isFile() && MANIFEST.test(entry.name)) found.push(path);
    else if (entry.isSymbolicLink() && MANIFEST.test(entry.name) && (await lstat(path)).isSymbolicLink()) continue;
  }
  return found;
}

/**
 * Parses one file's documents with the YAML 1.2 core schema: `yes`/`on` stay strings (kubectl's
 * YAML 1.1 parser turns them into booleans, which a ConfigMap then rejects). `kind: List` is
 * unwrapped.
 */
export function parseManifests(text: string, file: string): RenderedObject[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const out: RenderedObject[] = [];
  let index = 0;
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const error = doc.errors[0];
    if (error) {
      const pos = lineCounter.linePos(error.pos[0]);
      throw terminal('ManifestParseFailed', `${file}:${pos.line}:${pos.col}: ${firstLine(error.message)}`, 'fix the YAML in Git');
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    index++;
    if (value === null || value === undefined) continue;
    for (const object of unwrapList(value, file, index)) out.push({ object: checkObject(object, file, index), source: { file, document: index } });
  }
  return out;
}

function unwrapList(value: unknown, file: string, index: number): unknown[] {
  if (isObject(value) && value.kind === 'List' && Array.isArray(value.items)) return value.items;
  if (!isObject(value)) throw terminal('ManifestInvalid', `${file} document ${index} is not a mapping`, 'each YAML document must be one Kubernetes object');
  return [value];
}

function checkObject(value: unknown, file: string, index: number): KubeObject {
  const where = `${file} document ${index}`;
  if (!isObject(value)) throw terminal('ManifestInvalid', `${where} is not a mapping`, 'each YAML document must be one Kubernetes object');
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') throw terminal('ManifestInvalid', `${where} has no apiVersion`, 'set apiVersion');
  if (typeof value.kind !== 'string' || value.kind === '') throw terminal('ManifestInvalid', `${where} has no kind`, 'set kind');
  const metadata = value.metadata;
  if (!isObject(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
    throw terminal('ManifestInvalid', `${where} (${value.kind}) has no metadata.name`, 'set metadata.name');
  }
  if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string') {
    throw terminal('ManifestInvalid', `${where} (${value.kind} ${metadata.name}) has a metadata.namespace that is not a string`);
  }
  return value as KubeObject;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
