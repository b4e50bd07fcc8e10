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
