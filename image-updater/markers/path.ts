/** How a marked value's place is written (`spec.containers[0].image`), shared by both scans. */

/** A mapping key as a path segment: bare when it is a simple word, else JSON-quoted. */
export function keySegment(key: string): string {
  return /^[A-Za-z0-9_$-]+$/.test(key) ? key : JSON.stringify(key);
}

export function joinPath(base: string, segment: string): string {
  if (segment.startsWith('"')) return `${base}[${segment}]`;
  return base === '' ? segment : `${base}.${segment}`;
}
