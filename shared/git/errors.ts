import { TidemarkError, type Reason } from '../errors/index.ts';

export const GitErrorCode = {
  AuthenticationFailed: 'GitAuthenticationFailed',
  PermissionDenied: 'GitPermissionDenied',
  RepositoryNotFound: 'GitRepositoryNotFound',
  RefNotFound: 'GitRefNotFound',
  Unreachable: 'GitUnreachable',
  PushRejected: 'GitPushRejected',
  RebaseConflict: 'GitRebaseConflict',
  InvalidSpec: 'GitInvalidSpec',
  CommandFailed: 'GitCommandFailed',
  PathOutsideCheckout: 'PathOutsideCheckout',
  RepositoryTooLarge: 'GitRepositoryTooLarge',
  InsecureCredentials: 'GitInsecureCredentials',
  LocalRepositoryNotAllowed: 'GitLocalRepositoryNotAllowed',
  DiskFull: 'DiskFull',
  HostKeyMismatch: 'GitHostKeyMismatch',
} as const satisfies Record<string, Reason>;

export type GitErrorCodeValue = (typeof GitErrorCode)[keyof typeof GitErrorCode];

interface Rule {
  code: GitErrorCodeValue;
  test: RegExp;
  hint?: string;
}

const AUTH_HINT = 'check the credentials in the Git secret';
export const DISK_FULL_HINT =
  "free space on the volume of the Git cache (--cache-dir; the chart's cacheDir and cacheSizeLimit); the agent retries by itself";

/**
 * Ordered: the first match wins, so specific phrases sit above the generic ones git prints after
 * them (ssh's "Permission denied (publickey)" is followed by "Could not read from remote repository").
 */
const RULES: readonly Rule[] = [
  {
    // First: a full disk breaks whatever git was doing, and it then says more (a broken pack,
    // "the remote end hung up") that the rules below would take for the cause.
    code: GitErrorCode.DiskFull,
    test: /no space left on device|disk quota exceeded|\bENOSPC\b|\bEDQUOT\b/i,
    hint: DISK_FULL_HINT,
  },
  {
    // Its own reason, not an authentication failure: the server may be an impostor (or was
    // reinstalled), which new credentials would not fix. ssh refuses it (StrictHostKeyChecking=yes).
    code: GitErrorCode.HostKeyMismatch,
    test: /host key verification failed|remote host identification has changed|no \S+ host key is known/i,
    hint:
      "the server's host key is not the one known_hosts in the Git secret lists for this host and port: " +
      "if the server's key changed on purpose, put its new key there (compare the fingerprint first)",
  },
  {
    code: GitErrorCode.AuthenticationFailed,
    test: /authentication failed|could not read (username|password)|terminal prompts disabled|returned error: 401|permission denied \((publickey|password|keyboard-interactive)|invalid username or password|HTTP Basic: Access denied|incorrect passphrase|bad passphrase/i,
    hint: AUTH_HINT,
  },
  {
    // The branch moved between git's ref advertisement and the update (a push racing ours):
    // receive-pack answers "[remote rejected] (failed to update ref)", which is no permission problem.
    code: GitErrorCode.PushRejected,
    test: /\[remote rejected\][^\n]*\((failed to update ref|failed to lock|incorrect old value provided)\)|cannot lock ref [^\n]*but expected/i,
  },
  {
    code: GitErrorCode.PermissionDenied,
    test: /returned error: 403|permission to \S+ denied|you don't have permission|write access to repository not granted|access denied|\[remote rejected\]|protected branch/i,
    hint: 'the credentials lack the access this operation needs (a push needs write access)',
  },
  {
    code: GitErrorCode.PushRejected,
    test: /\[rejected\]|non-fast-forward|\(fetch first\)|stale info|updates were rejected|failed to push some refs/i,
  },
  {
    code: GitErrorCode.RepositoryNotFound,
    test: /repository ['"]?\S*['"]? not found|does not appear to be a git repository|returned error: 404|no such repository|repository not found|not a git repository/i,
    hint: 'check the repository URL',
  },
  {
    code: GitErrorCode.RefNotFound,
    test: /remote branch \S+ not found|couldn't find remote ref|not our ref|no such ref|unadvertised object|invalid refspec|reference is not a tree|did not match any file/i,
    hint: 'check the branch, tag or commit',
  },
  {
    // Something answers on the port but does not speak SSH (an HTTP server, a TLS port), or the
    // stream was garbled: no network problem, so not GitUnreachable.
    code: GitErrorCode.CommandFailed,
    test: /banner line contains invalid characters|banner exchange: [^\n]*invalid format|bad remote protocol version identification|protocol major versions differ|bad packet length|message authentication code incorrect|packet corrupt/i,
    hint: 'the server does not speak SSH: check the host and port of the repository URL',
  },
  {
    code: GitErrorCode.Unreachable,
    test: /could not resolve host|name or service not known|temporary failure in name resolution|connection refused|connection timed out|timed out|failed to connect|couldn't connect|network is unreachable|no route to host|connection reset|broken pipe|early eof|transfer closed with outstanding read data|unexpected disconnect while reading sideband packet|rpc failed; curl (18|52|56)\b|the remote end hung up|ssl_connect|gnutls|could not read from remote repository|empty reply from server|returned error: 5\d\d|http\/2 stream/i,
  },
];

const TERMINAL: ReadonlySet<Reason> = new Set<Reason>([
  GitErrorCode.AuthenticationFailed,
  GitErrorCode.PermissionDenied,
  GitErrorCode.RepositoryNotFound,
  GitErrorCode.RefNotFound,
  GitErrorCode.InvalidSpec,
  GitErrorCode.PathOutsideCheckout,
  GitErrorCode.RepositoryTooLarge,
  GitErrorCode.InsecureCredentials,
  GitErrorCode.LocalRepositoryNotAllowed,
  GitErrorCode.HostKeyMismatch,
]);

export interface GitFailure {
  /** The git subcommand, for the message (`ls-remote`, `fetch`, `push`). */
  operation: string;
  /** The repository URL as given (checked to carry no password). */
  url?: string | undefined;
  stderr: string;
  stdout?: string | undefined;
  exitCode?: number | undefined;
}

/** Maps what git printed on failure to a stable code. Pure, so every phrase is unit tested. */
export function classifyGitFailure(failure: GitFailure, secrets: readonly string[] = []): TidemarkError {
  const text = `${failure.stderr}\n${failure.stdout ?? ''}`;
  const rule = RULES.find((r) => r.test.test(text));
  const code = rule?.code ?? GitErrorCode.CommandFailed;
  const detail = summarize(scrubSecrets(text, secrets));
  const where = failure.url ? ` ${scrubSecrets(failure.url, secrets)}` : '';
  const message = `git ${failure.operation}${where} failed${detail ? `: ${detail}` : ''}`;
  return gitError(code, message, rule?.hint);
}

export function gitError(code: GitErrorCodeValue, message: string, hint?: string, cause?: unknown): TidemarkError {
  return new TidemarkError(code, message, { kind: TERMINAL.has(code) ? 'terminal' : 'transient', hint, cause });
}

export function invalidSpec(message: string, hint?: string): TidemarkError {
  return gitError(GitErrorCode.InvalidSpec, message, hint);
}

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]*@/gi;

/**
 * Removes anything that could be a credential: the userinfo of every URL and each known secret
 * value (and its URL-encoded form), wherever git chose to print it.
 */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(USERINFO, '$1***@');
  for (const secret of secrets) {
    if (secret.length < 3) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}

/**
 * A repository URL fit to print: a password in its userinfo becomes `***` (the username stays, it
 * says which account). A URL the WHATWG parser refuses is masked from the scheme to its last `@`,
 * because where such a URL's userinfo ends is exactly what cannot be told.
 */
export function redactUrlPassword(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)\S*@/, '$1***@');
  }
  if (parsed.password === '') return url;
  parsed.password = '***';
  return parsed.href;
}

/**
 * ssh's changed-host-key banner: its frame and advice (paths of our temp known_hosts, an
 * ssh-keygen command to run) would fill the message and push out what matters.
 */
const SSH_BOILERPLATE =
  /^(@+|it is possible that someone|someone could be eavesdropping|it is also possible that a host key|please contact your system administrator|add correct host key in|offending \S+ key in|remove with:|ssh-keygen -f )/i;

/** The lines that say what went wrong, without git's progress chatter and hints. */
function summarize(text: string): string {
  const lines = text
    .replace(/sent by the remote host is\s*\n/gi, 'sent by the remote host is ')
    .split(/\r?\n|\r/)
    .map((l) => l.replace(/\t+/g, ' ').trim())
    .map((l) => (/^@ .* @$/.test(l) ? l.slice(1, -1).trim() : l))
    .filter((l) => !SSH_BOILERPLATE.test(l))
    .filter(
      (l) =>
        l &&
        l !== 'Done' &&
        !/^(hint:|remote: (counting|compressing|enumerating|total)|please make sure you have the correct access rights|and the repository exists\.?$|to |from )/i.test(
          l,
        ),
    );
  const joined = lines.slice(0, 4).join('; ');
  return joined.length > 400 ? `${joined.slice(0, 397)}...` : joined;
}
