/**
 * Parser for Go `text/template`, a port of the recursive descent in Go's text/template/parse so
 * that the same templates are accepted and rejected, with the same messages where it matters.
 */
import { lex } from './lexer.ts';
import type { Item } from './lexer.ts';
import type { ArgNode, CommandNode, ListNode, Node, NumberNode, PipeNode, StringNode, TemplateNode, VariableNode } from './nodes.ts';
import { TemplateError, TemplateErrorCodes, position } from './errors.ts';

export interface ParsedTemplate {
  name: string;
  text: string;
  /** Line number of the first line of `text`, for error positions. */
  firstLine: number;
  root: ListNode;
  /** Templates named by `define` or `block`. */
  defs: Map<string, ListNode>;
}

export interface ParseOptions {
  name?: string;
  /** Names of the functions the template may call; an unknown name is a parse error, as in Go. */
  funcs: ReadonlySet<string>;
  firstLine?: number;
}

interface EndMarker {
  type: 'end';
  pos: number;
}
interface ElseMarker {
  type: 'else';
  pos: number;
}
type ParsedItem = Node | EndMarker | ElseMarker;

class ParseFailure extends Error {
  readonly pos: number;
  constructor(pos: number, message: string) {
    super(message);
    this.pos = pos;
  }
}

export function parseTemplate(text: string, options: ParseOptions): ParsedTemplate {
  const name = options.name ?? 'template';
  const firstLine = options.firstLine ?? 1;
  const parser = new Parser(text, options.funcs, firstLine);
  try {
    const root = parser.parse();
    return { name, text, firstLine, root, defs: parser.defs };
  } catch (err) {
    if (err instanceof ParseFailure) {
      const { line, col } = position(text, err.pos, firstLine);
      throw new TemplateError(TemplateErrorCodes.invalid, name, line, col, err.message);
    }
    throw err;
  }
}

function itemString(i: Item): string {
  if (i.type === 'eof') return 'EOF';
  if (i.type === 'error') return i.val;
  if (i.type === 'keyword' || i.type === 'nil' || i.type === 'dot') return `<${i.val}>`;
  if ([...i.val].length > 10) return `${goQuote([...i.val].slice(0, 10).join(''))}...`;
  return goQuote(i.val);
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

class Parser {
  readonly defs = new Map<string, ListNode>();
  private readonly items: Item[];
  private index = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private actionLine = 0;
  private readonly funcs: ReadonlySet<string>;

  constructor(text: string, funcs: ReadonlySet<string>, firstLine: number) {
    this.items = lex(text, firstLine);
    this.funcs = funcs;
  }

  parse(): ListNode {
    const root: ListNode = { type: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const save = this.index;
        this.next();
        const kw = this.nextNonSpace();
        if (kw.type === 'keyword' && kw.val === 'define') {
          this.parseDefinition();
          continue;
        }
        this.index = save;
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.fail(n.pos, `unexpected {{${n.type}}}`);
      root.nodes.push(n);
    }
    return root;
  }

  // --- token stream ---

  private next(): Item {
    const item = this.items[this.index] ?? this.items[this.items.length - 1]!;
    if (this.index < this.items.length - 1) this.index++;
    else this.index = this.items.length;
    return item;
  }

  private backup(): void {
    this.index--;
  }

  private peek(): Item {
    return this.items[Math.min(this.index, this.items.length - 1)]!;
  }

  private nextNonSpace(): Item {
    let token = this.next();
    while (token.type === 'space') token = this.next();
    return token;
  }

  private peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  private fail(pos: number, message: string): never {
    throw new ParseFailure(pos, message);
  }

  private unexpected(token: Item, context: string): never {
    if (token.type === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at line ${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.fail(token.pos, `${token.val}${extra}`);
    }
    this.fail(token.pos, `unexpected ${itemString(token)} in ${context}`);
  }

  private expect(type: Item['type'], context: string): Item {
    const token = this.nextNonSpace();
    if (token.type !== type) this.unexpected(token, context);
    return token;
  }

  // --- structure ---

  private parseDefinition(): void {
    const context = 'define clause';
    const token = this.nextNonSpace();
    if (token.type !== 'string' && token.type !== 'rawString') this.unexpected(token, context);
    const name = this.unquoteToken(token);
    this.expect('rightDelim', context);
    const outerVars = this.vars;
    this.vars = ['$'];
    const { list, next } = this.itemList();
    this.vars = outerVars;
    if (next.type !== 'end') this.fail(next.pos, `unexpected {{${next.type}}} in ${context}`);
    this.defs.set(name, list);
  }

  private itemList(): { list: ListNode; next: EndMarker | ElseMarker } {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return { list, next: n };
      list.nodes.push(n);
    }
    this.fail(this.peek().pos, 'unexpected EOF');
  }

  private textOrAction(): ParsedItem {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'text':
        return { type: 'text', pos: token.pos, text: token.val };
      case 'leftDelim': {
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      default:
        this.unexpected(token, 'input');
    }
  }

  private action(): ParsedItem {
    const token = this.nextNonSpace();
    if (token.type === 'keyword') {
      switch (token.val) {
        case 'block':
          return this.blockControl();
        case 'break':
          return this.breakControl(token);
        case 'continue':
          return this.continueControl(token);
        case 'else':
          return this.elseControl();
        case 'end':
          return this.endControl();
        case 'if':
          return this.control('if');
        case 'range':
          return this.control('range');
        case 'template':
          return this.templateControl();
        case 'with':
          return this.control('with');
      }
    }
    this.backup();
    const start = this.peek();
    return { type: 'action', pos: start.pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private breakControl(token: Item): Node {
    const t = this.nextNonSpace();
    if (t.type !== 'rightDelim') this.unexpected(t, '{{break}}');
    if (this.rangeDepth === 0) this.fail(token.pos, '{{break}} outside {{range}}');
    return { type: 'break', pos: token.pos };
  }

  private continueControl(token: Item): Node {
    const t = this.nextNonSpace();
    if (t.type !== 'rightDelim') this.unexpected(t, '{{continue}}');
    if (this.rangeDepth === 0) this.fail(token.pos, '{{continue}} outside {{range}}');
    return { type: 'continue', pos: token.pos };
  }

  private endControl(): EndMarker {
    return { type: 'end', pos: this.expect('rightDelim', 'end').pos };
  }

  private elseControl(): ElseMarker {
    const peek = this.peekNonSpace();
    if (peek.type === 'keyword' && (peek.val === 'if' || peek.val === 'with')) {
      return { type: 'else', pos: peek.pos };
    }
    return { type: 'else', pos: this.expect('rightDelim', 'else').pos };
  }

  private control(context: 'if' | 'range' | 'with'): Node {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, 'rightDelim');
      if (context === 'range') this.rangeDepth++;
      let parsed: { list: ListNode; next: EndMarker | ElseMarker };
      try {
        parsed = this.itemList();
      } finally {
        if (context === 'range') this.rangeDepth--;
      }
      const { list, next } = parsed;
      let elseList: ListNode | null = null;
      if (next.type === 'else') {
        const peek = this.peek();
        if (context === 'if' && peek.type === 'keyword' && peek.val === 'if') {
          this.next();
          elseList = { type: 'list', pos: next.pos, nodes: [this.control('if')] };
        } else if (context === 'with' && peek.type === 'keyword' && peek.val === 'with') {
          this.next();
          elseList = { type: 'list', pos: next.pos, nodes: [this.control('with')] };
        } else {
          const rest = this.itemList();
          if (rest.next.type !== 'end') this.fail(rest.next.pos, 'expected end; found {{else}}');
          elseList = rest.list;
        }
      }
      return { type: context, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  private parseTemplateName(token: Item, context: string): string {
    if (token.type === 'string' || token.type === 'rawString') return this.unquoteToken(token);
    this.unexpected(token, context);
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { type: 'template', pos: token.pos, name, pipe };
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, 'rightDelim');
    const outerVars = this.vars;
    const outerDepth = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    const { list, next } = this.itemList();
    this.vars = outerVars;
    this.rangeDepth = outerDepth;
    if (next.type !== 'end') this.fail(next.pos, `unexpected {{${next.type}}} in ${context}`);
    this.defs.set(name, list);
    return { type: 'template', pos: token.pos, name, pipe };
  }

  // --- pipelines ---

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: first.pos, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const save = this.index;
      this.nextNonSpace();
      const next = this.peekNonSpace();
      if (next.type === 'assign' || next.type === 'declare') {
        pipe.isAssign = next.type === 'assign';
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        break;
      }
      if (next.type === 'char' && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace();
          if (p.type === 'variable' || p.type === 'rightDelim' || p.type === 'rightParen') continue;
          this.fail(p.pos, 'range can only initialize variables');
        }
        this.fail(next.pos, `too many declarations in ${context}`);
      }
      this.index = save;
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      if (token.type === end) {
        this.checkPipeline(pipe, context, token);
        return pipe;
      }
      switch (token.type) {
        case 'bool':
        case 'charConstant':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string, endToken: Item): void {
    if (pipe.cmds.length === 0) this.fail(endToken.pos, `missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const first = c.args[0]!;
      if (['bool', 'dot', 'nil', 'number', 'string'].includes(first.type)) {
        this.fail(first.pos, `non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== null) cmd.args.push(operand);
      const token = this.next();
      if (token.type === 'space') continue;
      if (token.type === 'rightDelim' || token.type === 'rightParen') this.backup();
      else if (token.type !== 'pipe') this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.fail(cmd.pos, 'empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (node === null) return null;
    if (this.peek().type !== 'field') return node;
    const chainPos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    // Go positions a field chain at its second field (the chain node's position); errors
    // report that column, so it is kept.
    switch (node.type) {
      case 'field':
        return { type: 'field', pos: chainPos, ident: [...node.ident, ...fields] };
      case 'variable':
        return { type: 'variable', pos: chainPos, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.fail(chainPos, `unexpected . after term "${nodeText(node)}"`);
      default:
        return { type: 'chain', pos: chainPos, node, field: fields };
    }
  }

  private term(): ArgNode | null {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'identifier':
        if (!this.funcs.has(token.val)) this.fail(token.pos, `function "${token.val}" not defined`);
        return { type: 'identifier', pos: token.pos, ident: token.val };
      case 'dot':
        return { type: 'dot', pos: token.pos };
      case 'nil':
        return { type: 'nil', pos: token.pos };
      case 'variable':
        return this.useVar(token.pos, token.val);
      case 'field':
        return { type: 'field', pos: token.pos, ident: token.val.slice(1).split('.') };
      case 'bool':
        return { type: 'bool', pos: token.pos, value: token.val === 'true' };
      case 'charConstant':
      case 'number':
        return this.newNumber(token);
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
      case 'rawString': {
        const node: StringNode = { type: 'string', pos: token.pos, quoted: token.val, text: this.unquoteToken(token) };
        return node;
      }
    }
    this.backup();
    return null;
  }

  private newVariable(pos: number, name: string): VariableNode {
    return { type: 'variable', pos, ident: name.split('.') };
  }

  private useVar(pos: number, name: string): VariableNode {
    const v = this.newVariable(pos, name);
    if (!this.vars.includes(v.ident[0]!)) this.fail(pos, `undefined variable "${v.ident[0]}"`);
    return v;
  }

  private unquoteToken(token: Item): string {
    const result = token.type === 'rawString' ? token.val.slice(1, -1).replace(/\r/g, '') : unquoteGo(token.val);
    if (result === null) this.fail(token.pos, 'invalid syntax');
    return result;
  }

  private newNumber(token: Item): NumberNode {
    const node: NumberNode = {
      type: 'number',
      pos: token.pos,
      text: token.val,
      isInt: false,
      isFloat: false,
      int: 0,
      float: 0,
    };
    if (token.type === 'charConstant') {
      const r = unquoteChar(token.val);
      if (r === null) this.fail(token.pos, `malformed character constant: ${token.val}`);
      node.isInt = true;
      node.isFloat = true;
      node.int = r;
      node.float = r;
      return node;
    }
    const text = token.val;
    if (text.endsWith('i')) this.fail(token.pos, `complex numbers are not supported: "${text}"`);
    const i = parseGoInt(text);
    if (i !== null && i <= 0xffffffffffffffffn && i >= -0x8000000000000000n) {
      // Beyond int64 (but within uint64) Go fails only when the constant is used as an int.
      node.isInt = i <= 0x7fffffffffffffffn;
      node.int = Number.isSafeInteger(Number(i)) ? Number(i) : i;
      node.isFloat = true;
      node.float = Number(i);
      return node;
    }
    const f = parseGoFloat(text);
    if (f === null || !Number.isFinite(f)) this.fail(token.pos, `illegal number syntax: "${text}"`);
    if (!/[.eEpP]/.test(text)) this.fail(token.pos, `integer overflow: "${text}"`);
    node.isFloat = true;
    node.float = f;
    if (Number.isInteger(f) && Math.abs(f) <= 2 ** 63) {
      node.isInt = true;
      node.int = f;
    }
    return node;
  }
}

function nodeText(node: ArgNode): string {
  switch (node.type) {
    case 'bool':
      return String(node.value);
    case 'string':
      return node.quoted;
    case 'number':
      return node.text;
    case 'nil':
      return 'nil';
    default:
      return '.';
  }
}

/** Go's strconv.ParseInt(text, 0, 64) syntax, with arbitrary size; null when not an integer. */
export function parseGoInt(text: string): bigint | null {
  let s = text;
  let neg = false;
  if (s.startsWith('+') || s.startsWith('-')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let base = 10;
  let prefixed = false;
  if (/^0[xX]/.test(s)) {
    base = 16;
    s = s.slice(2);
    prefixed = true;
  } else if (/^0[oO]/.test(s)) {
    base = 8;
    s = s.slice(2);
    prefixed = true;
  } else if (/^0[bB]/.test(s)) {
    base = 2;
    s = s.slice(2);
    prefixed = true;
  } else if (/^0[0-7_]/.test(s)) {
    base = 8;
    s = s.slice(1);
    prefixed = true;
  }
  const digit = base === 16 ? '[0-9a-fA-F]' : base === 8 ? '[0-7]' : base === 2 ? '[01]' : '[0-9]';
  const pattern = prefixed ? new RegExp(`^_?${digit}+(_${digit}+)*$`) : new RegExp(`^${digit}+(_${digit}+)*$`);
  if (!pattern.test(s)) return null;
  const clean = s.replace(/_/g, '');
  let v = 0n;
  for (const c of clean) v = v * BigInt(base) + BigInt(parseInt(c, base));
  return neg ? -v : v;
}

/** Go's strconv.ParseFloat(text, 64) for decimal and hexadecimal literals; null when invalid. */
export function parseGoFloat(text: string): number | null {
  const dec = /^[+-]?(?:[0-9](?:_?[0-9])*)?(?:\.(?:[0-9](?:_?[0-9])*)?)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?$/;
  if (dec.test(text) && /[0-9]/.test(text.replace(/[eE].*$/, ''))) {
    return Number(text.replace(/_/g, ''));
  }
  const hex = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9_]+)$/.exec(text);
  if (hex) {
    const intPart = (hex[2] ?? '').replace(/_/g, '');
    const fracPart = (hex[3] ?? '').replace(/_/g, '');
    if (intPart === '' && fracPart === '') return null;
    let mant = 0;
    for (const c of intPart) mant = mant * 16 + parseInt(c, 16);
    let scale = 1 / 16;
    for (const c of fracPart) {
      mant += parseInt(c, 16) * scale;
      scale /= 16;
    }
    const v = mant * 2 ** Number((hex[4] ?? '0').replace(/_/g, ''));
    return hex[1] === '-' ? -v : v;
  }
  return null;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  '\\': 92,
};

/**
 * Reads one escape sequence starting after the backslash at `s[i]`; returns the code point or
 * byte and the index after it. Bytes (\x, octal) are marked so UTF-8 can be reassembled.
 */
function readEscape(s: string, i: number, quote: string): { value: number; byte: boolean; next: number } | null {
  const c = s[i];
  if (c === undefined) return null;
  if (c in SIMPLE_ESCAPES) return { value: SIMPLE_ESCAPES[c]!, byte: false, next: i + 1 };
  if (c === quote) return { value: c.charCodeAt(0), byte: false, next: i + 1 };
  if (c === 'x') {
    const h = s.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
    return { value: parseInt(h, 16), byte: true, next: i + 3 };
  }
  if (c === 'u' || c === 'U') {
    const n = c === 'u' ? 4 : 8;
    const h = s.slice(i + 1, i + 1 + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) return null;
    const v = parseInt(h, 16);
    if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return null;
    return { value: v, byte: false, next: i + 1 + n };
  }
  if (c >= '0' && c <= '7') {
    const o = s.slice(i, i + 3);
    if (!/^[0-7]{3}$/.test(o)) return null;
    const v = parseInt(o, 8);
    if (v > 255) return null;
    return { value: v, byte: true, next: i + 3 };
  }
  return null;
}

/** Go's strconv.Unquote for an interpreted string literal ("..."); null on invalid syntax. */
export function unquoteGo(quoted: string): string | null {
  if (quoted.length < 2 || quoted[0] !== '"' || quoted[quoted.length - 1] !== '"') return null;
  const body = quoted.slice(1, -1);
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < body.length;) {
    const c = body[i]!;
    if (c === '"' || c === '\n') return null;
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of encoder.encode(ch)) bytes.push(b);
      i += ch.length;
      continue;
    }
    const esc = readEscape(body, i + 1, '"');
    if (esc === null) return null;
    if (esc.byte) bytes.push(esc.value);
    else for (const b of encoder.encode(String.fromCodePoint(esc.value))) bytes.push(b);
    i = esc.next;
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** A character constant ('a', '\n', '\u00e9'); returns its code point or null. */
export function unquoteChar(quoted: string): number | null {
  if (quoted.length < 3 || quoted[0] !== "'" || quoted[quoted.length - 1] !== "'") return null;
  const body = quoted.slice(1, -1);
  if (body[0] === '\\') {
    const esc = readEscape(body, 1, "'");
    if (esc === null || esc.next !== body.length) return null;
    return esc.value;
  }
  const cp = body.codePointAt(0)!;
  if (String.fromCodePoint(cp).length !== body.length || cp === 0x27) return null;
  return cp;
}
