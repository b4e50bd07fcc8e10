/**
 * Lexer for Go `text/template` syntax, following the states of Go's text/template/parse/lex.go so
 * that trim markers, comments and the `{{- ` / ` -}}` edge cases behave the same way.
 */

export type ItemType =
  | 'error'
  | 'eof'
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'leftParen'
  | 'rightParen'
  | 'space'
  | 'pipe'
  | 'assign'
  | 'declare'
  | 'char'
  | 'charConstant'
  | 'bool'
  | 'number'
  | 'string'
  | 'rawString'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'dot'
  | 'nil'
  | 'keyword';

export type Keyword = 'block' | 'break' | 'continue' | 'define' | 'else' | 'end' | 'if' | 'range' | 'template' | 'with';

const KEYWORDS: ReadonlySet<string> = new Set<Keyword>([
  'block',
  'break',
  'continue',
  'define',
  'else',
  'end',
  'if',
  'range',
  'template',
  'with',
]);

export interface Item {
  type: ItemType;
  /** Offset of the item in the template text. */
  pos: number;
  val: string;
  line: number;
}

const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';
const TRIM_MARKER_LEN = 2;

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlphaNumeric(c: string | undefined): boolean {
  return c !== undefined && c !== '' && (c === '_' || /^[\p{L}\p{Nd}]$/u.test(c));
}

function hasLeftTrimMarker(s: string, at: number): boolean {
  return s[at] === '-' && isSpace(s[at + 1]);
}

function hasRightTrimMarker(s: string, at: number): boolean {
  return isSpace(s[at]) && s[at + 1] === '-';
}

function leftTrimLength(s: string, from: number): number {
  let i = from;
  while (i < s.length && isSpace(s[i])) i++;
  return i - from;
}

function rightTrimLength(s: string, from: number, to: number): number {
  let i = to;
  while (i > from && isSpace(s[i - 1])) i--;
  return to - i;
}

/** Maps an offset to its line number (first line = `startLine`). */
export function lineIndex(input: string, startLine = 1): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < input.length; i++) if (input.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + startLine;
  };
}

/** Tokenises a whole template; the last item is `eof` or `error`. */
export function lex(input: string, startLine = 1): Item[] {
  const items: Item[] = [];
  const lineAt = lineIndex(input, startLine);
  let pos = 0;
  let start = 0;
  let parenDepth = 0;
  let lastWidth = 0;

  const push = (type: ItemType, at: number, val: string): void => {
    items.push({ type, pos: at, val, line: lineAt(at) });
  };
  const emit = (type: ItemType): void => {
    push(type, start, input.slice(start, pos));
    start = pos;
  };
  const ignore = (): void => {
    start = pos;
  };
  const next = (): string | undefined => {
    if (pos >= input.length) {
      lastWidth = 0;
      return undefined;
    }
    const ch = String.fromCodePoint(input.codePointAt(pos)!);
    pos += ch.length;
    lastWidth = ch.length;
    return ch;
  };
  const backup = (): void => {
    pos -= lastWidth;
    lastWidth = 0;
  };
  const peek = (): string | undefined => (pos < input.length ? String.fromCodePoint(input.codePointAt(pos)!) : undefined);
  const accept = (valid: string): boolean => {
    const c = peek();
    if (c !== undefined && valid.includes(c)) {
      next();
      return true;
    }
    return false;
  };
  const acceptRun = (valid: string): void => {
    for (let c = peek(); c !== undefined && valid.includes(c); c = peek()) next();
  };
  const errorf = (message: string): null => {
    push('error', start, message);
    return null;
  };
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (hasRightTrimMarker(input, pos) && input.startsWith(RIGHT_DELIM, pos + TRIM_MARKER_LEN)) {
      return { delim: true, trim: true };
    }
    if (input.startsWith(RIGHT_DELIM, pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  };
  const atTerminator = (): boolean => {
    const r = peek();
    if (r === undefined || isSpace(r)) return true;
    if ('.,|:)('.includes(r)) return true;
    return input.startsWith(RIGHT_DELIM, pos);
  };

  type State = (() => State) | null;

  const lexText = (): State => {
    const x = input.indexOf(LEFT_DELIM, pos);
    if (x >= 0) {
      if (x > pos) {
        pos = x;
        let trimLength = 0;
        const delimEnd = pos + LEFT_DELIM.length;
        if (hasLeftTrimMarker(input, delimEnd)) trimLength = rightTrimLength(input, start, pos);
        pos -= trimLength;
        const text = input.slice(start, pos);
        const at = start;
        pos += trimLength;
        ignore();
        if (text.length > 0) push('text', at, text);
      }
      return lexLeftDelim;
    }
    pos = input.length;
    if (pos > start) emit('text');
    push('eof', pos, '');
    return null;
  };

  const lexLeftDelim = (): State => {
    pos += LEFT_DELIM.length;
    const trimSpace = hasLeftTrimMarker(input, pos);
    const afterMarker = trimSpace ? TRIM_MARKER_LEN : 0;
    if (input.startsWith(LEFT_COMMENT, pos + afterMarker)) {
      pos += afterMarker;
      ignore();
      return lexComment;
    }
    emit('leftDelim');
    pos += afterMarker;
    ignore();
    parenDepth = 0;
    return lexInsideAction;
  };

  const lexComment = (): State => {
    pos += LEFT_COMMENT.length;
    const x = input.indexOf(RIGHT_COMMENT, pos);
    if (x < 0) return errorf('unclosed comment');
    pos = x + RIGHT_COMMENT.length;
    const { delim, trim } = atRightDelim();
    if (!delim) return errorf('comment ends before closing delimiter');
    if (trim) pos += TRIM_MARKER_LEN;
    pos += RIGHT_DELIM.length;
    if (trim) pos += leftTrimLength(input, pos);
    ignore();
    return lexText;
  };

  const lexRightDelim = (): State => {
    const { trim } = atRightDelim();
    if (trim) {
      pos += TRIM_MARKER_LEN;
      ignore();
    }
    pos += RIGHT_DELIM.length;
    emit('rightDelim');
    if (trim) {
      pos += leftTrimLength(input, pos);
      ignore();
    }
    return lexText;
  };

  const lexInsideAction = (): State => {
    const { delim } = atRightDelim();
    if (delim) {
      if (parenDepth === 0) return lexRightDelim;
      return errorf('unclosed left paren');
    }
    const r = next();
    if (r === undefined) return errorf('unclosed action');
    if (isSpace(r)) {
      backup();
      return lexSpace;
    }
    switch (r) {
      case '=':
        emit('assign');
        return lexInsideAction;
      case ':':
        if (next() !== '=') return errorf('expected :=');
        emit('declare');
        return lexInsideAction;
      case '|':
        emit('pipe');
        return lexInsideAction;
      case '"':
        return lexQuote;
      case '`':
        return lexRawQuote;
      case '$':
        return lexVariable;
      case "'":
        return lexChar;
      case '(':
        parenDepth++;
        emit('leftParen');
        return lexInsideAction;
      case ')':
        parenDepth--;
        if (parenDepth < 0) return errorf('unexpected right paren');
        emit('rightParen');
        return lexInsideAction;
    }
    if (r === '.') {
      const c = input[pos];
      if (pos < input.length && c !== undefined && (c < '0' || c > '9')) return lexField;
      backup();
      return lexNumber;
    }
    if (r === '+' || r === '-' || (r >= '0' && r <= '9')) {
      backup();
      return lexNumber;
    }
    if (isAlphaNumeric(r)) {
      backup();
      return lexIdentifier;
    }
    const cp = r.codePointAt(0)!;
    if (cp <= 0x7f && cp >= 0x20 && cp !== 0x7f) {
      emit('char');
      return lexInsideAction;
    }
    return errorf(`unrecognized character in action: ${describeRune(r)}`);
  };

  const lexSpace = (): State => {
    let numSpaces = 0;
    while (isSpace(peek())) {
      next();
      numSpaces++;
    }
    if (hasRightTrimMarker(input, pos - 1) && input.startsWith(RIGHT_DELIM, pos - 1 + TRIM_MARKER_LEN)) {
      pos -= 1;
      if (numSpaces === 1) return lexInsideAction;
    }
    emit('space');
    return lexInsideAction;
  };

  const lexIdentifier = (): State => {
    for (;;) {
      const r = next();
      if (isAlphaNumeric(r)) continue;
      backup();
      const word = input.slice(start, pos);
      if (!atTerminator()) return errorf(`bad character ${describeRune(peek() ?? '')}`);
      if (KEYWORDS.has(word)) emit('keyword');
      else if (word === 'nil') emit('nil');
      else if (word === 'true' || word === 'false') emit('bool');
      else emit('identifier');
      return lexInsideAction;
    }
  };

  const lexFieldOrVariable = (type: 'field' | 'variable'): State => {
    if (atTerminator()) {
      emit(type === 'variable' ? 'variable' : 'dot');
      return lexInsideAction;
    }
    for (;;) {
      const r = next();
      if (!isAlphaNumeric(r)) {
        backup();
        break;
      }
    }
    if (!atTerminator()) return errorf(`bad character ${describeRune(peek() ?? '')}`);
    emit(type);
    return lexInsideAction;
  };
  const lexField = (): State => lexFieldOrVariable('field');
  const lexVariable = (): State => lexFieldOrVariable('variable');

  const lexChar = (): State => {
    for (;;) {
      const r = next();
      if (r === '\\') {
        const n = next();
        if (n !== undefined && n !== '\n') continue;
        return errorf('unterminated character constant');
      }
      if (r === undefined || r === '\n') return errorf('unterminated character constant');
      if (r === "'") break;
    }
    emit('charConstant');
    return lexInsideAction;
  };

  const lexQuote = (): State => {
    for (;;) {
      const r = next();
      if (r === '\\') {
        const n = next();
        if (n !== undefined && n !== '\n') continue;
        return errorf('unterminated quoted string');
      }
      if (r === undefined || r === '\n') return errorf('unterminated quoted string');
      if (r === '"') break;
    }
    emit('string');
    return lexInsideAction;
  };

  const lexRawQuote = (): State => {
    for (;;) {
      const r = next();
      if (r === undefined) return errorf('unterminated raw quoted string');
      if (r === '`') break;
    }
    emit('rawString');
    return lexInsideAction;
  };

  const scanNumber = (): boolean => {
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    if (isAlphaNumeric(peek())) {
      next();
      return false;
    }
    return true;
  };

  const lexNumber = (): State => {
    if (!scanNumber()) return errorf(`bad number syntax: "${input.slice(start, pos)}"`);
    const sign = peek();
    if (sign === '+' || sign === '-') {
      // Complex constants (1+2i) are not supported by this engine.
      if (!scanNumber() || input[pos - 1] !== 'i') return errorf(`bad number syntax: "${input.slice(start, pos)}"`);
      return errorf(`complex numbers are not supported: "${input.slice(start, pos)}"`);
    }
    emit('number');
    return lexInsideAction;
  };

  let state: State = lexText;
  while (state !== null) state = state();
  return items;
}

function describeRune(r: string): string {
  if (r === '') return 'EOF';
  const cp = r.codePointAt(0)!;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return `U+${hex} '${r}'`;
}
