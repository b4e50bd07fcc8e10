/** Go text/template's predefined functions (funcs.go), over the template value model. */
import type { TemplateFunc } from './exec.ts';
import { isPrint, sprint, sprintf, sprintln } from './fmt.ts';
import { byteSlice, deepEqual, kindOf, lengthOf, mapIndex, numberOf, truth, typeName } from './values.ts';

type BasicKind = 'bool' | 'int' | 'float' | 'string';

function basicKind(v: unknown): BasicKind | null {
  const k = kindOf(v);
  return k === 'bool' || k === 'int' || k === 'float' || k === 'string' ? k : null;
}

function isNil(v: unknown): boolean {
  return v === undefined || v === null;
}

function compareBasic(a: unknown, b: unknown, kind: BasicKind): number {
  if (kind === 'string') {
    const x = a as string;
    const y = b as string;
    return Buffer.compare(Buffer.from(x, 'utf8'), Buffer.from(y, 'utf8'));
  }
  if (kind === 'bool') return a === b ? 0 : 1;
  const x = numberOf(a);
  const y = numberOf(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** eq arg1 arg2...: true when arg1 equals any of the others (Go 1.18+ semantics). */
export function eq(arg1: unknown, ...args: unknown[]): boolean {
  if (args.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of args) {
    const k2 = basicKind(arg);
    let result = false;
    if (k1 !== k2) {
      if (!isNil(arg1) && !isNil(arg)) throw new Error('incompatible types for comparison');
    } else if (k1 !== null) {
      result = compareBasic(arg1, arg, k1) === 0;
    } else {
      const comparable = (v: unknown): boolean => isNil(v) || kindOf(v) === 'struct';
      if (!comparable(arg1) || !comparable(arg)) {
        const bad = comparable(arg1) ? arg : arg1;
        throw new Error(`non-comparable type ${sprintf('%s', [bad])}: ${typeName(bad)}`);
      }
      if (isNil(arg1) || isNil(arg)) result = isNil(arg1) === isNil(arg);
      else result = deepEqual(arg1, arg);
    }
    if (result) return true;
  }
  return false;
}

function lessThan(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === null || k2 === null) throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error('incompatible types for comparison');
  if (k1 === 'bool') throw new Error('invalid type for comparison');
  return compareBasic(a, b, k1) < 0;
}

function indexArg(index: unknown, cap: number): number {
  const k = kindOf(index);
  if (k === 'invalid' || k === 'nil') throw new Error('cannot index slice/array with nil');
  if (k !== 'int') throw new Error(`cannot index slice/array with type ${typeName(index)}`);
  const x = numberOf(index);
  if (x < 0 || x > cap) throw new Error(`index out of range: ${x}`);
  return x;
}

/** index item keys...: Go's index builtin. */
export function index(item: unknown, ...indexes: unknown[]): unknown {
  if (isNil(item)) throw new Error('index of untyped nil');
  let cur = item;
  for (const idx of indexes) {
    if (isNil(cur)) throw new Error('index of nil pointer');
    const k = kindOf(cur);
    if (k === 'slice' || k === 'string') {
      const len = lengthOf(cur)!;
      const x = indexArg(idx, len);
      if (x >= len) throw new Error(`index out of range: ${x}`);
      cur = k === 'slice' ? (cur as unknown[])[x] : Buffer.from(cur as string, 'utf8')[x];
    } else if (k === 'map') {
      if (!(cur instanceof Map) && kindOf(idx) !== 'string') {
        throw new Error(`value has type ${typeName(idx)}; should be string`);
      }
      const v = mapIndex(cur, idx);
      cur = v === undefined ? null : v;
    } else {
      throw new Error(`can't index item of type ${typeName(cur)}`);
    }
  }
  return cur;
}

/**
 * slice item indexes...: Go's builtin for strings and slices. Sprig replaces it for lists in
 * Flux's function map; the only visible difference, an empty list giving nil, is kept.
 */
export function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (isNil(item)) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  const k = kindOf(item);
  if (k === 'string' && indexes.length === 3) throw new Error('cannot 3-index slice a string');
  if (k !== 'string' && k !== 'slice') throw new Error(`can't slice item of type ${typeName(item)}`);
  const len = lengthOf(item)!;
  if (k === 'slice' && len === 0) return null;
  const idx = [0, len, len];
  indexes.forEach((x, i) => {
    idx[i] = indexArg(x, len);
  });
  if (idx[0]! > idx[1]!) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (k === 'string') return byteSlice(item as string, idx[0]!, idx[1]!);
  return (item as unknown[]).slice(idx[0], idx[1]);
}

export function len(item: unknown): number {
  if (isNil(item)) throw new Error('len of nil pointer');
  const n = lengthOf(item);
  if (n === null) throw new Error(`len of type ${typeName(item)}`);
  return n;
}

/** Arguments of html/js/urlquery as one string, as Go's evalArgs does. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (isNil(a) ? '<no value>' : a)));
}

export function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => {
    switch (c) {
      case '\0':
        return '\ufffd';
      case '"':
        return '&#34;';
      case "'":
        return '&#39;';
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      default:
        return '&gt;';
    }
  });
}

export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
    else if (cp < 0x80 || isPrint(cp)) out += ch;
    else out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}

/** url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function call(fn: unknown, ...args: unknown[]): unknown {
  if (isNil(fn)) throw new Error('call of nil');
  if (typeof fn !== 'function') throw new Error(`non-function of type ${typeName(fn)}`);
  return (fn as (...a: unknown[]) => unknown)(...args);
}

export const builtinFuncs: Readonly<Record<string, TemplateFunc>> = {
  and: { params: ['value'], variadic: 'value', fn: () => undefined },
  or: { params: ['value'], variadic: 'value', fn: () => undefined },
  not: { params: ['value'], fn: (a: unknown) => !truth(a) },
  call: { params: ['value'], variadic: 'value', fn: call },
  html: { params: [], variadic: 'any', fn: (...a: unknown[]) => htmlEscape(evalArgs(a)) },
  js: { params: [], variadic: 'any', fn: (...a: unknown[]) => jsEscape(evalArgs(a)) },
  urlquery: { params: [], variadic: 'any', fn: (...a: unknown[]) => queryEscape(evalArgs(a)) },
  index: { params: ['value'], variadic: 'value', fn: index },
  slice: { params: ['value'], variadic: 'value', fn: slice },
  len: { params: ['value'], fn: len },
  print: { params: [], variadic: 'any', fn: (...a: unknown[]) => sprint(a) },
  printf: { params: ['string'], variadic: 'any', fn: (f: string, ...a: unknown[]) => sprintf(f, a) },
  println: { params: [], variadic: 'any', fn: (...a: unknown[]) => sprintln(a) },
  eq: { params: ['value'], variadic: 'value', fn: eq },
  ne: { params: ['value', 'value'], fn: (a: unknown, b: unknown) => !eq(a, b) },
  lt: { params: ['value', 'value'], fn: lessThan },
  le: { params: ['value', 'value'], fn: (a: unknown, b: unknown) => lessThan(a, b) || eq(a, b) },
  gt: { params: ['value', 'value'], fn: (a: unknown, b: unknown) => !(lessThan(a, b) || eq(a, b)) },
  ge: { params: ['value', 'value'], fn: (a: unknown, b: unknown) => !lessThan(a, b) },
};
