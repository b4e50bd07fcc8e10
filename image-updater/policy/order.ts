import { terminal } from '../../shared/errors/index.ts';
import type { SortOrder } from '../../shared/api/image.ts';

/** Reads `order` of a numerical or alphabetical policy; absent means `asc`, as in Flux. */
export function readOrder(kind: 'numerical' | 'alphabetical', spec: unknown): SortOrder {
  if (spec === undefined || spec === null) return 'asc';
  if (typeof spec !== 'object' || Array.isArray(spec)) {
    throw invalidPolicy(`policy.${kind} must be an object such as {order: asc}`);
  }
  const fields = Object.keys(spec).filter((key) => key !== 'order');
  if (fields.length > 0) {
    throw invalidPolicy(`policy.${kind} has unknown field ${JSON.stringify(fields[0])}; only order is accepted`);
  }
  const order = (spec as { order?: unknown }).order;
  if (order === undefined || order === null) return 'asc';
  if (order === 'asc' || order === 'desc') return order;
  throw invalidPolicy(`policy.${kind}.order ${JSON.stringify(order)} is not asc or desc`);
}

export function invalidPolicy(message: string) {
  return terminal(
    'InvalidPolicy',
    message,
    'set exactly one of policy.numerical {order: asc|desc}, policy.semver {range}, policy.alphabetical {order: asc|desc}',
  );
}
