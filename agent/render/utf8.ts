import { isUtf8 } from 'node:buffer';
import { terminal } from '../../shared/errors/index.ts';

/**
 * The text of a manifest file, which must be UTF-8 (as go-yaml, and so kustomize and kubectl,
 * require). Decoding would otherwise turn each bad byte into U+FFFD silently, and that replacement
 * character would be applied to the cluster as if Git held it. A file that is not UTF-8 is
 * ManifestParseFailed at the line and column (in bytes) of the first bad byte.
 */
export function decodeUtf8(bytes: Buffer, label: string): string {
  const offset = invalidUtf8Offset(bytes);
  if (offset === undefined) return bytes.toString('utf8');
  const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i !== -1 && i < offset; i = bytes.indexOf(0x0a, i + 1)) line++;
  const byte = (bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0');
  throw terminal(
    'ManifestParseFailed',
    `${label}:${line}:${offset - lineStart + 1}: the file is not valid UTF-8 (byte 0x${byte})`,
    'save the file as UTF-8 in Git (Latin-1 and other encodings are not read)',
  );
}

/** The offset of the first byte that does not start a valid UTF-8 sequence, or undefined when all do. */
export function invalidUtf8Offset(bytes: Uint8Array): number | undefined {
  if (isUtf8(bytes)) return undefined;
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i] as number;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    // isUtf8 on the one sequence rejects what the lead byte alone cannot: overlong forms, surrogates, a cut-off end.
    if (length === 0 || (length > 1 && !isUtf8(bytes.subarray(i, i + length)))) return i;
    i += length;
  }
  return undefined;
}
