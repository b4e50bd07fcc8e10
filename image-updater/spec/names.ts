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
export const IMAGE_REPOSITORY_PATTERN = `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`;
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
    return `${JSON.stringify(image)} must not include a tag (${JSON.stringify(lastPart.slice(lastPart.indexOf(':')))}); the policy chooses the tag`;
  }
  if (image.length > MAX_IMAGE_LENGTH) return `must be at most ${MAX_IMAGE_LENGTH} characters`;
  if (!IMAGE_REPOSITORY.test(image)) {
    return `${JSON.stringify(image)} is not a valid image repository (lowercase path components separated by "/", optionally behind a registry host[:port])`;
  }
  return undefined;
}
