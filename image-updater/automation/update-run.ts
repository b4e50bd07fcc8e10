import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ImageRef } from '../../shared/api/image.ts';
import { terminal, type Reason } from '../../shared/errors/index.ts';
import { resolveInside } from '../../shared/git/index.ts';
import { hasMarker, imageReference, isCandidateFile, rewrite, valueForField } from '../markers/index.ts';
import type { Decision, MarkerChange, MarkerProblem, Setter } from '../markers/types.ts';
import { buildCommitMessage, type CommitChange } from '../template/index.ts';

/** What the automation knows about one ImagePolicy of its namespace. */
export interface PolicyView {
  /** Undefined while the policy has not chosen an image yet. */
  latestRef: ImageRef | undefined;
}

export interface UpdateRunInput {
  /** Root of the checkout. */
  workdir: string;
  /** Directory (or file) to update, relative to the checkout root; `/` or `./` is the root. */
  updatePath: string;
  /** The automation's namespace: markers may name only its policies. */
  namespace: string;
  /** The namespace's ImagePolicies by name. */
  policies: ReadonlyMap<string, PolicyView>;
  /** The user's message template; the default listing when undefined. */
  template: string | undefined;
  values: Readonly<Record<string, string>>;
  automation: { namespace: string; name: string };
}

/** A marker or file the run could not handle; reported, never fatal. */
export interface RunProblem {
  /** MarkerInvalid, MarkerUnknownPolicy, MarkerPolicyNotPermitted, MarkerValueUnavailable, FileNotParsable, FileUnreadable. */
  code: Reason;
  /** Relative to the checkout root, with forward slashes. */
  file: string;
  line?: number | undefined;
  message: string;
}

export interface AppliedChange extends MarkerChange {
  file: string;
}

export interface UpdateRunResult {
  changes: AppliedChange[];
  problems: RunProblem[];
  /** The full commit message when something changed; null when every value was current. */
  message: string | null;
  /** Files rewritten, relative to the checkout root. */
  files: string[];
}

/** Files larger than this are not YAML anyone edits by hand; skipped rather than parsed. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * One update run over a checkout: visit the candidate files under the update path (screened for
 * the marker text before any parsing), set each marked value to what its policy chose, write
 * the files that changed, and render the commit message. Files that do not parse are never
 * written. A template error throws (TemplateError, terminal) after files may have been
 * rewritten: the checkout is thrown away and nothing is committed.
 */
export async function runUpdate(input: UpdateRunInput): Promise<UpdateRunResult> {
  const root = await resolveInside(input.workdir, '.');
  const start = await resolveInside(root, input.updatePath);
  if (!(await exists(start))) {
    throw terminal(
      'UpdatePathNotFound',
      `the update path ${JSON.stringify(input.updatePath)} does not exist in the repository`,
      "fix spec.update.path (or the source's path)",
    );
  }
  const decide = decider(input.namespace, input.policies);
  const changes: AppliedChange[] = [];
  const problems: RunProblem[] = [];
  const files: string[] = [];

  for (const path of await candidateFiles(root, start)) {
    const file = relative(root, path).split(sep).join('/');
    let text: string;
    try {
      const info = await lstat(path);
      if (info.size > MAX_FILE_BYTES) {
        problems.push({ code: 'FileTooLarge', file, message: `larger than ${MAX_FILE_BYTES} bytes; not scanned` });
        continue;
      }
      text = await readFile(path, 'utf8');
    } catch (err) {
      problems.push({ code: 'FileUnreadable', file, message: (err as Error).message });
      continue;
    }
    if (!hasMarker(text)) continue;
    const result = rewrite(text, decide);
    const byLine = [...result.problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    for (const problem of byLine) problems.push({ ...explain(problem, input.namespace), file, line: problem.line });
    if (result.text !== text && result.changes.length > 0) {
      await writeFile(path, result.text);
      files.push(file);
      for (const change of result.changes) changes.push({ ...change, file });
    }
  }

  if (changes.length === 0) return { changes, problems, message: null, files };
  const commitChanges: CommitChange[] = changes.map((c) => ({
    file: c.file,
    object: c.objectId,
    oldValue: c.oldValue,
    newValue: c.newValue,
    setter: c.setter,
    image: imageOf(input.policies.get(c.policy.name)?.latestRef) ?? c.newValue,
  }));
  const message = await buildCommitMessage({
    automation: input.automation,
    changes: commitChanges,
    values: input.values,
    ...(input.template === undefined ? {} : { template: input.template }),
  });
  return { changes, problems, message, files };
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Answers each marker from the namespace's policies; other namespaces are not visible. */
export function decider(namespace: string, policies: ReadonlyMap<string, PolicyView>): (setter: Setter) => Decision {
  return (setter) => {
    if (setter.namespace !== namespace) return { unknownPolicy: true };
    const policy = policies.get(setter.name);
    if (!policy) return { unknownPolicy: true };
    if (!policy.latestRef) return { unavailable: `ImagePolicy ${setter.namespace}/${setter.name} has not chosen an image yet` };
    return valueForField(setter.field, policy.latestRef);
  };
}

function imageOf(ref: ImageRef | undefined): string | undefined {
  return ref ? imageReference(ref) : undefined;
}

/** Markers naming another namespace get their own reason: the policy may well exist there. */
function explain(problem: MarkerProblem, namespace: string): { code: Reason; message: string } {
  const other = problem.setter?.split(':')[0];
  if (problem.code === 'MarkerUnknownPolicy' && other !== undefined && other !== namespace) {
    return {
      code: 'MarkerPolicyNotPermitted',
      message:
        `marker ${JSON.stringify(problem.setter)} names a policy in namespace ${other}; ` +
        `an automation in ${namespace} uses only the ImagePolicies of its own namespace`,
    };
  }
  return { code: problem.code, message: problem.message };
}

/**
 * Candidate files under `start` in a stable order. Symlinks are never followed or written
 * through (a link could lead out of the update path or onto a file visited twice); `.git` is skipped.
 */
async function candidateFiles(root: string, start: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (path: string): Promise<void> => {
    let info;
    try {
      info = await lstat(path);
    } catch {
      return;
    }
    if (info.isSymbolicLink()) return;
    if (info.isFile()) {
      if (isCandidateFile(relative(root, path).split(sep).join('/'))) out.push(path);
      return;
    }
    if (!info.isDirectory()) return;
    const entries = (await readdir(path)).sort();
    for (const entry of entries) {
      if (entry === '.git') continue;
      await visit(join(path, entry));
    }
  };
  await visit(start);
  return out;
}
