import type { Condition } from '../conditions/index.ts';
import type { ObjectMeta } from './continuous-deployment.ts';

/** Flux's default: cosign signature tags are never candidates. */
export const DEFAULT_EXCLUSION_LIST: readonly string[] = ['^.*\\.sig$'];
/** Default `ImageRepository.spec.interval` (and the seed's inline `imageRepository.interval`). */
export const DEFAULT_SCAN_INTERVAL = '5m';

export interface LocalObjectReference {
  name: string;
}

export interface NamespacedObjectReference {
  name: string;
  /** Defaults to the referring object's namespace. */
  namespace?: string;
}

export interface ImageRepositorySpec {
  /** Repository without tag or digest, e.g. `ghcr.io/org/app` or `nginx`. */
  image: string;
  /** Go duration between scans; default 5m. */
  interval?: string;
  /** Go duration for one scan; defaults to the interval. */
  timeout?: string;
  /** `kubernetes.io/dockerconfigjson` Secret with registry credentials. */
  secretRef?: LocalObjectReference;
  /** Secret with `ca.crt` and/or `tls.crt` + `tls.key` for the registry connection. */
  certSecretRef?: LocalObjectReference;
  /** Plain HTTP to the registry. */
  insecure?: boolean;
  /** RE2 patterns of tags to ignore; default `^.*\.sig$`; an explicit empty list ignores none. */
  exclusionList?: string[];
  suspend?: boolean;
}

export interface ScanResult {
  tagCount: number;
  /** RFC 3339. */
  scanTime?: string;
  /** The 10 tags the registry listed last, newest first (registries list in push or byte order). */
  latestTags?: string[];
}

export interface ImageRepositoryStatus {
  canonicalImageName?: string;
  lastScanResult?: ScanResult;
  observedGeneration?: number;
  lastHandledRequestedAt?: string;
  conditions?: Condition[];
}

export interface ImageRepository {
  apiVersion: string;
  kind: 'ImageRepository';
  metadata: ObjectMeta;
  spec: ImageRepositorySpec;
  status?: ImageRepositoryStatus;
}

export interface TagFilterSpec {
  /** Go/RE2 regular expression; unanchored unless it anchors itself. */
  pattern?: string;
  /** Go `Regexp.ExpandString` template (`$name`, `${name}`, `$1`); empty keeps the whole tag. */
  extract?: string;
}

export type SortOrder = 'asc' | 'desc';

export interface NumericalPolicySpec {
  /** `asc` (default): the largest number is newest; `desc`: the smallest. */
  order?: SortOrder;
}

export interface SemverPolicySpec {
  /** A range in Masterminds/semver syntax, as Flux takes it: `>=1.0.0 <2.0.0`, `^1.2`, `1.x`. */
  range: string;
}

export interface AlphabeticalPolicySpec {
  /** `asc` (default): the last tag in byte order is newest; `desc`: the first. */
  order?: SortOrder;
}

/** Exactly one of the three. */
export interface ImagePolicyChoice {
  numerical?: NumericalPolicySpec;
  semver?: SemverPolicySpec;
  alphabetical?: AlphabeticalPolicySpec;
}

/** When `status.latestRef.digest` is filled: never, once per chosen tag, or on every scan. */
export type DigestReflectionPolicy = 'Never' | 'IfNotPresent' | 'Always';

export interface ImagePolicySpec {
  imageRepositoryRef: NamespacedObjectReference;
  filterTags?: TagFilterSpec;
  policy: ImagePolicyChoice;
  /** Default Never. */
  digestReflectionPolicy?: DigestReflectionPolicy;
}

export interface ImageRef {
  /** The image repository as written in the ImageRepository spec. */
  name: string;
  /** The tag as the registry lists it. */
  tag: string;
  digest?: string;
}

export interface ImagePolicyStatus {
  latestRef?: ImageRef;
  observedPreviousRef?: ImageRef;
  observedGeneration?: number;
  lastHandledRequestedAt?: string;
  conditions?: Condition[];
}

export interface ImagePolicy {
  apiVersion: string;
  kind: 'ImagePolicy';
  metadata: ObjectMeta;
  spec: ImagePolicySpec;
  status?: ImagePolicyStatus;
}
