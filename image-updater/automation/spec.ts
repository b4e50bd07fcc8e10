import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { isTidemarkError, terminal } from '../../shared/errors/index.ts';
import { refNameProblem } from '../../shared/git/index.ts';
import {
  combineErrors,
  MESSAGE_TEMPLATE_PATH,
  messageTemplateOf,
  Problems,
  validateContinuousDeploymentSpec,
  validateImageUpdateAutomationSpec,
  type AutomationConfig,
  type Validated,
} from '../../shared/spec/index.ts';
import { validateCommitTemplate } from '../template/index.ts';

export { DEFAULT_AUTHOR, DEFAULT_AUTOMATION_INTERVAL, type AutomationConfig } from '../../shared/spec/index.ts';

/**
 * The shared ImageUpdateAutomation reader plus the updater's commit template check: a template Go
 * cannot parse is reported with the spec's other problems when the spec is read, not when the
 * first commit is due. Async: the template is parsed by Go's text/template (WebAssembly, in a worker).
 */
export async function validateAutomationSpec(spec: unknown): Promise<Validated<AutomationConfig>> {
  const read = validateImageUpdateAutomationSpec(spec);
  const template = messageTemplateOf(spec);
  if (template === undefined) return read;
  const problems = new Problems();
  if (!read.ok) problems.merge(read.errors);
  try {
    await validateCommitTemplate(template);
  } catch (err) {
    if (!isTidemarkError(err)) throw err;
    problems.add(MESSAGE_TEMPLATE_PATH, err.message, err.hint, err.code);
  }
  return problems.errors.length > 0 ? { ok: false, errors: problems.errors } : read;
}

/** Everything one run needs to know about where to read and write. */
export interface ResolvedTarget {
  url: string;
  /** The source's Git Secret. */
  secretRef: string | undefined;
  /** The source's spec.insecure: its Secret's password or token may go over plain http://. */
  insecure: boolean;
  checkoutBranch: string;
  pushBranch: string;
  /** Inside the checkout; `/` or `./` is the repository root. */
  updatePath: string;
  /** True when commits land on the branch the source deploys, so a sync is worth asking for. */
  pushesSourceBranch: boolean;
}

/**
 * Fills in what the automation takes from its source: the repository, its Secret, the branch it
 * deploys and its path. A source that follows a tag, a semver range or a pinned commit has no
 * branch to write to, so the automation must name one.
 */
export function resolveTarget(config: AutomationConfig, source: ContinuousDeployment): ResolvedTarget {
  const read = validateContinuousDeploymentSpec(source.spec);
  if (!read.ok) {
    const error = combineErrors(read.errors);
    throw terminal('SourceInvalid', `the source ContinuousDeployment ${config.sourceName} is invalid: ${error.message}`, error.hint);
  }
  const deployment = read.value;
  if (deployment.repoType !== 'git') {
    throw terminal(
      'SourceInvalid',
      `the source ContinuousDeployment ${config.sourceName} reads an OCI artifact; image automation writes to Git`,
      'point spec.sourceRef at a ContinuousDeployment with repoType git',
    );
  }
  const sourceBranch = deployment.ref.kind === 'branch' ? deployment.ref.value : undefined;
  const checkoutBranch = config.checkoutBranch ?? sourceBranch;
  if (checkoutBranch === undefined) {
    throw terminal(
      'SourceBranchUnknown',
      `the source ContinuousDeployment ${config.sourceName} follows a ${deployment.ref.kind}, not a branch`,
      'set spec.git.checkout.ref.branch to the branch the automation should update',
    );
  }
  const problem = refNameProblem(checkoutBranch);
  if (problem) throw terminal('InvalidSpec', `the checkout branch ${JSON.stringify(checkoutBranch)} is invalid: ${problem}`);
  const pushBranch = config.pushBranch ?? checkoutBranch;
  return {
    url: deployment.url,
    secretRef: deployment.secretRef,
    insecure: deployment.insecure,
    checkoutBranch,
    pushBranch,
    updatePath: config.updatePath ?? deployment.path,
    pushesSourceBranch: sourceBranch !== undefined && pushBranch === sourceBranch,
  };
}
