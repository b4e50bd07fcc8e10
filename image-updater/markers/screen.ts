/** Cheap checks made before any YAML parsing, as Flux does. */

/** The literal a file must contain to be worth parsing (Flux screens for the quoted key). */
export const MARKER_TOKEN = '"$imagepolicy"';

/** True when the text may hold a marker; files without the token are never parsed. */
export function hasMarker(text: string): boolean {
  return text.includes(MARKER_TOKEN);
}

/** Only `.yaml`, `.yml` and `Kustomization`/`kustomization` files are scanned. */
export function isCandidateFile(path: string): boolean {
  const base = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  return base.endsWith('.yaml') || base.endsWith('.yml') || base === 'Kustomization' || base === 'kustomization';
}
