import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { LOOPBACK } from './ports.ts';

/**
 * What the proxy does with each new connection: pass it on to the upstream port; pass it on only
 * after `delayMs` (the client's bytes wait, nothing is lost); answer `garbage` itself and close
 * (a port where something other than the expected server listens); or pass it on to another port
 * (an impostor at the same address). Connections already open keep what they had.
 */
export type TcpVerdict = 'forward' | { delayMs: number } | { garbage: Buffer } | { upstreamPort: number };

/**
 * A loopback TCP front for a server that speaks an opaque protocol (SSH): the fault suite puts it
 * between the agent and sshd to be slow, answer garbage, or hand the connection to another server.
 * It never reads the bytes it passes on, so the client and the server run unmodified.
 */
export interface TcpFaultProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Replaces the verdict for new connections; `undefined` forwards. */
  setVerdict(verdict: TcpVerdict | undefined): void;
  close(): Promise<void>;
}

export async function startTcpFaultProxy(upstreamPort: number): Promise<TcpFaultProxy> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let verdict: TcpVerdict = 'forward';
  let connections = 0;
  let closed = false;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A reset from either side is expected here (the client gives up, the upstream is gone).
    socket.on('error', () => socket.destroy());
  };

  const pipeTo = (client: Socket, port: number) => {
    if (client.destroyed) return;
    const upstream = connect({ host: LOOPBACK, port });
    track(upstream);
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    connections++;
    track(client);
    const now = verdict;
    if (now === 'forward') return pipeTo(client, upstreamPort);
    if ('upstreamPort' in now) return pipeTo(client, now.upstreamPort);
    if ('delayMs' in now) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        pipeTo(client, upstreamPort);
      }, now.delayMs);
      timers.add(timer);
      return;
    }
    // Read what the client says (or its socket fills), answer with the garbage, then hang up.
    client.resume();
    client.end(now.garbage);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    get connections() {
      return connections;
    },
    setVerdict: (next) => {
      verdict = next ?? 'forward';
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await done;
    },
  };
}
