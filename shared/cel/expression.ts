import { CelScalar, celEnv, celFunc, isCelError, isCelList, isCelMap, parse, plan } from '@bufbuild/cel';
import type { CelEnv, CelFunc, CelInput, CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { LruMap } from '../cache/lru.ts';
import { isTidemarkError, terminal, TidemarkError } from '../errors/index.ts';
import { extensionFuncs } from './extensions.ts';

/**
 * The longest expression accepted. Flux sets none; ours keeps one user's spec from costing every
 * reconcile a megabyte parse (the CRD repeats it as maxLength).
 */
export const MAX_EXPRESSION_LENGTH = 4096;

/**
 * Loop iterations one evaluation may spend, over all its comprehensions (`all`, `exists`, `map`,
 * `filter`, …) together. CEL has no unbounded loops, but nested comprehensions over a large list
 * multiply: without a budget, one expression over a big object could hold the event loop for
 * minutes. Flux bounds the same risk by interrupting at its timeout; the library we use has no
 * interrupt, so the budget is counted instead (deterministic, and the same on every machine).
 */
export const DEFAULT_MAX_ITERATIONS = 10_000;

export type CelOutcome<T> = { ok: true; value: T } | { ok: false; message: string };

export interface EvaluateOptions {
  /** Loop iterations allowed (DEFAULT_MAX_ITERATIONS unless given). */
  maxIterations?: number;
}

interface Meter {
  left: number;
  exhausted: boolean;
}

type ParsedExpr = ReturnType<typeof parse>['expr'];

/** Name of the function wrapped around every comprehension's loop condition to charge the budget. */
const TICK = '@tidemark_tick';

class BudgetExceeded extends Error {}

/**
 * Variables converted for CEL once, for evaluating several expressions over one object (a health
 * check runs up to three) without converting a large object each time.
 */
export class CelBindings {
  /** The converted values, by variable name; read by CelExpression only. */
  readonly input: Readonly<Record<string, CelInput>>;

  /**
   * Plain JSON, each key one variable. JSON integers are CEL `int`, other numbers `double`, objects
   * `map`, arrays `list` — how Kubernetes' unstructured decoding hands an object to cel-go in Flux.
   */
  constructor(values: Readonly<Record<string, unknown>>) {
    const input: Record<string, CelInput> = {};
    for (const [name, value] of Object.entries(values)) input[name] = toCel(value);
    this.input = input;
  }
}

/**
 * A CEL expression parsed and planned once, to be evaluated as often as needed over plain JSON.
 * Built by compileCel; a bad expression never gets this far.
 */
export class CelExpression {
  readonly source: string;
  private readonly program: (bindings: Record<string, CelInput>) => unknown;
  private readonly meter: Meter;
  /** Names the expression reads that only a binding can supply, for saying which one was missing. */
  private readonly variables: readonly string[];

  constructor(source: string, program: (bindings: Record<string, CelInput>) => unknown, meter: Meter, variables: readonly string[]) {
    this.source = source;
    this.program = program;
    this.meter = meter;
    this.variables = variables;
  }

  /**
   * Evaluates over plain JSON bindings (each key is one variable; see CelBindings). Never throws:
   * a failed evaluation (a missing field, a type mismatch, the budget spent) is `{ok: false, message}`.
   */
  evaluate(bindings: Readonly<Record<string, unknown>> | CelBindings, options: EvaluateOptions = {}): CelOutcome<CelValue> {
    const limit = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
    const { input } = bindings instanceof CelBindings ? bindings : new CelBindings(bindings);
    // Evaluation is synchronous: the meter is this evaluation's alone until it returns.
    this.meter.left = limit;
    this.meter.exhausted = false;
    let value: unknown;
    try {
      value = this.program({ ...input });
    } catch (err) {
      if (!(err instanceof BudgetExceeded)) throw err;
    }
    // Checked before the value: a spent budget may still have yielded one.
    if (this.meter.exhausted) return { ok: false, message: `evaluation stopped after ${limit} loop iterations` };
    if (isCelError(value)) {
      // The library's word for an unbound name names none; the missing variable is what helps.
      const missing = value.message === 'unresolved attribute' ? this.variables.filter((v) => !Object.hasOwn(input, v)) : [];
      return { ok: false, message: missing.length > 0 ? `no such key: ${missing.join(', ')}` : value.message };
    }
    return { ok: true, value: value as CelValue };
  }

  /** As evaluate, for an expression that must yield a bool (Flux: "failed to evaluate CEL expression as boolean"). */
  evaluateBoolean(bindings: Readonly<Record<string, unknown>> | CelBindings, options: EvaluateOptions = {}): CelOutcome<boolean> {
    const outcome = this.evaluate(bindings, options);
    if (!outcome.ok) return outcome;
    if (typeof outcome.value !== 'boolean') return { ok: false, message: `evaluated to ${describeValue(outcome.value)}, not a bool` };
    return { ok: true, value: outcome.value };
  }
}

/**
 * Parses and plans a CEL expression. A bad expression is a terminal InvalidCELExpression error
 * whose message says where and why, for a spec reader to put under the field's path.
 *
 * The environment is CEL's standard library plus what Flux's (fluxcd/pkg runtime/cel) adds: the
 * strings extension, `sets.*` and `base64.*`. Variables are not declared: whatever is bound at
 * evaluation is in scope, and an unbound name is an evaluation error, as in Flux (which parses
 * without type-checking because custom resources do not share one schema).
 */
export function compileCel(source: string): CelExpression {
  const hit = compiled.get(source);
  if (hit instanceof TidemarkError) throw hit;
  if (hit) return hit;
  let outcome: CelExpression | TidemarkError;
  try {
    outcome = compileUncached(source);
  } catch (err) {
    if (!isTidemarkError(err)) throw err;
    outcome = err;
  }
  remember(source, outcome);
  if (outcome instanceof TidemarkError) throw outcome;
  return outcome;
}

/**
 * Source characters whose compiled forms are kept, about 80 bytes of heap each (some 20 MiB). Specs
 * are read on every reconcile and a 4 KiB expression takes tens of milliseconds to parse: without
 * the cache a tenant's expressions would cost that on every run. A compiled expression holds no
 * state between evaluations, so deployments with the same text share one.
 */
export const MAX_CACHED_SOURCE_CHARS = 256 * 1024;
let cachedChars = 0;
const compiled = new LruMap<string, CelExpression | TidemarkError>(16_384, (_outcome, source) => {
  cachedChars -= source.length;
});

function remember(source: string, outcome: CelExpression | TidemarkError): void {
  compiled.set(source, outcome);
  cachedChars += source.length;
  for (const oldest of compiled.keys()) {
    if (cachedChars <= MAX_CACHED_SOURCE_CHARS || oldest === source) break;
    compiled.delete(oldest);
    cachedChars -= oldest.length;
  }
}

function compileUncached(source: string): CelExpression {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw terminal('InvalidCELExpression', `is ${source.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed`);
  }
  if (source.trim() === '') throw terminal('InvalidCELExpression', 'must not be empty');
  let parsed: ParsedExpr;
  try {
    parsed = parse(source).expr;
  } catch (err) {
    throw terminal('InvalidCELExpression', `invalid CEL expression: ${parseMessage(err)}`, parseHint(source));
  }
  const meter: Meter = { left: 0, exhausted: false };
  const names: Names = { read: new Set(), local: new Set() };
  try {
    const program = plan(environment(meter), chargeLoops(parsed, names));
    const variables = [...names.read].filter((n) => !names.local.has(n) && !NOT_VARIABLES.has(n));
    return new CelExpression(source, program, meter, variables);
  } catch (err) {
    // The planner refuses some shapes the grammar admits.
    throw terminal('InvalidCELExpression', `invalid CEL expression: ${parseMessage(err)}`);
  }
}

function environment(meter: Meter): CelEnv {
  const tick: CelFunc = celFunc(TICK, [CelScalar.DYN], CelScalar.DYN, (condition) => {
    meter.left -= 1;
    if (meter.left < 0) {
      // The library turns a throw into an error value, which `||` and `&&` may absorb: the flag is what counts.
      meter.exhausted = true;
      throw new BudgetExceeded();
    }
    return condition;
  });
  return celEnv({ funcs: [...strings, ...extensionFuncs, tick] });
}

/** Identifiers an expression reads, and the comprehension variables among them. */
interface Names {
  read: Set<string>;
  local: Set<string>;
}

/**
 * Every comprehension evaluates its loop condition once per iteration: wrapping it in TICK
 * charges each iteration of every loop, nested ones included, without touching the library.
 */
function chargeLoops(expr: ParsedExpr, names: Names): ParsedExpr {
  const recurse = (e: ParsedExpr) => chargeLoops(e, names);
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'identExpr':
      names.read.add(kind.value.name);
      break;
    case 'callExpr':
      if (kind.value.target) recurse(kind.value.target);
      kind.value.args.forEach(recurse);
      break;
    case 'selectExpr':
      if (kind.value.operand) recurse(kind.value.operand);
      break;
    case 'listExpr':
      kind.value.elements.forEach(recurse);
      break;
    case 'structExpr':
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === 'mapKey') recurse(entry.keyKind.value);
        if (entry.value) recurse(entry.value);
      }
      break;
    case 'comprehensionExpr': {
      const c = kind.value;
      names.local.add(c.iterVar).add(c.accuVar);
      for (const part of [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result]) if (part) recurse(part);
      if (c.loopCondition) {
        const condition = c.loopCondition;
        c.loopCondition = {
          ...condition,
          exprKind: { case: 'callExpr', value: { $typeName: 'cel.expr.Expr.Call', function: TICK, args: [condition] } },
        };
      }
      break;
    }
    default:
      break;
  }
  return expr;
}

/** Type names (`type(x) == int`) and function namespaces (`sets.contains`): identifiers that are never bindings. */
const NOT_VARIABLES = new Set([
  'bool',
  'bytes',
  'double',
  'dyn',
  'int',
  'list',
  'map',
  'null_type',
  'string',
  'type',
  'uint',
  'sets',
  'base64',
]);

/** Plain JSON to CEL input: whole numbers become `int` (bigint), objects become maps. */
function toCel(value: unknown): CelInput {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'object') {
    // A Map, not the object itself: keys such as "__proto__" stay ordinary keys.
    const map = new Map<string, CelInput>();
    for (const [key, entry] of Object.entries(value)) map.set(key, toCel(entry));
    return map;
  }
  // undefined, functions, symbols: not JSON; CEL null is the closest honest reading.
  return null;
}

function describeValue(value: CelValue): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return `the int ${value}`;
  if (typeof value === 'number') return `the double ${value}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (isCelList(value)) return 'a list';
  if (isCelMap(value)) return 'a map';
  return `a value of another type`;
}

function parseMessage(err: unknown): string {
  // The parser is recursive: a few hundred nested parentheses or brackets exhaust the stack.
  if (err instanceof RangeError) return 'nested too deeply';
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^<input>:/, '');
}

/** The one common construct cel-go parses that this library does not: optional field selection. */
function parseHint(source: string): string | undefined {
  if (/\.\?|\[\?/.test(source)) {
    return 'optional selection (x.?field, x[?key]) is not supported; test the field with has(x.field) first';
  }
  return undefined;
}
