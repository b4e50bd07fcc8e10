/** Turning a policy's choice into the value each marker form asks for. */
import type { Decide, Decision, SetterField } from './types.ts';

/** What an image policy chose. */
export interface ImageDecision {
  /** The image name exactly as written in the ImageRepository spec (what `:name` writes). */
  name: string;
  tag: string;
  /** `sha256:...`, when the policy reflects digests into the reference. */
  digest?: string;
}

/** The full reference: `name:tag`, `name:tag@digest`, or `name@digest` without a tag. */
export function imageReference(d: ImageDecision): string {
  const tag = d.tag !== '' ? `:${d.tag}` : '';
  const digest = d.digest !== undefined && d.digest !== '' ? `@${d.digest}` : '';
  return `${d.name}${tag}${digest}`;
}

/** The value a marker of the given field writes for a decision. */
export function valueForField(field: SetterField, d: ImageDecision): Decision {
  switch (field) {
    case 'image':
      return { value: imageReference(d) };
    case 'tag':
      return d.tag !== '' ? { value: d.tag } : { unavailable: 'the policy chose an image without a tag' };
    case 'name':
      return { value: d.name };
    case 'digest':
      return d.digest !== undefined && d.digest !== ''
        ? { value: d.digest }
        : { unavailable: 'the policy does not reflect digests, so there is no digest to write' };
  }
}

type Policies = ReadonlyMap<string, ImageDecision> | Readonly<Record<string, ImageDecision>>;

/**
 * A `decide` function over the automation's known policies, keyed `<namespace>:<name>`.
 * A marker naming any other policy is reported as MarkerUnknownPolicy.
 */
export function decideFromPolicies(policies: Policies): Decide {
  const lookup = (key: string): ImageDecision | undefined =>
    isPolicyMap(policies) ? policies.get(key) : Object.hasOwn(policies, key) ? policies[key] : undefined;
  return (setter) => {
    const d = lookup(`${setter.namespace}:${setter.name}`);
    return d === undefined ? { unknownPolicy: true } : valueForField(setter.field, d);
  };
}

/** `instanceof Map` alone narrows to Map<any, any>, and leaves ReadonlyMap in the other branch. */
function isPolicyMap(policies: Policies): policies is ReadonlyMap<string, ImageDecision> {
  return policies instanceof Map;
}
