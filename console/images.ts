import type { ImagePolicy, ImageRepository } from '../shared/api/image.ts';
import { isObject } from '../shared/kube/object.ts';
import type { KubeObject } from '../shared/kube/object.ts';

/** The Ready condition as the Images page shows it. */
export interface ReadyView {
  status: string;
  reason: string;
  message: string;
}

export interface ImageRepositoryRow {
  namespace: string;
  name: string;
  image: string;
  /** Newest first, as the last scan listed them; at most 5. */
  latestTags: string[];
  tagCount: number | undefined;
  lastScan: string;
  ready: ReadyView | undefined;
}

export interface ImagePolicyRow {
  namespace: string;
  name: string;
  repository: string;
  /** `semver >=1.0.0`, `numerical asc`. */
  policy: string;
  latest: string;
  ready: ReadyView | undefined;
}

export interface ImageAutomationRow {
  namespace: string;
  name: string;
  source: string;
  lastRun: string;
  lastPushCommit: string;
  lastPushTime: string;
  ready: ReadyView | undefined;
}

function readyOf(obj: { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } }) {
  const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
  return ready ? { status: ready.status, reason: ready.reason, message: ready.message } : undefined;
}

export function imageRepositoryRow(obj: KubeObject): ImageRepositoryRow {
  const repo = obj as unknown as ImageRepository;
  const scan = repo.status?.lastScanResult;
  return {
    namespace: repo.metadata.namespace ?? '',
    name: repo.metadata.name,
    image: repo.spec?.image ?? '',
    latestTags: (scan?.latestTags ?? []).slice(0, 5),
    tagCount: scan?.tagCount,
    lastScan: scan?.scanTime ?? '',
    ready: readyOf(repo),
  };
}

export function imagePolicyRow(obj: KubeObject): ImagePolicyRow {
  const policy = obj as unknown as ImagePolicy;
  const ref = policy.spec?.imageRepositoryRef;
  const namespace = policy.metadata.namespace ?? '';
  const latest = policy.status?.latestRef;
  return {
    namespace,
    name: policy.metadata.name,
    repository: ref ? `${ref.namespace ?? namespace}/${ref.name}` : '',
    policy: policyText(policy.spec?.policy),
    latest: latest ? `${latest.name}:${latest.tag}` : '',
    ready: readyOf(policy),
  };
}

/** The one policy chosen, in a few words. */
function policyText(choice: unknown): string {
  if (!isObject(choice)) return '';
  const [kind, settings] = Object.entries(choice)[0] ?? [];
  if (kind === undefined) return '';
  if (!isObject(settings)) return kind;
  const detail = kind === 'semver' ? settings.range : settings.order;
  return typeof detail === 'string' ? `${kind} ${detail}` : kind;
}

export function imageAutomationRow(obj: KubeObject): ImageAutomationRow {
  const spec = isObject(obj.spec) ? obj.spec : {};
  const status = isObject(obj.status) ? obj.status : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const source = isObject(spec.sourceRef) ? text(spec.sourceRef.name) : '';
  return {
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name,
    source,
    lastRun: text(status.lastAutomationRunTime),
    lastPushCommit: text(status.lastPushCommit),
    lastPushTime: text(status.lastPushTime),
    ready: readyOf(obj as { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } }),
  };
}
