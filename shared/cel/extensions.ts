import { CelScalar, celEnv, celFunc, listType, parse, plan } from '@bufbuild/cel';
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

export const extensionFuncs: CelFunc[] = [
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
