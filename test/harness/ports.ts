import { createServer } from 'node:net';

/**
 * Free loopback ports for test servers. The kernel picks a port for a listener on 127.0.0.1:0;
 * we close it and hand the number out. Another process could grab it before the server binds,
 * so servers are started promptly; within this process a port is never handed out twice, which
 * matters because the kernel happily returns a just-closed port again.
 */
const handedOut = new Set<number>();

export const LOOPBACK = '127.0.0.1';

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    // exclusive: a port held by a cluster worker elsewhere must count as taken.
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/** One free port on 127.0.0.1, never one this process already handed out. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0);
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('could not find a free loopback port after 50 attempts');
}

/** Several distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  return ports;
}

/** True when nothing listens on 127.0.0.1:port (a listener can be opened there). */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await listenOnce(port);
    return true;
  } catch (err) {
    if (err instanceof Error && 'code' in err && (err.code === 'EADDRINUSE' || err.code === 'EACCES')) return false;
    throw err;
  }
}
