import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A plain-HTTP front for the test registry (and its token issuer) that sees every request the
 * image updater makes and can fail any of them: the fault suite answers 429/5xx, HTML or cut-off
 * JSON, redirects, or cuts the connection here, so the updater runs unmodified against a real
 * registry. The registry's Bearer challenge is rewritten to name the proxy's own `/token`, so token
 * requests pass through it too.
 */
export interface RegistryCall {
  /** 1-based order of arrival. */
  seq: number;
  method: string;
  path: string;
  query: URLSearchParams;
  /** The request carried an Authorization header (never its value: the suite counts secrets). */
  authorization: boolean;
  /** A request for the token endpoint rather than the registry API. */
  token: boolean;
}

/** Pass it on; cut the connection; or answer here. */
export type RegistryVerdict = 'forward' | 'reset' | { status: number; body?: string; headers?: Record<string, string> };

export type RegistryRule = (call: RegistryCall) => RegistryVerdict;

export interface RegistryFaultProxy {
  /** `127.0.0.1:PORT`, as it appears in image references. */
  readonly host: string;
  readonly url: string;
  readonly calls: RegistryCall[];
  /** Replaces the rule; `undefined` forwards everything. */
  setRule(rule: RegistryRule | undefined): void;
  close(): Promise<void>;
}

export async function startRegistryFaultProxy(target: { url: string; tokenUrl?: string | undefined }): Promise<RegistryFaultProxy> {
  const registry = new URL(target.url);
  const issuer = target.tokenUrl === undefined ? undefined : new URL(target.tokenUrl);
  const calls: RegistryCall[] = [];
  const sockets = new Set<Socket>();
  let rule: RegistryRule | undefined;
  let self = '';

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const token = url.pathname === '/token';
    const call: RegistryCall = {
      seq: calls.length + 1,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.authorization !== undefined,
      token,
    };
    calls.push(call);
    const verdict = rule?.(call) ?? 'forward';
    if (verdict === 'reset') {
      req.socket.destroy();
      return;
    }
    if (verdict !== 'forward') {
      res.writeHead(verdict.status, { 'content-type': 'application/json', ...verdict.headers });
      res.end(verdict.body ?? '');
      return;
    }
    const upstream = token && issuer ? issuer : registry;
    const path = token && issuer ? `${issuer.pathname}${url.search}` : (req.url ?? '/');
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: { ...req.headers, host: upstream.host } },
      (up) => {
        const headers = { ...up.headers };
        const challenge = headers['www-authenticate'];
        if (issuer && typeof challenge === 'string') headers['www-authenticate'] = challenge.split(issuer.href).join(`${self}/token`);
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  };

  const server: Server = createServer(handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  self = `http://127.0.0.1:${port}`;
  return {
    host: `127.0.0.1:${port}`,
    url: self,
    calls,
    setRule: (next) => {
      rule = next;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
