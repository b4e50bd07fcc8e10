import type { IncomingHttpHeaders } from 'node:http';
import { HttpTimeout, type HttpPool, type HttpResponse } from '../http/client.ts';
import { isTidemarkError } from '../errors/index.ts';
import { RegistryErrorCode, registryTerminal, registryTransient } from './errors.ts';
import { timeoutSignal } from '../time/timer.ts';

/**
 * One HTTP exchange with a bounded body and an overall deadline, mapping transport failures to
 * registry error codes. Every request made and body byte read is added to the caller's meter.
 */

export interface Meter {
  requests: number;
  bytes: number;
}

export interface HttpExchange {
  method: 'GET' | 'HEAD';
  url: URL;
  headers: Record<string, string>;
  pool: HttpPool;
  timeoutMs: number;
  maxBodyBytes: number;
  signal?: AbortSignal | undefined;
  meter: Meter;
}

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Node's TLS verification failures: retrying will not help until the CA or the URL changes. */
const TLS_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'EPROTO',
]);

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT']);

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function describe(ex: HttpExchange): string {
  return `${ex.method} ${ex.url.origin}${ex.url.pathname}`;
}

export function mapTransportError(err: unknown, ex: HttpExchange, timedOut: boolean): Error {
  const code = errorCode(err);
  if (timedOut || err instanceof HttpTimeout || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return registryTransient(RegistryErrorCode.RegistryTimeout, `${describe(ex)} timed out after ${ex.timeoutMs} ms`, err);
  }
  if (code !== undefined && TLS_CODES.has(code)) {
    return registryTerminal(
      RegistryErrorCode.RegistryTLSError,
      `${describe(ex)} failed TLS verification (${code})`,
      ex.url.protocol === 'https:'
        ? 'give the registry CA in certSecretRef, or mark the registry insecure if it only speaks plain HTTP'
        : 'the registry expects TLS: do not mark it insecure',
      err,
    );
  }
  return registryTransient(
    RegistryErrorCode.RegistryUnreachable,
    `${describe(ex)} failed: ${code ?? (err instanceof Error ? err.message : String(err))}`,
    err,
  );
}

export async function exchange(ex: HttpExchange): Promise<HttpReply> {
  ex.signal?.throwIfAborted();
  const deadline = timeoutSignal(ex.timeoutMs);
  const signal = ex.signal ? AbortSignal.any([ex.signal, deadline]) : deadline;
  ex.meter.requests++;
  let res: HttpResponse;
  try {
    res = await ex.pool.request(ex.url.href, {
      method: ex.method,
      headers: ex.headers,
      signal,
      headersTimeoutMs: ex.timeoutMs,
      bodyTimeoutMs: ex.timeoutMs,
    });
  } catch (err) {
    if (ex.signal?.aborted) throw ex.signal.reason;
    throw mapTransportError(err, ex, deadline.aborted);
  }

  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > ex.maxBodyBytes && ex.method !== 'HEAD') {
    // Ends the body unread, and with it the connection.
    await res.body[Symbol.asyncIterator]().return?.();
    throw tooLarge(ex);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += chunk.length;
      ex.meter.bytes += chunk.length;
      if (size > ex.maxBodyBytes) {
        // Leaving the loop early ends the body stream and with it the connection.
        throw tooLarge(ex);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (isTidemarkError(err)) throw err;
    if (ex.signal?.aborted) throw ex.signal.reason;
    throw mapTransportError(err, ex, deadline.aborted);
  }
  return { status: res.statusCode, headers: res.headers, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) };
}

function tooLarge(ex: HttpExchange) {
  return registryTerminal(
    RegistryErrorCode.RegistryResponseTooLarge,
    `${describe(ex)} answered with more than ${ex.maxBodyBytes} bytes`,
    'raise the response size limit or use a smaller page size',
  );
}
