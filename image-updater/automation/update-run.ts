import { constants } from 'node:fs';
import { lstat, open, readdir, writeFile, type FileHandle } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ImageRef } from '../../shared/api/image.ts';
import { terminal, type Reason } from '../../shared/errors/index.ts';
import { resolveInside } from '../../shared/git/index.ts';
import { hasMarker, imageReference, isCandidateFile, rewrite, valueForField } from '../markers/index.ts';
import type { Decide, Decision, MarkerChange, MarkerProblem, Setter } from '../markers/types.ts';
import { buildCommitMessage, prepareCommitMessage, type CommitChange } from '../template/index.ts';

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

/** Files read and written at once; enough to keep the thread pool busy, few enough to hold little. */
const FILES_IN_FLIGHT = 8;

interface FileOutcome {
  file: string;
  changes: AppliedChange[];
  problems: RunProblem[];
}

/** Errors that say a file may be read but not written: it is opened for reading only. */
const READ_ONLY = new Set(['EACCES', 'EPERM', 'EROFS', 'ETXTBSY']);

async function openForUpdate(path: string): Promise<{ handle: FileHandle; writable: boolean }> {
  try {
    return { handle: await open(path, constants.O_RDWR | constants.O_NOFOLLOW), writable: true };
  } catch (err) {
    if (!READ_ONLY.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    return { handle: await open(path, constants.O_RDONLY | constants.O_NOFOLLOW), writable: false };
  }
}

async function readAll(handle: FileHandle, size: number): Promise<string> {
  const buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await handle.read(buffer, filled, size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.toString('utf8', 0, filled);
}

/**
 * Writes over the file from its start and cuts what is left. Never truncated to zero first: on
 * ext4 a file truncated to zero and written again is flushed to disk when closed (auto_da_alloc),
 * which made writing 2,000 files take 4× as long as reading them.
 */
async function writeOver(handle: FileHandle, text: string, oldSize: number): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length;) at += (await handle.write(bytes, at, bytes.length - at, at)).bytesWritten;
  if (bytes.length < oldSize) await handle.truncate(bytes.length);
}

/** `path` relative to the checkout root, with forward slashes; the walk builds every path from the root. */
function relativeFile(root: string, path: string): string {
  const inside = path.startsWith(root + sep) ? path.slice(root.length + 1) : relative(root, path);
  return sep === '/' ? inside : inside.split(sep).join('/');
}

/**
 * One file: read it (never through a symlink), screen it for the marker text, rewrite it, and
 * write it back when a value changed. Files that do not parse are never written. One open per
 * file, for reading and writing.
 */
async function updateFile(root: string, path: string, decide: Decide, namespace: string): Promise<FileOutcome> {
  const file = relativeFile(root, path);
  const outcome: FileOutcome = { file, changes: [], problems: [] };
  let opened: { handle: FileHandle; writable: boolean };
  try {
    opened = await openForUpdate(path);
  } catch (err) {
    outcome.problems.push({ code: 'FileUnreadable', file, message: (err as Error).message });
    return outcome;
  }
  const { handle, writable } = opened;
  try {
    let text: string;
    let size: number;
    try {
      size = (await handle.stat()).size;
      if (size > MAX_FILE_BYTES) {
        outcome.problems.push({ code: 'FileTooLarge', file, message: `larger than ${MAX_FILE_BYTES} bytes; not scanned` });
        return outcome;
      }
      text = await readAll(handle, size);
    } catch (err) {
      outcome.problems.push({ code: 'FileUnreadable', file, message: (err as Error).message });
      return outcome;
    }
    if (!hasMarker(text)) return outcome;
    const result = rewrite(text, decide);
    const byLine = [...result.problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    for (const problem of byLine) outcome.problems.push({ ...explain(problem, namespace), file, line: problem.line });
    if (result.text !== text && result.changes.length > 0) {
      // A file that could be opened only for reading fails here as the write would have.
      if (writable) await writeOver(handle, result.text, size);
      else await writeFile(path, result.text, { flag: constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW });
      for (const change of result.changes) outcome.changes.push({ ...change, file });
    }
    return outcome;
  } finally {
    await handle.close();
  }
}

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

  const paths = await candidateFiles(root, start);
  // The commit message's engine starts (in its own thread) at the first change, while the rest
  // of the files are read and rewritten; a run that changes nothing never starts it.
  let release: (() => Promise<void>) | undefined;
  try {
    // A few files in flight at once: a run is mostly waiting on the file system, one call per file
    // at a time. Results are gathered by position, so changes and problems keep the file order.
    const outcomes: FileOutcome[] = new Array<FileOutcome>(paths.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < paths.length) {
        const i = next++;
        const outcome = await updateFile(root, paths[i]!, decide, input.namespace);
        if (outcome.changes.length > 0) release ??= prepareCommitMessage();
        outcomes[i] = outcome;
      }
    };
    await Promise.all(Array.from({ length: Math.min(FILES_IN_FLIGHT, paths.length) }, worker));
    for (const outcome of outcomes) {
      problems.push(...outcome.problems);
      if (outcome.changes.length > 0) files.push(outcome.file);
      changes.push(...outcome.changes);
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
  } finally {
    await release?.();
  }
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
  // The name decides (isCandidateFile reads the last path segment).
  const keep = (path: string): void => {
    if (isCandidateFile(path)) out.push(path);
  };
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    // The entries' own types (lstat's view): a symlink is neither a file nor a directory here.
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name === '.git') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await visit(path);
      else if (entry.isFile()) keep(path);
    }
  };
  let info;
  try {
    info = await lstat(start);
  } catch {
    return out;
  }
  if (info.isFile()) keep(start);
  else if (info.isDirectory()) await visit(start);
  return out;
}
