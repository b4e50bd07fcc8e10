/**
 * Finds `$imagepolicy` markers and the YAML scalars they mark, with exact source ranges, so the
 * rewrite can replace the value's bytes and nothing else.
 *
 * Rules (Flux's, through kyaml): a marker is the line comment after a scalar value; a comment
 * on the line directly above the value counts only when the value has no line comment (go-yaml's
 * head comment, which for `key: value` belongs to the key, so it applies to sequence items and
 * values on their own line). Text that merely looks like a marker inside a block scalar or a
 * quoted string is not a comment and is ignored.
 */
import { CST, Composer, Parser, isAlias, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Document, Node as YamlNode, Scalar } from 'yaml';
import { hasMarker } from './screen.ts';
import { looksLikeMarker, parseMarkerComment } from './setter.ts';
import type { Marker, MarkerProblem, ObjectId, ScalarStyle } from './types.ts';

interface ScalarSite {
  start: number;
  end: number;
  kind: 'value' | 'key' | 'block' | 'alias';
  style: ScalarStyle | null;
  value: string;
  path: string;
  flow: boolean;
  document: number;
}

interface Comment {
  offset: number;
  source: string;
}

export interface ScanResult {
  markers: Marker[];
  problems: MarkerProblem[];
}

/** Offsets of line starts, for offset → line and line → offset. */
export class Lines {
  private readonly starts: number[] = [0];
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  /** 0-based line index of an offset. */
  indexOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  start(line: number): number {
    return this.starts[line]!;
  }

  count(): number {
    return this.starts.length;
  }

  /** The line's text without its line break. */
  content(line: number): string {
    const s = this.starts[line]!;
    const e = line + 1 < this.starts.length ? this.starts[line + 1]! - 1 : this.text.length;
    return this.text.slice(s, e).replace(/\r$/, '');
  }
}

const STYLES: ReadonlySet<string> = new Set(['PLAIN', 'QUOTE_SINGLE', 'QUOTE_DOUBLE']);

function keySegment(key: unknown): string {
  const k = isScalar(key) ? String(key.value) : '?';
  return /^[A-Za-z0-9_$-]+$/.test(k) ? k : JSON.stringify(k);
}

function joinPath(base: string, key: string): string {
  if (key.startsWith('"')) return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

function scalarText(node: Scalar): string {
  const token = node.srcToken;
  if (token && (token.type === 'scalar' || token.type === 'single-quoted-scalar' || token.type === 'double-quoted-scalar')) {
    const resolved = CST.resolveAsScalar(token);
    if (resolved) return resolved.value;
  }
  return String(node.value);
}

function collectSites(doc: Document, document: number): ScalarSite[] {
  const sites: ScalarSite[] = [];
  const visit = (node: unknown, path: string, flow: boolean, kind: 'value' | 'key'): void => {
    if (isMap(node)) {
      const inFlow = flow || node.flow === true;
      for (const pair of node.items) {
        const seg = keySegment(pair.key);
        visit(pair.key, joinPath(path, seg), inFlow, 'key');
        visit(pair.value, joinPath(path, seg), inFlow, 'value');
      }
    } else if (isSeq(node)) {
      const inFlow = flow || node.flow === true;
      node.items.forEach((item, i) => visit(item, `${path}[${i}]`, inFlow, 'value'));
    } else if (isScalar(node) && node.range) {
      const style = node.type !== undefined && STYLES.has(node.type) ? (node.type as ScalarStyle) : null;
      sites.push({
        start: node.range[0],
        end: node.range[1],
        kind: style === null ? 'block' : kind,
        style,
        value: style === null ? '' : scalarText(node),
        path,
        flow,
        document,
      });
    } else if (isAlias(node) && (node as YamlNode).range) {
      const r = (node as YamlNode).range!;
      sites.push({ start: r[0], end: r[1], kind: 'alias', style: null, value: '', path, flow, document });
    }
  };
  visit(doc.contents, '', false, 'value');
  return sites;
}

function collectComments(tokens: readonly CST.Token[]): Comment[] {
  const out: Comment[] = [];
  const visit = (v: object): void => {
    if (Array.isArray(v)) {
      for (const x of v as unknown[]) if (typeof x === 'object' && x !== null) visit(x);
      return;
    }
    const t = v as { type?: unknown; offset?: unknown; source?: unknown };
    if (t.type === 'comment' && typeof t.offset === 'number' && typeof t.source === 'string') {
      out.push({ offset: t.offset, source: t.source });
      return;
    }
    // for…in, not Object.values: this walk visits every token, and the arrays added up.
    for (const key in v) {
      const child = (v as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) visit(child);
    }
  };
  for (const token of tokens) visit(token);
  return out.sort((a, b) => a.offset - b.offset);
}

/**
 * One lex and parse serves both the comments and the documents; parseAllDocuments would parse
 * the text a second time. Errors are worded by parseAllDocuments (with line and column): that
 * second parse happens only for a file that does not parse.
 */
function parseOnce(text: string): { docs: Document[]; tokens: CST.Token[] } {
  const tokens = Array.from(new Parser().parse(text));
  const docs = Array.from(new Composer({ keepSourceTokens: true }).compose(tokens)) as Document[];
  if (docs.some((d) => d.errors.length > 0)) return { docs: parseAllDocuments(text, { keepSourceTokens: true }), tokens };
  return { docs, tokens };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function objectIdOf(doc: Document): ObjectId {
  if (!isMap(doc.contents)) return { apiVersion: '', kind: '', name: '', namespace: '' };
  return {
    apiVersion: str(doc.get('apiVersion')),
    kind: str(doc.get('kind')),
    name: str(doc.getIn(['metadata', 'name'])),
    namespace: str(doc.getIn(['metadata', 'namespace'])),
  };
}

/** Scans a file's text for markers. Never throws for bad content: problems are returned. */
export function findMarkers(text: string): ScanResult {
  if (!hasMarker(text)) return { markers: [], problems: [] };
  const lines = new Lines(text);
  const { docs, tokens } = parseOnce(text);
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const line = lines.indexOf(err.pos[0]) + 1;
      const first = err.message.split('\n')[0] ?? err.message;
      return { markers: [], problems: [{ code: 'FileNotParsable', message: `YAML does not parse: ${first}`, line }] };
    }
  }
  const sites = docs.flatMap((doc, i) => collectSites(doc, i)).sort((a, b) => a.start - b.start);
  const ids = docs.map(objectIdOf);
  const comments = collectComments(tokens);
  const problems: MarkerProblem[] = [];
  const problem = (offset: number, message: string): void => {
    problems.push({ code: 'MarkerInvalid', message, line: lines.indexOf(offset) + 1 });
  };

  const siteStarting = new Map<number, ScalarSite>();
  for (const s of sites) siteStarting.set(s.start, s);

  /**
   * The scalar a same-line comment follows: only spaces and flow punctuation may sit between.
   * `afterKey` tells a comment that follows `key:` (its value on the next lines).
   */
  const siteBefore = (offset: number): { site?: ScalarSite; afterKey: boolean } => {
    let best: ScalarSite | undefined;
    for (const s of sites) {
      if (s.end <= offset && (best === undefined || s.end > best.end)) best = s;
    }
    if (best === undefined) return { afterKey: false };
    const between = text.slice(best.end, offset);
    if (/^[ \t,\]}]*$/.test(between)) return { site: best, afterKey: false };
    return { afterKey: best.kind === 'key' && /^[ \t]*:[ \t]*$/.test(between) };
  };

  const lineComment = new Map<ScalarSite, Comment>();
  const ownLine: Comment[] = [];
  for (const c of comments) {
    const lineStart = lines.start(lines.indexOf(c.offset));
    if (text.slice(lineStart, c.offset).trim() === '') {
      ownLine.push(c);
      continue;
    }
    const { site, afterKey } = siteBefore(c.offset);
    if (site !== undefined && site.kind === 'value') {
      lineComment.set(site, c);
    } else if (looksLikeMarker(c.source)) {
      problem(
        c.offset,
        site?.kind === 'key' || afterKey
          ? 'marker follows a key, not a value; put it after the value on the same line'
          : 'marker is not on the line of a plain or quoted scalar value',
      );
    }
  }

  const found: Array<{ site: ScalarSite; comment: Comment; via: 'line' | 'head' }> = [];
  for (const [site, c] of lineComment) {
    if (looksLikeMarker(c.source)) found.push({ site, comment: c, via: 'line' });
  }

  // Only real comment tokens count: a block scalar's `#` lines are content.
  const commentLines = new Set(ownLine.map((c) => lines.indexOf(c.offset)));
  const isCommentLine = (line: number): boolean => commentLines.has(line);
  for (const c of ownLine) {
    if (!looksLikeMarker(c.source)) continue;
    const line = lines.indexOf(c.offset);
    let last = line;
    while (last + 1 < lines.count() && isCommentLine(last + 1)) last++;
    let first = line;
    while (first > 0 && isCommentLine(first - 1)) first--;
    const next = last + 1;
    const nextText = next < lines.count() ? lines.content(next) : '';
    const lead = /^[ \t]*(?:-[ \t]+)*/.exec(nextText)?.[0].length ?? 0;
    const site = nextText.trim() === '' ? undefined : siteStarting.get(lines.start(next) + lead);
    if (site === undefined || site.kind !== 'value') {
      problem(
        c.offset,
        site?.kind === 'key'
          ? 'marker above a key does not apply; put it after the value on the same line'
          : 'marker is not directly above a plain or quoted scalar value',
      );
      continue;
    }
    if (first !== last) {
      problem(c.offset, 'marker must be the only comment line directly above the value');
      continue;
    }
    if (lineComment.has(site)) {
      problem(c.offset, 'marker above the value is ignored because the value has a comment after it on its line');
      continue;
    }
    found.push({ site, comment: c, via: 'head' });
  }

  const markers: Marker[] = [];
  for (const { site, comment, via } of found.sort((a, b) => a.site.start - b.site.start)) {
    const parsed = parseMarkerComment(comment.source);
    if (!parsed.ok) {
      problem(comment.offset, parsed.reason);
      continue;
    }
    markers.push({
      setter: parsed.setter,
      range: [site.start, site.end],
      style: site.style!,
      value: site.value,
      document: site.document,
      objectId: ids[site.document]!,
      path: site.path,
      line: lines.indexOf(site.start) + 1,
      comment: via,
      flow: site.flow,
    });
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { markers, problems };
}
