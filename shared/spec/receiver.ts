import { API_VERSION } from '../api/constants.ts';
import { RECEIVER_TARGET_KINDS, RECEIVER_TYPES, type ReceiverTargetKind, type ReceiverType } from '../api/receiver.ts';
import { namespaceProblem, objectNameProblem } from './names.ts';
import { checkKnownFields, isObject, Problems, SPEC_PATHS, type FieldPaths, type Validated } from './problems.ts';
import { describe, readBoolean, readSecretRef, readString, readStringMap } from './read.ts';

/** One `spec.resources` entry, checked: the namespace is filled in from the Receiver. */
export interface ReceiverTarget {
  kind: ReceiverTargetKind;
  /** A name, or `*` for every object of the kind in the namespace that `matchLabels` selects. */
  name: string;
  namespace: string;
  matchLabels: Record<string, string>;
}

/** A Receiver spec, checked and defaulted. */
export interface ReceiverConfig {
  type: ReceiverType;
  /** Event names a call must carry; empty: every event. */
  events: string[];
  secretRef: string;
  resources: ReceiverTarget[];
  suspend: boolean;
}

export const RECEIVER_FIELDS = ['type', 'events', 'secretRef', 'resources', 'suspend'];
export const RECEIVER_RESOURCE_FIELDS = ['apiVersion', 'kind', 'name', 'namespace', 'matchLabels'];
/** Each call may patch every target; more belong in a label selector. */
export const MAX_RECEIVER_RESOURCES = 64;
export const MAX_RECEIVER_EVENTS = 32;

/**
 * Reads a Receiver's spec (Flux's shape). `namespace` is the Receiver's: targets default to it,
 * and with `noCrossNamespaceRefs` they must stay in it.
 */
export function validateReceiverSpec(
  spec: unknown,
  namespace: string,
  options: { noCrossNamespaceRefs?: boolean } = {},
  paths: FieldPaths = SPEC_PATHS,
): Validated<ReceiverConfig> {
  const problems = new Problems(paths);
  if (!isObject(spec)) {
    problems.add('', `must be an object, not ${describe(spec)}`);
    return problems.result(() => undefined as never);
  }
  checkKnownFields(problems, '', spec, RECEIVER_FIELDS);

  const typeText = readString(problems, spec, 'type', { required: true });
  let type: ReceiverType | undefined;
  if (typeText !== undefined) {
    if ((RECEIVER_TYPES as readonly string[]).includes(typeText)) type = typeText as ReceiverType;
    else problems.add('type', `${JSON.stringify(typeText)} is not a receiver type`, `one of ${RECEIVER_TYPES.join(', ')}`);
  }
  const events = readEvents(problems, spec.events);
  const secretRef = readSecretRef(problems, spec, 'secretRef');
  if (spec.secretRef === undefined || spec.secretRef === null) {
    problems.add('secretRef', 'is required', 'a Secret in this namespace with the key "token": the shared secret of the webhook');
  }
  const resources = readResources(problems, spec.resources, namespace, options.noCrossNamespaceRefs === true);
  const suspend = readBoolean(problems, spec, 'suspend');

  return problems.result(() => ({
    type: type as ReceiverType,
    events,
    secretRef: secretRef as string,
    resources,
    suspend,
  }));
}

function readEvents(problems: Problems, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add('events', `must be a list of event names, not ${describe(value)}`, 'e.g. events: [push, ping]');
    return [];
  }
  if (value.length > MAX_RECEIVER_EVENTS) {
    problems.add('events', `has ${value.length} entries; at most ${MAX_RECEIVER_EVENTS} are allowed`);
    return [];
  }
  const out: string[] = [];
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string' || entry === '' || entry.length > 128) problems.add(`events[${i}]`, 'must be a non-empty event name');
    else out.push(entry);
  });
  return out;
}

function readResources(problems: Problems, value: unknown, namespace: string, sameNamespaceOnly: boolean): ReceiverTarget[] {
  const hint = 'e.g. resources: [{kind: ContinuousDeployment, name: web}, {kind: ImageRepository, name: "*", matchLabels: {team: a}}]';
  if (value === undefined || value === null) {
    problems.add('resources', 'is required', hint);
    return [];
  }
  if (!Array.isArray(value) || value.length === 0) {
    problems.add(
      'resources',
      `must be a non-empty list of {kind, name}, not ${Array.isArray(value) ? 'an empty list' : describe(value)}`,
      hint,
    );
    return [];
  }
  if (value.length > MAX_RECEIVER_RESOURCES) {
    problems.add(
      'resources',
      `has ${value.length} entries; at most ${MAX_RECEIVER_RESOURCES} are allowed`,
      'select many objects with name "*" and matchLabels',
    );
    return [];
  }
  const out: ReceiverTarget[] = [];
  value.forEach((entry: unknown, i) => {
    const at = `resources[${i}]`;
    if (!isObject(entry)) {
      problems.add(at, `must be an object {kind, name}, not ${describe(entry)}`, hint);
      return;
    }
    const before = problems.errors.length;
    checkKnownFields(problems, `${at}.`, entry, RECEIVER_RESOURCE_FIELDS);
    const apiVersion = readString(problems, entry, 'apiVersion', { at: `${at}.apiVersion` });
    if (apiVersion !== undefined && apiVersion !== API_VERSION) {
      problems.add(`${at}.apiVersion`, `must be ${API_VERSION}, not ${JSON.stringify(apiVersion)}`);
    }
    const kind = readString(problems, entry, 'kind', { required: true, at: `${at}.kind` });
    if (kind !== undefined && !(RECEIVER_TARGET_KINDS as readonly string[]).includes(kind)) {
      problems.add(`${at}.kind`, `${JSON.stringify(kind)} cannot be asked to reconcile`, `one of ${RECEIVER_TARGET_KINDS.join(', ')}`);
    }
    const name = readString(problems, entry, 'name', { required: true, at: `${at}.name` });
    if (name !== undefined && name !== '*') {
      const problem = objectNameProblem(name);
      if (problem) problems.add(`${at}.name`, problem, 'an object name, or "*" for every object matchLabels selects');
    }
    const targetNamespace = readString(problems, entry, 'namespace', { at: `${at}.namespace` }) ?? namespace;
    const nsProblem = namespaceProblem(targetNamespace);
    if (nsProblem) problems.add(`${at}.namespace`, nsProblem);
    else if (sameNamespaceOnly && targetNamespace !== namespace) {
      problems.add(
        `${at}.namespace`,
        `${JSON.stringify(targetNamespace)} is another namespace, and cross-namespace references are disabled`,
        'move the Receiver to that namespace, or leave namespace out',
      );
    }
    const matchLabels = readStringMap(problems, entry.matchLabels, `${at}.matchLabels`);
    if (Object.keys(matchLabels).length > 0 && name !== undefined && name !== '*') {
      problems.add(`${at}.matchLabels`, 'selects objects only with name "*"', 'set name: "*" to select by labels, or drop matchLabels');
    }
    if (problems.errors.length > before) return;
    out.push({ kind: kind as ReceiverTargetKind, name: name as string, namespace: targetNamespace, matchLabels });
  });
  return out;
}
