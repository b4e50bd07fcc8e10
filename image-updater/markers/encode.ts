/** Writing a new value into an existing scalar while keeping the user's quoting style. */
import { isScalar, parseDocument } from 'yaml';
import type { ScalarStyle } from './types.ts';

/** Characters YAML does not allow raw in a scalar, or that would end a line. */
// eslint-disable-next-line no-control-regex -- matching control characters is this regex's job
const NON_PRINTABLE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]/u;

/** A YAML double-quoted scalar (the escapes are YAML's, which JSON's are a subset of). */
export function doubleQuoted(value: string): string {
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp === 0x2028 || cp === 0x2029 || cp === 0xfeff || (cp >= 0xd800 && cp <= 0xdfff)) {
      out += '\\u' + cp.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

export function singleQuoted(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Whether `value` can be written as a plain scalar and still read back as exactly that string
 * under both YAML 1.1 (go-yaml v2, older tools: `yes`, `1:20`, dates) and YAML 1.2 (numbers,
 * booleans, null), in block or flow context.
 */
export function isSafePlain(value: string, flow: boolean): boolean {
  const key = `${flow ? 'f' : 'b'}${value}`;
  const known = safePlainMemo.get(key);
  if (known !== undefined) return known;
  const safe = checkSafePlain(value, flow);
  // An update run writes the same few new values into many files; each check parses YAML twice.
  if (safePlainMemo.size >= SAFE_PLAIN_MEMO_SIZE) safePlainMemo.clear();
  safePlainMemo.set(key, safe);
  return safe;
}

const SAFE_PLAIN_MEMO_SIZE = 4096;
const safePlainMemo = new Map<string, boolean>();

function checkSafePlain(value: string, flow: boolean): boolean {
  if (value === '' || value !== value.trim() || NON_PRINTABLE.test(value) || value.includes('\t')) return false;
  if (flow && /[,[\]{}]/.test(value)) return false;
  for (const version of ['1.1', '1.2'] as const) {
    const doc = parseDocument(value, { version });
    if (doc.errors.length > 0 || doc.warnings.length > 0) return false;
    const c = doc.contents;
    if (!isScalar(c) || c.type !== 'PLAIN' || c.value !== value) return false;
    if (doc.commentBefore || doc.comment || c.comment || c.commentBefore) return false;
  }
  return true;
}

/**
 * The source text for `value` in a scalar of `style`. Plain stays plain unless the value would
 * read as something other than that string (e.g. a tag `1.10`), in which case it is written
 * double-quoted, as Flux does; quoted styles stay quoted and are escaped for their style.
 */
export function encodeScalar(value: string, style: ScalarStyle, flow: boolean): string {
  switch (style) {
    case 'PLAIN':
      return isSafePlain(value, flow) ? value : doubleQuoted(value);
    case 'QUOTE_SINGLE':
      return NON_PRINTABLE.test(value) ? doubleQuoted(value) : singleQuoted(value);
    case 'QUOTE_DOUBLE':
      return doubleQuoted(value);
  }
}
