import { LruMap } from '../shared/cache/lru.ts';
import type { DeploymentConfig } from '../shared/spec/index.ts';

/** Reads the first line of a fetched commit's message (ControllerDeps.commitSubject). */
export type CommitSubjectReader = (config: DeploymentConfig, sha: string) => Promise<string | undefined>;

/**
 * A commit is named by its content, so the subject of one repository's commit never changes: it
 * is read once, not on every reconcile. Reading it costs a `git cat-file` child process, and
 * spawning one from a process of this size took about 36 ms of the main thread's time — 1,000
 * deployments of one commit spent 20 of their 50 busy CPU seconds there (bench item 9). Reads of
 * the same commit in flight at once share one; a failed read is not remembered.
 */
export function rememberCommitSubjects(read: CommitSubjectReader, capacity = 256): CommitSubjectReader {
  const subjects = new LruMap<string, Promise<string | undefined>>(capacity);
  return (config, sha) => {
    // The URL is in the key: the same SHA in another repository is another tenant's commit.
    const key = JSON.stringify([config.repoType, config.url, sha]);
    const known = subjects.get(key);
    if (known) return known;
    const reading = read(config, sha);
    subjects.set(key, reading);
    reading.catch(() => {
      if (subjects.get(key) === reading) subjects.delete(key);
    });
    return reading;
  };
}
