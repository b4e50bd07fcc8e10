import type { Server, ServerResponse } from 'node:http';
import { registry } from '../metrics/index.ts';
import { splitHostPort } from './address.ts';
import { nodeHttp } from './node-http.ts';

/**
 * `/healthz` (the process runs) and `/readyz` (it has read its objects) for probes, and
 * `/metrics` for Prometheus: one port for everything the cluster itself scrapes.
 */
export async function serveHealth(address: string, ready: () => boolean): Promise<Server> {
  const [host, port] = splitHostPort(address);
  const server = nodeHttp.createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200).end('ok');
    if (req.url === '/readyz') return void res.writeHead(ready() ? 200 : 503).end(ready() ? 'ok' : 'not ready');
    if (req.url === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) return void serveMetrics(res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

function serveMetrics(res: ServerResponse): void {
  registry.metrics().then(
    (text) => void res.writeHead(200, { 'content-type': registry.contentType }).end(text),
    (err: unknown) => void res.writeHead(500).end(`cannot collect metrics: ${(err as Error).message}`),
  );
}
