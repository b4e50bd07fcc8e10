import { CelScalar, celEnv, celFunc, celMethod, listType, parse, plan } from '@bufbuild/cel';
import type { CelFunc, CelList, CelValue } from '@bufbuild/cel';

/**
 * The parts of cel-go's `ext.Sets()` and `ext.Encoders()` that Flux's environment adds and this
 * library lacks. Element equality is CEL's own `==` (1 == 1.0, maps and lists by content), taken
 * from a planned `a == b` rather than written again.
 */
const equalsProgram = plan(celEnv(), parse('a == b'));

function celEquals(a: CelValue, b: CelValue): boolean {
  return equalsProgram({ a, b }) === true;
}

function containsAll(list: CelList, sublist: CelList): boolean {
  const items = [...list];
  for (const wanted of sublist) if (!items.some((item) => celEquals(item, wanted))) return false;
  return true;
}

const DYN_LIST = listType(CelScalar.DYN);
const { INT, STRING } = CelScalar;

/**
 * The longest string `replace` and `join` may build. The library's `replace` rebuilds the whole
 * string once per occurrence (a megabyte annotation with a million matches is 10^12 steps) and
 * neither function bounds its result; ours are linear and refuse to build more than this.
 */
export const MAX_STRING_LENGTH = 4 * 1024 * 1024;

function tooLong(what: string, length: number): Error {
  return new Error(`${what}: the result would be ${length} characters, more than ${MAX_STRING_LENGTH}`);
}

/**
 * cel-go's `replace` (Go's strings.Replace): `n` < 0 or absent replaces all; an empty `old`
 * matches before each code point and at the end.
 */
function replace(s: string, old: string, rep: string, n: bigint | undefined): string {
  const limit = n === undefined || n < 0n ? Infinity : Number(n);
  const parts: string[] = [];
  let length = 0;
  let count = 0;
  const add = (part: string) => {
    length += part.length;
    if (length > MAX_STRING_LENGTH) throw tooLong('replace', length);
    parts.push(part);
  };
  if (old === '') {
    const points = Array.from(s);
    for (let i = 0; i <= points.length; i++) {
      if (count < limit) {
        add(rep);
        count++;
      }
      if (i < points.length) add(points[i] as string);
    }
    return parts.join('');
  }
  let from = 0;
  for (let at = s.indexOf(old); at !== -1 && count < limit; at = s.indexOf(old, from)) {
    add(s.slice(from, at));
    add(rep);
    from = at + old.length;
    count++;
  }
  add(s.slice(from));
  return parts.join('');
}

function join(list: CelList, separator: string): string {
  const parts: string[] = [];
  let length = 0;
  for (const item of list) {
    if (typeof item !== 'string') throw new Error('join: list contains non-string value');
    length += item.length + (parts.length > 0 ? separator.length : 0);
    if (length > MAX_STRING_LENGTH) throw tooLong('join', length);
    parts.push(item);
  }
  return parts.join(separator);
}

export const extensionFuncs: CelFunc[] = [
  // Same signatures as the strings extension's: these replace its overloads.
  celMethod('replace', STRING, [STRING, STRING], STRING, function (old, rep) {
    return replace(this, old, rep, undefined);
  }),
  celMethod('replace', STRING, [STRING, STRING, INT], STRING, function (old, rep, n) {
    return replace(this, old, rep, n);
  }),
  celMethod('join', DYN_LIST, [], STRING, function () {
    return join(this, '');
  }),
  celMethod('join', DYN_LIST, [STRING], STRING, function (separator) {
    return join(this, separator);
  }),
  // cel-go's strings extension (version 3, which Flux's environment gets) has it; this library does not.
  celMethod('reverse', STRING, [], STRING, function () {
    return Array.from(this).reverse().join('');
  }),
  celFunc('sets.contains', [DYN_LIST, DYN_LIST], CelScalar.BOOL, (list, sublist) => containsAll(list, sublist)),
  celFunc('sets.equivalent', [DYN_LIST, DYN_LIST], CelScalar.BOOL, (a, b) => containsAll(a, b) && containsAll(b, a)),
  celFunc('sets.intersects', [DYN_LIST, DYN_LIST], CelScalar.BOOL, (a, b) => {
    const items = [...a];
    for (const other of b) if (items.some((item) => celEquals(item, other))) return true;
    return false;
  }),
  celFunc('base64.encode', [CelScalar.BYTES], CelScalar.STRING, (bytes) => Buffer.from(bytes).toString('base64')),
  celFunc('base64.decode', [CelScalar.STRING], CelScalar.BYTES, (text) => {
    // cel-go accepts padded and unpadded standard base64; anything else is an error, not garbage.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new Error('base64.decode: illegal base64 data');
    return new Uint8Array(Buffer.from(text, 'base64'));
  }),
];
