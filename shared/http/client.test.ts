import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { HttpBodyTooLarge, HttpPool, HttpTimeout } from './client.ts';

/** A self-signed certificate for `names` (subjectAltName entries), made with openssl. */
function selfSigned(dir: string, file: string, cn: string, names: string): { cert: string; key: string } {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=${names}`,
      '-keyout',
      join(dir, `${file}.key`),
      '-out',
      join(dir, `${file}.crt`),
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(join(dir, `${file}.crt`), 'utf8'), key: readFileSync(join(dir, `${file}.key`), 'utf8') };
}

let openssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  openssl = false;
}

describe(
  'HttpPool over a real HTTPS server',
  { skip: openssl ? false : 'openssl is not installed: no certificates to test TLS with' },
  () => {
    let dir: string;
    let server: Server;
    let origin: string;
    let serverCert: { cert: string; key: string };
    let clientCert: { cert: string; key: string };
    const connections = new Set<TLSSocket>();
    let seenClient: string | undefined;
    let seenSni: string | undefined;

    const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
      '/hello': (req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'text/plain', 'x-method': req.method ?? '' });
          res.end(`${String(req.headers['x-echo'] ?? '')}|${body}`);
        });
      },
      '/stream': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"n":1}\n');
        setTimeout(() => res.end('{"n":2}\n'), 50);
      },
      '/big': (_req, res) => {
        res.writeHead(200);
        res.end(Buffer.alloc(64 * 1024, 'x'));
      },
      // Never answers: the client's timeouts and abort signals are the only way out.
      '/hang': () => undefined,
      '/stall': (_req, res) => {
        res.writeHead(200);
        res.write('partial');
      },
      // An error page that never ends (until the client goes away).
      '/endless': (_req, res) => {
        res.writeHead(500);
        const chunk = Buffer.alloc(16 * 1024, 'e');
        const more = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', more);
        };
        more();
      },
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tidemark-http-client-'));
      serverCert = selfSigned(dir, 'server', 'kube.test', 'DNS:kube.test');
      clientCert = selfSigned(dir, 'client', 'tidemark-agent', 'DNS:client.test');
      server = createServer({ ...serverCert, requestCert: true, rejectUnauthorized: false, ca: clientCert.cert }, (req, res) => {
        const socket = req.socket as TLSSocket;
        seenClient = socket.authorized ? String(socket.getPeerCertificate().subject.CN) : undefined;
        seenSni = (socket as TLSSocket & { servername?: string | false }).servername || undefined;
        const route = routes[req.url ?? ''];
        if (route) route(req, res);
        else res.writeHead(404).end('no');
      });
      server.on('secureConnection', (socket: TLSSocket) => connections.add(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    });

    it('verifies the server against the given roots and the tls-server-name, sends SNI, body and headers', async () => {
      const pool = new HttpPool({ ca: serverCert.cert, servername: 'kube.test' });
      const res = await pool.request(`${origin}/hello`, { method: 'POST', headers: { 'x-echo': 'hi' }, body: 'payload' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-method'], 'POST');
      assert.equal(await res.text(), 'hi|payload');
      assert.equal(seenSni, 'kube.test');
      assert.equal(seenClient, undefined);
      await pool.close();
    });

    it('refuses a server its roots do not vouch for, or whose certificate names another host', async () => {
      const untrusted = new HttpPool({ servername: 'kube.test' });
      await assert.rejects(untrusted.request(`${origin}/hello`), /self-signed|self signed/);
      const wrongName = new HttpPool({ ca: serverCert.cert });
      await assert.rejects(
        wrongName.request(`${origin}/hello`),
        (err: Error & { code?: string }) => err.code === 'ERR_TLS_CERT_ALTNAME_INVALID',
      );
      const skipped = new HttpPool({ rejectUnauthorized: false });
      assert.equal((await skipped.request(`${origin}/hello`)).statusCode, 200);
      await Promise.all([untrusted.close(), wrongName.close(), skipped.close()]);
    });

    it('presents the client certificate for mutual TLS', async () => {
      const pool = new HttpPool({ ca: serverCert.cert, servername: 'kube.test', ...clientCert });
      await (await pool.request(`${origin}/hello`)).dump();
      assert.equal(seenClient, 'tidemark-agent');
      await pool.close();
    });

    it('keeps the connection alive across sequential requests', async () => {
      const pool = new HttpPool({ ca: serverCert.cert, servername: 'kube.test' });
      const before = connections.size;
      for (let i = 0; i < 3; i++) assert.equal(await (await pool.request(`${origin}/hello`)).text(), '|');
      assert.equal(connections.size - before, 1);
      await pool.close();
    });

    it('streams a body chunk by chunk', async () => {
      const pool = new HttpPool({ ca: serverCert.cert, servername: 'kube.test' });
      const res = await pool.request(`${origin}/stream`, { bodyTimeoutMs: 0 });
      const chunks: string[] = [];
      for await (const chunk of res.body) chunks.push(chunk.toString());
      assert.equal(chunks.join(''), '{"n":1}\n{"n":2}\n');
      await pool.close();
    });

    it('limits a whole body it reads', async () => {
      const pool = new HttpPool({ ca: serverCert.cert, servername: 'kube.test' });
      assert.equal((await (await pool.request(`${origin}/big`)).bytes(64 * 1024)).length, 64 * 1024);
      await assert.rejects((await pool.request(`${origin}/big`)).bytes(1024), HttpBodyTooLarge);
      await pool.close();
    });

    it('drops a body it is not going to read, closing the connection rather than read an endless one', async () => {
      const pool = new HttpPool({ ca: serverCert.cert, servername: 'kube.test' });
      await (await pool.request(`${origin}/endless`, { bodyTimeoutMs: 0 })).dump();
      assert.equal(await (await pool.request(`${origin}/hello`)).text(), '|');
      await pool.close();
    });

    it('ends a request whose headers do not come in time, and a body that stalls', async () => {
      const pool = new HttpPool({ ca: serverCert.cert, servername: 'kube.test' });
      await assert.rejects(pool.request(`${origin}/hang`, { headersTimeoutMs: 50 }), HttpTimeout);
      const stalled = await pool.request(`${origin}/stall`, { bodyTimeoutMs: 50 });
      await assert.rejects(stalled.text(), HttpTimeout);
      await pool.close();
    });

    it('ends a request, and a body being read, when the signal aborts', async () => {
      const pool = new HttpPool({ ca: serverCert.cert, servername: 'kube.test' });
      const waiting = new AbortController();
      const pending = pool.request(`${origin}/hang`, { signal: waiting.signal, headersTimeoutMs: 0 });
      waiting.abort();
      await assert.rejects(pending, { name: 'AbortError' });
      const reading = new AbortController();
      const res = await pool.request(`${origin}/stall`, { signal: reading.signal, bodyTimeoutMs: 0 });
      const text = res.text();
      reading.abort();
      await assert.rejects(text, { name: 'AbortError' });
      await assert.rejects(pool.request(`${origin}/hello`, { signal: reading.signal }), { name: 'AbortError' });
      await pool.close();
    });
  },
);
