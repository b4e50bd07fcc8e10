import { createHash } from 'node:crypto';
import { RegistryErrorCode, registryTerminal } from './errors.ts';
import type { SecretLike } from './credentials.ts';

/** TLS material for a registry: a CA bundle and/or a client certificate (PEM). */
export interface RegistryTLS {
  ca?: string;
  cert?: string;
  key?: string;
}

function invalid(message: string) {
  return registryTerminal(
    RegistryErrorCode.InvalidRegistryTLS,
    message,
    'the certSecretRef Secret needs ca.crt (PEM CA bundle) and/or tls.crt with tls.key (PEM client certificate and key)',
  );
}

/** Checks the PEM shapes up front so a wrong Secret is a config error, not a handshake failure. */
export function validateTLS(tls: RegistryTLS): RegistryTLS {
  if (tls.ca !== undefined && !tls.ca.includes('-----BEGIN CERTIFICATE-----')) throw invalid('ca.crt holds no PEM certificate');
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw invalid('a client certificate needs both tls.crt and tls.key');
  if (tls.cert !== undefined && !tls.cert.includes('-----BEGIN CERTIFICATE-----')) throw invalid('tls.crt holds no PEM certificate');
  if (tls.key !== undefined && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(tls.key)) throw invalid('tls.key holds no PEM private key');
  return tls;
}

/**
 * Reads a certSecretRef Secret: `ca.crt`, `tls.crt`, `tls.key` (Flux's current names), falling
 * back to the older `caFile`, `certFile`, `keyFile`.
 */
export function tlsFromSecret(secret: SecretLike): RegistryTLS {
  const data = secret.data ?? {};
  const read = (...keys: string[]) => {
    for (const key of keys) {
      const value = data[key];
      if (typeof value === 'string') return value;
    }
    return undefined;
  };
  const tls: RegistryTLS = {};
  const ca = read('ca.crt', 'caFile');
  const cert = read('tls.crt', 'certFile');
  const key = read('tls.key', 'keyFile');
  if (ca !== undefined) tls.ca = ca;
  if (cert !== undefined) tls.cert = cert;
  if (key !== undefined) tls.key = key;
  if (ca === undefined && cert === undefined) throw invalid('the certSecretRef Secret has neither ca.crt nor tls.crt');
  return validateTLS(tls);
}

/** A stable key for caching one connection pool per distinct TLS setup (the PEMs never leave this hash). */
export function tlsKey(tls: RegistryTLS | undefined): string {
  if (!tls || (tls.ca === undefined && tls.cert === undefined)) return 'default';
  return createHash('sha256')
    .update(JSON.stringify([tls.ca ?? '', tls.cert ?? '', tls.key ?? '']))
    .digest('hex')
    .slice(0, 16);
}
