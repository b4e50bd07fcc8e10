import type { KubeObject } from '../../shared/kube/object.ts';
import { isPlainDirectory } from '../render-cache.ts';
import type { ResolvedRevision } from '../types.ts';
import type { StepContext } from './context.ts';

/** Asks Git for the revision; a commit already rendered needs neither its checkout nor a parse. */
export async function fetchRevision(
  ctx: StepContext,
): Promise<{ resolved: ResolvedRevision; rendered: KubeObject[] | undefined; checkoutDir: string | undefined }> {
  const { input, deps } = ctx;
  const resolved = await deps.source.resolve(input.config, input.auth, deps.signal);
  const rendered = deps.renderCache?.get(resolved.sha, input.config.path);
  if (rendered) return { resolved, rendered, checkoutDir: undefined };
  const checkoutDir = await deps.source.checkout(input.config, input.auth, resolved, deps.signal);
  return { resolved, rendered: undefined, checkoutDir };
}

/** Turns the checkout into desired objects; plain directories are remembered by commit and path. */
export async function renderRevision(ctx: StepContext, resolved: ResolvedRevision, checkoutDir: string): Promise<KubeObject[]> {
  const { input, deps } = ctx;
  const rendered = await deps.render(checkoutDir, input.config.path, deps.signal);
  if (deps.renderCache && (await isPlainDirectory(checkoutDir, input.config.path))) {
    deps.renderCache.set(resolved.sha, input.config.path, rendered);
  }
  return rendered;
}
