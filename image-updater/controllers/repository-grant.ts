import type { AccessFrom } from '../../shared/spec/image-repository.ts';
import { terminal, type TidemarkError } from '../../shared/errors/index.ts';

/**
 * Cross-namespace ImagePolicy references, as Flux gates them: an ImagePolicy may choose from an
 * ImageRepository in another namespace only when the repository grants it with
 * `accessFrom.namespaceSelectors` matching the policy's Namespace labels. Even then the digest is
 * never looked up: that would use the repository's pull secret and CA (its namespace's
 * credentials) on the policy's behalf, so digestReflectionPolicy must be Never across namespaces.
 */
export function repositoryAccessProblem(args: {
  policyNamespace: string;
  repository: { namespace: string; name: string };
  /** Undefined when the repository grants nothing (or its spec does not validate). */
  accessFrom: AccessFrom | undefined;
  /** The policy's Namespace labels. */
  labels: Readonly<Record<string, string>>;
  digestReflection: boolean;
}): TidemarkError | undefined {
  const { policyNamespace, repository, accessFrom, labels } = args;
  if (policyNamespace === repository.namespace) return undefined;
  const where = `ImageRepository ${repository.namespace}/${repository.name}`;
  const matches = (selector: { matchLabels: Record<string, string> }) =>
    Object.entries(selector.matchLabels).every(([key, value]) => labels[key] === value);
  const granted = accessFrom?.namespaceSelectors.some(matches) ?? false;
  if (!granted) {
    return terminal(
      'AccessDenied',
      `${where} does not grant access to ImagePolicies in namespace ${policyNamespace}`,
      `the repository's owner may add spec.accessFrom.namespaceSelectors matching namespace ${policyNamespace}'s labels, ` +
        `or use an ImageRepository in ${policyNamespace}`,
    );
  }
  if (args.digestReflection) {
    return terminal(
      'AccessDenied',
      `digestReflectionPolicy would look up digests with ${where}'s credentials ` +
        `from namespace ${policyNamespace}; refused across namespaces`,
      `set digestReflectionPolicy: Never, or use an ImageRepository in ${policyNamespace} with its own secretRef`,
    );
  }
  return undefined;
}
