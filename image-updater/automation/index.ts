/**
 * ImageUpdateAutomation: write the images policies chose back into Git as bot commits, push
 * without ever forcing a user's branch, and ask the ContinuousDeployment to sync.
 */
export type { ImageUpdateAutomation, ImageUpdateAutomationSpec, ImageUpdateAutomationStatus } from './types.ts';
export { validateAutomationSpec, resolveTarget, DEFAULT_AUTHOR, DEFAULT_AUTOMATION_INTERVAL } from './spec.ts';
export type { AutomationConfig, ResolvedTarget } from './spec.ts';
export { inlineToImageUpdateAutomation } from './inline.ts';
export { automationDeriver } from './deriver.ts';
export { runUpdate, decider } from './update-run.ts';
export type { AppliedChange, PolicyView, RunProblem, UpdateRunInput, UpdateRunResult } from './update-run.ts';
export { updateBranch } from './git-update.ts';
export type { AppliedUpdate, GitUpdateOutcome, GitUpdateRequest } from './git-update.ts';
export { nextAutomationStatus, describeProblems, AUTOMATION_STATUS_FIELDS, MARKERS_CONDITION, AutomationReason } from './status.ts';
export type { AutomationOutcome } from './status.ts';
export { ImageUpdateAutomationController } from './controller.ts';
export type { AutomationControllerDeps, AutomationObject, PolicyChoices } from './controller.ts';
