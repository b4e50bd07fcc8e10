import type { RenderLimitOptions } from './render/index.ts';
import { renderPath } from './render/index.ts';
import type { Renderer } from './types.ts';
import type { ChartRegistry } from './render/chart-oci.ts';

export interface RendererOptions {
  kustomizeCommand?: string[] | undefined;
  /** The helm executable for charts (`--helm-binary`); default `helm` on PATH. */
  helmBinary?: string | undefined;
  /** The registry client for charts from OCI registries. */
  registry?: ChartRegistry | undefined;
  /** The render deadline when a call gives none (a call passes its deployment's spec.timeout). */
  timeoutMs?: number | undefined;
  /** Files, bytes and objects one render may take; defaults in agent/render/limits.ts. */
  limits?: RenderLimitOptions | undefined;
}

/** The agent's renderer: plain YAML natively, kustomizations through kustomize, charts through helm. */
export function createRenderer(options: RendererOptions): Renderer {
  return async (checkoutDir, path, signal, timeoutMs, request) => {
    const rendered = await renderPath(checkoutDir, path, {
      kustomize: { command: options.kustomizeCommand },
      helm: { binary: options.helmBinary, registry: options.registry },
      chart: request?.chart,
      report: request?.report,
      limits: { ...options.limits, timeoutMs: timeoutMs ?? options.timeoutMs ?? options.limits?.timeoutMs },
      signal,
    });
    return rendered.map((r) => r.object);
  };
}
