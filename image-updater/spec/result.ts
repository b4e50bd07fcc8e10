import { isTidemarkError, terminal, TidemarkError, type Reason } from '../../shared/errors/index.ts';

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

/**
 * Collects problems so one pass reports all of them: a user fixing a spec should not have to
 * apply it once per mistake.
 */
export class Problems {
  readonly errors: TidemarkError[] = [];
  private readonly paths: FieldPaths;

  constructor(paths: FieldPaths) {
    this.paths = paths;
  }

  path(relative: string): string {
    if (relative === '') return this.paths.prefix.replace(/\.$/, '');
    return `${this.paths.prefix}${this.paths.rename?.(relative) ?? relative}`;
  }

  add(relative: string, message: string, hint?: string, code: Reason = 'InvalidSpec'): void {
    this.errors.push(terminal(code, `${this.path(relative)}: ${message}`, hint));
  }

  /**
   * Runs a compile step whose errors already name a field relative to the policy spec
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
