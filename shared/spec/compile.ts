import { DEFAULT_EXCLUSION_LIST, type TagFilterSpec } from '../api/image.ts';

/** What a program builds from the compilable parts of the image specs. */
export interface CompiledForms {
  exclusionList: unknown;
  filterTags: unknown;
  policy: unknown;
}

/**
 * Compilers handed in by the program that runs the image specs: shared/ checks the shape of a
 * spec, the image updater owns regular expressions, extract templates and policies. Each throws a
 * terminal TidemarkError whose message names the field relative to the spec
 * (`filterTags.pattern "..." is not a valid RE2 pattern`); the reader reports it with the other
 * problems, so a spec is still judged in one pass.
 */
export interface ImageCompilers<C extends CompiledForms> {
  /** `undefined`: the default list (`^.*\.sig$`). */
  exclusionList(patterns: readonly string[] | undefined): C['exclusionList'];
  filterTags(spec: TagFilterSpec | undefined): C['filterTags'];
  /** `spec.policy`, an object; the compiler checks which kind it names and its settings. */
  policy(choice: Record<string, unknown>): C['policy'];
}

/** The values as written (checked for shape only). */
export interface PlainForms {
  exclusionList: readonly string[];
  filterTags: TagFilterSpec;
  policy: Record<string, unknown>;
}

/** Compiles nothing: for tools and tests that only need the shape of a spec checked. */
export const plainCompilers: ImageCompilers<PlainForms> = {
  exclusionList: (patterns) => patterns ?? DEFAULT_EXCLUSION_LIST,
  filterTags: (spec) => spec ?? {},
  policy: (choice) => choice,
};
