import { isTidemarkError, terminal, TidemarkError, type Reason } from '../errors/index.ts';

/** A checked, defaulted configuration, or every problem found (all terminal). */
export type Validated<T> = { ok: true; value: T } | { ok: false; errors: TidemarkError[] };

/**
 * Where the fields being read live: `spec.` for an object's own spec, `spec.imageRepository.`
 * for the inline block, whose fields are named a little differently (`rename`).
 */
export interface FieldPaths {
  prefix: string;
  rename?: (relative: string) => string;
}

export const SPEC_PATHS: FieldPaths = { prefix: 'spec.' };

/**
 * Collects problems so one pass reports all of them: a user fixing a spec should not have to
 * apply it once per mistake. Each problem is a terminal error whose message starts with the
 * field's full path: `spec.git.branch: must not start with "-"`.
 */
export class Problems {
  readonly errors: TidemarkError[] = [];
  private readonly paths: FieldPaths;
  private readonly code: Reason;

  /** `code`: the reason of a problem that names none (InvalidSpec unless given). */
  constructor(paths: FieldPaths = SPEC_PATHS, code: Reason = 'InvalidSpec') {
    this.paths = paths;
    this.code = code;
  }

  /** The same paths with another default reason, for a part of a spec whose problems share one. */
  withCode(code: Reason): Problems {
    return new Problems(this.paths, code);
  }

  path(relative: string): string {
    if (relative === '') return this.paths.prefix.replace(/\.$/, '');
    return `${this.paths.prefix}${this.paths.rename?.(relative) ?? relative}`;
  }

  add(relative: string, message: string, hint?: string, code: Reason = this.code): void {
    this.errors.push(terminal(code, `${this.path(relative)}: ${message}`, hint));
  }

  /** A check that throws a TidemarkError about the field at `relative`: its message and hint become the problem. */
  check<T>(relative: string, step: () => T, code?: Reason): T | undefined {
    try {
      return step();
    } catch (err) {
      if (!isTidemarkError(err)) throw err;
      this.add(relative, err.message, err.hint, code ?? err.code);
      return undefined;
    }
  }

  /**
   * Runs a compile step whose errors already name a field relative to the spec
   * (`filterTags.pattern`, `policy.semver.range`); the message gets the full path in front.
   */
  attempt<T>(step: () => T): T | undefined {
    try {
      return step();
    } catch (err) {
      if (!isTidemarkError(err)) throw err;
      this.errors.push(
        new TidemarkError(err.code, `${this.paths.prefix}${err.message}`, {
          kind: 'terminal',
          hint: err.hint,
          cause: err.cause,
        }),
      );
      return undefined;
    }
  }

  /** Runs a check whose error message already starts with the field's full path; the error becomes the problem. */
  adopt<T>(step: () => T): T | undefined {
    try {
      return step();
    } catch (err) {
      if (!isTidemarkError(err)) throw err;
      this.errors.push(err.kind === 'terminal' ? err : new TidemarkError(err.code, err.message, { kind: 'terminal', hint: err.hint }));
      return undefined;
    }
  }

  /** Takes over another reader's problems (already carrying their full paths). */
  merge(errors: readonly TidemarkError[]): void {
    this.errors.push(...errors);
  }

  result<T>(value: () => T): Validated<T> {
    return this.errors.length > 0 ? { ok: false, errors: this.errors } : { ok: true, value: value() };
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reports fields the schema does not know (a typo would otherwise be ignored silently). */
export function checkKnownFields(problems: Problems, prefix: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      problems.add(`${prefix}${key}`, 'unknown field', `known fields here: ${known.join(', ')}`);
    }
  }
}
