import type { KubeObject } from '../../shared/kube/object.ts';
import { findCondition, int, list, rec, result, str } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * Argo CD's pod rules. Waiting reasons that signal a failure (CrashLoopBackOff, ImagePullBackOff,
 * ErrImagePull, CreateContainerConfigError, ...) make the pod Degraded only when it restarts
 * forever (restartPolicy Always): a pod meant to run once may still succeed once the image
 * appears. Unlike Argo, init containers count too, or a pod whose init container crash-loops
 * would stay Pending (Progressing) forever.
 */
export function podHealth(obj: KubeObject): HealthResult {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  const restartPolicy = str(spec?.restartPolicy) ?? 'Always';
  const containers = list(status?.containerStatuses)
    .map(rec)
    .filter((c) => c !== undefined);
  const initContainers = list(status?.initContainerStatuses)
    .map(rec)
    .filter((c) => c !== undefined);
  const podMessage = str(status?.message);

  if (restartPolicy === 'Always') {
    const failing: string[] = [];
    for (const c of [...initContainers, ...containers]) {
      const waiting = rec(rec(c.state)?.waiting);
      const reason = str(waiting?.reason) ?? '';
      if (reason.startsWith('Err') || reason.endsWith('Error') || reason.endsWith('BackOff')) {
        // Argo's message is the kubelet's own ("Back-off pulling image ..."); without one, say which and why.
        failing.push(str(waiting?.message) || `${str(c.name) ?? 'container'}: ${reason}`);
      }
    }
    if (failing.length > 0) return result('Degraded', failing.join(', '));
  }

  switch (str(status?.phase)) {
    case 'Pending':
      return result('Progressing', podMessage || pendingReason(status));
    case 'Succeeded':
      return result('Healthy', podMessage);
    case 'Failed':
      return result('Degraded', podMessage || [...initContainers, ...containers].map(failMessage).find((m) => m !== undefined));
    case 'Running':
      if (restartPolicy !== 'Always') return result('Progressing', podMessage);
      if (findCondition(status, 'Ready')?.status === 'True') return result('Healthy', podMessage);
      // Not ready and a container has already died once: it is not just starting up.
      if (containers.some((c) => rec(rec(c.lastState)?.terminated) !== undefined))
        return result('Degraded', podMessage || notReady(status));
      return result('Progressing', podMessage || notReady(status));
    default:
      return result('Unknown', podMessage);
  }
}

function failMessage(c: Record<string, unknown>): string | undefined {
  const terminated = rec(rec(c.state)?.terminated);
  if (!terminated) return undefined;
  const message = str(terminated.message);
  if (message) return message;
  if (str(terminated.reason) === 'OOMKilled') return 'OOMKilled';
  const exitCode = int(terminated.exitCode) ?? 0;
  return exitCode !== 0 ? `container "${str(c.name) ?? ''}" failed with exit code ${exitCode}` : undefined;
}

/** The scheduler's reason a pod is still pending ("0/3 nodes are available: ..."), when it gave one. */
function pendingReason(status: Record<string, unknown> | undefined): string | undefined {
  const scheduled = findCondition(status, 'PodScheduled');
  return scheduled?.status === 'False' ? scheduled.message || scheduled.reason : undefined;
}

function notReady(status: Record<string, unknown> | undefined): string | undefined {
  const ready = findCondition(status, 'ContainersReady') ?? findCondition(status, 'Ready');
  return ready && ready.status !== 'True' ? ready.message || ready.reason : undefined;
}
