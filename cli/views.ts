import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import type { ImagePolicy, ImageRepository } from '../shared/api/image.ts';
import { age, renderTable, shortRevision } from './table.ts';

/** The KubeSphere list: Name, Health, Sync, Location, Revision, Updated. */
export function cdTable(items: readonly ContinuousDeployment[], options: { nowMs: number; allNamespaces: boolean }): string {
  const headers = [...(options.allNamespaces ? ['namespace'] : []), 'name', 'health', 'sync', 'location', 'revision', 'updated', 'ready'];
  const rows = items.map((cd) => {
    const ready = cd.status?.conditions?.find((c) => c.type === 'Ready');
    const location = cd.status?.location;
    return [
      ...(options.allNamespaces ? [cd.metadata.namespace ?? ''] : []),
      cd.metadata.name,
      cd.spec.suspend ? 'Suspended' : (cd.status?.health?.status ?? 'Unknown'),
      cd.status?.sync?.status ?? 'Unknown',
      location ? `${location.cluster}/${location.namespace ?? ''}` : '',
      shortRevision(cd.status?.sync?.revision),
      cd.status?.lastSyncTime ? age(cd.status.lastSyncTime, options.nowMs) : '-',
      ready ? (ready.status === 'True' ? 'True' : `${ready.status} (${ready.reason})`) : 'Unknown',
    ];
  });
  return renderTable(headers, rows);
}

export function imagesTable(
  repositories: readonly ImageRepository[],
  policies: readonly ImagePolicy[],
  options: { nowMs: number; allNamespaces: boolean },
): string {
  const ns = (o: { metadata: { namespace?: string } }) => (options.allNamespaces ? [o.metadata.namespace ?? ''] : []);
  const repoRows = repositories.map((r) => [
    ...ns(r),
    `imagerepository/${r.metadata.name}`,
    r.spec.image,
    String(r.status?.lastScanResult?.tagCount ?? '-'),
    r.status?.lastScanResult?.scanTime ? age(r.status.lastScanResult.scanTime, options.nowMs) : '-',
    readyOf(r.status?.conditions),
  ]);
  const policyRows = policies.map((p) => [
    ...ns(p),
    `imagepolicy/${p.metadata.name}`,
    p.status?.latestRef ? `${p.status.latestRef.name}:${p.status.latestRef.tag}` : '-',
    '',
    '',
    readyOf(p.status?.conditions),
  ]);
  const headers = [...(options.allNamespaces ? ['namespace'] : []), 'name', 'image / latest', 'tags', 'scanned', 'ready'];
  return renderTable(headers, [...repoRows, ...policyRows]);
}

/** `tidemark status`: about, source, sync and health with messages, the resources, recent Events. */
export function cdStatus(
  cd: ContinuousDeployment,
  events: ReadonlyArray<{ type: string; reason: string; message: string; lastTimestamp?: string | undefined }>,
  nowMs: number,
): string {
  const s = cd.status ?? {};
  const ref = cd.spec.git ?? {};
  const refText = ref.commit
    ? `commit ${ref.commit}`
    : ref.tag
      ? `tag ${ref.tag}`
      : ref.semver
        ? `semver ${ref.semver}`
        : `branch ${ref.branch ?? 'main'}`;
  const ready = s.conditions?.find((c) => c.type === 'Ready');
  const out: string[] = [];
  out.push(`About:`);
  out.push(`  Name:       ${cd.metadata.name}`);
  out.push(`  Namespace:  ${cd.metadata.namespace ?? ''}`);
  out.push(`  Created:    ${age(cd.metadata.creationTimestamp, nowMs)} ago`);
  out.push(`Source:`);
  out.push(`  URL:        ${cd.spec.url}`);
  out.push(`  Ref:        ${refText}`);
  out.push(`  Path:       ${cd.spec.path ?? './'}`);
  out.push(`  Interval:   ${cd.spec.pullInterval ?? '5m'}${cd.spec.suspend ? ' (suspended)' : ''}`);
  out.push(
    `  Sync mode:  ${cd.spec.syncPolicy?.manual ? 'manual' : 'automatic'}${cd.spec.syncPolicy?.selfHeal === false ? ', no self-heal' : ''}`,
  );
  out.push(`Status:`);
  out.push(`  Sync:       ${s.sync?.status ?? 'Unknown'}  ${s.sync?.revision ?? ''}`.trimEnd());
  out.push(`  Health:     ${s.health?.status ?? 'Unknown'}${s.health?.message ? `  ${s.health.message}` : ''}`);
  out.push(`  Ready:      ${ready ? `${ready.status} ${ready.reason}: ${ready.message}` : 'Unknown'}`);
  out.push(`  Applied:    ${s.lastAppliedRevision ?? '-'}${s.lastSyncTime ? ` (${age(s.lastSyncTime, nowMs)} ago)` : ''}`);
  out.push(`  Location:   ${s.location ? `${s.location.cluster}/${s.location.namespace ?? ''}` : '-'}`);
  if (s.syncWindow) out.push(`  Window:     ${s.syncWindow.blocked ? 'blocked' : 'open'}: ${s.syncWindow.message ?? ''}`);
  out.push(`Resources:`);
  const resources = s.resources ?? [];
  if (resources.length === 0) out.push('  (none)');
  else {
    const table = renderTable(
      ['kind', 'namespace', 'name', 'sync', 'health', 'message'],
      resources.map((r) => [r.kind, r.namespace ?? '', r.name, r.status, r.health?.status ?? '', r.message ?? r.health?.message ?? '']),
    );
    out.push(
      ...table
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  const checks = s.healthChecks ?? [];
  if (checks.length > 0) {
    out.push(`Health checks:`);
    const table = renderTable(
      ['kind', 'namespace', 'name', 'health', 'message'],
      checks.map((c) => [c.kind, c.namespace ?? '', c.name, c.health.status, c.health.message ?? '']),
    );
    out.push(
      ...table
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  out.push(`Events:`);
  if (events.length === 0) out.push('  (none)');
  else {
    const table = renderTable(
      ['type', 'reason', 'age', 'message'],
      events.map((e) => [e.type, e.reason, age(e.lastTimestamp, nowMs), e.message]),
    );
    out.push(
      ...table
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  return out.join('\n') + '\n';
}

function readyOf(conditions: ReadonlyArray<{ type: string; status: string; reason: string }> | undefined): string {
  const ready = conditions?.find((c) => c.type === 'Ready');
  if (!ready) return 'Unknown';
  return ready.status === 'True' ? 'True' : `${ready.status} (${ready.reason})`;
}
