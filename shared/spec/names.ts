import RE2 from 're2';

const DNS_LABEL = new RE2('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$');
const DNS_SUBDOMAIN = new RE2('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$');

/** Object names (Secrets, ImageRepositories): a DNS-1123 subdomain. */
export function objectNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.length > 253) return 'must be at most 253 characters';
  if (!DNS_SUBDOMAIN.test(name)) return `${JSON.stringify(name)} is not a valid name (lowercase letters, digits, '-' and '.')`;
  return undefined;
}

/** Namespaces: a DNS-1123 label. */
export function namespaceProblem(namespace: string): string | undefined {
  if (namespace === '') return 'must not be empty';
  if (namespace.length > 63) return 'must be at most 63 characters';
  if (!DNS_LABEL.test(namespace)) return `${JSON.stringify(namespace)} is not a valid namespace (lowercase letters, digits and '-')`;
  return undefined;
}

/**
 * The distribution reference grammar for a repository name (no tag, no digest): an optional
 * registry host with port, then lowercase path components joined by `/`. Kept identical to the
 * `spec.image` pattern in the CRD. IPv6 registry literals are not accepted.
 */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REGISTRY_HOST = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
export const IMAGE_REPOSITORY_PATTERN = `^(?:${REGISTRY_HOST}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`;
const IMAGE_REPOSITORY = new RE2(IMAGE_REPOSITORY_PATTERN);
const MAX_IMAGE_LENGTH = 255;

export function imageProblem(image: string): string | undefined {
  if (image === '') return 'must not be empty';
  if (image.startsWith('-')) return 'must not start with "-"';
  if (/\s/.test(image)) return 'must not contain whitespace';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(image)) {
    return `${JSON.stringify(image)} must not include a scheme; write host/path, and set insecure: true for plain HTTP`;
  }
  if (image.includes('@')) return `${JSON.stringify(image)} must not include a digest; name the repository only`;
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  if (lastPart.includes(':')) {
    const tag = JSON.stringify(lastPart.slice(lastPart.indexOf(':')));
    return `${JSON.stringify(image)} must not include a tag (${tag}); the policy chooses the tag`;
  }
  if (image.length > MAX_IMAGE_LENGTH) return `must be at most ${MAX_IMAGE_LENGTH} characters`;
  if (!IMAGE_REPOSITORY.test(image)) {
    const grammar = 'lowercase path components separated by "/", optionally behind a registry host[:port]';
    return `${JSON.stringify(image)} is not a valid image repository (${grammar})`;
  }
  return undefined;
}

/**
 * A full commit object name: SHA-1 (40 hex digits) or SHA-256 (64). Kept identical to the
 * `git.commit` pattern in the ContinuousDeployment CRD, so the API server and the agent accept
 * the same values. Abbreviated SHAs are refused: a fetch needs the full object name (as in Flux).
 */
export const COMMIT_SHA_PATTERN = '^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$';
const COMMIT_SHA = new RegExp(COMMIT_SHA_PATTERN);
export const COMMIT_SHA_HINT = 'give the full commit SHA: 40 hex digits (SHA-1) or 64 (SHA-256), as `git rev-parse <ref>` prints it';

export function commitProblem(commit: string): string | undefined {
  if (COMMIT_SHA.test(commit)) return undefined;
  if (commit === '') return 'must not be empty';
  if (/^[0-9a-fA-F]{4,39}$/.test(commit))
    return `${JSON.stringify(commit)} is an abbreviated commit SHA; the full SHA is needed to fetch it`;
  if (/^[0-9a-fA-F]+$/.test(commit))
    return `${JSON.stringify(commit)} has ${commit.length} hex digits; a commit SHA has 40 (SHA-1) or 64 (SHA-256)`;
  return `${JSON.stringify(commit)} is not a commit SHA (40 or 64 hex digits)`;
}
