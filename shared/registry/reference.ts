import { RegistryErrorCode, registryTerminal } from './errors.ts';

/**
 * Image references parsed the way Docker parses them (distribution/reference,
 * ParseNormalizedNamed): `nginx` is `docker.io/library/nginx`; the first path component is a
 * registry host only when it holds a `.` or `:`, is `localhost`, or has upper case.
 */

export const DOCKER_HUB = 'docker.io';
/** Docker Hub's API is not served on docker.io itself. */
export const DOCKER_HUB_API = 'registry-1.docker.io';
const LEGACY_DOCKER_HUB = 'index.docker.io';

export interface ImageReference {
  /** Registry host (with port when given), `docker.io` for Docker Hub. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/nginx`. */
  repository: string;
  tag?: string;
  digest?: string;
  /** Canonical name without tag or digest, e.g. `docker.io/library/nginx`. */
  name: string;
  /** Host the registry API answers on. */
  apiHost: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX_ID = /^[a-f0-9]{64}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const NAME_MAX = 255;

function invalid(input: string, why: string) {
  return registryTerminal(
    RegistryErrorCode.InvalidImageReference,
    `invalid image reference ${JSON.stringify(input.length > 300 ? `${input.slice(0, 300)}…` : input)}: ${why}`,
    'use a reference such as nginx, ghcr.io/org/app:1.2.3 or registry.example.com:5000/team/app',
  );
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** A content digest the registry can serve: a known algorithm with lower-case hex of the right length. */
export function isValidDigest(digest: string): boolean {
  if (!DIGEST.test(digest)) return false;
  const colon = digest.indexOf(':');
  const expected = DIGEST_HEX_LENGTH[digest.slice(0, colon)];
  const hex = digest.slice(colon + 1);
  return expected !== undefined && hex.length === expected && /^[a-f0-9]+$/.test(hex);
}

export function parseImageReference(input: string): ImageReference {
  if (input.length === 0) throw invalid(input, 'empty');
  if (HEX_ID.test(input)) throw invalid(input, 'a 64-character hexadecimal string is an image ID, not a name');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isValidDigest(digest)) throw invalid(input, 'malformed or unsupported digest');
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(input, 'malformed tag');
  }

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (registry === LEGACY_DOCKER_HUB) registry = DOCKER_HUB;
  if (!DOMAIN.test(registry)) throw invalid(input, 'malformed registry host');
  if (repository.toLowerCase() !== repository) throw invalid(input, 'repository name must be lowercase');
  if (repository === '' || !repository.split('/').every((part) => PATH_COMPONENT.test(part))) {
    throw invalid(input, 'malformed repository name');
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  const name = `${registry}/${repository}`;
  if (name.length > NAME_MAX) throw invalid(input, `name longer than ${NAME_MAX} characters`);

  const ref: ImageReference = {
    registry,
    repository,
    name,
    apiHost: registry === DOCKER_HUB ? DOCKER_HUB_API : registry,
  };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The canonical reference string: name, then `:tag`, then `@digest` when present. */
export function formatReference(ref: Pick<ImageReference, 'name' | 'tag' | 'digest'>): string {
  return `${ref.name}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** The short form Docker prints: `nginx` for Docker Hub's library images, `org/app` for other Hub images. */
export function familiarName(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  if (ref.registry !== DOCKER_HUB) return `${ref.registry}/${ref.repository}`;
  return ref.repository.startsWith('library/') && ref.repository.indexOf('/', 8) < 0 ? ref.repository.slice(8) : ref.repository;
}
