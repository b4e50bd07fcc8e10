import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TidemarkError } from '../errors/index.ts';

/**
 * A tar (optionally gzip) extractor for archives written by someone else: Helm charts and OCI
 * artifacts. It extracts regular files and directories only, into a directory that must not
 * exist yet, under bounds that do not depend on the archive's good will:
 *
 * - paths: relative, `/`-separated, no `..`, no empty or NUL-bearing names, at most `maxPathLength`;
 * - links (symbolic or hard), devices and FIFOs are refused — a link is the classic way out of the
 *   target directory, and nothing we read from an archive needs one;
 * - a file appearing twice is refused (the second copy could differ from what a review saw);
 * - `maxFiles` entries, `maxFileBytes` per file, `maxBytes` in total (gzip output included, so a
 *   small compressed bomb stops at the bound, not at the end of memory).
 *
 * File modes are not taken from the archive: files are 0644, directories 0755. pax (`x`, `g`) and
 * GNU long-name (`L`) headers are understood, since Go's archive/tar (Helm, ORAS) writes them.
 * Refusals are terminal ArchiveInvalid (or ArchiveTooLarge): the archive is what it is.
 */

export interface TarLimits {
  maxFiles: number;
  maxBytes: number;
  maxFileBytes: number;
  maxPathLength: number;
}

export const DEFAULT_TAR_LIMITS: Readonly<TarLimits> = {
  maxFiles: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxFileBytes: 16 * 1024 * 1024,
  maxPathLength: 1024,
};

export interface TarEntry {
  /** The normalised path, `/`-separated, relative to the target. */
  path: string;
  type: 'file' | 'directory';
  size: number;
}

export interface ExtractResult {
  entries: TarEntry[];
  bytes: number;
}

const BLOCK = 512;

/** Gunzips (when the data starts with the gzip magic) within `maxBytes`. */
export function maybeGunzip(data: Uint8Array, maxBytes: number, what: string): Buffer {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 2 || buf[0] !== 0x1f || buf[1] !== 0x8b) return buf;
  try {
    return gunzipSync(buf, { maxOutputLength: maxBytes + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw tooLarge(`${what} unpacks to more than ${maxBytes} bytes`);
    }
    throw invalid(`${what} is not valid gzip: ${(err as Error).message}`);
  }
}

/** Reads the archive's entries without writing anything (same checks as extractTar). */
export function listTar(data: Uint8Array, what: string, limits: Partial<TarLimits> = {}): TarEntry[] {
  const entries: TarEntry[] = [];
  walk(data, what, { ...DEFAULT_TAR_LIMITS, ...limits }, (entry) => {
    entries.push(entry);
  });
  return entries;
}

/**
 * Extracts `data` (tar or tar.gz) into `target`, which must not exist yet (it is created, so
 * nothing in it can be a link planted earlier). `what` names the archive in messages.
 */
export async function extractTar(data: Uint8Array, target: string, what: string, limits: Partial<TarLimits> = {}): Promise<ExtractResult> {
  const bounds = { ...DEFAULT_TAR_LIMITS, ...limits };
  const files: Array<{ entry: TarEntry; content: Buffer }> = [];
  const entries: TarEntry[] = [];
  let bytes = 0;
  walk(data, what, bounds, (entry, content) => {
    entries.push(entry);
    bytes += entry.size;
    if (entry.type === 'file') files.push({ entry, content: content ?? Buffer.alloc(0) });
  });
  await mkdir(target, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
    throw new TidemarkError('ArchiveInvalid', `cannot extract ${what}: ${err.code === 'EEXIST' ? 'the target exists' : err.message}`, {
      kind: 'transient',
      cause: err,
    });
  });
  for (const entry of entries) {
    if (entry.type === 'directory') await mkdir(join(target, entry.path), { recursive: true, mode: 0o755 });
  }
  for (const { entry, content } of files) {
    const slash = entry.path.lastIndexOf('/');
    if (slash > 0) await mkdir(join(target, entry.path.slice(0, slash)), { recursive: true, mode: 0o755 });
    // 'wx': never follow or overwrite anything already there.
    const handle = await open(join(target, entry.path), 'wx', 0o644);
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
  }
  return { entries, bytes };
}

function walk(data: Uint8Array, what: string, limits: TarLimits, onEntry: (entry: TarEntry, content: Buffer | undefined) => void): void {
  const tar = maybeGunzip(data, limits.maxBytes + limits.maxFiles * BLOCK * 2, what);
  const seen = new Map<string, TarEntry['type']>();
  let offset = 0;
  let total = 0;
  let count = 0;
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  for (;;) {
    if (offset + BLOCK > tar.length) {
      // Two zero blocks end an archive; some writers leave them out, but a cut header is an error.
      if (offset === tar.length) return;
      throw invalid(`${what} ends in the middle of a header`);
    }
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return;
    checkSum(header, what, offset);
    const type = String.fromCharCode(header[156] ?? 0);
    const size = pax.size !== undefined ? paxSize(pax.size, what) : octal(header.subarray(124, 136), what, 'size');
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) throw invalid(`${what} ends in the middle of an entry`);
    const content = tar.subarray(dataStart, dataEnd);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'x' || type === 'g' || type === 'L') {
      if (size > 64 * 1024) throw invalid(`${what} has an extended header of ${size} bytes`);
      if (type === 'x') pax = parsePax(content, what);
      else if (type === 'L') longName = content.toString('utf8').replace(/\0+$/, '');
      // 'g' (global) headers carry comments (git's commit id); nothing we act on.
      continue;
    }
    const rawName = pax.path ?? longName ?? ustarName(header);
    longName = undefined;
    pax = {};
    if (++count > limits.maxFiles) throw tooLarge(`${what} holds more than ${limits.maxFiles} entries`);
    const path = safePath(rawName, what, limits.maxPathLength);
    if (type === '5') {
      if (path === '') continue;
      if (seen.get(path) === 'file') throw invalid(`${what} has ${JSON.stringify(path)} as both a file and a directory`);
      seen.set(path, 'directory');
      onEntry({ path, type: 'directory', size: 0 }, undefined);
      continue;
    }
    if (type !== '0' && type !== '\0' && type !== '7') {
      throw invalid(`${what} has ${JSON.stringify(rawName)} of type ${describeType(type)}; only files and directories are extracted`);
    }
    if (path === '') throw invalid(`${what} has a file with an empty name`);
    if (seen.has(path)) throw invalid(`${what} has ${JSON.stringify(path)} twice`);
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
      if (seen.get(path.slice(0, i)) === 'file')
        throw invalid(`${what} has ${JSON.stringify(path.slice(0, i))} as both a file and a directory`);
    }
    if (size > limits.maxFileBytes) throw tooLarge(`${what}: ${path} is larger than ${limits.maxFileBytes} bytes`);
    total += size;
    if (total > limits.maxBytes) throw tooLarge(`${what} unpacks to more than ${limits.maxBytes} bytes`);
    seen.set(path, 'file');
    onEntry({ path, type: 'file', size }, content);
  }
}

/** The normalised relative path, or a refusal. Leading `./` and trailing `/` are dropped. */
export function safePath(raw: string, what: string, maxLength = DEFAULT_TAR_LIMITS.maxPathLength): string {
  if (raw.length > maxLength) throw invalid(`${what} has a path longer than ${maxLength} characters`);
  if (raw.includes('\0') || raw.includes('\\')) throw invalid(`${what} has a path with NUL or backslash: ${JSON.stringify(raw)}`);
  if (raw.startsWith('/')) throw invalid(`${what} has an absolute path: ${JSON.stringify(raw)}`);
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw invalid(`${what} has a path with "..": ${JSON.stringify(raw)}`);
    parts.push(part);
  }
  return parts.join('/');
}

function ustarName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const magic = header.subarray(257, 262).toString('latin1');
  const prefix = magic === 'ustar' && header[262] === 0 ? cString(header.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}

function octal(field: Buffer, what: string, name: string): number {
  // GNU base-256 for sizes over 8 GiB: far beyond any limit here.
  if (((field[0] ?? 0) & 0x80) !== 0) throw tooLarge(`${what} has an entry whose ${name} is in base-256 (over 8 GiB)`);
  const text = cString(field).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw invalid(`${what} has a header whose ${name} is not octal`);
  return parseInt(text, 8);
}

function checkSum(header: Buffer, what: string, offset: number): void {
  const stored = octal(header.subarray(148, 156), what, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  if (sum !== stored) throw invalid(`${what} is not a tar archive (bad header checksum at byte ${offset})`);
}

function parsePax(content: Buffer, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  let p = 0;
  while (p < content.length) {
    const space = content.indexOf(0x20, p);
    if (space < 0) break;
    const length = Number(content.subarray(p, space).toString('latin1'));
    if (!Number.isSafeInteger(length) || length <= space - p || p + length > content.length) {
      throw invalid(`${what} has a malformed pax header`);
    }
    const record = content.subarray(space + 1, p + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    p += length;
  }
  return out;
}

function paxSize(text: string, what: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw invalid(`${what} has a pax size that is not a number`);
  return Number(text);
}

function describeType(type: string): string {
  switch (type) {
    case '1':
      return 'hard link';
    case '2':
      return 'symbolic link';
    case '3':
    case '4':
      return 'device';
    case '6':
      return 'FIFO';
    default:
      return JSON.stringify(type);
  }
}

function invalid(message: string): TidemarkError {
  return new TidemarkError('ArchiveInvalid', message, {
    kind: 'terminal',
    hint: 'publish the archive again with only files and directories',
  });
}

function tooLarge(message: string): TidemarkError {
  return new TidemarkError('ArchiveTooLarge', message, { kind: 'terminal', hint: 'publish a smaller archive, or raise the limit' });
}
