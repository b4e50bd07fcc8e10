/**
 * Where one cluster is and how to talk to it: what a kubeconfig (or the in-cluster service account)
 * resolves to. The REST client needs nothing else.
 */
export interface KubeConnection {
  /** API server URL without a trailing slash; may carry a path prefix (a proxy's). */
  server: string;
  /** The cluster's name in the kubeconfig (status.location.cluster of a remote target). */
  clusterName: string;
  /** The context used, when one was. */
  contextName: string | undefined;
  /** The context's namespace, or the service account's. */
  namespace: string | undefined;
  tls: TlsMaterial;
  /** Impersonate-* headers from the user's `as`, `as-uid`, `as-groups`, `as-user-extra`. */
  headers: Readonly<Record<string, string | string[]>>;
  auth: KubeAuth;
}

/** PEM text, never paths: files were read when the kubeconfig was loaded. */
export interface TlsMaterial {
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  /** tls-server-name: the name to check the server's certificate against. */
  serverName: string | undefined;
  /** False only for insecure-skip-tls-verify. */
  rejectUnauthorized: boolean;
}

/** Produces what to send with each request; a token file or a plugin may change it over time. */
export interface KubeAuth {
  /** How the credentials are found: `plugin` is exec or auth-provider through client-node. */
  readonly kind: 'none' | 'static' | 'token-file' | 'basic' | 'plugin';
  credentials(): Promise<KubeCredentials>;
}

export interface KubeCredentials {
  /** The Authorization header value. */
  authorization?: string | undefined;
  /** A client certificate an exec plugin returned; it replaces the kubeconfig's. */
  cert?: string | undefined;
  key?: string | undefined;
}
