/**
 * The agent's face: what the CLI, the bench and the tests use. Everything else in agent/ is
 * internal and may change without notice.
 */
export { startAgent } from './main.ts';
export type { AgentOptions, RunningAgent } from './main.ts';
export { planDeployment } from './plan-deployment.ts';
export type { DeploymentPlan, PlanOptions, PlannedCreate, PlannedUpdate } from './plan-deployment.ts';
export type { Phase, ReconcileOutcome } from './types.ts';
