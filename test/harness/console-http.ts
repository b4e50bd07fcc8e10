import { request } from 'node:http';

/**
 * Plain HTTP to a console from this process, as a browser without JavaScript or another local
 * user would send it: the console's unit tests (over the in-memory API server) and its
 * integration tests (over the real one) speak to it the same way.
 */

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request to the console on 127.0.0.1:`port`; the Host header is `127.0.0.1:PORT` unless `headers` names another. */
export function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          host: `127.0.0.1:${port}`,
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The form POST of the in-cluster login page. */
export function postLogin(port: number, fields: { token: string; namespace: string }, headers: Record<string, string>): Promise<Reply> {
  return call(
    port,
    'POST',
    '/login',
    { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    new URLSearchParams(fields).toString(),
  );
}

/** `name=value` of the session cookie a login set, for the requests that follow. */
export function cookieOf(reply: Reply): string {
  return String(reply.headers['set-cookie']).split(';')[0] ?? '';
}

export interface StreamOptions {
  /** Default `127.0.0.1:PORT`. */
  host?: string;
  /** Checks the stream's answer before the first event is read (status, content type). */
  onResponse?: (status: number, contentType: string) => void;
  /** Called once the first bytes arrived: the stream is open and subscribed. */
  onOpen?: () => void;
}

/** Reads the console's event stream until `until` holds for the text so far; then closes it. */
export function readStream(port: number, cookie: string, until: (text: string) => boolean, options: StreamOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers = { host: options.host ?? `127.0.0.1:${port}`, cookie };
    const req = request({ host: '127.0.0.1', port, path: '/api/events', headers }, (res) => {
      options.onResponse?.(res.statusCode ?? 0, String(res.headers['content-type']));
      let text = '';
      let opened = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (!opened) {
          opened = true;
          options.onOpen?.();
        }
        if (until(text)) {
          req.destroy();
          resolve(text);
        }
      });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}
