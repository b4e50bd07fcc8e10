/**
 * Git for Tidemark: the agent's cheap ref poll and cached fetch, the image updater's clone,
 * commit and push, with credentials that never reach argv, URLs, errors or logs.
 */
export type { GitAuthor, GitCredentials, GitOperationOptions, GitRefSpec, ResolvedRevision } from './types.ts';
export { operationOptions } from './job-options.ts';
export type { GitJobRequest } from './job-options.ts';
export { GitErrorCode, classifyGitFailure, redactUrlPassword, scrubSecrets } from './errors.ts';
export type { GitErrorCodeValue, GitFailure } from './errors.ts';
export {
  validateRepositoryUrl,
  validateRefName,
  validateRefSpec,
  validateCommitSha,
  refuseOptionLike,
  refNameProblem,
} from './validate.ts';
export type { CheckedRef, CheckedUrl, UrlKind } from './validate.ts';
export { credentialsFingerprint, credentialsFromSecretData, validateCredentials } from './credentials.ts';
export { pickSemverTag, parseLsRemote } from './refs.ts';
export { lsRemote, resolveFromRefs } from './remote.ts';
export { FETCH_LIMITS, fetchRevision, repositoryCacheDir } from './fetch.ts';
export type { FetchRevisionOptions, FetchedRevision } from './fetch.ts';
export { cloneForUpdate, commitAll, push, fetchAndRebase, fetchBranchTip, readCommit, headOf } from './update.ts';
export type { CloneOptions, CommitInfo, CommitOptions, FetchBranchOptions, PushOptions, RebaseOptions, UpdateCheckout } from './update.ts';
export { revertCommit, revertMessage, revertOntoBranch } from './revert.ts';
export type { RevertOutcome, RevertRequest } from './revert.ts';
export { probePushAccess, pushAccessOfStatus } from './push-access.ts';
export type { PushAccess } from './push-access.ts';
export { resolveInside } from './paths.ts';
export { KeyedMutex } from './mutex.ts';
export { sweepStaleTempDirs } from './temp-dirs.ts';
export { refuseCredentialsOverHttp, refuseLocalRepository } from './transport.ts';
