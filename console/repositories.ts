import type { GitCredentials } from '../shared/git/types.ts';
import { validateCredentials } from '../shared/git/credentials.ts';
import { validateRepositoryUrl } from '../shared/git/validate.ts';
import { isTidemarkError } from '../shared/errors/index.ts';
import { isObject } from '../shared/kube/object.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import { namespaceProblem, objectNameProblem } from '../shared/spec/names.ts';
import type { FieldProblem } from './edit.ts';

/**
 * KubeSphere's code repositories, kept as Secrets: the label marks one, an annotation holds the
 * URL, and the data holds the credential under the agent's own key names, so a deployment's
 * `spec.secretRef` can name the same Secret.
 */
export const RepositoryLabel = 'tidemark.dev/code-repository';
export const RepositoryUrlAnnotation = 'tidemark.dev/repository-url';

export type CredentialKind = 'none' | 'basic' | 'token' | 'ssh';

/** A repository as the browser sees it: never a credential's value, only which kind it is. */
export interface RepositoryView {
  namespace: string;
  name: string;
  url: string;
  credential: CredentialKind;
  created: string;
}

/** Which credential a Secret's data holds, by its keys alone. */
export function credentialKind(keys: readonly string[]): CredentialKind {
  if (keys.includes('identity')) return 'ssh';
  if (keys.includes('bearerToken')) return 'token';
  if (keys.includes('username') || keys.includes('password')) return 'basic';
  return 'none';
}

export function repositoryView(secret: KubeObject): RepositoryView {
  const data = isObject(secret.data) ? secret.data : {};
  return {
    namespace: secret.metadata.namespace ?? '',
    name: secret.metadata.name,
    url: secret.metadata.annotations?.[RepositoryUrlAnnotation] ?? '',
    credential: credentialKind(Object.keys(data)),
    created: secret.metadata.creationTimestamp ?? '',
  };
}

/**
 * The import form read into the Secret to create: name, namespace, a URL git may use, and a
 * credential git can carry over that URL — every problem at once, by field.
 */
export function readRepositoryImport(input: unknown): { ok: true; secret: KubeObject } | { ok: false; problems: FieldProblem[] } {
  const body = isObject(input) ? input : {};
  const text = (key: string) => (typeof body[key] === 'string' ? body[key] : '');
  const problems: FieldProblem[] = [];
  const name = text('name').trim();
  const namespace = text('namespace').trim();
  const url = text('url').trim();
  const nameProblem = name === '' ? 'is required' : objectNameProblem(name);
  if (nameProblem) problems.push({ field: 'name', message: nameProblem });
  const namespaceText = namespace === '' ? 'is required' : namespaceProblem(namespace);
  if (namespaceText) problems.push({ field: 'namespace', message: namespaceText });
  let kind: ReturnType<typeof validateRepositoryUrl>['kind'] | undefined;
  try {
    kind = validateRepositoryUrl(url).kind;
  } catch (err) {
    problems.push({ field: 'url', message: isTidemarkError(err) ? err.message : 'is not a repository URL' });
  }
  const credential = text('credential') || 'none';
  const data: Record<string, string> = {};
  let creds: GitCredentials | undefined;
  const need = (key: string, field: string) => {
    const value = text(key);
    if (value === '') problems.push({ field, message: 'is required' });
    return value;
  };
  if (credential === 'basic') {
    creds = { username: need('username', 'username'), password: need('password', 'password') };
    Object.assign(data, creds);
  } else if (credential === 'token') {
    creds = { bearerToken: need('bearerToken', 'bearerToken') };
    Object.assign(data, creds);
  } else if (credential === 'ssh') {
    creds = { identity: need('identity', 'identity'), knownHosts: need('knownHosts', 'knownHosts') };
    Object.assign(data, { identity: creds.identity, known_hosts: creds.knownHosts });
  } else if (credential !== 'none') {
    problems.push({ field: 'credential', message: 'must be none, basic, token or ssh' });
  }
  if (kind && problems.length === 0) {
    try {
      validateCredentials(creds, kind);
    } catch (err) {
      problems.push({ field: 'credential', message: isTidemarkError(err) ? err.message : 'cannot be used with this URL' });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, labels: { [RepositoryLabel]: 'true' }, annotations: { [RepositoryUrlAnnotation]: url } },
      type: 'Opaque',
      stringData: data,
    },
  };
}
