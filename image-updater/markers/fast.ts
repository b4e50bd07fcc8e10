/**
 * The marker scan's fast path: one pass over the lines of a file written in the plain shape
 * nearly every manifest has — one document of block mappings and sequences, one `key: value` or
 * `- value` per line, plain or simply quoted scalars, one-line flow collections of bare words,
 * and markers only as the line comment of a scalar value (`image: app:1 # {"$imagepolicy": …}`).
 *
 * The full parse (scan.ts) is the only source of truth. This path answers only for text it can
 * read completely and returns null for anything else — flow collections it cannot read word by
 * word, anchors, aliases, tags, block and multi-line scalars, escapes, explicit keys, tabs, a CR
 * or BOM, `---`/`...`, directives, duplicate keys, comments between a key and its value, marker
 * text anywhere but a scalar's line comment, a marker that would be a problem. Within that shape
 * go-yaml and eemeli/yaml read the same tree, and fast.test.ts holds this path to the full parse
 * on every oracle case and golden fixture: wherever it answers, it answers exactly as the parse.
 */
import { joinPath, keySegment } from './path.ts';
import { looksLikeMarker, parseMarkerComment } from './setter.ts';
import type { Marker, ObjectId, ScalarStyle } from './types.ts';

export interface FastScan {
  markers: Marker[];
  problems: [];
}

interface Container {
  kind: 'map' | 'seq';
  indent: number;
  path: string;
  /** A mapping's keys (a duplicate makes the file unparsable: the full parse reports it). */
  keys: Set<string>;
  /** A sequence's items so far. */
  items: number;
}

interface Value {
  style: ScalarStyle | 'FLOW';
  start: number;
  end: number;
  value: string;
  /** Offset of the line comment's `#` in the line, or -1. */
  comment: number;
}

const TOKEN = '$imagepolicy';

/**
 * Anything but printable YAML text and line feeds: tabs, CRs, a BOM, control and non-characters.
 * Each has a rule of its own in go-yaml or eemeli/yaml, so the full parse reads them.
 */
const UNUSUAL = /[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]/u;

/** A flow mapping key: a bare word that both YAML versions read as that string. */
const KEY = /[A-Za-z_][A-Za-z0-9_./-]*/y;
const RESERVED_KEY = /^(?:true|false|null|y|yes|n|no|on|off)$/i;

/** A key YAML 1.1 or 1.2 reads as a boolean or null; the length test spares most keys the regex. */
function reservedKey(key: string): boolean {
  return key.length <= 5 && RESERVED_KEY.test(key);
}
/** go-yaml refuses a simple key longer than this (1024 with its `:`). */
const MAX_KEY = 1000;
/** A word inside a flow collection. */
const WORD = /[A-Za-z0-9_./-]+/y;
/** A plain value that every YAML schema reads as a string (for apiVersion, kind, name, namespace). */
const PLAIN_STRING = /^[A-Za-z][A-Za-z0-9._/-]*$/;
const NOT_STRING = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/;
/** Characters a plain scalar may not start with in block context. */
const INDICATORS = new Set(['&', '*', '!', '|', '>', '%', '@', '`', '#', ',', '[', ']', '{', '}', '?', ':', '"', "'"]);

/** Which part of the object id a key of this mapping holds ('metadata' for the mapping of the name), or null. */
function idField(map: Container, key: string): keyof ObjectId | 'metadata' | null {
  if (map.path === '') return key === 'apiVersion' || key === 'kind' || key === 'metadata' ? key : null;
  return map.path === 'metadata' && (key === 'name' || key === 'namespace') ? key : null;
}

/** Whether a character code may continue a bare key or word: `A-Za-z0-9_./-`. */
function wordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 45 && c <= 57) || c === 95;
}

/** The key at `at` when the line continues with `key:` and a space or its end; else null. */
function keyAt(line: string, at: number): string | null {
  const first = line.charCodeAt(at);
  // A letter or "_" first, so that no key reads as a number.
  if (!((first >= 97 && first <= 122) || (first >= 65 && first <= 90) || first === 95)) return null;
  let end = at + 1;
  while (wordChar(line.charCodeAt(end))) end++;
  if (line.charCodeAt(end) !== 58 /* : */ || (end + 1 < line.length && line.charCodeAt(end + 1) !== 32)) return null;
  return line.slice(at, end);
}

function skipSpaces(line: string, at: number): number {
  while (line.charCodeAt(at) === 32) at++;
  return at;
}

/** The end of a one-line flow collection of bare words starting at `at`, or -1. */
function flowEnd(line: string, at: number, depth: number): number {
  if (depth > 8) return -1;
  const isMap = line[at] === '{';
  const close = isMap ? '}' : ']';
  const keys = new Set<string>();
  let i = skipSpaces(line, at + 1);
  if (line[i] === close) return i + 1;
  for (;;) {
    if (isMap) {
      KEY.lastIndex = i;
      const key = KEY.exec(line)?.[0];
      if (key === undefined || reservedKey(key) || keys.has(key)) return -1;
      keys.add(key);
      i += key.length;
      if (line[i] !== ':' || line[i + 1] !== ' ') return -1;
      i = skipSpaces(line, i + 1);
    }
    if (line[i] === '[' || line[i] === '{') {
      i = flowEnd(line, i, depth + 1);
      if (i < 0) return -1;
    } else {
      WORD.lastIndex = i;
      const word = WORD.exec(line)?.[0];
      // A lone "-" (or "-" before a non-word) is a block indicator, not a scalar.
      if (word === undefined || (word[0] === '-' && !/^-[A-Za-z0-9.]/.test(word))) return -1;
      i += word.length;
    }
    i = skipSpaces(line, i);
    if (line[i] === ',') {
      i = skipSpaces(line, i + 1);
      continue;
    }
    return line[i] === close ? i + 1 : -1;
  }
}

/**
 * The value that starts at `at` and runs to the end of the line (bar its comment), or null when
 * it is not a one-line plain, quoted or bare flow value.
 */
function valueAt(line: string, at: number): Value | null {
  const first = line[at]!;
  let end: number;
  let value: string;
  let style: Value['style'];
  if (first === '"') {
    end = line.indexOf('"', at + 1) + 1;
    if (end === 0) return null;
    value = line.slice(at + 1, end - 1);
    // Escapes are the full parse's to decode.
    if (value.includes('\\')) return null;
    style = 'QUOTE_DOUBLE';
  } else if (first === "'") {
    end = at + 1;
    for (;;) {
      end = line.indexOf("'", end) + 1;
      if (end === 0) return null;
      if (line[end] !== "'") break;
      end++;
    }
    value = line.slice(at + 1, end - 1).replaceAll("''", "'");
    style = 'QUOTE_SINGLE';
  } else if (first === '[' || first === '{') {
    end = flowEnd(line, at, 0);
    if (end < 0) return null;
    value = '';
    style = 'FLOW';
  } else {
    if (INDICATORS.has(first) || (first === '-' && (at + 1 === line.length || line[at + 1] === ' '))) return null;
    const hash = line.indexOf(' #', at);
    end = hash < 0 ? line.length : hash;
    while (line.charCodeAt(end - 1) === 32) end--;
    value = line.slice(at, end);
    // A ": " or a final ":" would make a mapping; brackets are left to the full parse.
    if (value.includes(': ') || value.endsWith(':') || /[[\]{}]/.test(value)) return null;
    return { style: 'PLAIN', start: at, end, value, comment: hash < 0 ? -1 : hash + 1 };
  }
  const after = skipSpaces(line, end);
  if (after === line.length) return { style, start: at, end, value, comment: -1 };
  // Only a comment may follow, and only after a space.
  if (line[after] !== '#' || after === end) return null;
  return { style, start: at, end, value, comment: after };
}

/**
 * The markers of `text` when it has the plain shape described above; null when the full parse
 * must read it. Only called for text that holds the marker token.
 */
export function scanLines(text: string): FastScan | null {
  if (UNUSUAL.test(text)) return null;
  const stack: Container[] = [{ kind: 'map', indent: 0, path: '', keys: new Set(), items: 0 }];
  const id: ObjectId = { apiVersion: '', kind: '', name: '', namespace: '' };
  const found: Array<Omit<Marker, 'objectId'>> = [];
  /** A `key:` whose value starts on a later line: its indentation and path. */
  let pending: { indent: number; path: string } | null = null;
  /** After a value, a deeper line would continue it (a multi-line scalar): the full parse reads those. */
  let deepest = Infinity;

  let lineNo = 0;
  for (let start = 0; start <= text.length; lineNo++) {
    let stop = text.indexOf('\n', start);
    if (stop < 0) stop = text.length;
    const line = text.slice(start, stop);
    const offset = start;
    start = stop + 1;

    const n = skipSpaces(line, 0);
    if (n === line.length) continue;
    if (line[n] === '#') {
      // Own-line comments: a marker here is a head comment, and a comment between a key and its
      // value is a shape eemeli/yaml needs help with (scan.ts parseOnce).
      if (line.includes(TOKEN) || (pending !== null && n <= pending.indent)) return null;
      continue;
    }
    if (n > deepest) return null;
    if (n === 0 && (line.startsWith('---') || line.startsWith('...'))) return null;

    let at = n;
    let itemPath: string | null = null;
    let container: Container;
    if (line[n] === '-' && (n + 1 === line.length || line[n + 1] === ' ')) {
      // A sequence item: a new sequence under the pending key (at its indentation or deeper), or
      // the next item of the sequence at this indentation.
      if (pending !== null && n >= pending.indent) {
        stack.push({ kind: 'seq', indent: n, path: pending.path, keys: new Set(), items: 0 });
        pending = null;
      } else {
        pending = null;
        while (stack.at(-1)!.indent > n) stack.pop();
      }
      const seq = stack.at(-1)!;
      if (seq.kind !== 'seq' || seq.indent !== n) return null;
      itemPath = `${seq.path}[${seq.items++}]`;
      at = skipSpaces(line, n + 1);
      // An empty item, a nested "- -" or a comment after the dash: the full parse.
      if (at === line.length || line[at] === '#' || (line[at] === '-' && (at + 1 === line.length || line[at + 1] === ' '))) return null;
      container = seq;
    } else {
      if (pending !== null && n > pending.indent) {
        stack.push({ kind: 'map', indent: n, path: pending.path, keys: new Set(), items: 0 });
      } else {
        let top = stack.at(-1)!;
        while (top.indent > n || (top.kind === 'seq' && top.indent === n)) {
          stack.pop();
          top = stack.at(-1)!;
        }
      }
      pending = null;
      container = stack.at(-1)!;
      if (container.kind !== 'map' || container.indent !== n) return null;
    }

    const key = keyAt(line, at);
    if (key !== null) {
      if (key.length > MAX_KEY || reservedKey(key)) return null;
      if (itemPath !== null) {
        // `- key: value`: the item is a mapping whose keys line up with this one.
        container = { kind: 'map', indent: at, path: itemPath, keys: new Set(), items: 0 };
        stack.push(container);
      }
      if (container.keys.has(key)) return null;
      container.keys.add(key);
      const valueStart = skipSpaces(line, at + key.length + 1);
      if (valueStart === line.length || line[valueStart] === '#') {
        if (line.includes(TOKEN)) return null;
        // metadata must be a block mapping for the object's name to be read from it here.
        pending = { indent: at, path: joinPath(container.path, keySegment(key)) };
        deepest = Infinity;
        continue;
      }
      const field = idField(container, key);
      if (field === 'metadata') return null;
      const value = valueAt(line, valueStart);
      if (value === null) return null;
      if (field !== null) {
        if (value.style === 'FLOW' || (value.style === 'PLAIN' && (!PLAIN_STRING.test(value.value) || NOT_STRING.test(value.value))))
          return null;
        id[field] = value.value;
      }
      if (!mark(line, lineNo, offset, value, container.path, key)) return null;
      deepest = at;
      continue;
    }
    if (itemPath === null) return null;
    // `- value`: a scalar (or flow collection) item.
    const value = valueAt(line, at);
    if (value === null || !mark(line, lineNo, offset, value, itemPath, null)) return null;
    deepest = n;
  }
  return { markers: found.map((m) => ({ ...m, objectId: id })), problems: [] };

  /**
   * Records the line's marker, if it has one; false when the line's marker text is not one this
   * path can vouch for. The value's path (`base`, then its key if any) is written only for a marker.
   */
  function mark(line: string, lineNo: number, offset: number, value: Value, base: string, key: string | null): boolean {
    const token = line.indexOf(TOKEN);
    if (token < 0) return true;
    if (value.comment < 0 || token < value.comment || value.style === 'FLOW') return false;
    const comment = line.slice(value.comment);
    if (!looksLikeMarker(comment)) return false;
    const parsed = parseMarkerComment(comment);
    if (!parsed.ok) return false;
    found.push({
      setter: parsed.setter,
      range: [offset + value.start, offset + value.end],
      style: value.style,
      value: value.value,
      document: 0,
      path: key === null ? base : joinPath(base, keySegment(key)),
      line: lineNo + 1,
      comment: 'line',
      flow: false,
    });
    return true;
  }
}

/** Paths whose values scanLines also reads into the object id: an edit there needs the whole read-back. */
const ID_PATHS: ReadonlySet<string> = new Set(['apiVersion', 'kind', 'metadata.name', 'metadata.namespace']);

/**
 * Whether `replacement`, written over a marker that scanLines found, reads back on its own line
 * as `value` with the line's marker comment untouched — so that scanLines over the edited text
 * would find the same markers with this one's new value. scanLines reads a value line only
 * through its indentation, its key, the value token and what follows it; the edit keeps all but
 * the token, which this reads again with scanLines' own rules. False when the whole text must
 * be read back (rewrite.ts does that): a value that the object id comes from, a replacement with
 * a line break or a character outside the plain shape, or one that does not read back alone.
 */
export function readsBackOnItsLine(text: string, marker: Marker, replacement: string, value: string): boolean {
  if (marker.block !== undefined || marker.flow || marker.comment !== 'line' || ID_PATHS.has(marker.path)) return false;
  if (replacement.includes('\n') || UNUSUAL.test(replacement)) return false;
  const [start, end] = marker.range;
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  let lineEnd = text.indexOf('\n', end);
  if (lineEnd < 0) lineEnd = text.length;
  const at = start - lineStart;
  const before = text.slice(lineStart, lineEnd);
  const after = before.slice(0, at) + replacement + before.slice(end - lineStart);
  const was = valueAt(before, at);
  const now = valueAt(after, at);
  if (was === null || now === null || was.comment < 0 || now.comment < 0 || now.style === 'FLOW') return false;
  if (now.value !== value || now.end !== at + replacement.length) return false;
  // The same comment after the value, and no marker text before it (mark()'s rule).
  return after.slice(now.comment) === before.slice(was.comment) && after.indexOf(TOKEN) >= now.comment;
}
