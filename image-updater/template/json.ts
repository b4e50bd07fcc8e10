/** Go's encoding/json Marshal/MarshalIndent over the template value model. */
import { formatFloat } from './fmt.ts';
import { jsonForm, kindOf, numberOf, sortedEntries, structInfo } from './values.ts';
import type { GoStruct } from './values.ts';

export interface MarshalOptions {
  /** Go escapes <, > and & as \u003c... unless SetEscapeHTML(false) (Sprig's toRawJson). */
  escapeHTML: boolean;
  indent?: string;
}

function encodeString(s: string, escapeHTML: boolean): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (cp < 0x20) {
      switch (ch) {
        case '\n':
          out += '\\n';
          break;
        case '\r':
          out += '\\r';
          break;
        case '\t':
          out += '\\t';
          break;
        case '\b':
          out += '\\b';
          break;
        case '\f':
          out += '\\f';
          break;
        default:
          out += '\\u00' + cp.toString(16).padStart(2, '0');
      }
    } else if (escapeHTML && (ch === '<' || ch === '>' || ch === '&')) {
      out += '\\u00' + cp.toString(16).padStart(2, '0');
    } else if (cp === 0x2028 || cp === 0x2029) {
      out += '\\u' + cp.toString(16);
    } else if (cp >= 0xd800 && cp < 0xe000) {
      out += '\\ufffd';
    } else {
      out += ch;
    }
  }
  return out + '"';
}

function encodeFloat(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`json: unsupported value: ${formatFloat(v, 'g', -1)}`);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    return formatFloat(v, 'e', -1).replace(/e([+-])0(\d)$/, 'e$1$2');
  }
  return formatFloat(v, 'f', -1);
}

/** json.Marshal; throws on what Go refuses (functions, NaN, maps with non-string keys). */
export function marshal(v: unknown, options: MarshalOptions, depth = 0): string {
  if (depth > 1000) throw new Error('json: unsupported value: encountered a cycle');
  const indent = options.indent;
  const nl = (d: number): string => (indent === undefined ? '' : '\n' + indent.repeat(d));
  const sep = indent === undefined ? ':' : ': ';
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return 'null';
    case 'bool':
      return v ? 'true' : 'false';
    case 'int':
      return typeof v === 'bigint' ? v.toString() : String(Math.trunc(numberOf(v)));
    case 'float':
      return encodeFloat(numberOf(v));
    case 'string':
      return encodeString(v as string, options.escapeHTML);
    case 'func':
      throw new Error('json: unsupported type: func()');
    case 'slice': {
      const items = v as unknown[];
      if (items.length === 0) return '[]';
      return '[' + items.map((x) => nl(depth + 1) + marshal(x, options, depth + 1)).join(',') + nl(depth) + ']';
    }
    case 'map': {
      const entries = sortedEntries(v);
      for (const [k] of entries) {
        const kk = kindOf(k);
        if (kk !== 'string' && kk !== 'int') throw new Error('json: unsupported type: map with non-string keys');
      }
      if (entries.length === 0) return '{}';
      const parts = entries
        .map(([k, x]) => [String(k), x] as const)
        .sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])))
        .map(([k, x]) => nl(depth + 1) + encodeString(k, options.escapeHTML) + sep + marshal(x, options, depth + 1));
      return '{' + parts.join(',') + nl(depth) + '}';
    }
    case 'struct': {
      const s = v as GoStruct;
      const custom = s[jsonForm];
      if (custom !== undefined) return marshal(custom(), options, depth);
      const fields = s[structInfo].fields;
      if (fields.length === 0) return '{}';
      return (
        '{' +
        fields.map((f) => nl(depth + 1) + encodeString(f, options.escapeHTML) + sep + marshal(s[f], options, depth + 1)).join(',') +
        nl(depth) +
        '}'
      );
    }
  }
}
