/**
 * The registry client (the image updater's scans, the agent's OCI sources): image references, pull-secret credentials, the
 * anonymous/basic/bearer auth flow, tag listing with pagination, manifests and digests.
 */
export {
  RegistryClient,
  defaultRegistryBackoff,
  parseTagList,
  type CallOptions,
  type DigestResult,
  type ListTagsOptions,
  type ListTagsResult,
  type BlobOptions,
  type BlobResult,
  type ManifestResult,
  type RegistryAccess,
  type RegistryClientOptions,
  type Usage,
} from './client.ts';
export {
  DOCKER_HUB,
  DOCKER_HUB_API,
  familiarName,
  formatReference,
  isValidDigest,
  isValidTag,
  parseImageReference,
  type ImageReference,
} from './reference.ts';
export {
  credentialHost,
  credentialsFor,
  dockerConfigFromSecret,
  parseDockerConfigJson,
  type DockerConfig,
  type RegistryCredentials,
  type SecretLike,
} from './credentials.ts';
export { tlsFromSecret, validateTLS, type RegistryTLS } from './tls.ts';
export { MANIFEST_ACCEPT, MediaType, parseManifest, type Descriptor, type Manifest, type Platform } from './manifest.ts';
export { RegistryErrorCode, isRetryable, safeExcerpt } from './errors.ts';
export { parseWwwAuthenticate, type AuthChallenge } from './challenge.ts';
export { nextLinkTarget, parseLinkHeader, resolveNextPage } from './link.ts';
export { parseRetryAfter } from './retry-after.ts';
export type { RetryWait } from '../time/backoff.ts';
