/** One vocabulary for the API: group, kinds, annotations, labels and the field manager. */
export const GROUP = 'tidemark.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const Kinds = {
  ContinuousDeployment: { kind: 'ContinuousDeployment', plural: 'continuousdeployments' },
  ImageRepository: { kind: 'ImageRepository', plural: 'imagerepositories' },
  ImagePolicy: { kind: 'ImagePolicy', plural: 'imagepolicies' },
  ImageUpdateAutomation: { kind: 'ImageUpdateAutomation', plural: 'imageupdateautomations' },
  Provider: { kind: 'Provider', plural: 'providers' },
  Alert: { kind: 'Alert', plural: 'alerts' },
  Receiver: { kind: 'Receiver', plural: 'receivers' },
} as const;

/** Server-side apply field manager for everything the agent applies. */
export const FIELD_MANAGER = 'tidemark';

export const Annotations = {
  /** `<namespace>/<name>` of the ContinuousDeployment that applied an object (ownership). */
  owner: `${GROUP}/owned-by`,
  /** Set to `disabled` on a live object to keep it when it leaves Git. */
  prune: `${GROUP}/prune`,
  /** Any new value asks for a sync now (the CLI writes a timestamp). */
  requestedAt: `${GROUP}/requestedAt`,
  /** Who wrote requestedAt (`receiver/<name>`, `console/<user>`, `cli`): the sync history shows it. */
  requestedBy: `${GROUP}/requestedBy`,
  /** `orphan` keeps the deployed objects when the ContinuousDeployment is deleted. */
  deletionPolicy: `${GROUP}/deletion-policy`,
} as const;

/** Labels on every applied object: they let one label-selected watch per kind see all of ours. */
export const Labels = {
  name: `${GROUP}/name`,
  namespace: `${GROUP}/namespace`,
} as const;

export const Finalizers = {
  continuousDeployment: `${GROUP}/finalizer`,
} as const;

/** Prefix bot commits carry; users filter their CI on it (seed 003). */
export const BOT_COMMIT_PREFIX = 'Update image automatically.';
