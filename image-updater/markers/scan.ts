/**
 * Finds `$imagepolicy` markers and the YAML scalars they mark, with exact source ranges, so the
 * rewrite can replace the value's bytes and nothing else.
 *
 * Which scalar a marker belongs to is Flux's rule: kyaml reads a scalar's line comment, else its
 * head comment, as go-yaml v3 attaches them, and sets only scalars (mapping values and sequence
 * items; never keys, aliases or collections). go-yaml gives a line comment to the token before
 * it: a scalar, the element before a `,`, the value after a flow `:` or a block `-`, a block
 * scalar's header; after `]` or `}` it belongs to the collection, after a block `key:` to the key.
 * A head comment is the comment lines above a value on its own line or a sequence item, and
 * counts only when it is one line. Flux reads files as kyaml's ByteReader does (see
 * documentsRead). oracle.test.ts holds all of this to a Go program that uses go-yaml itself.
 * Text that merely looks like a marker inside a block scalar or a quoted string is content.
 */
import { CST, Composer, Parser, isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, visit } from 'yaml';
import type { Document, Node as YamlNode, Scalar } from 'yaml';
import { scanLines } from './fast.ts';
import { joinPath, keySegment as pathSegment } from './path.ts';
import { hasMarker } from './screen.ts';
import { looksLikeMarker, parseMarkerComment } from './setter.ts';
import type { BlockParts, Marker, MarkerProblem, MarkerStyle, ObjectId } from './types.ts';

type SiteKind = 'value' | 'key' | 'alias' | 'collection';

interface ScalarSite {
  start: number;
  end: number;
  kind: SiteKind;
  /** null for aliases, collections and implicit (empty) nulls. */
  style: MarkerStyle | null;
  value: string;
  path: string;
  flow: boolean;
  document: number;
  /** Set for a block sequence's item: the previous item, when there is one. */
  seqItem?: { previous: ScalarSite | null };
  /** Set for a flow sequence's element. */
  flowItem?: true;
  /** A block scalar's header and body, for the rewrite. */
  block?: BlockParts;
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

function keySegment(key: unknown): string {
  return pathSegment(isScalar(key) ? String(key.value) : '?');
}

function scalarText(node: Scalar): string {
  const token = node.srcToken;
  if (token && (token.type === 'scalar' || token.type === 'single-quoted-scalar' || token.type === 'double-quoted-scalar')) {
    const resolved = CST.resolveAsScalar(token);
    if (resolved) return resolved.value;
  }
  return String(node.value);
}

/** A block scalar's header token and body, from its source token. */
function blockParts(node: Scalar, text: string): BlockParts | undefined {
  const token = node.srcToken;
  if (token?.type !== 'block-scalar' || !node.range) return undefined;
  const header = token.props.find((t): t is CST.SourceToken => t.type === 'block-scalar-header');
  const newline = token.props.find((t): t is CST.SourceToken => t.type === 'newline');
  if (header === undefined) return undefined;
  const bodyStart = newline === undefined ? node.range[1] : newline.offset + newline.source.length;
  const firstLine = /^[ ]*(?=\S)/m.exec(text.slice(bodyStart, node.range[1]));
  return {
    header: [header.offset, header.offset + header.source.length],
    body: [bodyStart, node.range[1]],
    indent: firstLine?.[0] ?? ' '.repeat(token.indent + 2),
  };
}

/** A block scalar's value; without a line break at the end of the text, go-yaml reads none. */
function blockValue(node: Scalar, text: string, block: BlockParts): string {
  const value = String(node.value);
  const body = text.slice(block.body[0], block.body[1]);
  return !body.endsWith('\n') && value.endsWith('\n') ? value.slice(0, -1) : value;
}

function collectSites(doc: Document, document: number, text: string): ScalarSite[] {
  const sites: ScalarSite[] = [];
  const add = (node: unknown, path: string, flow: boolean, kind: 'value' | 'key'): ScalarSite | null => {
    if (isPair(node)) {
      // A pair inside a flow sequence (`[a: b]`) is a one-entry mapping, as go-yaml reads it.
      const seg = keySegment(node.key);
      add(node.key, joinPath(path, seg), true, 'key');
      add(node.value, joinPath(path, seg), true, 'value');
      return null;
    }
    const range = (node as YamlNode | null)?.range;
    if (!range) return null;
    let site: ScalarSite;
    if (isMap(node) || isSeq(node)) {
      const inFlow = flow || node.flow === true;
      site = { start: range[0], end: range[1], kind: kind === 'key' ? 'key' : 'collection', style: null, value: '', path, flow, document };
      sites.push(site);
      if (isMap(node)) {
        for (const pair of node.items) {
          const seg = keySegment(pair.key);
          add(pair.key, joinPath(path, seg), inFlow, 'key');
          add(pair.value, joinPath(path, seg), inFlow, 'value');
        }
      } else {
        let previous: ScalarSite | null = null;
        node.items.forEach((item, i) => {
          const child = add(item, `${path}[${i}]`, inFlow, 'value');
          if (child !== null && !inFlow) child.seqItem = { previous };
          if (child !== null && node.flow === true) child.flowItem = true;
          previous = child;
        });
      }
      return site;
    }
    if (isAlias(node)) {
      site = { start: range[0], end: range[1], kind: 'alias', style: null, value: '', path, flow, document };
    } else if (isScalar(node)) {
      const style: MarkerStyle | null = node.type ?? null;
      const block = style === 'BLOCK_LITERAL' || style === 'BLOCK_FOLDED' ? blockParts(node, text) : undefined;
      // An implicit null (`key:` with nothing after it) has no bytes; go-yaml gives its comments to the key.
      const empty = range[0] === range[1];
      site = {
        start: range[0],
        end: range[1],
        kind,
        style: empty ? null : style,
        value: block !== undefined ? blockValue(node, text, block) : scalarText(node),
        path,
        flow,
        document,
        ...(block !== undefined ? { block } : {}),
      };
      if (empty || (style !== null && style.startsWith('BLOCK') && block === undefined)) site.style = null;
    } else return null;
    sites.push(site);
    return site;
  };
  add(doc.contents, '', false, 'value');
  return sites;
}

/**
 * Comment tokens, and where go-yaml (libyaml's scanner) refuses a tab: right after a block
 * sequence's `-` or an explicit key's `?`, where it still expects a token.
 */
function collectComments(tokens: readonly CST.Token[]): { comments: Comment[]; badTabs: number[] } {
  const out: Comment[] = [];
  const badTabs: number[] = [];
  const checkItems = (items: ReadonlyArray<{ start: readonly CST.SourceToken[] }>): void => {
    for (const item of items) {
      const at = item.start.findIndex((t) => t.type === 'seq-item-ind' || t.type === 'explicit-key-ind');
      const next = at >= 0 ? item.start[at + 1] : undefined;
      if (next?.type === 'space' && next.source.includes('\t')) badTabs.push(next.offset);
    }
  };
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
    if (t.type === 'block-seq' || t.type === 'block-map') checkItems((v as CST.BlockSequence | CST.BlockMap).items);
    // for…in, not Object.values: this walk visits every token, and the arrays added up.
    for (const key in v) {
      const child = (v as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) visit(child);
    }
  };
  for (const token of tokens) visit(token);
  return { comments: out.sort((a, b) => a.offset - b.offset), badTabs };
}

/**
 * One lex and parse serves both the comments and the documents; parseAllDocuments would parse
 * the text a second time. Errors are worded by parseAllDocuments (with line and column): that
 * second parse happens only for a file that does not parse.
 *
 * eemeli/yaml 2.x misreads a comment line that is not indented deeper than a key when it sits
 * between the key and its value on a later line (`key:\n#c\n  value\n? next` reads the value as
 * "value ? next"; with `next: 1` after it the file fails with MULTILINE_IMPLICIT_KEY). go-yaml
 * reads both. A file with such a comment is parsed once more with its own-line comments blanked
 * out (same length, so every offset holds), unless a scalar would then span a blanked line.
 */
function parseOnce(text: string): {
  docs: Document[];
  comments: Comment[];
  badTabs: number[];
} {
  const tokens = Array.from(new Parser().parse(text));
  const { comments, badTabs } = collectComments(tokens);
  const parse = (source: string): Document[] => Array.from(new Composer({ keepSourceTokens: true }).compose(new Parser().parse(source)));
  const docs = Array.from(new Composer({ keepSourceTokens: true }).compose(tokens)) as Document[];
  const failed = docs.some((d) => d.errors.length > 0);
  const ownLine = comments.filter((c) => text.slice(text.lastIndexOf('\n', c.offset - 1) + 1, c.offset).trim() === '');
  if (failed || ownLine.some((c) => betweenKeyAndValue(text, c.offset))) {
    let blankedText = '';
    let at = 0;
    for (const c of ownLine) {
      blankedText += text.slice(at, c.offset) + ' '.repeat(c.source.length);
      at = c.offset + c.source.length;
    }
    const retry = parse(blankedText + text.slice(at));
    // A blanked line inside a scalar (a block scalar's tail, a plain scalar's fold) would change it: keep the first reading.
    const spansBlanked = (doc: Document): boolean => {
      let hit = false;
      visit(doc, {
        Scalar(_key, node) {
          const r = node.range;
          if (r && firstAfter(ownLine, r[0]) < r[1]) {
            hit = true;
            return visit.BREAK;
          }
          return undefined;
        },
      });
      return hit;
    };
    if (!retry.some((d) => d.errors.length > 0 || spansBlanked(d))) return { docs: retry, comments, badTabs };
  }
  return { docs: failed ? parseAllDocuments(text, { keepSourceTokens: true }) : docs, comments, badTabs };
}

/** The offset of the first comment after `offset` (comments sorted by offset), or Infinity. */
function firstAfter(comments: readonly Comment[], offset: number): number {
  let lo = 0;
  let hi = comments.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (comments[mid]!.offset > offset) hi = mid;
    else lo = mid + 1;
  }
  return comments[lo]?.offset ?? Infinity;
}

/**
 * Whether an own-line comment at `offset` follows a `key:` line (past blank and comment lines)
 * and is not indented deeper than that line: the shape eemeli/yaml misreads.
 */
function betweenKeyAndValue(text: string, offset: number): boolean {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const column = offset - lineStart;
  let end = lineStart - 1;
  while (end > 0) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end).replace(/\r$/, '');
    end = start - 1;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    return /:[ \t]*(?:#.*)?$/.test(line) && line.length - line.trimStart().length >= column;
  }
  return false;
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

/**
 * Which documents Flux reads. kyaml's ByteReader splits the file on lines that start with `---`
 * (a line with anything but a comment after the dashes fails the whole file) and decodes only
 * the first document of each part, so a document that follows `...` without a `---` line is
 * never read.
 */
function documentsRead(text: string, docs: readonly Document[]): { read: boolean[] } | { invalidSeparator: number } {
  const separators: number[] = [];
  for (const m of text.matchAll(/\n---([^\n]*)\n/g)) {
    const after = m[1]!.trim();
    if (after !== '' && !after.startsWith('#')) return { invalidSeparator: m.index + 1 };
    separators.push(m.index);
  }
  const seen = new Set<number>();
  return {
    read: docs.map((doc) => {
      const start = doc.range?.[0] ?? 0;
      const part = separators.filter((s) => s < start).length;
      if (seen.has(part)) return false;
      seen.add(part);
      return true;
    }),
  };
}

const BLANK = /^[ \t]*$/;

/**
 * Scans a file's text for markers. Never throws for bad content: problems are returned. Text
 * without the marker token is never parsed; text of the plain shape fast.ts can read line by
 * line is read that way, and everything else by the full parse.
 */
export function findMarkers(text: string): ScanResult {
  if (!hasMarker(text)) return { markers: [], problems: [] };
  return scanLines(text) ?? parseMarkers(text);
}

/** The full parse: the only source of truth for where a marker belongs, whatever the text. */
export function parseMarkers(text: string): ScanResult {
  if (!hasMarker(text)) return { markers: [], problems: [] };
  const lines = new Lines(text);
  const { docs, comments, badTabs } = parseOnce(text);
  const unparsable = (offset: number, message: string): ScanResult => ({
    markers: [],
    problems: [{ code: 'FileNotParsable', message, line: lines.indexOf(offset) + 1 }],
  });
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) return unparsable(err.pos[0], `YAML does not parse: ${err.message.split('\n')[0] ?? err.message}`);
  }
  const reading = documentsRead(text, docs);
  if ('invalidSeparator' in reading) {
    return unparsable(reading.invalidSeparator, 'Flux cannot split the documents: only a comment may follow "---" on its line');
  }
  // Flux's parser (go-yaml) refuses these, so Flux skips the file whole; it never parses a document it does not read.
  const badTab = badTabs.find((offset) =>
    docs.some((doc, i) => reading.read[i] && doc.range !== undefined && doc.range[0] <= offset && offset < doc.range[2]),
  );
  if (badTab !== undefined) return unparsable(badTab, 'YAML does not parse for Flux (go-yaml): a tab after "-" or "?"; use spaces');
  const notObject = docs.findIndex((doc, i) => reading.read[i] && doc.contents !== null && !isMap(doc.contents) && !isEmptyScalar(doc));
  if (notObject >= 0) {
    return unparsable(
      docs[notObject]!.contents!.range![0],
      'Flux cannot read the file: each document must be a mapping (a Kubernetes object), not a list or a scalar',
    );
  }
  const sites = docs.flatMap((doc, i) => collectSites(doc, i, text)).sort((a, b) => a.start - b.start || b.end - a.end);
  const ids = docs.map(objectIdOf);
  const problems: MarkerProblem[] = [];
  const problem = (offset: number, message: string): void => {
    problems.push({ code: 'MarkerInvalid', message, line: lines.indexOf(offset) + 1 });
  };

  const scalars = sites.filter((s) => s.style !== null);
  const blocks = scalars.filter((s) => s.block !== undefined);
  const endingAt = new Map<number, ScalarSite>();
  for (const s of sites) {
    const known = endingAt.get(s.end);
    // Several nodes can end at one offset (a collection and its last scalar): the innermost wins.
    if (known === undefined || s.start > known.start) endingAt.set(s.end, s);
  }
  const scalarStarting = new Map<number, ScalarSite>();
  for (const s of scalars) scalarStarting.set(s.start, s);
  const firstSiteAfter = (offset: number): ScalarSite | undefined => {
    let lo = 0;
    let hi = sites.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sites[mid]!.start > offset) hi = mid;
      else lo = mid + 1;
    }
    return sites[lo];
  };
  const flows = sites.filter((s) => s.kind !== 'key' && isFlowSite(s, text));
  const insideFlow = (offset: number): boolean => flows.some((s) => s.start < offset && offset < s.end);
  const settable = (s: ScalarSite | undefined): s is ScalarSite & { style: MarkerStyle } =>
    s !== undefined && s.kind === 'value' && s.style !== null;

  /**
   * The scalar a comment after other text on its line belongs to, by go-yaml's rule: the token
   * just before it decides. Otherwise why no scalar value takes it.
   */
  const lineOwner = (c: Comment): { site: ScalarSite; via?: 'head' | 'before' } | { why: string } => {
    const block = blocks.find((s) => s.block!.header[1] <= c.offset && c.offset < s.block!.body[0]);
    if (block !== undefined) return block.kind === 'value' ? { site: block } : { why: KEY };
    const lineStart = lines.start(lines.indexOf(c.offset));
    const before = text.slice(lineStart, c.offset).replace(/[ \t]+$/, '');
    const end = lineStart + before.length;
    const ending = endingAt.get(end);
    if (ending !== undefined && ending.kind !== 'collection') {
      if (settable(ending)) return { site: ending };
      return { why: ending.kind === 'alias' ? ALIAS : ending.kind === 'key' ? KEY : NOT_SCALAR };
    }
    const last = before.at(-1);
    if (last === ']' || last === '}') return { why: COLLECTION };
    if (last === ',') {
      const element = endingAt.get(before.slice(0, -1).replace(/\s+$/, '').length + lineStart);
      if (settable(element)) return { site: element };
      return { why: element?.kind === 'alias' ? ALIAS : element?.kind === 'key' ? KEY : COLLECTION };
    }
    const next = firstSiteAfter(c.offset);
    // After a flow ":" or an anchor or tag, the comment is the line comment of the value on a later
    // line, joined with that value's own line comment when it has one (then neither is a marker).
    // After a lone "-" it is the head comment of the item, and the item's line comment comes first.
    if (last === ':') {
      if (insideFlow(c.offset) && settable(next)) return { site: next, via: 'before' };
      return { why: KEY };
    }
    if (/(?:^|[ \t])-$/.test(before))
      return settable(next) && next.seqItem !== undefined ? { site: next, via: 'head' } : { why: NOT_SCALAR };
    if (/(?:^|[ \t])[&!][^ \t]*$/.test(before)) return settable(next) ? { site: next, via: 'before' } : { why: NOT_SCALAR };
    return { why: NOT_SCALAR };
  };

  const lineComment = new Map<ScalarSite, Comment>();
  const headBefore = new Map<ScalarSite, Comment>();
  const lineBefore = new Map<ScalarSite, Comment>();
  const ownLine: Comment[] = [];
  const commentLines = new Set<number>();
  for (const c of comments) {
    const line = lines.indexOf(c.offset);
    if (text.slice(lines.start(line), c.offset).trim() === '') {
      ownLine.push(c);
      commentLines.add(line);
      continue;
    }
    const owner = lineOwner(c);
    if ('why' in owner) {
      if (looksLikeMarker(c.source)) problem(c.offset, owner.why);
      continue;
    }
    const taken = owner.via === 'head' ? headBefore : owner.via === 'before' ? lineBefore : lineComment;
    if (!taken.has(owner.site)) taken.set(owner.site, c);
    else if (looksLikeMarker(c.source)) problem(c.offset, 'marker is a second comment for a value that already has one');
  }

  const isComment = (line: number): boolean => commentLines.has(line);
  const isBlank = (line: number): boolean => !isComment(line) && BLANK.test(lines.content(line));
  const indentOf = (line: number): number => /^[ \t]*/.exec(lines.content(line))![0].length;
  const columnOf = (offset: number): number => offset - lines.start(lines.indexOf(offset));
  /**
   * go-yaml's scan_comments over a run of comment and blank lines after a token: comments that
   * end up as a foot of what came before are dropped; what is left is the next node's head.
   */
  const headOf = (run: readonly number[], indent: number, afterValue: boolean): number[] => {
    let head: number[] = [];
    let startColumn = -1;
    let startLine = -1;
    let firstEmpty = !isBlank(run[0]!);
    let recentEmpty = false;
    for (const l of run) {
      if (isBlank(l)) {
        if (!recentEmpty && head.length > 0 && firstEmpty && ((startLine === run[0] && !afterValue) || startColumn < indent)) head = [];
        firstEmpty = false;
        recentEmpty = true;
        continue;
      }
      const column = indentOf(l);
      if (head.length > 0 && column < indent && column !== startColumn) head = [];
      if (head.length === 0) {
        startColumn = column;
        startLine = l;
      }
      head.push(l);
      recentEmpty = false;
    }
    return head;
  };
  /**
   * The scalar a comment on its own line is the head comment of (go-yaml): the next node when
   * that is a block sequence item or a mapping value on its own line. Returns the comment lines
   * that make up that head comment, or why there is none.
   */
  const headOwner = (c: Comment): { site: ScalarSite; head: number[] } | { why: string } => {
    const line = lines.indexOf(c.offset);
    let first = line;
    while (first > 0 && (isComment(first - 1) || isBlank(first - 1))) first--;
    let last = line;
    while (last + 1 < lines.count() && (isComment(last + 1) || isBlank(last + 1))) last++;
    const next = last + 1;
    if (next >= lines.count()) return { why: FOOT };
    const content = lines.content(next);
    const lead = /^[ \t]*/.exec(content)![0].length;
    const dashes = /^(?:-[ \t]+)*/.exec(content.slice(lead))![0].length;
    // An anchor or tag comes before the value it belongs to.
    const props = /^(?:[&!][^ \t]*[ \t]+)*/.exec(content.slice(lead + dashes))![0].length;
    const site = scalarStarting.get(lines.start(next) + lead + dashes + props);
    const block: number[] = [];
    for (let l = first; l <= last; l++) block.push(l);
    if (site === undefined || site.kind !== 'value' || (site.flow && site.flowItem === undefined)) {
      const other = sites.find((s) => s.start === lines.start(next) + lead + dashes + props);
      return { why: other?.kind === 'key' ? ABOVE_KEY : NOT_SCALAR };
    }
    // Above `- - value`, the comment is the outer item's, a sequence.
    if (/^-[ \t]+-/.test(content.slice(lead))) return { why: NOT_SCALAR };
    if (site.flow) return { site, head: block.filter(isComment) };
    if ((dashes === 0) !== (site.seqItem === undefined)) return { why: NOT_SCALAR };
    const previousLine = lines.content(first - 1 >= 0 ? first - 1 : 0);
    const afterValue = /:[ \t]*(?:#.*)?$/.test(previousLine);
    const previous = site.seqItem?.previous ?? null;
    // go-yaml's block indentation when it reads these comments: the mapping of the key above, the
    // sequence, or the mapping that was the previous item.
    let indent = /^[ \t]*(?:-[ \t]+)*/.exec(previousLine)![0].length;
    if (previous !== null) indent = previous.kind === 'collection' ? columnOf(previous.start) : lead;
    let head = headOf(block, indent, afterValue);
    // After a mapping item, go-yaml closes the mapping at the next "-": a comment not at the dash's column stays with it.
    if (previous?.kind === 'collection' && head.some((l) => isComment(l) && indentOf(l) !== lead)) head = [];
    const own = head.filter(isComment);
    if (!own.includes(line)) return { why: FOOT };
    return { site, head: own };
  };

  const found: Array<{ site: ScalarSite; comment: Comment; via: 'line' | 'head' }> = [];
  for (const [site, c] of lineComment) {
    if (!looksLikeMarker(c.source)) continue;
    if (lineBefore.has(site)) problem(c.offset, TWO_LINE_COMMENTS);
    else found.push({ site, comment: c, via: 'line' });
  }
  for (const [site, c] of lineBefore) {
    const marker = looksLikeMarker(c.source);
    if (lineComment.has(site)) {
      if (marker) problem(c.offset, TWO_LINE_COMMENTS);
      continue;
    }
    lineComment.set(site, c);
    if (marker) found.push({ site, comment: c, via: 'line' });
  }
  for (const [site, c] of headBefore) {
    if (!looksLikeMarker(c.source)) continue;
    const between = lines.indexOf(c.offset) + 1;
    const own = Array.from({ length: Math.max(0, lines.indexOf(site.start) - between) }, (_, k) => between + k).some((l) =>
      commentLines.has(l),
    );
    if (own) problem(c.offset, 'marker must be the only comment line directly above the value');
    else if (lineComment.has(site))
      problem(c.offset, 'marker above the value is ignored because the value has a comment after it on its line');
    else found.push({ site, comment: c, via: 'head' });
  }
  for (const c of ownLine) {
    if (!looksLikeMarker(c.source)) continue;
    const owner = headOwner(c);
    if ('why' in owner) {
      problem(c.offset, owner.why);
      continue;
    }
    if (owner.head.length !== 1) {
      problem(c.offset, 'marker must be the only comment line directly above the value');
      continue;
    }
    if (lineComment.has(owner.site)) {
      problem(c.offset, 'marker above the value is ignored because the value has a comment after it on its line');
      continue;
    }
    found.push({ site: owner.site, comment: c, via: 'head' });
  }

  const markers: Marker[] = [];
  for (const { site, comment, via } of found.sort((a, b) => a.site.start - b.site.start)) {
    if (!reading.read[site.document]) {
      problem(comment.offset, 'marker is in a document Flux does not read: a document after "..." needs its own "---" line');
      continue;
    }
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
      ...(site.block !== undefined ? { block: site.block } : {}),
    });
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { markers, problems };
}

/** A document with nothing but an (implicit or written) null, which Flux drops. */
function isEmptyScalar(doc: Document): boolean {
  return isScalar(doc.contents) && doc.contents.value === null;
}

function isFlowSite(s: ScalarSite, text: string): boolean {
  return s.kind === 'collection' && (text[s.start] === '[' || text[s.start] === '{');
}

const KEY = 'marker follows a key, not a value; put it after the value on the same line';
const ABOVE_KEY = 'marker above a key does not apply; put it after the value on the same line';
const ALIAS = 'marker follows an alias; an alias is never rewritten, mark the anchored value instead';
const COLLECTION = 'marker after "]" or "}" belongs to the flow collection, not to a value; put it after the value inside the brackets';
const NOT_SCALAR = 'marker does not belong to a plain, quoted or block scalar value';
const TWO_LINE_COMMENTS =
  'the value has two line comments (after its anchor, tag or ":" and after the value); go-yaml joins them and Flux reads neither';
const FOOT = 'marker is below a value (a foot comment), not above or after one';
