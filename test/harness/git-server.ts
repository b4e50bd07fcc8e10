import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GitRepos, harnessGitEnv, makeTempDir } from './git-repo.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { onShutdown, startProcess, waitFor } from './process.ts';
import type { ManagedProcess } from './process.ts';

// ---- smart HTTP ------------------------------------------------------------------------------

export type GitHttpRole = 'reader' | 'writer';

export interface GitHttpUser {
  username: string;
  password: string;
}

export interface GitHttpRequestRecord {
  method: string;
  /** Path below the server root, e.g. `/app.git/info/refs`. */
  path: string;
  /** The git service asked for, when the request is one. */
  service: 'git-upload-pack' | 'git-receive-pack' | undefined;
  /** Who the request authenticated as (`anonymous` when it sent nothing valid). */
  user: string;
  status: number;
  /** The request body's Content-Encoding (git gzips larger fetch negotiations). */
  contentEncoding: string | undefined;
  /** True when the body came without Content-Length (chunked: large pushes). */
  chunked: boolean;
}

export interface GitHttpServerOptions {
  /** Let requests without credentials clone and fetch. Default false: everything needs auth. */
  allowAnonymousRead?: boolean;
  /**
   * Awaited after authentication and before git runs; tests use it to hold a request open (and
   * look at the client's processes meanwhile) or to fail it.
   */
  beforeRequest?: (request: GitHttpRequestRecord) => Promise<void> | void;
}

export interface GitHttpServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  url(name: string): string;
  /** Clone and fetch only: a push answers 403. */
  reader: GitHttpUser;
  /** Clone, fetch and push. */
  writer: GitHttpUser;
  /** `Authorization: Bearer <token>` with reader / writer rights. */
  readerToken: string;
  writerToken: string;
  /** Every request answered so far, oldest first. */
  readonly requests: readonly GitHttpRequestRecord[];
  /** Replaces the beforeRequest hook (undefined removes it). */
  setBeforeRequest(hook: GitHttpServerOptions['beforeRequest']): void;
  stop(): Promise<void>;
}

const REALM = 'tidemark-test-git';

/**
 * A node:http server on 127.0.0.1 running `git http-backend` as CGI for the repositories in
 * `repos`, with Basic auth (reader, writer) and Bearer tokens. Bodies are streamed both ways;
 * gzip request bodies are handed to http-backend, which inflates them itself.
 */
export async function startGitHttpServer(repos: GitRepos, options: GitHttpServerOptions = {}): Promise<GitHttpServer> {
  const secret = () => randomBytes(12).toString('hex');
  const reader: GitHttpUser = { username: 'reader', password: `rd-${secret()}` };
  const writer: GitHttpUser = { username: 'writer', password: `wr-${secret()}` };
  const readerToken = `rt-${secret()}`;
  const writerToken = `wt-${secret()}`;
  const requests: GitHttpRequestRecord[] = [];
  const children = new Set<ChildProcess>();
  let beforeRequest = options.beforeRequest;

  const authenticate = (header: string | undefined): { user: string; role: GitHttpRole } | undefined => {
    if (!header) return undefined;
    const [scheme, value = ''] = header.split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const username = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      if (colon > 0 && username === reader.username && password === reader.password) return { user: 'reader', role: 'reader' };
      if (colon > 0 && username === writer.username && password === writer.password) return { user: 'writer', role: 'writer' };
      return undefined;
    }
    if (scheme?.toLowerCase() === 'bearer') {
      if (value === readerToken) return { user: 'reader-token', role: 'reader' };
      if (value === writerToken) return { user: 'writer-token', role: 'writer' };
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = decodeURIComponent(url.pathname);
    const queryService = url.searchParams.get('service');
    const service =
      queryService === 'git-receive-pack' || path.endsWith('/git-receive-pack')
        ? 'git-receive-pack'
        : queryService === 'git-upload-pack' || path.endsWith('/git-upload-pack')
          ? 'git-upload-pack'
          : undefined;
    const record: GitHttpRequestRecord = {
      method: req.method ?? 'GET',
      path,
      service,
      user: 'anonymous',
      status: 0,
      contentEncoding: req.headers['content-encoding'],
      chunked: req.method === 'POST' && req.headers['content-length'] === undefined,
    };
    requests.push(record);
    const answer = (status: number, headers: Record<string, string> = {}, body = '') => {
      record.status = status;
      res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
      res.end(body);
    };

    const identity = authenticate(req.headers.authorization);
    const writing = service === 'git-receive-pack';
    if (!identity && !(options.allowAnonymousRead && !writing && !req.headers.authorization)) {
      return answer(401, { 'WWW-Authenticate': `Basic realm="${REALM}"` }, 'authentication required\n');
    }
    record.user = identity?.user ?? 'anonymous';
    if (writing && identity?.role !== 'writer') return answer(403, {}, 'push not allowed for this user\n');
    await beforeRequest?.(record);

    const env = harnessGitEnv({
      GIT_PROJECT_ROOT: repos.reposDir,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: path,
      QUERY_STRING: url.search.replace(/^\?/, ''),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? LOOPBACK,
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.receivepack',
      GIT_CONFIG_VALUE_0: identity?.role === 'writer' ? 'true' : 'false',
    });
    if (identity) env['REMOTE_USER'] = identity.user;
    if (req.headers['content-length'] !== undefined) env['CONTENT_LENGTH'] = req.headers['content-length'];
    if (req.headers['content-encoding'] !== undefined) env['HTTP_CONTENT_ENCODING'] = req.headers['content-encoding'];
    const protocol = req.headers['git-protocol'];
    if (typeof protocol === 'string') env['GIT_PROTOCOL'] = protocol;

    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.once('close', () => children.delete(child));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.stdin.on('error', () => undefined);
    req.pipe(child.stdin);

    await new Promise<void>((done) => {
      let head = Buffer.alloc(0);
      let headersSent = false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (headersSent) {
          res.write(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const split = findHeaderEnd(head);
        if (!split) return;
        const { status, headers } = parseCgiHeaders(head.subarray(0, split.start).toString('latin1'));
        record.status = status;
        res.writeHead(status, headers);
        headersSent = true;
        if (split.end < head.length) res.write(head.subarray(split.end));
      });
      child.once('close', (code) => {
        if (!headersSent) {
          answer(500, {}, `http-backend failed (exit ${code}): ${stderr}`);
        } else {
          res.end();
        }
        done();
      });
      child.once('error', (err) => {
        if (!headersSent) answer(500, {}, `http-backend did not start: ${err.message}`);
        done();
      });
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(err instanceof Error ? err.message : String(err));
      } else {
        res.destroy();
      }
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => resolve());
  });

  let stopped = false;
  const killChildren = () => {
    for (const child of children) child.kill('SIGKILL');
  };
  const stopNow = () => {
    killChildren();
    server.closeAllConnections();
    server.close();
  };
  const unregister = onShutdown({ name: 'git http server', async: () => Promise.resolve(stopNow()), sync: stopNow });

  const baseUrl = `http://${LOOPBACK}:${port}`;
  return {
    port,
    baseUrl,
    url: (name) => `${baseUrl}/${repos.path(name).slice(repos.reposDir.length + 1)}`,
    reader,
    writer,
    readerToken,
    writerToken,
    requests,
    setBeforeRequest: (hook) => {
      beforeRequest = hook;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      unregister();
      killChildren();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function findHeaderEnd(buf: Buffer): { start: number; end: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { start: crlf, end: crlf + 4 };
  if (lf >= 0) return { start: lf, end: lf + 2 };
  return undefined;
}

function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers };
}

// ---- SSH ---------------------------------------------------------------------------------------

export interface GitSshServer {
  port: number;
  /** `ssh://root@127.0.0.1:<port>/<abs path>.git` */
  url(name: string): string;
  /** The authorized client key (OpenSSH private key text). */
  privateKey: string;
  publicKey: string;
  /** `[127.0.0.1]:<port> ssh-ed25519 AAAA...` for the server's host key. */
  knownHosts: string;
  /** A second client key that is not authorized (for failure tests). */
  unauthorizedPrivateKey: string;
  /** Authorizes one more public key (e.g. a passphrase-protected one a test generated). */
  authorizeKey(publicKey: string): Promise<void>;
  /** Takes a public key out of authorized_keys again (sshd reads the file at each login). */
  revokeKey(publicKey: string): Promise<void>;
  /** Stops sshd (clients get "connection refused"); the files stay, for up(). */
  down(): Promise<void>;
  /** Starts sshd again on the same port with the same host key and config. */
  up(): Promise<void>;
  /**
   * With `cutPacks` at start: every upload-pack's output ends `bytes` after its pack signature,
   * and the connection with it (a pack cut short); `undefined` lets packs through whole again.
   */
  cutPacksAfter(bytes: number | undefined): Promise<void>;
  /** The sshd process (its output helps when a test fails); a new one after up(). */
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export interface GitSshServerOptions {
  /**
   * Runs every command through a wrapper (sshd's ForceCommand) that can cut packs short, see
   * cutPacksAfter(). Off by default: the other tests see sshd run the command as it comes.
   */
  cutPacks?: boolean;
}

const SSHD = '/usr/sbin/sshd';

/**
 * Debian's sshd on a loopback port with its own config, host key and one authorized client key,
 * serving the repositories in `repos` to `root` (git-upload-pack / git-receive-pack over SSH).
 * Needs root, as sshd does.
 */
export async function startGitSshServer(repos: GitRepos, options: GitSshServerOptions = {}): Promise<GitSshServer> {
  if (process.getuid?.() !== 0) throw new Error('startGitSshServer needs root (sshd refuses to run otherwise)');
  const temp = await makeTempDir('tidemark-git-sshd-');
  const dir = temp.path;
  try {
    const keygen = (file: string, comment: string) => run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
    await keygen(join(dir, 'host_ed25519'), 'tidemark-test-host');
    await keygen(join(dir, 'client_ed25519'), 'tidemark-test-client');
    await keygen(join(dir, 'stranger_ed25519'), 'tidemark-test-stranger');
    const publicKey = (await readFile(join(dir, 'client_ed25519.pub'), 'utf8')).trim();
    await writeFile(join(dir, 'authorized_keys'), `${publicKey}\n`, { mode: 0o600 });
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

    const port = await freePort();
    const config = [
      `Port ${port}`,
      `ListenAddress ${LOOPBACK}`,
      `HostKey ${join(dir, 'host_ed25519')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'UsePAM no',
      'StrictModes no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'AcceptEnv GIT_PROTOCOL',
      'X11Forwarding no',
      'AllowTcpForwarding no',
      'PrintMotd no',
      'LogLevel INFO',
    ];
    const cutFile = join(dir, 'cut-packs-after');
    if (options.cutPacks) {
      const wrapper = join(dir, 'force-command.sh');
      await writeFile(wrapper, forceCommandScript(cutFile), { mode: 0o700 });
      config.push(`ForceCommand ${wrapper}`);
    }
    await writeFile(join(dir, 'sshd_config'), `${config.join('\n')}\n`, { mode: 0o600 });

    const launch = async () => {
      const started = await startProcess({
        name: 'sshd',
        command: SSHD,
        args: ['-D', '-e', '-f', join(dir, 'sshd_config')],
        env: harnessGitEnv(),
        logFile: join(dir, 'sshd.log'),
      });
      try {
        await waitFor(() => sshBanner(port), { what: `sshd on port ${port}`, timeoutMs: 30_000, watch: [started] });
      } catch (err) {
        await started.stop(2_000);
        throw err;
      }
      return started;
    };
    let sshd: ManagedProcess | undefined = await launch();
    let last = sshd;
    const authorizedKeys = join(dir, 'authorized_keys');

    const hostKey = (await readFile(join(dir, 'host_ed25519.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    let stopped = false;
    return {
      port,
      url: (name) => `ssh://root@${LOOPBACK}:${port}${repos.path(name)}`,
      privateKey: await readFile(join(dir, 'client_ed25519'), 'utf8'),
      publicKey,
      knownHosts: `[${LOOPBACK}]:${port} ${hostKey}`,
      unauthorizedPrivateKey: await readFile(join(dir, 'stranger_ed25519'), 'utf8'),
      authorizeKey: (key) => appendFile(authorizedKeys, `${key.trim()}\n`),
      revokeKey: async (key) => {
        const kept = (await readFile(authorizedKeys, 'utf8'))
          .split('\n')
          .filter((line) => line.trim() !== '' && line.trim() !== key.trim());
        await writeFile(authorizedKeys, kept.map((line) => `${line}\n`).join(''), { mode: 0o600 });
      },
      down: async () => {
        const running = sshd;
        sshd = undefined;
        // sshd -D serves each connection in a child of its own; those end with their client.
        await running?.stop(5_000);
      },
      up: async () => {
        if (sshd || stopped) return;
        sshd = await launch();
        last = sshd;
      },
      cutPacksAfter: async (bytes) => {
        if (!options.cutPacks) throw new Error('cutPacksAfter needs startGitSshServer(repos, { cutPacks: true })');
        if (bytes === undefined) await rm(cutFile, { force: true });
        else await writeFile(cutFile, `${bytes}\n`);
      },
      get process() {
        return last;
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await sshd?.stop(5_000);
        await temp.remove();
      },
    };
  } catch (err) {
    await temp.remove();
    throw err;
  }
}

/**
 * sshd's ForceCommand for `cutPacks`: runs what the client asked for as sshd would, through the
 * pack cutter while the cut file exists. The client's command comes from git (`git-upload-pack
 * '<path>'`), quoted by it for a POSIX shell.
 */
function forceCommandScript(cutFile: string): string {
  const cutter = fileURLToPath(new URL('./ssh-pack-cutter.ts', import.meta.url));
  return `#!/bin/sh
if [ -f '${cutFile}' ]; then
  exec '${process.execPath}' '${cutter}' "$(cat '${cutFile}')" /bin/sh -c "$SSH_ORIGINAL_COMMAND"
fi
exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"
`;
}

/** True once something on the port greets with an SSH banner. */
function sshBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('data', (chunk: Buffer) => finish(chunk.toString('latin1').startsWith('SSH-')));
  });
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr}`))));
  });
}

// ---- all together ------------------------------------------------------------------------------

export interface GitServers {
  repos: GitRepos;
  http: GitHttpServer | undefined;
  ssh: GitSshServer | undefined;
  stop(): Promise<void>;
}

export interface StartGitServersOptions {
  http?: boolean | GitHttpServerOptions;
  ssh?: boolean;
}

/** Repositories plus the servers asked for; stop() ends every process and removes every file. */
export async function startGitServers(options: StartGitServersOptions = { http: true, ssh: true }): Promise<GitServers> {
  const repos = await GitRepos.create();
  let http: GitHttpServer | undefined;
  let ssh: GitSshServer | undefined;
  const stop = async () => {
    await Promise.allSettled([http?.stop(), ssh?.stop()]);
    await repos.stop();
  };
  try {
    if (options.http) http = await startGitHttpServer(repos, options.http === true ? {} : options.http);
    if (options.ssh) ssh = await startGitSshServer(repos);
  } catch (err) {
    await stop();
    throw err;
  }
  return { repos, http, ssh, stop };
}
