import { RegistryErrorCode, registryTerminal } from './errors.ts';

/** `Link` header parsing (RFC 8288) for tag list pagination. */

export interface LinkValue {
  target: string;
  params: Record<string, string>;
}

export function parseLinkHeader(header: string | string[] | undefined): LinkValue[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(', ') : header;
  const links: LinkValue[] = [];
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf('<', pos);
    if (open < 0) break;
    const close = text.indexOf('>', open + 1);
    if (close < 0) break;
    const link: LinkValue = { target: text.slice(open + 1, close).trim(), params: {} };
    links.push(link);
    pos = close + 1;
    // Parameters run until a comma outside quotes (or the next `<`).
    while (pos < text.length) {
      while (pos < text.length && /[\s;]/.test(text[pos] as string)) pos++;
      if (pos >= text.length || text[pos] === ',' || text[pos] === '<') break;
      const eq = /^([^=;,\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?/.exec(text.slice(pos));
      if (!eq || eq[0] === '') {
        pos++;
        continue;
      }
      const raw = eq[2] ?? '';
      link.params[(eq[1] as string).toLowerCase()] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      pos += eq[0].length;
    }
    if (text[pos] === ',') pos++;
  }
  return links;
}

/** The target of the first link whose `rel` includes `next`. */
export function nextLinkTarget(header: string | string[] | undefined): string | undefined {
  for (const link of parseLinkHeader(header)) {
    const rels = (link.params.rel ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return link.target;
  }
  return undefined;
}

/**
 * Resolves a next-page link against the page that carried it. Links to another origin are
 * refused: following them would send the registry's credentials elsewhere. One known quirk is
 * repaired: proxies like Nexus drop the port from an absolute link to the same host.
 */
export function resolveNextPage(target: string, current: URL): URL {
  let next: URL;
  try {
    next = new URL(target, current);
  } catch {
    throw registryTerminal(RegistryErrorCode.RegistryPaginationError, `the registry sent an unparsable next-page link`);
  }
  if (next.origin === current.origin) return next;
  if (next.protocol === current.protocol && next.hostname === current.hostname && next.port === '' && current.port !== '') {
    next.port = current.port;
    return next;
  }
  throw registryTerminal(
    RegistryErrorCode.RegistryPaginationError,
    `the registry at ${current.origin} sent a next-page link to another origin (${next.protocol}//${next.host}); refusing to follow it`,
    'the registry or a proxy in front of it rewrites pagination links; fix its external URL',
  );
}
