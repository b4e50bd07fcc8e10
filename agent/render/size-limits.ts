import { open } from 'node:fs/promises';
import { terminal } from '../../shared/errors/index.ts';
import type { TidemarkError } from '../../shared/errors/index.ts';

/*
 * Size caps of one manifest stream (issue 21 item 12): a single file of a plain directory, and
 * the output of one kustomize build. Totals over a whole path (files, bytes, objects) are
 * checked elsewhere in the render.
 */

/** One manifest file; the API server stores at most ~1.5 MiB per object, so 8 MiB is many objects. */
export const MAX_MANIFEST_FILE_BYTES = 8 * 1024 * 1024;

/** What one kustomize build may print; beyond it kustomize is killed. */
export const MAX_KUSTOMIZE_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Bytes as a person reads them: 8 MiB, 512 KiB, 100 bytes. */
export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

export function manifestTooLarge(what: string, maxBytes: number, hint: string): TidemarkError {
  return terminal('ManifestTooLarge', `${what} is larger than ${describeBytes(maxBytes)}`, hint);
}

/**
 * A manifest file as text, refused as ManifestTooLarge when it has more than `maxBytes`: the
 * size is checked before reading, and the read stops one byte past the cap whatever the file
 * does meanwhile, so no more than the cap is ever held.
 */
export async function readManifestFile(path: string, label: string, maxBytes = MAX_MANIFEST_FILE_BYTES): Promise<string> {
  const tooLarge = () => manifestTooLarge(label, maxBytes, 'split the file into smaller ones in Git');
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size > maxBytes) throw tooLarge();
    // One byte more than the file claims, so a file that grew meanwhile is noticed.
    let buffer = Buffer.allocUnsafe(size + 1);
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) {
        if (filled > maxBytes) throw tooLarge();
        const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxBytes + 1));
        buffer.copy(bigger, 0, 0, filled);
        buffer = bigger;
      }
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > maxBytes) throw tooLarge();
    return buffer.toString('utf8', 0, filled);
  } finally {
    await handle.close();
  }
}
