import type { Renderer } from './types.ts';
import { renderPath } from './render/index.ts';

/** The agent's renderer: plain YAML natively, kustomizations through the kustomize executable. */
export function createRenderer(options: { kustomizeCommand?: string[] | undefined; timeoutMs?: number | undefined }): Renderer {
  return async (checkoutDir, path, signal) => {
    const rendered = await renderPath(checkoutDir, path, {
      kustomize: { command: options.kustomizeCommand, timeoutMs: options.timeoutMs, signal },
    });
    return rendered.map((r) => r.object);
  };
}
