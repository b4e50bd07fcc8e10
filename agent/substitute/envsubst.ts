import { terminal } from '../../shared/errors/index.ts';

/**
 * Flux's post-build substitution language (fluxcd/pkg/envsubst, a fork of drone/envsubst): only
 * the braced form `${name}` is a variable (a bare `$name` stays as written), `$$` is a literal
 * `$` (so `$${name}` renders `${name}`), and a name matches `^[_a-zA-Z][_a-zA-Z0-9]*$`.
 *
 * Supported operators, with drone/envsubst's meaning:
 * `${v:-d}` / `${v:=d}` (d when v is unset or empty), `${v-d}` / `${v=d}` (d when v is unset),
 * `${#v}` (length), `${v^^}` `${v,,}` `${v^}` `${v,}` (case), `${v:offset}` `${v:offset:length}`.
 * A default may itself hold `${…}`. Any other operator is refused rather than guessed at.
 */

export const VARIABLE_NAME = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

/** The value of a variable, or undefined when it is not set. */
export type Lookup = (name: string) => string | undefined;

export interface SubstituteOptions {
  /** Strict (the default): a variable that is not set and has no default is an error. */
  strict: boolean;
}

/** Thrown for one text; the caller adds which object it was. */
export class SubstitutionProblem extends Error {
  readonly variable: string | undefined;

  constructor(message: string, variable?: string) {
    super(message);
    this.variable = variable;
  }
}

/** Substitutes every `${…}` of `text`; throws a SubstitutionProblem on a missing variable or a bad expression. */
export function substitute(text: string, lookup: Lookup, options: SubstituteOptions): string {
  const parser = new Parser(text, lookup, options);
  return parser.run();
}

class Parser {
  private pos = 0;
  private readonly text: string;
  private readonly lookup: Lookup;
  private readonly options: SubstituteOptions;

  constructor(text: string, lookup: Lookup, options: SubstituteOptions) {
    this.text = text;
    this.lookup = lookup;
    this.options = options;
  }

  run(): string {
    const out = this.until(undefined);
    return out;
  }

  /** Reads text until `stop` (a default's closing brace) or the end. */
  private until(stop: '}' | undefined): string {
    let out = '';
    const { text } = this;
    while (this.pos < text.length) {
      const ch = text[this.pos];
      if (stop !== undefined && ch === stop) return out;
      if (ch !== '$') {
        const next = this.nextSpecial(stop);
        out += text.slice(this.pos, next);
        this.pos = next;
        continue;
      }
      const after = text[this.pos + 1];
      if (after === '$') {
        out += '$';
        this.pos += 2;
      } else if (after === '{') {
        this.pos += 2;
        out += this.expression();
      } else {
        out += '$';
        this.pos += 1;
      }
    }
    if (stop !== undefined) throw new SubstitutionProblem('unterminated ${ (a "}" is missing)');
    return out;
  }

  private nextSpecial(stop: '}' | undefined): number {
    let i = this.pos;
    while (i < this.text.length && this.text[i] !== '$' && (stop === undefined || this.text[i] !== stop)) i++;
    return i;
  }

  /** After `${`: the name, an optional operator, and the closing brace. */
  private expression(): string {
    const { text } = this;
    const length = text[this.pos] === '#';
    if (length) this.pos++;
    const start = this.pos;
    while (this.pos < text.length && /[_a-zA-Z0-9]/.test(text[this.pos] as string)) this.pos++;
    const name = text.slice(start, this.pos);
    if (!VARIABLE_NAME.test(name)) {
      throw new SubstitutionProblem(
        `bad substitution at ${JSON.stringify(excerpt(text, start - 2))}: a variable name must match ${VARIABLE_NAME.source}`,
      );
    }
    const value = this.lookup(name);
    if (length) {
      this.expect('}');
      return String([...this.required(name, value)].length);
    }
    const rest = text.slice(this.pos);
    const op = /^(:-|:=|-|=|\^\^|,,|\^|,|:|\})/.exec(rest)?.[0];
    if (op === undefined) {
      throw new SubstitutionProblem(`bad substitution at ${JSON.stringify(excerpt(text, start - 2))}: unsupported expression`);
    }
    this.pos += op.length;
    switch (op) {
      case '}':
        return this.required(name, value);
      case ':-':
      case ':=':
      case '-':
      case '=': {
        // The default is read (and substituted) either way, as drone/envsubst does.
        const fallback = this.until('}');
        this.expect('}');
        const useDefault = value === undefined || (op.startsWith(':') && value === '');
        return useDefault ? fallback : value;
      }
      case '^^':
      case ',,':
      case '^':
      case ',': {
        this.expect('}');
        const v = this.required(name, value);
        if (op === '^^') return v.toUpperCase();
        if (op === ',,') return v.toLowerCase();
        const first = v.slice(0, 1);
        return (op === '^' ? first.toUpperCase() : first.toLowerCase()) + v.slice(1);
      }
      default:
        return this.substring(name, value, start);
    }
  }

  /** `${v:offset}` and `${v:offset:length}`, with drone/envsubst's clamping. */
  private substring(name: string, value: string | undefined, start: number): string {
    const match = /^(-?\d+)(?::(\d+))?\}/.exec(this.text.slice(this.pos));
    if (!match)
      throw new SubstitutionProblem(`bad substitution at ${JSON.stringify(excerpt(this.text, start - 2))}: unsupported expression`);
    this.pos += match[0].length;
    const v = this.required(name, value);
    let offset = Number(match[1]);
    if (offset < 0) offset = Math.max(0, v.length + offset);
    offset = Math.min(offset, v.length);
    const end = match[2] === undefined ? v.length : Math.min(v.length, offset + Number(match[2]));
    return v.slice(offset, end);
  }

  private required(name: string, value: string | undefined): string {
    if (value !== undefined) return value;
    if (this.options.strict) throw new SubstitutionProblem(`variable not set (strict mode): ${JSON.stringify(name)}`, name);
    return '';
  }

  private expect(ch: string): void {
    if (this.text[this.pos] !== ch) throw new SubstitutionProblem(`bad substitution: ${JSON.stringify(ch)} expected`);
    this.pos++;
  }
}

function excerpt(text: string, from: number): string {
  const start = Math.max(0, from);
  const end = text.indexOf('}', start);
  return text.slice(start, end === -1 ? Math.min(text.length, start + 40) : Math.min(end + 1, start + 40));
}

/** A terminal SubstitutionFailed for one object. */
export function substitutionError(what: string, problem: SubstitutionProblem) {
  const v = problem.variable;
  const hint =
    v !== undefined
      ? `set ${v} in spec.postBuild.substitute or a substituteFrom source, give it a default (\${${v}:=value}), ` +
        `escape it as $\${${v}}, or annotate the object kustomize.toolkit.fluxcd.io/substitute: disabled`
      : 'fix the expression, or escape a literal ${ as $${';
  return terminal('SubstitutionFailed', `${what}: ${problem.message}`, hint);
}
