import { PROVIDER_TYPES, type ProviderType } from '../api/alerting.ts';
import { checkKnownFields, isObject, Problems, SPEC_PATHS, type FieldPaths, type Validated } from './problems.ts';
import { describe, readBoolean, readDuration, readSecretRef, readString } from './read.ts';

/** A Provider spec, checked and defaulted. The address may instead come from the Secret (`address` key), as in Flux. */
export interface ProviderConfig {
  type: ProviderType;
  address: string | undefined;
  channel: string | undefined;
  username: string | undefined;
  /** Keys read: `address`, `token` (Bearer or the provider's own), `username`/`password`. */
  secretRef: string | undefined;
  timeoutMs: number;
  suspend: boolean;
}

export const PROVIDER_FIELDS = ['type', 'address', 'channel', 'username', 'secretRef', 'timeout', 'suspend'];
const DEFAULT_TIMEOUT = '15s';
const MAX_TIMEOUT = { ms: 60_000, hint: 'a provider that needs longer than a minute is down; the alert is retried later' };

export function validateProviderSpec(spec: unknown, paths: FieldPaths = SPEC_PATHS): Validated<ProviderConfig> {
  const problems = new Problems(paths);
  if (!isObject(spec)) {
    problems.add('', `must be an object, not ${describe(spec)}`);
    return problems.result(() => undefined as never);
  }
  checkKnownFields(problems, '', spec, PROVIDER_FIELDS);
  const typeText = readString(problems, spec, 'type', { required: true });
  let type: ProviderType | undefined;
  if (typeText !== undefined) {
    if ((PROVIDER_TYPES as readonly string[]).includes(typeText)) type = typeText as ProviderType;
    else problems.add('type', `${JSON.stringify(typeText)} is not a provider type`, `one of ${PROVIDER_TYPES.join(', ')}`);
  }
  const address = readString(problems, spec, 'address');
  if (address !== undefined) {
    const problem = addressProblem(address);
    if (problem) problems.add('address', problem, 'e.g. https://hooks.slack.com/services/…, or put it in the Secret under "address"');
  }
  const channel = readString(problems, spec, 'channel');
  const username = readString(problems, spec, 'username');
  const secretRef = readSecretRef(problems, spec, 'secretRef');
  if (address === undefined && secretRef === undefined && spec.secretRef === undefined) {
    problems.add('address', 'is required (or an "address" key in the Secret spec.secretRef names)', 'the webhook or API URL to post to');
  }
  const timeoutMs = readDuration(problems, spec, 'timeout', DEFAULT_TIMEOUT, { max: MAX_TIMEOUT });
  const suspend = readBoolean(problems, spec, 'suspend');
  return problems.result(() => ({
    type: type as ProviderType,
    address,
    channel,
    username,
    secretRef,
    timeoutMs: timeoutMs as number,
    suspend,
  }));
}

/** http(s) only, no credentials in the URL (they belong in the Secret, where logs never show them). */
export function addressProblem(address: string): string | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return `${JSON.stringify(address.slice(0, 200))} is not a URL`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be an http(s) URL, not ${url.protocol}`;
  if (url.username || url.password) return 'must not carry credentials; put them in the Secret (token, or username and password)';
  return undefined;
}
