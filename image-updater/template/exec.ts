/**
 * Executes a parsed template against data, following Go's text/template/exec.go: the same
 * variable scoping, pipeline evaluation, argument checking, truth rules and printing.
 */
import type {
  ActionNode,
  ArgNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  ListNode,
  Node,
  PipeNode,
  RangeNode,
  TemplateNode,
  VariableNode,
} from './nodes.ts';
import { nodeString } from './nodes.ts';
import type { ParsedTemplate } from './parser.ts';
import { TemplateError, TemplateErrorCodes, position } from './errors.ts';
import { formatValue } from './fmt.ts';
import { GoFloat, kindOf, lengthOf, numberOf, sortedEntries, stringer, structInfo, truth, typeName } from './values.ts';
import type { GoStruct } from './values.ts';

/**
 * How a function parameter takes its argument, mirroring the Go parameter types that matter:
 * `value` is reflect.Value (builtins see missing values as such), `any` is interface{}
 * (a missing value becomes nil), the others must have that type (literals are checked at the
 * call, as Go does).
 */
export type ParamKind = 'value' | 'any' | 'string' | 'int' | 'bool' | 'map';

export interface TemplateFunc {
  readonly params: readonly ParamKind[];
  /** Type of the trailing `...` parameter, when the function is variadic. */
  readonly variadic?: ParamKind;
  /** Throwing is Go's non-nil error result: execution stops with "error calling NAME: ...". */
  readonly fn: (...args: never[]) => unknown;
}

export type FuncMap = ReadonlyMap<string, TemplateFunc>;

export interface ExecLimits {
  /** Output size in characters before execution stops. */
  maxOutput: number;
  /** Nodes evaluated before execution stops (bounds CPU for hostile templates). */
  maxSteps: number;
  /** Nesting of {{template}} calls. */
  maxDepth: number;
  /**
   * Total size (characters, elements, entries) of all function results. Steps alone do not
   * bound a loop that grows a list with `append` on every pass, which costs quadratic work.
   */
  maxWork: number;
}

export const DEFAULT_LIMITS: ExecLimits = {
  maxOutput: 1 << 20,
  maxSteps: 1_000_000,
  maxDepth: 1000,
  maxWork: 20_000_000,
};

/** The "no final argument" marker, distinct from a missing value (undefined). */
const MISSING: unique symbol = Symbol('missing');
type Final = unknown;

class ExecFailure extends Error {
  readonly node: { pos: number } | null;
  readonly context: string | undefined;
  constructor(node: { pos: number } | null, context: string | undefined, message: string) {
    super(message);
    this.node = node;
    this.context = context;
  }
}

class BreakSignal {}
class ContinueSignal {}

interface Variable {
  name: string;
  value: unknown;
}

export function execute(tmpl: ParsedTemplate, data: unknown, funcs: FuncMap, limits: ExecLimits = DEFAULT_LIMITS): string {
  const state = new State(tmpl, funcs, limits, data);
  try {
    state.walk(data, tmpl.root);
  } catch (err) {
    if (err instanceof ExecFailure) {
      const { line, col } = err.node ? position(tmpl.text, err.node.pos, tmpl.firstLine) : { line: tmpl.firstLine, col: 0 };
      throw new TemplateError(TemplateErrorCodes.failed, tmpl.name, line, col, err.message, err.context);
    }
    throw err;
  }
  return state.output();
}

function isNumberNode(n: ArgNode): n is Extract<ArgNode, { type: 'number' }> {
  return n.type === 'number';
}

function isHexInt(text: string): boolean {
  return text.length > 2 && text[0] === '0' && (text[1] === 'x' || text[1] === 'X') && !/[pP]/.test(text);
}

class State {
  private readonly chunks: string[] = [];
  private size = 0;
  private steps = 0;
  private work = 0;
  private depth = 0;
  private vars: Variable[];
  private node: { pos: number } | null = null;
  private readonly tmpl: ParsedTemplate;
  private readonly funcs: FuncMap;
  private readonly limits: ExecLimits;

  constructor(tmpl: ParsedTemplate, funcs: FuncMap, limits: ExecLimits, data: unknown) {
    this.tmpl = tmpl;
    this.funcs = funcs;
    this.limits = limits;
    this.vars = [{ name: '$', value: data }];
  }

  output(): string {
    return this.chunks.join('');
  }

  // --- errors and bookkeeping ---

  private at(node: { pos: number }): void {
    this.node = node;
  }

  private errorf(message: string): never {
    let context: string | undefined;
    if (this.node !== null && 'type' in this.node) {
      context = nodeString(this.node as Node | ArgNode | CommandNode);
      if (context.length > 20) context = `${context.slice(0, 20)}...`;
    }
    throw new ExecFailure(this.node, context, message);
  }

  private step(): void {
    if (++this.steps > this.limits.maxSteps) this.errorf(`template exceeded ${this.limits.maxSteps} evaluation steps`);
  }

  private charge(result: unknown): void {
    const size = typeof result === 'string' ? result.length : (lengthOf(result) ?? 1);
    this.work += size;
    if (this.work > this.limits.maxWork) this.errorf(`template function results exceed ${this.limits.maxWork} units of work`);
  }

  private write(s: string): void {
    this.size += s.length;
    if (this.size > this.limits.maxOutput) this.errorf(`output exceeds ${this.limits.maxOutput} characters`);
    this.chunks.push(s);
  }

  private mark(): number {
    return this.vars.length;
  }

  private pop(mark: number): void {
    this.vars.length = mark;
  }

  private push(name: string, value: unknown): void {
    this.vars.push({ name, value });
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: unknown): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // --- statements ---

  walk(dot: unknown, node: Node): void {
    this.step();
    this.at(node);
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
      case 'comment':
        return;
      case 'if':
      case 'with':
        this.walkIfOrWith(node.type, dot, node.pipe, node.list, node.elseList);
        return;
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'text':
        this.write(node.text);
        return;
    }
  }

  private walkIfOrWith(type: 'if' | 'with', dot: unknown, pipe: PipeNode, list: ListNode, elseList: ListNode | null): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, pipe);
      if (truth(val)) this.walk(type === 'with' ? val : dot, list);
      else if (elseList !== null) this.walk(dot, elseList);
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: unknown, r: RangeNode): void {
    this.at(r);
    const outer = this.mark();
    try {
      let val = this.evalPipeline(dot, r.pipe);
      if (val === null) val = undefined;
      const mark = this.mark();
      const decl = r.pipe.decl;
      const oneIteration = (index: unknown, elem: unknown): boolean => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, r.list);
        } catch (err) {
          if (err instanceof BreakSignal) return false;
          if (!(err instanceof ContinueSignal)) throw err;
        } finally {
          this.pop(mark);
        }
        return true;
      };
      const kind = kindOf(val);
      let ran = false;
      switch (kind) {
        case 'slice': {
          const items = val as unknown[];
          for (let i = 0; i < items.length; i++) {
            ran = true;
            if (!oneIteration(i, items[i])) break;
          }
          break;
        }
        case 'map':
          for (const [k, v] of sortedEntries(val)) {
            ran = true;
            if (!oneIteration(k, v)) break;
          }
          break;
        case 'int': {
          if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
          const n = numberOf(val);
          for (let i = 0; i < n; i++) {
            ran = true;
            if (!oneIteration(i, i)) break;
          }
          break;
        }
        case 'invalid':
          break;
        default:
          this.errorf(`range can't iterate over ${formatValue(val)}`);
      }
      if (!ran && r.elseList !== null) this.walk(dot, r.elseList);
    } finally {
      this.pop(outer);
    }
  }

  private walkTemplate(dot: unknown, t: TemplateNode): void {
    this.at(t);
    const body = this.tmpl.defs.get(t.name);
    if (body === undefined) this.errorf(`template "${t.name}" not defined`);
    if (this.depth >= this.limits.maxDepth) this.errorf(`exceeded maximum template depth (${this.limits.maxDepth})`);
    const newDot = t.pipe === null ? undefined : this.evalPipeline(dot, t.pipe);
    const savedVars = this.vars;
    this.vars = [{ name: '$', value: newDot }];
    this.depth++;
    try {
      this.walk(newDot, body);
    } finally {
      this.depth--;
      this.vars = savedVars;
    }
  }

  private printValue(n: ActionNode, v: unknown): void {
    this.at(n);
    if (v === undefined || v === null) {
      this.write('<no value>');
      return;
    }
    if (kindOf(v) === 'func') this.errorf(`can't print ${nodeString(n)} of type ${typeName(v)}`);
    this.write(formatValue(v));
  }

  // --- expressions ---

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.at(pipe);
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // A nil interface result is the invalid value, as in Go ("lovely!").
      if (value === null) value = undefined;
    }
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, value);
      else this.push(v.ident[0]!, value);
    }
    return value;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
    }
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    this.step();
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
  }

  private idealConstant(n: Extract<ArgNode, { type: 'number' }>): unknown {
    this.at(n);
    const isRune = n.text.startsWith("'");
    if (n.isFloat && !isHexInt(n.text) && !isRune && /[.eEpP]/.test(n.text)) return new GoFloat(n.float);
    if (n.isInt) return n.int;
    this.errorf(`${n.text} overflows int`);
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: readonly ArgNode[], final: Final): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: readonly ArgNode[], final: Final): unknown {
    this.at(chain);
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, 'any', chain.node, true);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: unknown, variable: VariableNode, args: readonly ArgNode[], final: Final): unknown {
    this.at(variable);
    const value = this.varValue(variable.ident[0]!);
    if (variable.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: unknown,
    receiver: unknown,
    node: ArgNode,
    ident: readonly string[],
    args: readonly ArgNode[],
    final: Final,
  ): unknown {
    let r = receiver;
    for (let i = 0; i < ident.length - 1; i++) r = this.evalField(dot, ident[i]!, node, [], MISSING, r);
    return this.evalField(dot, ident[ident.length - 1]!, node, args, final, r);
  }

  private evalField(dot: unknown, fieldName: string, node: ArgNode, args: readonly ArgNode[], final: Final, receiver: unknown): unknown {
    if (receiver === undefined) return undefined;
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    const kind = kindOf(receiver);
    if (kind === 'struct') {
      const s = receiver as GoStruct;
      const info = s[structInfo];
      if (info.fields.includes(fieldName) || (info.members ?? []).includes(fieldName)) {
        const value = s[fieldName];
        if (typeof value === 'function') {
          const method: TemplateFunc = { params: [], variadic: 'any', fn: value as (...a: never[]) => unknown };
          return this.evalCall(dot, method, false, node, fieldName, args, final);
        }
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        return value;
      }
    } else if (kind === 'map') {
      const stringKeyed = !(receiver instanceof Map) || receiver.size === 0 || typeof receiver.keys().next().value === 'string';
      if (stringKeyed) {
        if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
        if (receiver instanceof Map) return receiver.has(fieldName) ? receiver.get(fieldName) : undefined;
        const obj = receiver as Record<string, unknown>;
        return Object.hasOwn(obj, fieldName) ? obj[fieldName] : undefined;
      }
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typeName(receiver)}`);
  }

  private evalFunction(
    dot: unknown,
    node: IdentifierNode,
    cmd: CommandNode | IdentifierNode,
    args: readonly ArgNode[],
    final: Final,
  ): unknown {
    this.at(node);
    const fn = this.funcs.get(node.ident);
    if (fn === undefined) this.errorf(`"${node.ident}" is not a defined function`);
    return this.evalCall(dot, fn, true, cmd, node.ident, args, final);
  }

  private evalCall(
    dot: unknown,
    fun: TemplateFunc,
    isBuiltin: boolean,
    node: { pos: number },
    name: string,
    allArgs: readonly ArgNode[],
    final: Final,
  ): unknown {
    const args = allArgs.slice(1);
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    const fixed = fun.params.length;
    if (fun.variadic !== undefined) {
      if (numIn < fixed) this.errorf(`wrong number of args for ${name}: want at least ${fixed} got ${args.length}`);
    } else if (numIn !== fixed) {
      this.errorf(`wrong number of args for ${name}: want ${fixed} got ${numIn}`);
    }
    const paramAt = (i: number): ParamKind => (i < fixed ? fun.params[i]! : fun.variadic!);

    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: unknown;
      for (const arg of args) {
        v = this.evalArg(dot, 'value', arg);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = this.validateType(final, 'value');
      return v;
    }

    const argv: unknown[] = [];
    for (let i = 0; i < args.length; i++) argv.push(this.evalArg(dot, paramAt(i), args[i]!));
    if (final !== MISSING) argv.push(this.validateType(final, paramAt(numIn - 1)));

    try {
      const result = (fun.fn as (...a: unknown[]) => unknown)(...argv);
      this.charge(result);
      return result;
    } catch (err) {
      if (err instanceof ExecFailure || err instanceof BreakSignal || err instanceof ContinueSignal) throw err;
      this.at(node);
      const message = err instanceof Error ? err.message : String(err);
      this.errorf(`error calling ${name}: ${message}`);
    }
  }

  /** Checks a computed value against a parameter type (Go's validateType). */
  private validateType(value: unknown, kind: ParamKind): unknown {
    if (value === undefined || value === MISSING) {
      switch (kind) {
        case 'value':
          return undefined;
        case 'any':
        case 'map':
          return null;
        default:
          this.errorf(`invalid value; expected ${goParamType(kind)}`);
      }
    }
    const k = kindOf(value);
    switch (kind) {
      case 'value':
      case 'any':
        return value;
      case 'string':
        if (k === 'string') return value;
        // Leniency over Go: a value with a String() method converts, so `upper .` works on images.
        if (k === 'struct') {
          const str = (value as GoStruct)[stringer];
          if (str !== undefined) return str();
        }
        break;
      case 'int':
        if (k === 'int' && !(value instanceof GoFloat)) return typeof value === 'bigint' ? Number(value) : value;
        break;
      case 'bool':
        if (k === 'bool') return value;
        break;
      case 'map':
        if (k === 'map' || k === 'nil') return value;
        break;
    }
    this.errorf(`wrong type for value; expected ${goParamType(kind)}; got ${typeName(value)}`);
  }

  private evalArg(dot: unknown, kind: ParamKind, n: ArgNode, untyped = false): unknown {
    this.at(n);
    const check = (v: unknown): unknown => (untyped ? v : this.validateType(v, kind));
    switch (n.type) {
      case 'dot':
        return check(dot);
      case 'nil':
        if (untyped || kind === 'value') return undefined;
        if (kind === 'any' || kind === 'map') return null;
        this.errorf(`cannot assign nil to ${goParamType(kind)}`);
      case 'field':
        return check(this.evalFieldNode(dot, n, [n], MISSING));
      case 'variable':
        return check(this.evalVariableNode(dot, n, [], MISSING));
      case 'pipe':
        return check(this.evalPipeline(dot, n));
      case 'identifier':
        return check(this.evalFunction(dot, n, n, [n], MISSING));
      case 'chain':
        return check(this.evalChainNode(dot, n, [], MISSING));
    }
    if (untyped) kind = 'any';
    switch (kind) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        this.errorf(`expected bool; found ${nodeString(n)}`);
      case 'int':
        if (isNumberNode(n) && n.isInt) return Number(n.int);
        this.errorf(`expected integer; found ${nodeString(n)}`);
      case 'string':
        if (n.type === 'string') return n.text;
        this.errorf(`expected string; found ${nodeString(n)}`);
      case 'map':
        this.errorf(`can't handle ${nodeString(n)} for arg of type map[string]interface {}`);
      case 'value':
      case 'any':
        switch (n.type) {
          case 'bool':
            return n.value;
          case 'number':
            return this.idealConstant(n);
          case 'string':
            return n.text;
        }
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${goParamType(kind)}`);
  }
}

function goParamType(kind: ParamKind): string {
  switch (kind) {
    case 'value':
      return 'reflect.Value';
    case 'any':
      return 'interface {}';
    case 'string':
      return 'string';
    case 'int':
      return 'int';
    case 'bool':
      return 'bool';
    case 'map':
      return 'map[string]interface {}';
  }
}
