import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { RegistryErrorCode, registryTerminal } from './errors.ts';

/**
 * The token realm comes from the registry's `WWW-Authenticate` header, so a tenant who controls a
 * registry chooses where the updater sends a GET (SSRF). A realm may not reach loopback, link-local
 * or cloud metadata addresses, unless the registry itself is on that address (a registry on
 * 127.0.0.1 with its token service beside it); the request then goes to the addresses checked
 * here, not to a second DNS answer (rebinding). Private networks stay allowed: registries and
 * their token services live there.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a host name resolves to; IP literals resolve to themselves. */
export type ResolveHost = (host: string) => Promise<ResolvedAddress[]>;

export const resolveHost: ResolveHost = async (host) => {
  const bare = host.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family !== 0) return [{ address: bare, family: family as 4 | 6 }];
  const found = await lookup(bare, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** Cloud metadata services outside link-local: AWS IPv6 IMDS, Alibaba, Azure WireServer. */
const METADATA: ReadonlySet<string> = new Set(['fd00:ec2::254', '100.100.100.200', '168.63.129.16']);

/** Why an address is off limits for a token realm, or undefined. */
export function forbiddenAddress(address: string): string | undefined {
  const ip = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped) return forbiddenAddress(mapped[1] as string);
  if (METADATA.has(ip)) return 'a cloud metadata address';
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number);
    if (a === 127) return 'a loopback address';
    if (a === 0) return 'an unspecified (this host) address';
    if (a === 169 && b === 254) return 'a link-local (cloud metadata) address';
    return undefined;
  }
  if (ip === '::1' || ip === '::') return 'a loopback address';
  if (/^fe[89ab][0-9a-f]:/.test(ip)) return 'a link-local address';
  return undefined;
}

/**
 * Checks a realm against the registry it came from and returns the addresses to connect to.
 * Throws a terminal RegistryRealmRefused or RegistryInsecureRealm.
 */
export async function checkRealm(realm: URL, registryOrigin: string, what: string, resolve: ResolveHost): Promise<ResolvedAddress[]> {
  const registry = new URL(registryOrigin);
  if (registry.protocol === 'https:' && realm.protocol !== 'https:') {
    throw registryTerminal(
      RegistryErrorCode.RegistryInsecureRealm,
      `${what}: the HTTPS registry names a plain-HTTP token service at ${realm.host}; refusing`,
      'the registry must name an https:// token realm; mark the registry insecure only if it speaks plain HTTP itself',
    );
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolve(realm.hostname);
  } catch {
    addresses = [];
  }
  if (addresses.length === 0) {
    throw registryTerminal(RegistryErrorCode.RegistryRealmRefused, `${what}: the token realm host ${realm.hostname} does not resolve`);
  }
  const refused = addresses.filter((a) => forbiddenAddress(a.address) !== undefined);
  if (refused.length === 0) return addresses;
  let own: ResolvedAddress[] = [];
  try {
    own = await resolve(registry.hostname);
  } catch {
    // The registry answered us, so this is rare; without its addresses nothing is "the same host".
  }
  const ownSet = new Set(own.map((a) => a.address));
  const first = refused.find((a) => !ownSet.has(a.address));
  if (first === undefined) return addresses;
  throw registryTerminal(
    RegistryErrorCode.RegistryRealmRefused,
    `${what}: the registry's token realm ${realm.hostname} resolves to ${first.address}, ${forbiddenAddress(first.address)}; refusing`,
    'a token realm may not point at loopback, link-local or cloud metadata addresses unless the registry is on that host',
  );
}
