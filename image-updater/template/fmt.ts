/**
 * Go's fmt package over the template value model: %v printing (what `{{.}}` and print output),
 * Sprint/Sprintln spacing rules, and Sprintf with verbs, flags, width and precision.
 */
import { isStruct, kindOf, numberOf, sortedEntries, stringer, structInfo, typeName } from './values.ts';
import type { GoStruct } from './values.ts';

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number | undefined;
  prec: number | undefined;
}

function noFlags(): Flags {
  return {
    plus: false,
    minus: false,
    sharp: false,
    space: false,
    zero: false,
    plusV: false,
    sharpV: false,
    wid: undefined,
    prec: undefined,
  };
}

/** fmt.Sprint: spaces go between operands when neither side is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += printArg(arg, 'v', noFlags());
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: operands always separated by spaces, newline appended. */
export function sprintln(args: readonly unknown[]): string {
  return args.map((a) => printArg(a, 'v', noFlags())).join(' ') + '\n';
}

/** fmt.Sprint of one value (%v). */
export function formatValue(v: unknown): string {
  return printArg(v, 'v', noFlags());
}

const runeCount = (s: string): number => [...s].length;

function pad(s: string, f: Flags): string {
  if (f.wid === undefined) return s;
  const n = f.wid - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (f.zero ? '0' : ' ').repeat(n) + s;
}

function printArg(arg: unknown, verb: string, f: Flags): string {
  if (arg === null || arg === undefined) {
    if (verb === 'T' || verb === 'v') return pad('<nil>', f);
    return badVerb(arg, verb);
  }
  if (verb === 'T') return pad(typeName(arg), f);
  switch (kindOf(arg)) {
    case 'bool':
      return fmtBool(arg as boolean, verb, f);
    case 'int':
      return fmtInteger(arg, verb, f);
    case 'float':
      return fmtFloatVerb(numberOf(arg), verb, f, arg);
    case 'string':
      return fmtString(arg as string, verb, f);
    default:
      return printValue(arg, verb, f, 0);
  }
}

function badVerb(arg: unknown, verb: string): string {
  if (arg === null || arg === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(arg)}=${printArg(arg, 'v', noFlags())})`;
}

function handleStringer(v: unknown, verb: string, f: Flags): string | undefined {
  if (f.sharpV) return undefined;
  if (!'vsxXq'.includes(verb)) return undefined;
  if (isStruct(v)) {
    const str = (v as GoStruct)[stringer];
    if (str) return fmtString(str(), verb, f);
  }
  return undefined;
}

function printValue(v: unknown, verb: string, f: Flags, depth: number): string {
  const viaMethod = handleStringer(v, verb, f);
  if (viaMethod !== undefined) return viaMethod;
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return depth === 0 ? '<invalid reflect.Value>' : pad('<nil>', f);
    case 'bool':
      return fmtBool(v as boolean, verb, f);
    case 'int':
      return fmtInteger(v, verb, f);
    case 'float':
      return fmtFloatVerb(numberOf(v), verb, f, v);
    case 'string':
      return fmtString(v as string, verb, f);
    case 'slice':
      return `[${(v as unknown[]).map((e) => printValue(e, verb, f, depth + 1)).join(' ')}]`;
    case 'map':
      return `map[${sortedEntries(v)
        .map(([k, val]) => `${printValue(k, verb, f, depth + 1)}:${printValue(val, verb, f, depth + 1)}`)
        .join(' ')}]`;
    case 'struct': {
      const s = v as GoStruct;
      return `{${s[structInfo].fields.map((name) => (f.plusV ? `${name}:` : '') + printValue(s[name], verb, f, depth + 1)).join(' ')}}`;
    }
    case 'func':
      return verb === 'v' ? pad('0x0', f) : badVerb(v, verb);
  }
}

function fmtBool(v: boolean, verb: string, f: Flags): string {
  if (verb === 't' || verb === 'v') return pad(v ? 'true' : 'false', f);
  return badVerb(v, verb);
}

// --- integers ---

function fmtInteger(v: unknown, verb: string, f: Flags): string {
  const n = typeof v === 'bigint' ? v : BigInt(Math.trunc(numberOf(v)));
  switch (verb) {
    case 'v':
    case 'd':
      return fmtInt(n, 10, verb, f, false);
    case 'b':
      return fmtInt(n, 2, verb, f, false);
    case 'o':
    case 'O':
      return fmtInt(n, 8, verb, f, false);
    case 'x':
      return fmtInt(n, 16, verb, f, false);
    case 'X':
      return fmtInt(n, 16, verb, f, true);
    case 'c':
      return pad(runeString(n), f);
    case 'q':
      return pad(quoteRune(n, f.plus), f);
    case 'U': {
      const hex = (n < 0n ? -n : n)
        .toString(16)
        .toUpperCase()
        .padStart(f.prec ?? 4, '0');
      let s = `U+${hex}`;
      if (f.sharp && n >= 0n && n <= 0x10ffffn && isPrint(Number(n))) s += ` '${String.fromCodePoint(Number(n))}'`;
      return pad(s, f);
    }
    default:
      return badVerb(v, verb);
  }
}

function fmtInt(n: bigint, base: number, verb: string, f: Flags, upper: boolean): string {
  const neg = n < 0n;
  let digits = (neg ? -n : n).toString(base);
  if (upper) digits = digits.toUpperCase();
  let prec = f.prec;
  if (prec !== undefined) {
    if (prec === 0 && n === 0n) digits = '';
  } else if (f.zero && f.wid !== undefined && !f.minus) {
    prec = f.wid;
    if (neg || f.plus || f.space) prec--;
  }
  if (prec !== undefined && digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
  let prefix = '';
  if (f.sharp) {
    if (base === 2) prefix = '0b';
    else if (base === 8 && !digits.startsWith('0')) prefix = '0';
    else if (base === 16) prefix = upper ? '0X' : '0x';
  }
  if (verb === 'O') prefix = '0o';
  const sign = neg ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  // Zero padding was folded into the precision above; pad the rest with spaces.
  return pad(sign + prefix + digits, { ...f, zero: false });
}

function runeString(n: bigint): string {
  if (n < 0n || n > 0x10ffffn || (n >= 0xd800n && n < 0xe000n)) return '\ufffd';
  return String.fromCodePoint(Number(n));
}

// --- floats ---

interface Digits {
  digits: string;
  dp: number;
  neg: boolean;
}

/** Shortest decimal digits that round-trip, like strconv with precision -1. */
function shortestDigits(v: number): Digits {
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  if (a === 0) return { digits: '0', dp: 1, neg };
  const [mant, exp] = a.toExponential().split('e') as [string, string];
  return { digits: mant.replace('.', ''), dp: Number(exp) + 1, neg };
}

/** The exact decimal expansion of a finite positive double: value = 0.digits × 10^dp. */
function exactDigits(a: number): Digits {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (expBits === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    dp = digits.length + e;
  }
  return { digits: digits.replace(/0+$/, '') || '0', dp, neg: false };
}

/**
 * Rounds to `nd` leading digits, ties to even, as strconv does on the exact value (JS's
 * toFixed/toExponential round ties up, so 2.25 → "2.3" where Go prints "2.2").
 */
function roundDigits(d: Digits, nd: number): Digits {
  if (nd < 0) return { digits: '0', dp: 1, neg: d.neg };
  if (d.digits.length <= nd) return d;
  const kept = d.digits.slice(0, nd);
  const rest = d.digits.slice(nd);
  let up: boolean;
  if (rest[0]! > '5') up = true;
  else if (rest[0]! < '5') up = false;
  else if (/[1-9]/.test(rest.slice(1))) up = true;
  else up = nd > 0 && Number(kept[nd - 1]) % 2 === 1;
  if (!up) {
    const t = kept.replace(/0+$/, '');
    return t === '' ? { digits: '0', dp: 1, neg: d.neg } : { digits: t, dp: d.dp, neg: d.neg };
  }
  const chars = kept.split('');
  let i = chars.length - 1;
  while (i >= 0 && chars[i] === '9') {
    chars[i] = '0';
    i--;
  }
  if (i < 0) return { digits: '1', dp: d.dp + 1, neg: d.neg };
  chars[i] = String(Number(chars[i]) + 1);
  return { digits: chars.join('').replace(/0+$/, ''), dp: d.dp, neg: d.neg };
}

/** Digits rounded to `n` significant figures, trailing zeros dropped. */
function precisionDigits(v: number, n: number): Digits {
  const a = Math.abs(v);
  if (a === 0) return { digits: '0', dp: 1, neg: false };
  return roundDigits(exactDigits(a), n);
}

function fixedFromDigits(d: Digits, decimals: number): string {
  let intPart: string;
  let frac: string;
  if (d.dp <= 0) {
    intPart = '0';
    frac = '0'.repeat(-d.dp) + d.digits;
  } else if (d.dp >= d.digits.length) {
    intPart = d.digits + '0'.repeat(d.dp - d.digits.length);
    frac = '';
  } else {
    intPart = d.digits.slice(0, d.dp);
    frac = d.digits.slice(d.dp);
  }
  frac = frac.slice(0, decimals).padEnd(decimals, '0');
  return decimals > 0 ? `${intPart}.${frac}` : intPart;
}

function expFromDigits(d: Digits, decimals: number, e: string): string {
  const first = d.digits[0] ?? '0';
  const rest = d.digits.slice(1).padEnd(decimals, '0').slice(0, decimals);
  const exp = d.digits === '0' ? 0 : d.dp - 1;
  const expStr = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return `${first}${decimals > 0 ? '.' + rest : ''}${e}${expStr}`;
}

/** strconv.FormatFloat(v, fmt, prec, 64) for fmt in e, E, f, g, G. */
export function formatFloat(v: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const sign = neg ? '-' : '';
  const a = Math.abs(v);
  if (fmt === 'f') {
    if (prec < 0) {
      const d = shortestDigits(a);
      return sign + fixedFromDigits(d, Math.max(d.digits.length - d.dp, 0));
    }
    if (a === 0) return sign + fixedFromDigits({ digits: '0', dp: 1, neg }, prec);
    const exact = exactDigits(a);
    return sign + fixedFromDigits(roundDigits(exact, exact.dp + prec), prec);
  }
  if (fmt === 'e' || fmt === 'E') {
    if (prec < 0) {
      const d = shortestDigits(a);
      return sign + expFromDigits(d, d.digits.length - 1, fmt);
    }
    return sign + expFromDigits(precisionDigits(a, prec + 1), prec, fmt);
  }
  const shortest = prec < 0;
  let p = prec === 0 ? 1 : prec;
  const d = shortest ? shortestDigits(a) : precisionDigits(a, p);
  if (shortest) p = 6;
  let eprec = p;
  if (!shortest && eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
  if (shortest) eprec = 6;
  const exp = d.dp - 1;
  const e = fmt === 'g' ? 'e' : 'E';
  if (exp < -4 || exp >= eprec) {
    let pp = shortest ? d.digits.length : p;
    if (pp > d.digits.length) pp = d.digits.length;
    return sign + expFromDigits(d, pp - 1, e);
  }
  let pp = shortest ? d.digits.length : p;
  if (pp > d.dp) pp = d.digits.length;
  return sign + fixedFromDigits(d, Math.max(pp - d.dp, 0));
}

function fmtFloatVerb(v: number, verb: string, f: Flags, original: unknown): string {
  let fmt: 'e' | 'E' | 'f' | 'g' | 'G';
  let prec: number;
  switch (verb) {
    case 'v':
      fmt = 'g';
      prec = -1;
      break;
    case 'g':
    case 'G':
      fmt = verb;
      prec = -1;
      break;
    case 'f':
    case 'F':
      fmt = 'f';
      prec = 6;
      break;
    case 'e':
    case 'E':
      fmt = verb;
      prec = 6;
      break;
    default:
      return badVerb(original, verb);
  }
  if (f.prec !== undefined) prec = f.prec;
  let num = formatFloat(v, fmt, prec);
  if (num === '+Inf' || num === '-Inf' || num === 'NaN') {
    if (num === '+Inf' && !f.plus) num = f.space ? ' Inf' : 'Inf';
    return pad(num, { ...f, zero: false });
  }
  let sign = '';
  if (num.startsWith('-')) {
    sign = '-';
    num = num.slice(1);
  } else if (f.plus) sign = '+';
  else if (f.space) sign = ' ';
  if (f.zero && !f.minus && f.wid !== undefined && f.wid > sign.length + num.length) {
    return sign + '0'.repeat(f.wid - sign.length - num.length) + num;
  }
  return pad(sign + num, f);
}

// --- strings ---

function truncate(s: string, f: Flags): string {
  if (f.prec === undefined) return s;
  return [...s].slice(0, f.prec).join('');
}

function fmtString(s: string, verb: string, f: Flags): string {
  switch (verb) {
    case 'v':
      return f.sharpV ? pad(quoteString(truncate(s, f), false), f) : pad(truncate(s, f), f);
    case 's':
      return pad(truncate(s, f), f);
    case 'q': {
      const t = truncate(s, f);
      if (f.sharp && !/[`\x00-\x08\x0a-\x1f\x7f\ufeff]/.test(t)) return pad('`' + t + '`', f);
      return pad(quoteString(t, f.plus), f);
    }
    case 'x':
    case 'X': {
      let bytes = [...Buffer.from(s, 'utf8')];
      if (f.prec !== undefined) bytes = bytes.slice(0, f.prec);
      const prefix = f.sharp ? (verb === 'x' ? '0x' : '0X') : '';
      const hex = bytes.map((b) => {
        const h = b.toString(16).padStart(2, '0');
        return verb === 'X' ? h.toUpperCase() : h;
      });
      const out = f.space ? hex.map((h) => prefix + h).join(' ') : prefix + hex.join('');
      return pad(out, f);
    }
    default:
      return badVerb(s, verb);
  }
}

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(cp));
}

function escapeRune(cp: number, quote: number, asciiOnly: boolean): string {
  if (cp === quote || cp === 0x5c) return '\\' + String.fromCodePoint(cp);
  if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) return String.fromCodePoint(cp);
  switch (cp) {
    case 7:
      return '\\a';
    case 8:
      return '\\b';
    case 12:
      return '\\f';
    case 10:
      return '\\n';
    case 13:
      return '\\r';
    case 9:
      return '\\t';
    case 11:
      return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + cp.toString(16).padStart(2, '0');
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** strconv.Quote (or QuoteToASCII). */
export function quoteString(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0)!, 0x22, asciiOnly);
  return out + '"';
}

function quoteRune(n: bigint, asciiOnly: boolean): string {
  const cp = n < 0n || n > 0x10ffffn || (n >= 0xd800n && n < 0xe000n) ? 0xfffd : Number(n);
  return `'${escapeRune(cp, 0x27, asciiOnly)}'`;
}

// --- Sprintf ---

/** Go's parsenum: a crazy long number (over 10^6) is dropped along with the rest of the format. */
function parseNum(format: string, i: number): { num: number | undefined; next: number } {
  let j = i;
  let num = 0;
  while (j < format.length && format[j]! >= '0' && format[j]! <= '9') {
    if (num > 1e6) return { num: undefined, next: format.length };
    num = num * 10 + Number(format[j]);
    j++;
  }
  if (j === i) return { num: undefined, next: i };
  return { num, next: j };
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  const end = format.length;
  let i = 0;
  while (i < end) {
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) out += format.slice(lasti, i);
    if (i >= end) break;
    i++;
    const f = noFlags();
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#':
          f.sharp = true;
          break;
        case '0':
          f.zero = !f.minus;
          break;
        case '+':
          f.plus = true;
          break;
        case '-':
          f.minus = true;
          f.zero = false;
          break;
        case ' ':
          f.space = true;
          break;
        default:
          break flags;
      }
    }
    let goodArgNum = true;
    let afterIndex = false;
    const argNumber = (): void => {
      if (i >= end || format[i] !== '[') return;
      reordered = true;
      const close = format.indexOf(']', i);
      if (close < 0) {
        goodArgNum = false;
        i += 1;
        return;
      }
      const inner = format.slice(i + 1, close);
      const idx = /^[0-9]+$/.test(inner) ? Number(inner) - 1 : -1;
      i = close + 1;
      if (idx >= 0 && idx < args.length) {
        argNum = idx;
        afterIndex = true;
      } else {
        goodArgNum = false;
      }
    };
    const intFromArg = (): number | undefined => {
      const a = args[argNum];
      argNum++;
      if (kindOf(a) !== 'int') return undefined;
      const n = numberOf(a);
      return Math.abs(n) > 1e6 ? undefined : n;
    };
    argNumber();
    if (i < end && format[i] === '*') {
      i++;
      const w = intFromArg();
      if (w === undefined) out += '%!(BADWIDTH)';
      else if (w < 0) {
        f.wid = -w;
        f.minus = true;
        f.zero = false;
      } else f.wid = w;
      afterIndex = false;
    } else {
      const { num, next } = parseNum(format, i);
      if (afterIndex && num !== undefined) goodArgNum = false;
      f.wid = num;
      i = next;
    }
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      argNumber();
      if (i < end && format[i] === '*') {
        i++;
        const p = intFromArg();
        if (p === undefined) out += '%!(BADPREC)';
        f.prec = p === undefined || p < 0 ? undefined : p;
        afterIndex = false;
      } else {
        const { num, next } = parseNum(format, i);
        f.prec = num ?? 0;
        i = next;
      }
    }
    if (!afterIndex) argNumber();
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    if (verb === 'v') {
      f.sharpV = f.sharp;
      f.sharp = false;
      f.plusV = f.plus;
      f.plus = false;
    }
    out += printArg(args[argNum], verb, f);
    argNum++;
  }
  if (!reordered && argNum < args.length) {
    out +=
      '%!(EXTRA ' +
      args
        .slice(argNum)
        .map((a) => (a === null || a === undefined ? '<nil>' : `${typeName(a)}=${printArg(a, 'v', noFlags())}`))
        .join(', ') +
      ')';
  }
  return out;
}
