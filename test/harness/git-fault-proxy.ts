import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { LOOPBACK } from './ports.ts';

/**
 * A plain-HTTP front for the harness's Git smart-HTTP server that sees every request and can fail
 * any of it: the fault suite puts it between the agent and Git to be unreachable, slow, answer
 * garbage or 401, or cut a pack short. Requests it lets through reach the real `git http-backend`
 * unchanged, so the agent and git run unmodified.
 */
export interface GitCall {
  method: string;
  /** Path and query below the server root, e.g. `/app.git/info/refs?service=git-upload-pack`. */
  path: string;
  /**
   * What the request asks for: `refs` (discovery or a v2 `ls-refs`), `fetch` (a v2 fetch or a v0
   * upload-pack negotiation, whose answer is the pack), `push`, or `other`.
   */
  kind: 'refs' | 'fetch' | 'push' | 'other';
}

/**
 * Pass on; cut the connection; answer here; wait `delayMs` first (then pass on); pass on and cut
 * the answer's body after `truncateAfter` bytes; or pass on `stallAfter` bytes of it and then
 * nothing more, the connection held open (a download caught in the middle, for a kill).
 */
export type GitVerdict =
  | 'forward'
  | 'reset'
  | { status: number; body?: string | Buffer; headers?: Record<string, string> }
  | { delayMs: number }
  | { truncateAfter: number }
  | { stallAfter: number };

export type GitRule = (call: GitCall) => GitVerdict;

export interface GitFaultProxy {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** The upstream URL of a repository rewritten to go through the proxy. */
  url(upstreamUrl: string): string;
  readonly calls: readonly GitCall[];
  /** Replaces the rule; `undefined` forwards everything. */
  setRule(rule: GitRule | undefined): void;
  /** Stops listening and cuts every connection: clients get "connection refused", as from a server that is down. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startGitFaultProxy(upstreamBase: string): Promise<GitFaultProxy> {
  const upstream = new URL(upstreamBase);
  const calls: GitCall[] = [];
  const sockets = new Set<Socket>();
  let rule: GitRule | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // Request bodies are small negotiations (a push's pack aside); reading one first lets the rule
    // tell a ref listing from a fetch, which share the URL in protocol v2.
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const call: GitCall = { method: req.method ?? 'GET', path, kind: kindOf(path, req.headers['content-encoding'], body) };
    calls.push(call);
    let verdict = rule?.(call) ?? 'forward';
    if (typeof verdict === 'object' && 'delayMs' in verdict) {
      const wait = verdict.delayMs;
      await new Promise((resolve) => setTimeout(resolve, wait));
      if (res.destroyed) return;
      verdict = 'forward';
    }
    if (verdict === 'reset') {
      req.socket.destroy();
      return;
    }
    if (typeof verdict === 'object' && 'status' in verdict) {
      res.writeHead(verdict.status, { 'content-type': 'text/plain', ...verdict.headers });
      res.end(verdict.body ?? '');
      return;
    }
    const truncateAfter = typeof verdict === 'object' && 'truncateAfter' in verdict ? verdict.truncateAfter : undefined;
    const stallAfter = typeof verdict === 'object' && 'stallAfter' in verdict ? verdict.stallAfter : undefined;
    const headers = { ...req.headers, host: upstream.host };
    delete headers['content-length'];
    const out = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (up) => {
        const upHeaders = { ...up.headers };
        if (stallAfter !== undefined) {
          res.writeHead(up.statusCode ?? 502, upHeaders);
          let passed = 0;
          up.on('data', (chunk: Buffer) => {
            if (passed >= stallAfter) return;
            const part = chunk.subarray(0, stallAfter - passed);
            passed += part.length;
            res.write(part);
          });
          return;
        }
        if (truncateAfter === undefined) {
          res.writeHead(up.statusCode ?? 502, upHeaders);
          up.pipe(res);
          return;
        }
        // A pack cut short the way a dropped connection leaves it: the headers promised more.
        delete upHeaders['content-length'];
        res.writeHead(up.statusCode ?? 502, upHeaders);
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          if (sent >= truncateAfter) return;
          const part = chunk.subarray(0, truncateAfter - sent);
          sent += part.length;
          res.write(part);
          if (sent >= truncateAfter) {
            up.destroy();
            res.socket?.destroy();
          }
        });
        up.on('end', () => res.end());
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    out.end(body);
  };

  const server: Server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await listen(0);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseUrl = `http://${LOOPBACK}:${port}`;
  let listening = true;

  return {
    baseUrl,
    url: (upstreamUrl) => `${baseUrl}${new URL(upstreamUrl).pathname}`,
    calls,
    setRule: (next) => {
      rule = next;
    },
    down: async () => {
      if (!listening) return;
      listening = false;
      await stop();
    },
    up: async () => {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    close: async () => {
      if (!listening) return;
      listening = false;
      await stop();
    },
  };
}

function kindOf(path: string, encoding: string | string[] | undefined, body: Buffer): GitCall['kind'] {
  if (path.includes('git-receive-pack')) return 'push';
  if (path.includes('/info/refs')) return 'refs';
  if (!path.includes('git-upload-pack')) return 'other';
  let text: string;
  try {
    text = (encoding === 'gzip' ? gunzipSync(body) : body).toString('latin1');
  } catch {
    return 'other';
  }
  if (text.includes('command=ls-refs')) return 'refs';
  return text.includes('command=fetch') || text.includes('want ') ? 'fetch' : 'other';
}
