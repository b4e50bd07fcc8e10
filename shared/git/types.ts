import type { Logger } from '../log/index.ts';

/**
 * How Tidemark authenticates to a Git server. Exactly one of the three shapes; `caFile` (PEM text)
 * adds a trusted CA for HTTPS servers with a private certificate authority.
 */
export type GitCredentials =
  | { username: string; password: string; caFile?: string }
  | { bearerToken: string; caFile?: string }
  | {
      /** Private key text (OpenSSH or PEM). */
      identity: string;
      /** known_hosts lines for the server; required, host keys are always checked. */
      knownHosts: string;
      /** Passphrase of an encrypted identity. */
      passphrase?: string;
      caFile?: string;
    }
  | { caFile: string };

/** What to follow in a repository; the first set of commit, semver, tag, branch wins (Flux's order). */
export interface GitRefSpec {
  branch?: string;
  tag?: string;
  semver?: string;
  commit?: string;
}

export interface ResolvedRevision {
  /** Human name of what was resolved: `main`, `v1.2.0`, or the branch a commit was pinned on. Empty for a bare commit. */
  ref: string;
  /** The commit the ref points at (annotated tags peeled). */
  sha: string;
  /** Flux's revision format: `main@sha1:<sha>`, or `sha1:<sha>` for a bare commit. */
  revision: string;
  /**
   * False only for a pinned commit that the server does not advertise as a ref tip: it is taken as
   * given and proven when it is fetched.
   */
  verified: boolean;
  /** A Git source's chart from a Helm repository (spec.helm.chart), resolved with the commit: what the render must use. */
  chart?: { version: string; digest: string } | undefined;
}

/** Options every operation takes. */
export interface GitOperationOptions {
  /** Whole-operation deadline; the git process is killed when it passes. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
  /**
   * Observes the argv of every git process about to be spawned (diagnostics and tests). The argv
   * never holds credentials: they travel in the child's environment only.
   */
  onCommand?: ((args: readonly string[]) => void) | undefined;
  /**
   * Send a username/password or bearer token over plain http:// (spec.insecure). Without it they
   * go only over https://, or http:// to a loopback host; anything else fails with
   * GitInsecureCredentials before git starts.
   */
  allowInsecureHttp?: boolean | undefined;
}

export interface GitAuthor {
  name: string;
  email: string;
}
