/**
 * Every reason Tidemark reports: error codes, condition reasons and Event reasons are one
 * vocabulary, so one word names a failure in status, Events, logs and metrics. A misspelt reason
 * does not compile. Users and tests match on these strings: never rename one.
 */
export const REASONS = [
  // git
  'GitAuthenticationFailed', 'GitPermissionDenied', 'GitRepositoryNotFound', 'GitRefNotFound', 'GitUnreachable',
  'GitPushRejected', 'GitRebaseConflict', 'GitInvalidSpec', 'GitCommandFailed', 'PathOutsideCheckout',
  // kube/apply (the API server's answers, then the agent's apply, prune and delete)
  'APIServerUnreachable', 'APIServerError', 'NotFound', 'AlreadyExists', 'Conflict', 'Forbidden', 'Unauthorized',
  'BadRequest', 'TooManyRequests', 'ObjectInvalid', 'UnknownKind', 'DryRunFailed', 'ApplyFailed',
  'FoundationNotReady', 'RecreateTimeout', 'PruneFailed', 'DeletionFailed', 'DerivedObjectConflict',
  // render
  'PathNotFound', 'ManifestInvalid', 'ManifestParseFailed', 'DuplicateObject', 'KustomizeBuildFailed', 'KustomizeUnavailable',
  // registry (RegistryRetryStop is the client's internal sentinel, never reported)
  'InvalidImageReference', 'InvalidRegistryCredentials', 'InvalidRegistryTLS', 'InvalidRegistryOptions',
  'RegistryUnauthorized', 'RegistryForbidden', 'RepositoryNotFound', 'ManifestNotFound', 'RegistryInsecureRealm',
  'RegistryTLSError', 'RegistryTooManyTags', 'RegistryResponseTooLarge', 'RegistryPaginationError',
  'RegistryBadRequest', 'RegistryBadResponse', 'RegistryDigestMismatch', 'RegistryRateLimited',
  'RegistryUnavailable', 'RegistryUnreachable', 'RegistryTimeout', 'RegistryRetryStop',
  // image policy
  'InvalidFilterPattern', 'InvalidFilterExtract', 'InvalidExclusionPattern', 'InvalidPolicy', 'InvalidSemverRange',
  'InvalidNumericalValue', 'NoMatchingTags', 'NewImage',
  // automation
  'SourceNotFound', 'SourceInvalid', 'SourceBranchUnknown', 'SigningKeyInvalid', 'UpdatePathNotFound',
  'FileTooLarge', 'FileUnreadable', 'FileNotParsable', 'MarkerInvalid', 'MarkerUnknownPolicy',
  'MarkerPolicyNotPermitted', 'MarkerValueUnavailable', 'InvalidCommitTemplate', 'CommitTemplateFailed',
  'PushSucceeded', 'AllMarkersResolved',
  // spec
  'InvalidSpec', 'InvalidDuration', 'InvalidSyncWindow', 'InvalidKubeconfig', 'InvalidSecret', 'SecretNotFound',
  // lifecycle (condition and Event reasons of a reconcile; InternalError: anything unexpected)
  'ReconciliationSucceeded', 'Progressing', 'ProgressingWithRetry', 'Suspended', 'DependencyNotReady',
  'OutOfSync', 'DriftDetected', 'PruneBlockedEmptyRender', 'ManualSyncRequired', 'SyncWindowBlocked', 'InternalError',
  // test harness (test/harness only: processes, tools, the control plane, the chart)
  'ProcessExited', 'ProcessStartFailed', 'WaitTimeout', 'ToolsUnavailable', 'HelmTemplateFailed', 'InvalidManifest',
  'ChartRbacFailed', 'ChartRbacUnavailable', 'TokenRequestFailed', 'ClusterInfoInvalid', 'ControlPlaneBuildFailed',
  'InvalidUserName', 'UnknownUser',
] as const;

export type Reason = (typeof REASONS)[number];
