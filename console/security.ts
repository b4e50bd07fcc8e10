import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Random bytes as URL-safe text; injected so tests can name the tokens they expect. */
export type TokenSource = () => string;

export const randomToken: TokenSource = () => randomBytes(32).toString('base64url');

/** Compares two secrets in time that does not depend on where they differ (hashing evens out the lengths). */
export function secretsEqual(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The Host header a request to this console may carry. A DNS-rebinding page reaches the
 * loopback port under its own host name, so anything but the loopback names is refused.
 */
export function hostAllowed(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** The one origin the console's own pages have. */
export function consoleOrigins(port: number): readonly string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

/**
 * Whether a state-changing request comes from the console's own page. Browsers send Origin on
 * every cross-origin request and on every same-origin POST, PUT, PATCH and DELETE from fetch, so
 * a missing one is refused too: only a non-browser client omits it, and it has no business here.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, port: number): boolean {
  if (origin === undefined || host === undefined) return false;
  return consoleOrigins(port).includes(origin) && origin === `http://${host}`;
}

/** The cookies of a Cookie header; the first of a repeated name wins, as browsers send the most specific first. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/**
 * The session cookie. HttpOnly: page scripts never see it; SameSite=Strict: no other site's page
 * can make the browser send it. No `Secure` (plain http on loopback) and so no `__Host-` prefix.
 * Cookies are scoped by host, not port: the name carries the port so two consoles do not collide.
 */
export function sessionCookieName(port: number): string {
  return `tidemark_session_${port}`;
}

export function sessionCookie(port: number, value: string): string {
  return `${sessionCookieName(port)}=${value}; Path=/; HttpOnly; SameSite=Strict`;
}

/** Headers every response carries: no inline script, no framing, no referrer with the login token. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Where an in-cluster console is reached: the Ingress or Service host names it answers to, and
 * whether the browser speaks TLS to them (then the cookie is `Secure` and the origin `https`).
 */
export interface PublicAddress {
  hosts: readonly string[];
  secure: boolean;
}

/** An in-cluster console answers only to its configured host names: DNS rebinding reaches it under others. */
export function publicHostAllowed(host: string | undefined, address: PublicAddress): boolean {
  if (host === undefined) return false;
  const lower = host.toLowerCase();
  return address.hosts.some((allowed) => allowed.toLowerCase() === lower);
}

/** As originAllowed, for a console behind a Service or Ingress: the origin is the configured host's. */
export function publicOriginAllowed(origin: string | undefined, host: string | undefined, address: PublicAddress): boolean {
  if (origin === undefined || host === undefined || !publicHostAllowed(host, address)) return false;
  return origin.toLowerCase() === `${address.secure ? 'https' : 'http'}://${host.toLowerCase()}`;
}

/**
 * The in-cluster session cookie: behind TLS `__Host-` and `Secure`, so no plain-http page or
 * sibling domain can set or read it; the session id is the only thing in it, the user's token
 * stays in the server's memory.
 */
export function publicCookieName(address: PublicAddress): string {
  return address.secure ? '__Host-tidemark_session' : 'tidemark_session';
}

export function publicCookie(address: PublicAddress, value: string, maxAgeSeconds?: number): string {
  const age = maxAgeSeconds === undefined ? '' : `; Max-Age=${maxAgeSeconds}`;
  return `${publicCookieName(address)}=${value}; Path=/; HttpOnly; SameSite=Strict${address.secure ? '; Secure' : ''}${age}`;
}
