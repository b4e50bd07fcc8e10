import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ClusterInfo } from './control-plane.ts';
import { kubeconfigYaml } from './control-plane.ts';

/**
 * A TLS front for the real kube-apiserver that sees every request a client makes and can fail
 * any of them: the fault suite puts it between the agent and the API server to kill the agent at
 * an exact request (the 250th apply, the first prune), to answer 429/500/410, to hang, or to cut
 * the connection. Requests it lets through reach the real server unchanged, watches streamed.
 * Its certificate is the test CA's for 127.0.0.1 (shared/kube/kubeconfig/fixtures/tls).
 */
export interface KubeCall {
  /** 1-based order of arrival. */
  seq: number;
  method: string;
  path: string;
  query: URLSearchParams;
  dryRun: boolean;
  watch: boolean;
  /** A write to a `/status` subresource. */
  status: boolean;
}

/**
 * What to do with a request: pass it on; answer it here; cut the connection; or `hold` it
 * (never answer — used when the test kills the client in the same breath).
 */
export type Verdict =
  | 'forward'
  | 'hold'
  | 'reset'
  /** `raw` is sent as it is (a watch stream's JSON lines); `body` as JSON. */
  | { status: number; body?: unknown; raw?: string; headers?: Record<string, string> };

export interface FaultRule {
  /** Decides for a request before it is sent on. */
  onRequest?: (call: KubeCall) => Verdict | Promise<Verdict>;
  /** Sees the real server's status for a forwarded request, before the client does. */
  onResponse?: (call: KubeCall, status: number) => void | Promise<void>;
}

export interface KubeFaultProxy {
  readonly server: string;
  /** Every request seen, in order. */
  readonly calls: KubeCall[];
  /** Replaces the rule; `undefined` forwards everything. */
  setRule(rule: FaultRule | undefined): void;
  /**
   * Ends every forwarded watch stream now, cleanly, as the API server does when a watch times
   * out: the client must watch again. Returns how many were open.
   */
  endWatches(): number;
  /** A kubeconfig for `token` that goes through the proxy. */
  kubeconfig(token: string): string;
  close(): Promise<void>;
}

const TLS = new URL('../../shared/kube/kubeconfig/fixtures/tls/', import.meta.url);

export async function startKubeFaultProxy(target: Pick<ClusterInfo, 'server' | 'caPem'>): Promise<KubeFaultProxy> {
  const upstream = new URL(target.server);
  const caPem = readFileSync(new URL('ca.crt', TLS), 'utf8');
  const calls: KubeCall[] = [];
  let rule: FaultRule | undefined;
  const sockets = new Set<Socket>();
  /** Open forwarded watches, each with what ends it. */
  const watches = new Set<() => void>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const call: KubeCall = {
      seq: calls.length + 1,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      dryRun: url.searchParams.has('dryRun'),
      watch: url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1',
      status: req.method !== 'GET' && url.pathname.endsWith('/status'),
    };
    calls.push(call);
    const current = rule;
    const verdict = (await current?.onRequest?.(call)) ?? 'forward';
    if (verdict === 'hold') return;
    if (verdict === 'reset') {
      req.socket.destroy();
      return;
    }
    if (verdict !== 'forward') {
      res.writeHead(verdict.status, { 'content-type': 'application/json', ...verdict.headers });
      res.end(verdict.raw ?? JSON.stringify(verdict.body ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: verdict.status }));
      return;
    }
    const out = httpsRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        ca: target.caPem,
      },
      (up) => {
        void (async () => {
          await current?.onResponse?.(call, up.statusCode ?? 0);
          res.writeHead(up.statusCode ?? 502, up.headers);
          if (call.watch) {
            // Unpiped first: the server's next event must not be written after the end.
            const end = () => {
              up.unpipe(res);
              res.end(() => up.destroy());
            };
            watches.add(end);
            res.once('close', () => watches.delete(end));
          }
          up.pipe(res);
        })();
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  };

  const server: Server = createServer(
    { cert: readFileSync(new URL('server.crt', TLS)), key: readFileSync(new URL('server.key', TLS)) },
    (req, res) => void handle(req, res).catch(() => res.destroy()),
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `https://127.0.0.1:${port}`;

  return {
    server: url,
    calls,
    setRule: (next) => {
      rule = next;
    },
    endWatches: () => {
      const open = [...watches];
      for (const end of open) end();
      return open.length;
    },
    kubeconfig: (token) => kubeconfigYaml({ server: url, caPem }, 'faulted', token),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
