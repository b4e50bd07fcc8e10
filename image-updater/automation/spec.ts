import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { terminal, TidemarkError } from '../../shared/errors/index.ts';
import type { GitAuthor } from '../../shared/git/index.ts';
import { refNameProblem } from '../../shared/git/index.ts';
import { readSpec } from '../../agent/spec.ts';
import { objectNameProblem } from '../spec/names.ts';
import { validateCommitTemplate } from '../template/index.ts';
import { describe, readBoolean, readDuration, readString } from '../spec/read.ts';
import { checkKnownFields, isObject, Problems, type Validated } from '../spec/result.ts';

export const DEFAULT_AUTHOR: GitAuthor = { name: 'tidemark-bot', email: 'tidemark-bot@users.noreply.tidemark.dev' };
export const DEFAULT_AUTOMATION_INTERVAL = '5m';

/** An ImageUpdateAutomation spec, checked and defaulted; what comes from the source is resolved later. */
export interface AutomationConfig {
  sourceName: string;
  /** Unset: the source's branch. */
  checkoutBranch: string | undefined;
  /** Unset: the checkout branch. */
  pushBranch: string | undefined;
  author: GitAuthor;
  messageTemplate: string | undefined;
  messageTemplateValues: Record<string, string>;
  signingKeySecret: string | undefined;
  /** Unset: the source's path. */
  updatePath: string | undefined;
  intervalMs: number;
  suspend: boolean;
}

/** Everything one run needs to know about where to read and write. */
export interface ResolvedTarget {
  url: string;
  /** The source's Git Secret. */
  secretRef: string | undefined;
  checkoutBranch: string;
  pushBranch: string;
  /** Inside the checkout; `/` or `./` is the repository root. */
  updatePath: string;
  /** True when commits land on the branch the source deploys, so a sync is worth asking for. */
  pushesSourceBranch: boolean;
}

const FIELDS = ['sourceRef', 'git', 'update', 'interval', 'suspend'];
const MAX_TEMPLATE_BYTES = 64 * 1024;

/**
 * Checks a spec the way the CRD schema does and a bit more (branch names git would misread,
 * author fields that would break the commit header, a template Go cannot parse), reporting every
 * problem at once. Async: the template is parsed by Go's text/template (WebAssembly, in a worker).
 */
export async function validateAutomationSpec(spec: unknown): Promise<Validated<AutomationConfig>> {
  const problems = new Problems({ prefix: 'spec.' });
  if (!isObject(spec)) {
    problems.add('', `must be an object, not ${describe(spec)}`);
    return problems.result(() => undefined as never);
  }
  checkKnownFields(problems, '', spec, FIELDS);

  let sourceName: string | undefined;
  const sourceRef = spec.sourceRef;
  if (!isObject(sourceRef)) {
    problems.add(
      'sourceRef',
      sourceRef === undefined ? 'is required' : `must be an object, not ${describe(sourceRef)}`,
      'e.g. sourceRef: {kind: ContinuousDeployment, name: my-app}',
    );
  } else {
    checkKnownFields(problems, 'sourceRef.', sourceRef, ['kind', 'name']);
    const kind = readString(problems, sourceRef, 'kind', { at: 'sourceRef.kind' });
    if (kind !== undefined && kind !== 'ContinuousDeployment')
      problems.add('sourceRef.kind', `${JSON.stringify(kind)} is not supported; use ContinuousDeployment`);
    sourceName = readString(problems, sourceRef, 'name', { required: true, at: 'sourceRef.name' });
    const nameProblem = sourceName === undefined ? undefined : objectNameProblem(sourceName);
    if (nameProblem) problems.add('sourceRef.name', nameProblem);
  }

  const git = optionalObject(problems, spec, 'git', 'git') ?? {};
  checkKnownFields(problems, 'git.', git, ['checkout', 'push', 'commit']);
  const checkout = optionalObject(problems, git, 'checkout', 'git.checkout') ?? {};
  checkKnownFields(problems, 'git.checkout.', checkout, ['ref']);
  const ref = optionalObject(problems, checkout, 'ref', 'git.checkout.ref') ?? {};
  checkKnownFields(problems, 'git.checkout.ref.', ref, ['branch']);
  const checkoutBranch = readBranch(problems, ref, 'git.checkout.ref.branch');
  const pushSpec = optionalObject(problems, git, 'push', 'git.push') ?? {};
  checkKnownFields(problems, 'git.push.', pushSpec, ['branch']);
  const pushBranch = readBranch(problems, pushSpec, 'git.push.branch');

  const commit = optionalObject(problems, git, 'commit', 'git.commit') ?? {};
  checkKnownFields(problems, 'git.commit.', commit, ['author', 'messageTemplate', 'messageTemplateValues', 'signingKey']);
  const authorSpec = optionalObject(problems, commit, 'author', 'git.commit.author') ?? {};
  checkKnownFields(problems, 'git.commit.author.', authorSpec, ['name', 'email']);
  const author: GitAuthor = {
    name: readAuthorField(problems, authorSpec, 'name') ?? DEFAULT_AUTHOR.name,
    email: readAuthorField(problems, authorSpec, 'email') ?? DEFAULT_AUTHOR.email,
  };
  const messageTemplate = readString(problems, commit, 'messageTemplate', { at: 'git.commit.messageTemplate' });
  if (messageTemplate !== undefined && Buffer.byteLength(messageTemplate) > MAX_TEMPLATE_BYTES) {
    problems.add('git.commit.messageTemplate', `is longer than ${MAX_TEMPLATE_BYTES} bytes`);
  } else if (messageTemplate !== undefined) {
    // A syntax error is reported when the spec is read, not when the first commit is due.
    try {
      await validateCommitTemplate(messageTemplate);
    } catch (err) {
      if (!(err instanceof TidemarkError)) throw err;
      problems.add('git.commit.messageTemplate', err.message, err.hint, err.code);
    }
  }
  const messageTemplateValues = readStringMap(problems, commit.messageTemplateValues, 'git.commit.messageTemplateValues');
  let signingKeySecret: string | undefined;
  const signingKey = optionalObject(problems, commit, 'signingKey', 'git.commit.signingKey');
  if (signingKey) {
    checkKnownFields(problems, 'git.commit.signingKey.', signingKey, ['secretRef']);
    const secretRef = optionalObject(problems, signingKey, 'secretRef', 'git.commit.signingKey.secretRef');
    if (!secretRef) problems.add('git.commit.signingKey.secretRef', 'is required');
    else {
      signingKeySecret = readString(problems, secretRef, 'name', {
        required: true,
        at: 'git.commit.signingKey.secretRef.name',
      });
      const problem = signingKeySecret === undefined ? undefined : objectNameProblem(signingKeySecret);
      if (problem) problems.add('git.commit.signingKey.secretRef.name', problem);
    }
  }

  const update = optionalObject(problems, spec, 'update', 'update') ?? {};
  checkKnownFields(problems, 'update.', update, ['path', 'strategy']);
  const updatePath = readString(problems, update, 'path', { at: 'update.path' });
  if (updatePath !== undefined && /[\0\r\n]/.test(updatePath)) problems.add('update.path', 'must not contain NUL or line breaks');
  const strategy = readString(problems, update, 'strategy', { at: 'update.strategy' });
  if (strategy !== undefined && strategy !== 'Setters')
    problems.add('update.strategy', `${JSON.stringify(strategy)} is not supported; use Setters`);

  const intervalMs = readDuration(problems, spec, 'interval', DEFAULT_AUTOMATION_INTERVAL);
  const suspend = readBoolean(problems, spec, 'suspend');

  return problems.result(() => ({
    sourceName: sourceName as string,
    checkoutBranch,
    pushBranch,
    author,
    messageTemplate,
    messageTemplateValues,
    signingKeySecret,
    updatePath: updatePath === '' ? undefined : updatePath,
    intervalMs: intervalMs as number,
    suspend,
  }));
}

/**
 * Fills in what the automation takes from its source: the repository, its Secret, the branch it
 * deploys and its path. A source that follows a tag, a semver range or a pinned commit has no
 * branch to write to, so the automation must name one.
 */
export function resolveTarget(config: AutomationConfig, source: ContinuousDeployment): ResolvedTarget {
  let deployment: ReturnType<typeof readSpec>;
  try {
    deployment = readSpec(source);
  } catch (err) {
    if (err instanceof TidemarkError) {
      throw terminal('SourceInvalid', `the source ContinuousDeployment ${config.sourceName} is invalid: ${err.message}`, err.hint);
    }
    throw err;
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
    checkoutBranch,
    pushBranch,
    updatePath: config.updatePath ?? deployment.path,
    pushesSourceBranch: sourceBranch !== undefined && pushBranch === sourceBranch,
  };
}

function optionalObject(problems: Problems, from: Record<string, unknown>, key: string, at: string): Record<string, unknown> | undefined {
  const value = from[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    problems.add(at, `must be an object, not ${describe(value)}`);
    return undefined;
  }
  return value;
}

function readBranch(problems: Problems, from: Record<string, unknown>, at: string): string | undefined {
  const branch = readString(problems, from, 'branch', { at });
  if (branch === undefined) return undefined;
  const problem = refNameProblem(branch);
  if (problem) {
    problems.add(at, `${JSON.stringify(branch)} is not a valid branch name: ${problem}`);
    return undefined;
  }
  return branch;
}

function readAuthorField(problems: Problems, from: Record<string, unknown>, key: 'name' | 'email'): string | undefined {
  const at = `git.commit.author.${key}`;
  const value = readString(problems, from, key, { at });
  if (value === undefined) return undefined;
  if (value.trim() === '' || /[<>\r\n\0]/.test(value)) {
    problems.add(at, 'must not be empty or contain <, > or a line break');
    return undefined;
  }
  return value;
}

function readStringMap(problems: Problems, value: unknown, at: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) {
    problems.add(at, `must be a map of strings, not ${describe(value)}`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') problems.add(`${at}.${key}`, `must be a string, not ${describe(entry)}`);
    else out[key] = entry;
  }
  return out;
}
