import { createPrivateKey, randomUUID, sign, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { runCommand } from './registry-process.ts';

/**
 * A minimal Docker token-auth issuer (the "realm" of a `Bearer` challenge) for the test
 * registry: checks basic credentials, grants what the scope asks for to a known user and nothing
 * to anonymous callers, and signs RS256 JWTs carrying the signing cert in `x5c` — the same
 * self-signed cert the registry trusts through `rootcertbundle`.
 */

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenSigner {
  certPath: string;
  sign(access: AccessEntry[], subject: string, lifetimeSeconds: number): string;
}

export const TOKEN_ISSUER = 'tidemark-test-issuer';
export const TOKEN_SERVICE = 'tidemark-test-registry';

/** Creates a key and self-signed cert in `dir` with openssl and returns a signer over them. */
export async function createTokenSigner(dir: string): Promise<TokenSigner> {
  const keyPath = join(dir, 'issuer.key');
  const certPath = join(dir, 'issuer.crt');
  await runCommand('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '2',
    '-subj',
    `/CN=${TOKEN_ISSUER}`,
    '-keyout',
    keyPath,
    '-out',
    certPath,
  ]);
  const key: KeyObject = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw.toString('base64');
  return {
    certPath,
    sign(access, subject, lifetimeSeconds) {
      const now = Math.floor(Date.now() / 1000);
      const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
      const claims = {
        iss: TOKEN_ISSUER,
        sub: subject,
        aud: TOKEN_SERVICE,
        exp: now + lifetimeSeconds,
        // A little slack so a token is valid the moment it is issued, whatever the clocks say.
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access,
      };
      const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
      return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
    },
  };
}

function b64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Parses `repository:team/app:pull,push` (names never hold ':', but be lenient in the middle). */
export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter((a) => a !== ''),
  };
}

export interface TokenIssuer {
  url: string;
  /** Token requests served (any outcome). */
  requests: number;
  /** Requests rejected for bad credentials. */
  rejected: number;
  /** Scopes asked for, in order. */
  scopes: string[];
  /** Lifetime of issued tokens; tests shorten it to exercise refresh. */
  lifetimeSeconds: number;
  /** Every token issued, in order (the secret scan looks for them). */
  readonly issued: readonly string[];
  close(): Promise<void>;
}

export async function startTokenIssuer(
  signer: TokenSigner,
  port: number,
  credentials: { username: string; password: string },
): Promise<TokenIssuer> {
  const state = { requests: 0, rejected: 0, scopes: [] as string[], lifetimeSeconds: 300, issued: [] as string[] };
  const expected = Buffer.from(`${credentials.username}:${credentials.password}`);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      return;
    }
    state.requests++;
    const auth = req.headers.authorization;
    let subject = '';
    if (auth !== undefined) {
      const given = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64') : Buffer.alloc(0);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        state.rejected++;
        res.writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': 'Basic realm="tidemark-test-issuer"',
        });
        res.end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      subject = credentials.username;
    }
    const access: AccessEntry[] = [];
    for (const scope of url.searchParams.getAll('scope')) {
      state.scopes.push(scope);
      const entry = parseScope(scope);
      // Anonymous callers get a valid token that grants nothing, as public registries do for
      // private repositories; the registry then answers 401 insufficient_scope.
      if (entry && subject !== '') access.push(entry);
    }
    const token = signer.sign(access, subject, state.lifetimeSeconds);
    state.issued.push(token);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: state.lifetimeSeconds,
        issued_at: new Date().toISOString(),
      }),
    );
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}/token`,
    get requests() {
      return state.requests;
    },
    set requests(value: number) {
      state.requests = value;
    },
    get rejected() {
      return state.rejected;
    },
    set rejected(value: number) {
      state.rejected = value;
    },
    get scopes() {
      return state.scopes;
    },
    set scopes(value: string[]) {
      state.scopes = value;
    },
    get lifetimeSeconds() {
      return state.lifetimeSeconds;
    },
    set lifetimeSeconds(value: number) {
      state.lifetimeSeconds = value;
    },
    get issued() {
      return state.issued;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
