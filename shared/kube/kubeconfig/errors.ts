import { terminal, transient } from '../../errors/index.ts';
import type { TidemarkError } from '../../errors/index.ts';

/** The kubeconfig is wrong or asks for something Tidemark will not do; a human must change it. */
export function invalidKubeconfig(message: string, hint?: string, cause?: unknown): TidemarkError {
  return terminal('InvalidKubeconfig', message, hint, cause);
}

/** A credential plugin failed this time; the next attempt may succeed. */
export function credentialsFailed(message: string, cause?: unknown): TidemarkError {
  return transient('KubeCredentialsFailed', message, cause);
}
