/**
 * How JavaScript values stand in for Go values inside templates.
 *
 * - `undefined` is Go's invalid reflect.Value (a missing map key): it prints as `<no value>`.
 * - `null` is nil.
 * - A JS number is an `int` when it is integral (and fits an int64), otherwise a `float64`; `GoFloat` marks a float64
 *   that happens to be integral (the literal `3.0`, the result of `float64`), so `%d` and `eq`
 *   treat it as Go would.
 * - Arrays are slices; plain objects and `Map`s are maps (ranged and printed in sorted key order).
 * - Objects carrying `structInfo` are structs: `%v` prints `{a b}`, fields are reached with `.Name`,
 *   and a `stringer` method plays the part of Go's `String()`.
 */

export class GoFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

export interface StructInfo {
  /** Go type name, for messages and `%T` (e.g. `update.Change`). */
  readonly type: string;
  /** Fields in declaration order: what `%v` prints and what `.Field` may reach. */
  readonly fields: readonly string[];
  /** Further names `.Name` may reach (promoted fields, niladic methods). */
  readonly members?: readonly string[];
}

export const structInfo: unique symbol = Symbol('tidemark.template.struct');
export const stringer: unique symbol = Symbol('tidemark.template.stringer');
export const jsonForm: unique symbol = Symbol('tidemark.template.json');
export const mapTypeName: unique symbol = Symbol('tidemark.template.mapType');

export interface GoStruct {
  readonly [structInfo]: StructInfo;
  readonly [stringer]?: () => string;
  readonly [jsonForm]?: () => unknown;
  readonly [field: string]: unknown;
}

export interface StructOptions {
  /** Go's String() method: used by %v, %s, print and Sprig's toString. */
  string?: () => string;
  /** What toJson marshals instead of the fields. */
  json?: () => unknown;
  /** Extra reachable names (promoted fields, methods) that %v does not print. */
  members?: Record<string, unknown>;
}

/** Builds a struct value with fields in the given order. */
export function makeStruct(type: string, fields: Record<string, unknown>, options: StructOptions = {}): GoStruct {
  const members = options.members ?? {};
  const obj: Record<string | symbol, unknown> = {};
  for (const [k, v] of Object.entries(fields)) obj[k] = v;
  for (const [k, v] of Object.entries(members)) obj[k] = v;
  const info: StructInfo = { type, fields: Object.keys(fields), members: Object.keys(members) };
  Object.defineProperty(obj, structInfo, { value: info });
  if (options.string) Object.defineProperty(obj, stringer, { value: options.string });
  if (options.json) Object.defineProperty(obj, jsonForm, { value: options.json });
  return Object.freeze(obj) as unknown as GoStruct;
}

/** Tags a Map with the Go type name used in messages (e.g. `map[update.ObjectIdentifier][]update.Change`). */
export function namedMap<K, V>(map: Map<K, V>, type: string): Map<K, V> {
  Object.defineProperty(map, mapTypeName, { value: type });
  return map;
}

export type Kind = 'invalid' | 'nil' | 'string' | 'int' | 'float' | 'bool' | 'slice' | 'map' | 'struct' | 'func';

export function isStruct(v: unknown): v is GoStruct {
  return typeof v === 'object' && v !== null && structInfo in v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

export function kindOf(v: unknown): Kind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    // Integral numbers are ints while they fit an int64; beyond that only a float64 can hold them.
    case 'number':
      return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'function':
      return 'func';
  }
  if (v instanceof GoFloat) return 'float';
  if (Array.isArray(v)) return 'slice';
  if (v instanceof Map) return 'map';
  if (isStruct(v)) return 'struct';
  return 'map';
}

/** The numeric value of an int or float. */
export function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof GoFloat) return v.value;
  return NaN;
}

export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return '<nil>';
    case 'string':
      return 'string';
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'slice':
      return '[]interface {}';
    case 'func':
      return 'func';
    case 'struct':
      return (v as GoStruct)[structInfo].type;
    case 'map': {
      const named = (v as { [mapTypeName]?: string })[mapTypeName];
      if (named !== undefined) return named;
      return v instanceof Map ? 'map[interface {}]interface {}' : 'map[string]interface {}';
    }
  }
}

/** Number of entries (map), elements (slice) or UTF-8 bytes (string), as Go's len. */
export function lengthOf(v: unknown): number | null {
  switch (kindOf(v)) {
    case 'string':
      return utf8Length(v as string);
    case 'slice':
      return (v as unknown[]).length;
    case 'map':
      return v instanceof Map ? v.size : Object.keys(v as object).length;
    default:
      return null;
  }
}

/** Go's template truth: empty strings, slices and maps, zero numbers, false and nil are false. */
export function truth(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'string':
    case 'slice':
    case 'map':
      return lengthOf(v)! > 0;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return numberOf(v) !== 0;
    case 'struct':
    case 'func':
      return true;
  }
}

export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** s[i:j] over UTF-8 bytes, as Go slices strings (a cut inside a character becomes U+FFFD). */
export function byteSlice(s: string, i: number, j?: number): string {
  const b = Buffer.from(s, 'utf8');
  return b.subarray(i, j ?? b.length).toString('utf8');
}

/** Map entries in the order Go's fmtsort gives them (what range and %v use). */
export function sortedEntries(v: unknown): Array<[unknown, unknown]> {
  const entries: Array<[unknown, unknown]> =
    v instanceof Map ? [...(v as Map<unknown, unknown>).entries()] : Object.entries(v as Record<string, unknown>);
  return entries.sort((a, b) => compareKeys(a[0], b[0]));
}

/** Looks a key up in a map; `undefined` when absent (Go's invalid value). */
export function mapIndex(m: unknown, key: unknown): unknown {
  if (m instanceof Map) {
    if (m.has(key)) return m.get(key);
    if (typeof key === 'object' && key !== null) {
      for (const [k, v] of m as Map<unknown, unknown>) if (deepEqual(k, key)) return v;
    }
    return undefined;
  }
  const obj = m as Record<string, unknown>;
  if (typeof key === 'string' && Object.hasOwn(obj, key)) return obj[key];
  return undefined;
}

export function mapHas(m: unknown, key: unknown): boolean {
  if (m instanceof Map) {
    if (m.has(key)) return true;
    if (typeof key !== 'object' || key === null) return false;
    for (const k of (m as Map<unknown, unknown>).keys()) if (deepEqual(k, key)) return true;
    return false;
  }
  return typeof key === 'string' && Object.hasOwn(m as object, key);
}

/** Compares strings by code point, which is the byte order Go uses on UTF-8. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done) return cb.done ? 0 : -1;
    if (cb.done) return 1;
    const x = ca.value.codePointAt(0)!;
    const y = cb.value.codePointAt(0)!;
    if (x !== y) return x < y ? -1 : 1;
  }
}

const KIND_ORDER: Kind[] = ['invalid', 'nil', 'bool', 'int', 'float', 'string', 'slice', 'map', 'struct', 'func'];

/** Key ordering as Go's internal/fmtsort: numbers, strings, bools, then structs field by field. */
export function compareKeys(a: unknown, b: unknown): number {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const numeric = (k: Kind): boolean => k === 'int' || k === 'float';
  if (numeric(ka) && numeric(kb)) {
    const x = numberOf(a);
    const y = numberOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ka !== kb) return KIND_ORDER.indexOf(ka) - KIND_ORDER.indexOf(kb);
  switch (ka) {
    case 'string':
      return compareStrings(a as string, b as string);
    case 'bool':
      return a === b ? 0 : a ? 1 : -1;
    case 'struct': {
      const sa = a as GoStruct;
      const sb = b as GoStruct;
      for (const f of sa[structInfo].fields) {
        const c = compareKeys(sa[f], sb[f]);
        if (c !== 0) return c;
      }
      return 0;
    }
    case 'slice': {
      const xa = a as unknown[];
      const xb = b as unknown[];
      for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
        const c = compareKeys(xa[i], xb[i]);
        if (c !== 0) return c;
      }
      return xa.length - xb.length;
    }
    default:
      return 0;
  }
}

/** reflect.DeepEqual over the value model (ints and floats are different types). */
export function deepEqual(a: unknown, b: unknown): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'invalid' || ka === 'nil') return kb === 'invalid' || kb === 'nil';
  if (ka !== kb) return false;
  switch (ka) {
    case 'int':
    case 'float':
      return numberOf(a) === numberOf(b);
    case 'string':
    case 'bool':
    case 'func':
      return a === b;
    case 'slice': {
      const xa = a as unknown[];
      const xb = b as unknown[];
      return xa.length === xb.length && xa.every((x, i) => deepEqual(x, xb[i]));
    }
    case 'map': {
      const ea = sortedEntries(a);
      const eb = sortedEntries(b);
      return ea.length === eb.length && ea.every(([k, v], i) => deepEqual(k, eb[i]![0]) && deepEqual(v, eb[i]![1]));
    }
    case 'struct': {
      const sa = a as GoStruct;
      const sb = b as GoStruct;
      if (sa[structInfo].type !== sb[structInfo].type) return false;
      return sa[structInfo].fields.every((f) => deepEqual(sa[f], sb[f]));
    }
  }
  return false;
}
