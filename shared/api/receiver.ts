import type { Condition } from '../conditions/index.ts';
import type { ObjectMeta } from './continuous-deployment.ts';
import type { LocalObjectReference } from './image.ts';

/** Git forges and generic callers: the call proves itself with a token or a signature. */
export const GIT_RECEIVER_TYPES = ['github', 'gitlab', 'bitbucket', 'gitea', 'generic', 'generic-hmac'] as const;
/** Container registries: the call names the pushed repository, and only ImageRepositories of that image run. */
export const REGISTRY_RECEIVER_TYPES = ['dockerhub', 'harbor', 'quay', 'ghcr', 'distribution'] as const;
export const RECEIVER_TYPES = [...GIT_RECEIVER_TYPES, ...REGISTRY_RECEIVER_TYPES] as const;

export type ReceiverType = (typeof RECEIVER_TYPES)[number];
export type RegistryReceiverType = (typeof REGISTRY_RECEIVER_TYPES)[number];

export function isRegistryReceiverType(type: ReceiverType): type is RegistryReceiverType {
  return (REGISTRY_RECEIVER_TYPES as readonly string[]).includes(type);
}

/** The kinds a Receiver may ask to reconcile now. */
export const RECEIVER_TARGET_KINDS = ['ContinuousDeployment', 'ImageRepository'] as const;
export type ReceiverTargetKind = (typeof RECEIVER_TARGET_KINDS)[number];

/** The key of `spec.secretRef`'s Secret that holds the token (and the HMAC key), as in Flux. */
export const RECEIVER_TOKEN_KEY = 'token';
/** Prefix of every `status.webhookPath`, as in Flux. */
export const WEBHOOK_PATH_PREFIX = '/hook/';

export interface ReceiverResourceRef {
  apiVersion?: string;
  kind: ReceiverTargetKind;
  /** An object's name, or `*` for every object of the kind (with matchLabels, those it selects). */
  name: string;
  /** Defaults to the Receiver's namespace. */
  namespace?: string;
  matchLabels?: Record<string, string>;
}

export interface ReceiverSpec {
  type: ReceiverType;
  /** Event names the call must carry (GitHub `push`, GitLab `Push Hook` ...); empty: every event. */
  events?: string[];
  secretRef: LocalObjectReference;
  resources: ReceiverResourceRef[];
  suspend?: boolean;
}

export interface ReceiverStatus {
  /** `/hook/` + sha256(token + name + namespace) in hex: the URL path callers post to. */
  webhookPath?: string;
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface Receiver {
  apiVersion: string;
  kind: 'Receiver';
  metadata: ObjectMeta;
  spec: ReceiverSpec;
  status?: ReceiverStatus;
}
