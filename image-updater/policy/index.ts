export type { Candidate, Policy, PolicyKind } from './types.ts';
export { compileDecideOptions, decide, type CompiledDecideOptions, type DecideOptions, type Decision } from './decide.ts';
export { ExclusionList, TagFilter } from './filter.ts';
export { createPolicy } from './policy.ts';
export { NumericalPolicy, compareDecimals, parseDecimal, type Decimal } from './numerical.ts';
export { SemverPolicy } from './semver.ts';
export { AlphabeticalPolicy } from './alphabetical.ts';
export { expandTemplate, parseTemplate, type TemplatePart } from './expand.ts';
export { compareBytes } from './byte-order.ts';
