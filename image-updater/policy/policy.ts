import type { ImagePolicyChoice } from '../../shared/api/image.ts';
import { AlphabeticalPolicy } from './alphabetical.ts';
import { NumericalPolicy } from './numerical.ts';
import { invalidPolicy } from './order.ts';
import { SemverPolicy } from './semver.ts';
import type { Policy, PolicyKind } from './types.ts';

const KINDS: readonly PolicyKind[] = ['numerical', 'semver', 'alphabetical'];

/**
 * Builds the policy `spec.policy` names. Exactly one kind must be set; an unknown kind, none, or
 * two are terminal InvalidPolicy errors, as are malformed settings of the kind itself. `choice`
 * is meant to be an ImagePolicyChoice but comes from the user's YAML, so any value is checked.
 */
export function createPolicy(choice: unknown): Policy {
  if (choice === null || typeof choice !== 'object' || Array.isArray(choice)) {
    throw invalidPolicy('policy must be an object with one of numerical, semver or alphabetical');
  }
  const keys = Object.keys(choice).filter((key) => (choice as Record<string, unknown>)[key] !== undefined);
  const unknown = keys.filter((key) => !(KINDS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw invalidPolicy(
      `policy has unknown kind ${unknown.map((key) => JSON.stringify(key)).join(', ')}; known kinds are ${KINDS.join(', ')}`,
    );
  }
  if (keys.length === 0) throw invalidPolicy('policy sets none of numerical, semver or alphabetical');
  if (keys.length > 1) throw invalidPolicy(`policy sets ${keys.join(' and ')}; set exactly one`);
  const spec = (choice as Record<string, unknown>)[keys[0] as string];
  switch (keys[0] as PolicyKind) {
    case 'numerical':
      return new NumericalPolicy(spec as ImagePolicyChoice['numerical']);
    case 'alphabetical':
      return new AlphabeticalPolicy(spec as ImagePolicyChoice['alphabetical']);
    case 'semver':
      return new SemverPolicy(spec as ImagePolicyChoice['semver']);
  }
}
