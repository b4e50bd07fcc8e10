/** Provider and Alert (Flux's notification API, tidemark.dev/v1alpha1): the names both programs and the CRDs share. */

/** Chat and webhook providers post a message; commit-status providers mark the synced commit. */
export const MESSAGE_PROVIDER_TYPES = ['slack', 'msteams', 'discord', 'googlechat', 'generic', 'generic-hmac', 'alertmanager'] as const;
export const COMMIT_STATUS_PROVIDER_TYPES = ['github', 'gitlab', 'gitea', 'bitbucket'] as const;
export const PROVIDER_TYPES = [...MESSAGE_PROVIDER_TYPES, ...COMMIT_STATUS_PROVIDER_TYPES] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];
export type CommitStatusProviderType = (typeof COMMIT_STATUS_PROVIDER_TYPES)[number];

/** The kinds whose Events an alert may select. */
export const ALERT_SOURCE_KINDS = ['ContinuousDeployment', 'ImageRepository', 'ImagePolicy', 'ImageUpdateAutomation', 'Receiver'] as const;
export type AlertSourceKind = (typeof ALERT_SOURCE_KINDS)[number];

export type Severity = 'info' | 'error';
