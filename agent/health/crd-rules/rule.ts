import type { KubeObject } from '../../../shared/kube/object.ts';
import type { AssessContext, HealthResult } from '../types.ts';

/** One kind's (or family's) health: a pure function of the live object. */
export type HealthRule = (obj: KubeObject, ctx: AssessContext) => HealthResult;
