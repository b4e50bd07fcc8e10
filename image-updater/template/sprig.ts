/**
 * Sprig's hermetic functions (Masterminds/sprig v3 `HermeticTxtFuncMap`), the set Flux gives
 * commit templates. Functions whose output depends on time, randomness or the environment are
 * left out. Argument order and edge cases follow Sprig's Go source.
 */
import { createHash } from 'node:crypto';
import type { ParamKind, TemplateFunc } from './exec.ts';
import { formatValue, quoteString } from './fmt.ts';
import { GoRegexp, quoteMeta } from './gregexp.ts';
import { marshal } from './json.ts';
import { parseGoFloat, parseGoInt } from './parser.ts';
import {
  GoFloat,
  byteSlice,
  deepEqual,
  isPlainObject,
  kindOf,
  lengthOf,
  mapHas,
  mapIndex,
  numberOf,
  sortedEntries,
  stringer,
  typeName,
  utf8Length,
} from './values.ts';
import type { GoStruct } from './values.ts';

/** Bounds on what a single function may build, so a template cannot exhaust memory. */
const MAX_LIST = 100_000;
const MAX_STRING = 1 << 20;
const ANY_PARAM: readonly ParamKind[] = ['any'];

function isNil(v: unknown): boolean {
  return v === undefined || v === null;
}

/** Sprig's strval: strings as is, Stringers via String(), everything else via %v. */
export function strval(v: unknown): string {
  if (typeof v === 'string') return v;
  if (kindOf(v) === 'struct') {
    const str = (v as GoStruct)[stringer];
    if (str !== undefined) return str();
  }
  return formatValue(v);
}

/** Sprig's strslice: a list of strings from a slice (nil elements dropped) or one value. */
function strslice(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x) => !isNil(x)).map(strval);
  if (isNil(v)) return [];
  return [strval(v)];
}

/** Sprig's `empty`: the zero value of its type (structs are never empty). */
export function empty(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return true;
    case 'string':
    case 'slice':
    case 'map':
      return lengthOf(v) === 0;
    case 'bool':
      return v === false;
    case 'int':
    case 'float':
      return numberOf(v) === 0;
    default:
      return false;
  }
}

// --- spf13/cast conversions ---

function trimZeroDecimal(s: string): string {
  let foundZero = false;
  for (let i = s.length; i > 0; i--) {
    const c = s[i - 1];
    if (c === '.') {
      if (foundZero) return s.slice(0, i - 1);
    } else if (c === '0') {
      foundZero = true;
    } else {
      return s;
    }
  }
  return s;
}

const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

/** cast.ToInt64: numbers truncate, strings parse with Go's base prefixes, failures give 0. */
export function toInt64(v: unknown): number {
  switch (kindOf(v)) {
    case 'int':
      return Math.trunc(numberOf(v));
    case 'float': {
      const f = numberOf(v);
      return Number.isFinite(f) ? Math.trunc(f) : 0;
    }
    case 'bool':
      return v ? 1 : 0;
    case 'string': {
      const n = parseGoInt(trimZeroDecimal(v as string));
      if (n === null || n > INT64_MAX || n < INT64_MIN) return 0;
      return Number(n);
    }
    default:
      return 0;
  }
}

/** cast.ToFloat64. */
export function toFloat64(v: unknown): number {
  switch (kindOf(v)) {
    case 'int':
    case 'float':
      return numberOf(v);
    case 'bool':
      return v ? 1 : 0;
    case 'string': {
      const s = v as string;
      const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
      if (special) {
        if (special[2]!.toLowerCase() === 'nan') return NaN;
        return special[1] === '-' ? -Infinity : Infinity;
      }
      return parseGoFloat(s) ?? 0;
    }
    default:
      return 0;
  }
}

function checkedInt(n: number): number {
  if (!Number.isFinite(n)) throw new Error('runtime error: integer overflow');
  return n;
}

// --- lists ---

function asList(v: unknown, what: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new Error(`Cannot ${what} on type ${isNil(v) ? '<nil>' : kindName(v)}`);
}

function kindName(v: unknown): string {
  const k = kindOf(v);
  return k === 'float' ? 'float64' : k;
}

function inList(haystack: readonly unknown[], needle: unknown): boolean {
  return haystack.some((h) => deepEqual(needle, h));
}

function until(count: number): number[] {
  return untilStep(0, count, count < 0 ? -1 : 1);
}

function untilStep(start: number, stop: number, step: number): number[] {
  const v: number[] = [];
  if (stop < start) {
    if (step >= 0) return v;
    for (let i = start; i > stop; i += step) {
      v.push(i);
      if (v.length > MAX_LIST) throw new Error(`list longer than ${MAX_LIST} elements`);
    }
    return v;
  }
  if (step <= 0) return v;
  for (let i = start; i < stop; i += step) {
    v.push(i);
    if (v.length > MAX_LIST) throw new Error(`list longer than ${MAX_LIST} elements`);
  }
  return v;
}

function seq(...params: number[]): string {
  const join = (xs: number[]): string => xs.join(' ');
  switch (params.length) {
    case 0:
      return '';
    case 1: {
      const start = 1;
      const end = params[0]!;
      const inc = end < start ? -1 : 1;
      return join(untilStep(start, end + inc, inc));
    }
    case 2: {
      const [start, end] = params as [number, number];
      const step = end < start ? -1 : 1;
      return join(untilStep(start, end + step, step));
    }
    case 3: {
      const [start, step, end] = params as [number, number, number];
      let inc = 1;
      if (end < start) {
        inc = -1;
        if (step > 0) return '';
      }
      return join(untilStep(start, end + inc, step));
    }
    default:
      return '';
  }
}

// --- maps ---

type StringMap = Record<string, unknown>;

function mapArg(d: unknown): StringMap | Map<unknown, unknown> {
  if (isNil(d)) return {};
  return d as StringMap | Map<unknown, unknown>;
}

function dict(...v: unknown[]): StringMap {
  const out: StringMap = {};
  for (let i = 0; i < v.length; i += 2) {
    const key = strval(v[i]);
    out[key] = i + 1 >= v.length ? '' : v[i + 1];
  }
  return out;
}

function mapKeys(d: unknown): string[] {
  return sortedEntries(mapArg(d)).map(([k]) => strval(k));
}

function setKey(d: unknown, key: string, value: unknown): unknown {
  if (d instanceof Map) d.set(key, value);
  else if (isPlainObject(d)) {
    if (Object.isFrozen(d)) throw new Error('assignment to a read-only map');
    d[key] = value;
  } else throw new Error('assignment to entry in nil map');
  return d;
}

function unsetKey(d: unknown, key: string): unknown {
  if (d instanceof Map) d.delete(key);
  else if (isPlainObject(d)) {
    if (Object.isFrozen(d)) throw new Error('deletion from a read-only map');
    delete d[key];
  }
  return d;
}

// --- strings ---

function isSpaceRune(c: string): boolean {
  return /^\s$/u.test(c) || c === '\u0085';
}

function title(s: string): string {
  let prev = ' ';
  let out = '';
  const isSeparator = (r: string): boolean => {
    const cp = r.codePointAt(0)!;
    if (cp <= 0x7f) return !/[0-9a-zA-Z_]/.test(r);
    if (/^[\p{L}\p{Nd}]$/u.test(r)) return false;
    return isSpaceRune(r);
  };
  for (const r of s) {
    if (isSeparator(prev)) {
      const up = r.toUpperCase();
      out += [...up].length === 1 ? up : r;
    } else {
      out += r;
    }
    prev = r;
  }
  return out;
}

function untitle(s: string): string {
  let next = true;
  let out = '';
  for (const r of s) {
    if (isSpaceRune(r)) {
      out += r;
      next = true;
    } else if (next) {
      const low = r.toLowerCase();
      out += [...low].length === 1 ? low : r;
      next = false;
    } else {
      out += r;
    }
  }
  return out;
}

function initials(s: string): string {
  let out = '';
  let next = true;
  for (const r of s) {
    if (isSpaceRune(r)) next = true;
    else if (next) {
      out += r;
      next = false;
    }
  }
  return out;
}

/** strings.Trim with a cutset of characters. */
function trimCutset(s: string, cutset: string): string {
  const set = new Set([...cutset]);
  const chars = [...s];
  let a = 0;
  let b = chars.length;
  while (a < b && set.has(chars[a]!)) a++;
  while (b > a && set.has(chars[b - 1]!)) b--;
  return chars.slice(a, b).join('');
}

function trunc(c: number, s: string): string {
  const n = utf8Length(s);
  if (c < 0 && n + c > 0) return byteSlice(s, n + c);
  if (c >= 0 && n > c) return byteSlice(s, 0, c);
  return s;
}

function substr(start: number, end: number, s: string): string {
  const n = utf8Length(s);
  const check = (i: number, j: number): void => {
    if (i < 0 || j > n || i > j) throw new Error(`runtime error: slice bounds out of range [${i}:${j}] with length ${n}`);
  };
  if (start < 0) {
    check(0, end);
    return byteSlice(s, 0, end);
  }
  if (end < 0 || end > n) {
    check(start, n);
    return byteSlice(s, start);
  }
  check(start, end);
  return byteSlice(s, start, end);
}

function abbrev(width: number, s: string): string {
  if (width < 4 || s === '') return s;
  if (utf8Length(s) <= width) return s;
  return byteSlice(s, 0, width - 3) + '...';
}

function repeat(count: number, s: string): string {
  if (count < 0) throw new Error('strings: negative Repeat count');
  if (s.length * count > MAX_STRING) throw new Error(`string longer than ${MAX_STRING} characters`);
  return s.repeat(count);
}

function indent(spaces: number, v: string): string {
  if (spaces < 0) throw new Error('strings: negative Repeat count');
  const lines = v.split('\n');
  if (v.length + spaces * lines.length > MAX_STRING) throw new Error(`string longer than ${MAX_STRING} characters`);
  const pad = ' '.repeat(spaces);
  return pad + lines.join('\n' + pad);
}

/** strings.Replace(src, old, new, -1); an empty `old` inserts `new` around every character. */
function replaceAll(old: string, replacement: string, src: string): string {
  const parts = old === '' ? [...src] : src.split(old);
  const count = old === '' ? parts.length + 1 : parts.length - 1;
  if (src.length + count * replacement.length > MAX_STRING) throw new Error(`string longer than ${MAX_STRING} characters`);
  if (old === '') return replacement + parts.map((c) => c + replacement).join('');
  return parts.join(replacement);
}

function splitN(orig: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  if (sep === '') {
    const chars = [...orig];
    if (n < 0 || n >= chars.length) return chars;
    return [...chars.slice(0, n - 1), chars.slice(n - 1).join('')];
  }
  const parts = orig.split(sep);
  if (n < 0 || parts.length <= n) return parts;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

function indexedMap(parts: string[]): StringMap {
  const out: StringMap = {};
  parts.forEach((p, i) => {
    out[`_${i}`] = p;
  });
  return out;
}

function b64dec(v: string): string {
  const clean = v.replace(/[\r\n]/g, '');
  const bad = clean.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return `illegal base64 data at input byte ${bad}`;
  const firstPad = clean.indexOf('=');
  if (clean.length % 4 !== 0 || (firstPad >= 0 && firstPad < clean.length - 2) || /=[^=]/.test(clean)) {
    return `illegal base64 data at input byte ${Math.max(firstPad, 0) || clean.length - (clean.length % 4)}`;
  }
  return Buffer.from(clean, 'base64').toString('utf8');
}

function b32enc(v: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = Buffer.from(v, 'utf8');
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

function b32dec(v: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = v.replace(/[\r\n]/g, '');
  if (clean.length % 8 !== 0) return `illegal base32 data at input byte ${clean.length - (clean.length % 8)}`;
  const body = clean.replace(/=+$/, '');
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (let i = 0; i < body.length; i++) {
    const idx = alphabet.indexOf(body[i]!);
    if (idx < 0) return `illegal base32 data at input byte ${i}`;
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function adler32(s: string): number {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(s, 'utf8')) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function regexp(pattern: string): GoRegexp {
  return new GoRegexp(pattern);
}

/** Sprig's function map, minus the non-hermetic and non-text functions. */
export const sprigFuncs: Readonly<Record<string, TemplateFunc>> = {
  // strings
  abbrev: { params: ['int', 'string'], fn: abbrev },
  trunc: { params: ['int', 'string'], fn: trunc },
  trim: { params: ['string'], fn: (s: string) => s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, '') },
  upper: { params: ['string'], fn: (s: string) => s.toUpperCase() },
  lower: { params: ['string'], fn: (s: string) => s.toLowerCase() },
  title: { params: ['string'], fn: title },
  untitle: { params: ['string'], fn: untitle },
  substr: { params: ['int', 'int', 'string'], fn: substr },
  repeat: { params: ['int', 'string'], fn: repeat },
  trimall: { params: ['string', 'string'], fn: (a: string, b: string) => trimCutset(b, a) },
  trimAll: { params: ['string', 'string'], fn: (a: string, b: string) => trimCutset(b, a) },
  trimSuffix: {
    params: ['string', 'string'],
    fn: (a: string, b: string) => (a !== '' && b.endsWith(a) ? b.slice(0, b.length - a.length) : b),
  },
  trimPrefix: { params: ['string', 'string'], fn: (a: string, b: string) => (b.startsWith(a) ? b.slice(a.length) : b) },
  nospace: { params: ['string'], fn: (s: string) => [...s].filter((c) => !isSpaceRune(c)).join('') },
  initials: { params: ['string'], fn: initials },
  contains: { params: ['string', 'string'], fn: (sub: string, s: string) => s.includes(sub) },
  hasPrefix: { params: ['string', 'string'], fn: (p: string, s: string) => s.startsWith(p) },
  hasSuffix: { params: ['string', 'string'], fn: (p: string, s: string) => s.endsWith(p) },
  quote: {
    params: [],
    variadic: 'any',
    fn: (...xs: unknown[]) =>
      xs
        .filter((x) => !isNil(x))
        .map((x) => quoteString(strval(x)))
        .join(' '),
  },
  squote: {
    params: [],
    variadic: 'any',
    fn: (...xs: unknown[]) =>
      xs
        .filter((x) => !isNil(x))
        .map((x) => `'${formatValue(x)}'`)
        .join(' '),
  },
  cat: {
    params: [],
    variadic: 'any',
    fn: (...xs: unknown[]) =>
      xs
        .filter((x) => !isNil(x))
        .map(formatValue)
        .join(' '),
  },
  indent: { params: ['int', 'string'], fn: indent },
  nindent: { params: ['int', 'string'], fn: (n: number, v: string) => '\n' + indent(n, v) },
  replace: { params: ['string', 'string', 'string'], fn: replaceAll },
  plural: {
    params: ['string', 'string', 'int'],
    fn: (one: string, many: string, count: number) => (count === 1 ? one : many),
  },
  sha1sum: { params: ['string'], fn: (s: string) => createHash('sha1').update(s, 'utf8').digest('hex') },
  sha256sum: { params: ['string'], fn: (s: string) => createHash('sha256').update(s, 'utf8').digest('hex') },
  adler32sum: { params: ['string'], fn: (s: string) => String(adler32(s)) },
  // Typed explicitly: `toString` collides with Object.prototype's member and loses inference.
  toString: { params: ANY_PARAM, fn: strval },

  // conversions
  atoi: {
    params: ['string'],
    fn: (s: string) => (/^[+-]?[0-9]+$/.test(s) && Math.abs(Number(s)) <= Number.MAX_SAFE_INTEGER ? Number(s) : 0),
  },
  int64: { params: ['any'], fn: toInt64 },
  int: { params: ['any'], fn: toInt64 },
  float64: { params: ['any'], fn: (v: unknown) => new GoFloat(toFloat64(v)) },
  seq: { params: [], variadic: 'int', fn: seq },
  toDecimal: {
    params: ['any'],
    fn: (v: unknown) => {
      const s = formatValue(v);
      return /^[+-]?[0-7]+$/.test(s) ? parseInt(s, 8) : 0;
    },
  },
  split: { params: ['string', 'string'], fn: (sep: string, orig: string) => indexedMap(splitN(orig, sep, -1)) },
  splitList: { params: ['string', 'string'], fn: (sep: string, orig: string) => splitN(orig, sep, -1) },
  splitn: {
    params: ['string', 'int', 'string'],
    fn: (sep: string, n: number, orig: string) => indexedMap(splitN(orig, sep, n)),
  },
  toStrings: { params: ['any'], fn: strslice },
  until: { params: ['int'], fn: until },
  untilStep: { params: ['int', 'int', 'int'], fn: untilStep },

  // arithmetic (int64, as Sprig)
  add1: { params: ['any'], fn: (i: unknown) => checkedInt(toInt64(i) + 1) },
  add: {
    params: [],
    variadic: 'any',
    fn: (...xs: unknown[]) => checkedInt(xs.reduce<number>((a, b) => a + toInt64(b), 0)),
  },
  sub: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => checkedInt(toInt64(a) - toInt64(b)) },
  div: {
    params: ['any', 'any'],
    fn: (a: unknown, b: unknown) => {
      const d = toInt64(b);
      if (d === 0) throw new Error('runtime error: integer divide by zero');
      return Math.trunc(toInt64(a) / d);
    },
  },
  mod: {
    params: ['any', 'any'],
    fn: (a: unknown, b: unknown) => {
      const d = toInt64(b);
      if (d === 0) throw new Error('runtime error: integer divide by zero');
      return toInt64(a) % d;
    },
  },
  mul: {
    params: ['any'],
    variadic: 'any',
    fn: (a: unknown, ...xs: unknown[]) => checkedInt(xs.reduce<number>((acc, b) => acc * toInt64(b), toInt64(a))),
  },
  max: {
    params: ['any'],
    variadic: 'any',
    fn: (a: unknown, ...xs: unknown[]) => xs.reduce<number>((m, b) => Math.max(m, toInt64(b)), toInt64(a)),
  },
  biggest: {
    params: ['any'],
    variadic: 'any',
    fn: (a: unknown, ...xs: unknown[]) => xs.reduce<number>((m, b) => Math.max(m, toInt64(b)), toInt64(a)),
  },
  min: {
    params: ['any'],
    variadic: 'any',
    fn: (a: unknown, ...xs: unknown[]) => xs.reduce<number>((m, b) => Math.min(m, toInt64(b)), toInt64(a)),
  },

  // string slices
  join: { params: ['string', 'any'], fn: (sep: string, v: unknown) => strslice(v).join(sep) },
  sortAlpha: {
    params: ['any'],
    fn: (v: unknown) => (Array.isArray(v) ? strslice(v).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))) : [strval(v)]),
  },

  // defaults
  default: {
    params: ['any'],
    variadic: 'any',
    fn: (d: unknown, ...given: unknown[]) => (given.length === 0 || empty(given[0]) ? d : given[0]),
  },
  empty: { params: ['any'], fn: empty },
  coalesce: { params: [], variadic: 'any', fn: (...xs: unknown[]) => xs.find((x) => !empty(x)) ?? null },
  all: { params: [], variadic: 'any', fn: (...xs: unknown[]) => xs.every((x) => !empty(x)) },
  any: { params: [], variadic: 'any', fn: (...xs: unknown[]) => xs.some((x) => !empty(x)) },
  compact: { params: ['any'], fn: (l: unknown) => asList(l, 'compact').filter((x) => !empty(x)) },
  ternary: { params: ['any', 'any', 'bool'], fn: (vt: unknown, vf: unknown, v: boolean) => (v ? vt : vf) },
  toJson: { params: ['any'], fn: (v: unknown) => safeMarshal(v, { escapeHTML: true }) },
  toPrettyJson: { params: ['any'], fn: (v: unknown) => safeMarshal(v, { escapeHTML: true, indent: '  ' }) },
  toRawJson: { params: ['any'], fn: (v: unknown) => safeMarshal(v, { escapeHTML: false }) },
  mustToJson: { params: ['any'], fn: (v: unknown) => marshal(v, { escapeHTML: true }) },
  mustToPrettyJson: { params: ['any'], fn: (v: unknown) => marshal(v, { escapeHTML: true, indent: '  ' }) },
  mustToRawJson: { params: ['any'], fn: (v: unknown) => marshal(v, { escapeHTML: false }) },
  deepEqual: { params: ['any', 'any'], fn: deepEqual },
  typeOf: { params: ['any'], fn: (v: unknown) => (isNil(v) ? '<nil>' : typeName(v)) },
  kindOf: { params: ['any'], fn: (v: unknown) => (isNil(v) ? 'invalid' : kindName(v)) },
  kindIs: { params: ['string', 'any'], fn: (k: string, v: unknown) => (isNil(v) ? 'invalid' : kindName(v)) === k },

  // encoding
  b64enc: { params: ['string'], fn: (s: string) => Buffer.from(s, 'utf8').toString('base64') },
  b64dec: { params: ['string'], fn: b64dec },
  b32enc: { params: ['string'], fn: b32enc },
  b32dec: { params: ['string'], fn: b32dec },

  // dicts
  list: { params: [], variadic: 'any', fn: (...xs: unknown[]) => xs },
  tuple: { params: [], variadic: 'any', fn: (...xs: unknown[]) => xs },
  dict: { params: [], variadic: 'any', fn: dict },
  get: {
    params: ['map', 'string'],
    fn: (d: unknown, k: string) => (mapHas(mapArg(d), k) ? mapIndex(mapArg(d), k) : ''),
  },
  set: { params: ['map', 'string', 'any'], fn: setKey },
  unset: { params: ['map', 'string'], fn: unsetKey },
  hasKey: { params: ['map', 'string'], fn: (d: unknown, k: string) => mapHas(mapArg(d), k) },
  pluck: {
    params: ['string'],
    variadic: 'map',
    fn: (k: string, ...ds: unknown[]) => ds.filter((d) => mapHas(mapArg(d), k)).map((d) => mapIndex(mapArg(d), k)),
  },
  keys: { params: [], variadic: 'map', fn: (...ds: unknown[]) => ds.flatMap(mapKeys) },
  values: { params: ['map'], fn: (d: unknown) => sortedEntries(mapArg(d)).map(([, v]) => v) },
  pick: {
    params: ['map'],
    variadic: 'string',
    fn: (d: unknown, ...ks: string[]) => {
      const out: StringMap = {};
      for (const k of ks) if (mapHas(mapArg(d), k)) out[k] = mapIndex(mapArg(d), k);
      return out;
    },
  },
  omit: {
    params: ['map'],
    variadic: 'string',
    fn: (d: unknown, ...ks: string[]) => {
      const out: StringMap = {};
      for (const [k, v] of sortedEntries(mapArg(d))) if (!ks.includes(strval(k))) out[strval(k)] = v;
      return out;
    },
  },

  // lists
  append: { params: ['any', 'any'], fn: (l: unknown, v: unknown) => [...asList(l, 'push'), v] },
  push: { params: ['any', 'any'], fn: (l: unknown, v: unknown) => [...asList(l, 'push'), v] },
  prepend: { params: ['any', 'any'], fn: (l: unknown, v: unknown) => [v, ...asList(l, 'prepend')] },
  first: { params: ['any'], fn: (l: unknown) => asList(l, 'find first').at(0) ?? null },
  last: { params: ['any'], fn: (l: unknown) => asList(l, 'find last').at(-1) ?? null },
  rest: { params: ['any'], fn: (l: unknown) => asList(l, 'find rest').slice(1) },
  initial: { params: ['any'], fn: (l: unknown) => asList(l, 'find initial').slice(0, -1) },
  reverse: { params: ['any'], fn: (l: unknown) => [...asList(l, 'find reverse')].reverse() },
  uniq: {
    params: ['any'],
    fn: (l: unknown) => {
      const out: unknown[] = [];
      for (const x of asList(l, 'find uniq')) if (!inList(out, x)) out.push(x);
      return out;
    },
  },
  without: {
    params: ['any'],
    variadic: 'any',
    fn: (l: unknown, ...omit: unknown[]) => asList(l, 'find without').filter((x) => !inList(omit, x)),
  },
  has: {
    params: ['any', 'any'],
    fn: (needle: unknown, haystack: unknown) => (isNil(haystack) ? false : inList(asList(haystack, 'find has'), needle)),
  },
  concat: {
    params: [],
    variadic: 'any',
    fn: (...ls: unknown[]) =>
      ls.flatMap((l) => {
        if (!Array.isArray(l)) throw new Error(`Cannot concat type ${isNil(l) ? '<nil>' : kindName(l)} as list`);
        return l;
      }),
  },

  // regular expressions (Go syntax)
  regexMatch: {
    params: ['string', 'string'],
    fn: (re: string, s: string) => {
      try {
        return regexp(re).matchString(s);
      } catch {
        return false;
      }
    },
  },
  mustRegexMatch: { params: ['string', 'string'], fn: (re: string, s: string) => regexp(re).matchString(s) },
  regexFind: { params: ['string', 'string'], fn: (re: string, s: string) => regexp(re).findString(s) },
  mustRegexFind: { params: ['string', 'string'], fn: (re: string, s: string) => regexp(re).findString(s) },
  regexFindAll: {
    params: ['string', 'string', 'int'],
    fn: (re: string, s: string, n: number) => regexp(re).findAllString(s, n) ?? [],
  },
  mustRegexFindAll: {
    params: ['string', 'string', 'int'],
    fn: (re: string, s: string, n: number) => regexp(re).findAllString(s, n) ?? [],
  },
  regexReplaceAll: {
    params: ['string', 'string', 'string'],
    fn: (re: string, s: string, r: string) => regexp(re).replaceAllString(s, r),
  },
  mustRegexReplaceAll: {
    params: ['string', 'string', 'string'],
    fn: (re: string, s: string, r: string) => regexp(re).replaceAllString(s, r),
  },
  regexReplaceAllLiteral: {
    params: ['string', 'string', 'string'],
    fn: (re: string, s: string, r: string) => regexp(re).replaceAllLiteralString(s, r),
  },
  mustRegexReplaceAllLiteral: {
    params: ['string', 'string', 'string'],
    fn: (re: string, s: string, r: string) => regexp(re).replaceAllLiteralString(s, r),
  },
  regexSplit: {
    params: ['string', 'string', 'int'],
    fn: (re: string, s: string, n: number) => regexp(re).split(s, n) ?? [],
  },
  mustRegexSplit: {
    params: ['string', 'string', 'int'],
    fn: (re: string, s: string, n: number) => regexp(re).split(s, n) ?? [],
  },
  regexQuoteMeta: { params: ['string'], fn: quoteMeta },

  // flow control
  fail: {
    params: ['string'],
    fn: (msg: string) => {
      throw new Error(msg);
    },
  },
};

/** Sprig's non-must JSON functions swallow the error and return an empty string. */
function safeMarshal(v: unknown, options: { escapeHTML: boolean; indent?: string }): string {
  try {
    return marshal(v, options);
  } catch {
    return '';
  }
}
