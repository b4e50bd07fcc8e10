import { stringify } from 'yaml';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { Annotations, API_VERSION } from '../../shared/api/constants.ts';
import { redactUrlPassword } from '../../shared/git/errors.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import type { CliContext } from '../context.ts';
import { Exit, UsageError } from '../context.ts';
import { cdStatus, cdTable } from '../views.ts';

const base = `/apis/${API_VERSION}`;

export function cdPath(namespace: string | undefined, name?: string): string {
  const ns = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${base}${ns}/continuousdeployments${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export function print(ctx: CliContext, value: unknown, table: () => string): void {
  if (ctx.output === 'json') ctx.out(`${JSON.stringify(value, null, 2)}\n`);
  else if (ctx.output === 'yaml') ctx.out(stringify(value));
  else ctx.out(table());
}

export async function getCds(ctx: CliContext): Promise<number> {
  const name = ctx.positionals[0];
  if (name) {
    const read = await readCd(ctx, name);
    if (!read) return Exit.notFound;
    const cd = forDisplay(read);
    print(ctx, cd, () => cdTable([cd], { nowMs: ctx.nowMs(), allNamespaces: false }));
    return Exit.ok;
  }
  const list = await ctx.kube.rest.request<{ items: ContinuousDeployment[] }>({
    method: 'GET',
    path: cdPath(ctx.allNamespaces ? undefined : ctx.namespace),
  });
  const items = list.items
    .map(forDisplay)
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  if (ctx.output === 'table' && items.length === 0) {
    ctx.err(ctx.allNamespaces ? 'No ContinuousDeployments found.\n' : `No ContinuousDeployments found in ${ctx.namespace}.\n`);
    return Exit.ok;
  }
  print(ctx, { apiVersion: 'v1', kind: 'List', items }, () => cdTable(items, { nowMs: ctx.nowMs(), allNamespaces: ctx.allNamespaces }));
  return Exit.ok;
}

export async function status(ctx: CliContext): Promise<number> {
  const name = requireName(ctx);
  const read = await readCd(ctx, name);
  if (!read) return Exit.notFound;
  const cd = forDisplay(read);
  const events = await recentEvents(ctx, cd);
  print(ctx, { status: cd.status ?? {}, events }, () => cdStatus(cd, events, ctx.nowMs()));
  const ready = cd.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' ? Exit.ok : Exit.failed;
}

export async function setSuspend(ctx: CliContext, suspend: boolean): Promise<number> {
  const name = requireName(ctx);
  if (!(await readCd(ctx, name))) return Exit.notFound;
  await ctx.kube.rest.request({
    method: 'PATCH',
    path: cdPath(ctx.namespace, name),
    contentType: 'application/merge-patch+json',
    body: { spec: { suspend } },
  });
  ctx.out(`${suspend ? 'suspended' : 'resumed'} continuousdeployment ${ctx.namespace}/${name}\n`);
  if (!suspend) await requestSync(ctx, name);
  return Exit.ok;
}

/** Writes the requestedAt annotation, the same trigger the image updater uses after a push. */
export async function requestSync(ctx: CliContext, name: string): Promise<string> {
  const stamp = new Date(ctx.nowMs()).toISOString();
  await ctx.kube.rest.request({
    method: 'PATCH',
    path: cdPath(ctx.namespace, name),
    contentType: 'application/merge-patch+json',
    body: { metadata: { annotations: { [Annotations.requestedAt]: stamp, [Annotations.requestedBy]: 'cli' } } },
  });
  return stamp;
}

export async function sync(ctx: CliContext): Promise<number> {
  const name = requireName(ctx);
  if (!(await readCd(ctx, name))) return Exit.notFound;
  const stamp = await requestSync(ctx, name);
  ctx.out(`sync requested for continuousdeployment ${ctx.namespace}/${name}\n`);
  if (!ctx.flags.wait) return Exit.ok;
  const timeoutMs = ctx.flags.timeout ? parseTimeout(String(ctx.flags.timeout)) : 5 * 60_000;
  const deadline = ctx.nowMs() + timeoutMs;
  let lastLine = '';
  for (;;) {
    const cd = await readCd(ctx, name);
    if (!cd) return Exit.notFound;
    const ready = cd.status?.conditions?.find((c) => c.type === 'Ready');
    const line = `${cd.status?.sync?.status ?? 'Unknown'} ${cd.status?.health?.status ?? 'Unknown'}: ${ready?.message ?? 'waiting'}`;
    if (line !== lastLine) ctx.out(`  ${line}\n`);
    lastLine = line;
    if (cd.status?.lastHandledRequestedAt === stamp) {
      const done = ready?.status === 'True';
      ctx.out(done ? `✔ synced ${cd.status?.sync?.revision ?? ''}\n` : `✗ sync failed: ${ready?.reason ?? 'Unknown'}\n`);
      return done ? Exit.ok : Exit.failed;
    }
    if (ctx.nowMs() > deadline) {
      ctx.err(`timed out waiting for the sync of ${ctx.namespace}/${name}\n`);
      return Exit.failed;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * The deployment as the CLI prints it: a password in spec.url shown as `***`. The agent refuses
 * such a URL (credentials belong in the Git secret), so the value is of no use on screen, and
 * terminals, CI logs and pasted bug reports are where it would travel on.
 */
export function forDisplay(cd: ContinuousDeployment): ContinuousDeployment {
  const url = redactUrlPassword(cd.spec.url);
  return url === cd.spec.url ? cd : { ...cd, spec: { ...cd.spec, url } };
}

export async function readCd(ctx: CliContext, name: string): Promise<ContinuousDeployment | undefined> {
  try {
    return await ctx.kube.rest.request<ContinuousDeployment>({ method: 'GET', path: cdPath(ctx.namespace, name) });
  } catch (err) {
    if (isNotFound(err)) {
      ctx.err(`continuousdeployment ${ctx.namespace}/${name} not found\n`);
      return undefined;
    }
    throw err;
  }
}

async function recentEvents(ctx: CliContext, cd: ContinuousDeployment) {
  const list = await ctx.kube.rest.request<{
    items: Array<{
      type: string;
      reason: string;
      message: string;
      lastTimestamp?: string;
      eventTime?: string;
      involvedObject: { kind: string; name: string };
    }>;
  }>({
    method: 'GET',
    path: `/api/v1/namespaces/${encodeURIComponent(ctx.namespace)}/events`,
    query: { fieldSelector: `involvedObject.kind=ContinuousDeployment,involvedObject.name=${cd.metadata.name}` },
  });
  return list.items
    .map((e) => ({ type: e.type, reason: e.reason, message: e.message, lastTimestamp: e.lastTimestamp ?? e.eventTime }))
    .sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''))
    .slice(-10);
}

export function requireName(ctx: CliContext): string {
  const name = ctx.positionals[0];
  if (!name) throw new UsageError('name the ContinuousDeployment');
  return name;
}

function parseTimeout(text: string): number {
  const match = /^(\d+)(s|m)?$/.exec(text);
  if (!match) throw new UsageError(`--timeout ${text}: use seconds or minutes, e.g. 90s or 5m`);
  return Number(match[1]) * (match[2] === 'm' ? 60_000 : 1000);
}
