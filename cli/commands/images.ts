import type { ImagePolicy, ImageRepository } from '../../shared/api/image.ts';
import { API_VERSION } from '../../shared/api/constants.ts';
import type { CliContext } from '../context.ts';
import { Exit } from '../context.ts';
import { imagesTable } from '../views.ts';
import { print } from './cd.ts';

export async function getImages(ctx: CliContext): Promise<number> {
  const ns = ctx.allNamespaces ? '' : `/namespaces/${encodeURIComponent(ctx.namespace)}`;
  const [repos, policies] = await Promise.all([
    ctx.kube.rest.request<{ items: ImageRepository[] }>({
      method: 'GET',
      path: `/apis/${API_VERSION}${ns}/imagerepositories`,
    }),
    ctx.kube.rest.request<{ items: ImagePolicy[] }>({ method: 'GET', path: `/apis/${API_VERSION}${ns}/imagepolicies` }),
  ]);
  const byName = <T extends { metadata: { namespace?: string; name: string } }>(a: T, b: T) =>
    `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`);
  const r = [...repos.items].sort(byName);
  const p = [...policies.items].sort(byName);
  print(ctx, { repositories: r, policies: p }, () => imagesTable(r, p, { nowMs: ctx.nowMs(), allNamespaces: ctx.allNamespaces }));
  return Exit.ok;
}
