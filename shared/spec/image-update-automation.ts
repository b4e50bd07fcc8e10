import type { GitAuthor } from '../git/types.ts';
import { refNameProblem } from '../git/validate.ts';
import { objectNameProblem } from './names.ts';
import { checkKnownFields, isObject, Problems, type Validated } from './problems.ts';
import { describe, optionalObject, readBoolean, readDuration, readString, readStringMap } from './read.ts';

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

export const IMAGE_UPDATE_AUTOMATION_FIELDS = ['sourceRef', 'git', 'update', 'interval', 'suspend'];
const MAX_TEMPLATE_BYTES = 64 * 1024;

/**
 * Checks a spec the way the CRD schema does and a bit more (branch names git would misread,
 * author fields that would break the commit header), reporting every problem at once. Whether the
 * commit template compiles is the image updater's to check (its engine): see messageTemplateOf.
 */
export function validateImageUpdateAutomationSpec(spec: unknown): Validated<AutomationConfig> {
  const problems = new Problems();
  if (!isObject(spec)) {
    problems.add('', `must be an object, not ${describe(spec)}`);
    return problems.result(() => undefined as never);
  }
  checkKnownFields(problems, '', spec, IMAGE_UPDATE_AUTOMATION_FIELDS);

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

  const git = optionalObject(problems, spec, 'git') ?? {};
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
  if (messageTemplate !== undefined && !withinTemplateLimit(messageTemplate)) {
    problems.add('git.commit.messageTemplate', `is longer than ${MAX_TEMPLATE_BYTES} bytes`);
  }
  const messageTemplateValues = readStringMap(problems, commit.messageTemplateValues, 'git.commit.messageTemplateValues');
  let signingKeySecret: string | undefined;
  const signingKey = optionalObject(problems, commit, 'signingKey', 'git.commit.signingKey');
  if (signingKey) {
    checkKnownFields(problems, 'git.commit.signingKey.', signingKey, ['secretRef']);
    const secretRef = optionalObject(problems, signingKey, 'secretRef', 'git.commit.signingKey.secretRef');
    if (!secretRef) problems.add('git.commit.signingKey.secretRef', 'is required');
    else {
      checkKnownFields(problems, 'git.commit.signingKey.secretRef.', secretRef, ['name']);
      signingKeySecret = readString(problems, secretRef, 'name', {
        required: true,
        at: 'git.commit.signingKey.secretRef.name',
      });
      const problem = signingKeySecret === undefined ? undefined : objectNameProblem(signingKeySecret);
      if (problem) problems.add('git.commit.signingKey.secretRef.name', problem);
    }
  }

  const update = optionalObject(problems, spec, 'update') ?? {};
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
 * The commit message template of a spec, when it is one worth compiling (a string within the size
 * limit), whether or not the rest of the spec reads: the image updater compiles it and reports a
 * failure with the reader's problems, at the path MESSAGE_TEMPLATE_PATH.
 */
export function messageTemplateOf(spec: unknown): string | undefined {
  const git = isObject(spec) ? spec.git : undefined;
  const commit = isObject(git) ? git.commit : undefined;
  const template = isObject(commit) ? commit.messageTemplate : undefined;
  return typeof template === 'string' && withinTemplateLimit(template) ? template : undefined;
}

export const MESSAGE_TEMPLATE_PATH = 'git.commit.messageTemplate';

function withinTemplateLimit(template: string): boolean {
  return Buffer.byteLength(template) <= MAX_TEMPLATE_BYTES;
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
