import type { KubeObject } from '../../shared/kube/object.ts';
import { isPlainDirectory, type RenderKey } from '../render-cache.ts';
import type { ResolvedRevision } from '../types.ts';
import type { StepContext } from './context.ts';

/** Asks Git for the revision; a commit already rendered needs neither its checkout nor a parse. */
export async function fetchRevision(
  ctx: StepContext,
): Promise<{ resolved: ResolvedRevision; rendered: KubeObject[] | undefined; checkoutDir: string | undefined }> {
  const { input, deps } = ctx;
  const resolved = await deps.source.resolve(input.config, input.auth, deps.signal);
  const rendered = deps.renderCache?.get(renderKey(ctx, resolved));
  if (rendered) return { resolved, rendered, checkoutDir: undefined };
  const checkoutDir = await deps.source.checkout(input.config, input.auth, resolved, deps.signal);
  return { resolved, rendered: undefined, checkoutDir };
}

/** Turns the checkout into desired objects; plain directories are remembered by repository, credentials, commit and path. */
export async function renderRevision(ctx: StepContext, resolved: ResolvedRevision, checkoutDir: string): Promise<KubeObject[]> {
  const { input, deps } = ctx;
  const rendered = await deps.render(checkoutDir, input.config.path, deps.signal);
  if (deps.renderCache && (await isPlainDirectory(checkoutDir, input.config.path))) {
    deps.renderCache.set(renderKey(ctx, resolved), rendered);
  }
  return rendered;
}

/** The repository and credentials are part of the key: a commit SHA from another tenant's repository finds nothing. */
function renderKey(ctx: StepContext, resolved: ResolvedRevision): RenderKey {
  return { url: ctx.input.config.url, credentials: ctx.input.auth, sha: resolved.sha, path: ctx.input.config.path };
}
