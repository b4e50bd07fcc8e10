import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WEBHOOK_PATH_PREFIX, type ReceiverType } from '../../shared/api/receiver.ts';
import { registryPushes, type RegistryPush } from './registry-events.ts';

/** What the verifier reads of one call: lower-case header names, the raw body. */
export interface WebhookCall {
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

/**
 * A call's verdict. `accepted` asks the targets to reconcile (registry types: only those of the
 * pushed images); `ignored` is a valid call that asks for nothing (a ping, an event not listed);
 * `unauthorized` changes nothing.
 */
export type Verdict =
  | {
      kind: 'accepted';
      /** The event the caller named, when its type names one. */
      event: string | undefined;
      /** Delivery ids the caller gives each delivery (GitHub's X-GitHub-Delivery ...): a repeat is a replay. */
      deliveries: string[];
      /** Registry types: the pushes the call reports, each with its own event id when it has one. */
      pushes: RegistryPush[] | undefined;
    }
  | { kind: 'ignored'; why: string }
  | { kind: 'unauthorized'; why: string }
  | { kind: 'bad-request'; why: string };

type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';

/**
 * Checks one call against the Receiver's token, and reads the event and the pushes from it. Pure:
 * the same call and token always give the same verdict. Every comparison of a secret is constant
 * time over equal-length digests.
 */
export function verifyCall(type: ReceiverType, call: WebhookCall, token: string, events: readonly string[]): Verdict {
  switch (type) {
    case 'generic':
      // The unguessable path is the secret, as in Flux.
      return accepted(undefined, [], undefined, events);
    case 'generic-hmac': {
      const refused = checkPrefixedHmac(call, 'x-signature', token, ['sha1', 'sha256', 'sha512']);
      return refused ?? accepted(undefined, [], undefined, events);
    }
    case 'github': {
      const refused = checkPrefixedHmac(call, 'x-hub-signature-256', token, ['sha256']);
      if (refused) return refused;
      const event = header(call, 'x-github-event');
      if (event === 'ping') return { kind: 'ignored', why: 'ping answered' };
      return accepted(event, ids(header(call, 'x-github-delivery')), undefined, events);
    }
    case 'gitlab': {
      if (!sameSecret(header(call, 'x-gitlab-token'), token)) return { kind: 'unauthorized', why: 'X-Gitlab-Token does not match' };
      return accepted(header(call, 'x-gitlab-event'), ids(header(call, 'x-gitlab-event-uuid')), undefined, events);
    }
    case 'bitbucket': {
      // Bitbucket Server (Data Center) signs like GitHub, in X-Hub-Signature.
      const refused = checkPrefixedHmac(call, 'x-hub-signature', token, ['sha256']);
      if (refused) return refused;
      const event = header(call, 'x-event-key');
      if (event === 'diagnostics:ping') return { kind: 'ignored', why: 'ping answered' };
      return accepted(event, ids(header(call, 'x-request-id')), undefined, events);
    }
    case 'gitea': {
      // Gitea (and Forgejo) send the bare hex digest.
      const given = header(call, 'x-gitea-signature');
      if (given === undefined) return { kind: 'unauthorized', why: 'X-Gitea-Signature is missing' };
      if (!sameDigest(given, hmac('sha256', token, call.body))) return { kind: 'unauthorized', why: 'X-Gitea-Signature does not match' };
      return accepted(header(call, 'x-gitea-event'), ids(header(call, 'x-gitea-delivery')), undefined, events);
    }
    case 'harbor': {
      // Harbor's webhook policy sends its "auth header" verbatim in Authorization, as Flux checks it.
      if (!sameSecret(header(call, 'authorization'), token)) return { kind: 'unauthorized', why: 'Authorization does not match' };
      return registryVerdict(type, call, events);
    }
    case 'ghcr': {
      // GitHub's package events, signed as every GitHub webhook.
      const refused = checkPrefixedHmac(call, 'x-hub-signature-256', token, ['sha256']);
      if (refused) return refused;
      if (header(call, 'x-github-event') === 'ping') return { kind: 'ignored', why: 'ping answered' };
      return registryVerdict(type, call, events, ids(header(call, 'x-github-delivery')));
    }
    case 'dockerhub':
    case 'quay':
    case 'distribution':
      // These registries cannot sign: the unguessable path is the secret, as in Flux.
      return registryVerdict(type, call, events);
  }
}

function registryVerdict(type: ReceiverType, call: WebhookCall, events: readonly string[], deliveries: string[] = []): Verdict {
  const read = registryPushes(type, call.body);
  if (!read.ok) return { kind: 'bad-request', why: read.why };
  if (read.pushes.length === 0) return { kind: 'ignored', why: 'no tag push in the call' };
  return accepted(undefined, deliveries, read.pushes, events);
}

function accepted(event: string | undefined, deliveries: string[], pushes: RegistryPush[] | undefined, events: readonly string[]): Verdict {
  // A call that names no event (generic, registries) has nothing for the filter to hold it to.
  if (event !== undefined && events.length > 0 && !events.includes(event)) return { kind: 'ignored', why: 'event not in spec.events' };
  return { kind: 'accepted', event, deliveries, pushes };
}

/** `<algorithm>=<hex>` in `name`, one of `allowed`, matching the body's HMAC under the token. */
function checkPrefixedHmac(call: WebhookCall, name: string, token: string, allowed: readonly HmacAlgorithm[]): Verdict | undefined {
  const given = header(call, name);
  if (given === undefined) return { kind: 'unauthorized', why: `${name} is missing` };
  const eq = given.indexOf('=');
  const algorithm = given.slice(0, eq).toLowerCase() as HmacAlgorithm;
  if (eq < 0 || !allowed.includes(algorithm))
    return { kind: 'unauthorized', why: `${name} is not ${allowed.map((a) => `${a}=<hex>`).join(' or ')}` };
  if (!sameDigest(given.slice(eq + 1), hmac(algorithm, token, call.body))) return { kind: 'unauthorized', why: `${name} does not match` };
  return undefined;
}

function hmac(algorithm: HmacAlgorithm, key: string, body: Buffer): Buffer {
  return createHmac(algorithm, key).update(body).digest();
}

/** A hex digest given by the caller against the expected one, in constant time once the lengths agree. */
function sameDigest(givenHex: string, expected: Buffer): boolean {
  if (!/^[0-9a-fA-F]*$/.test(givenHex) || givenHex.length !== expected.length * 2) return false;
  return timingSafeEqual(Buffer.from(givenHex, 'hex'), expected);
}

/** A token given by the caller against ours: both hashed first, so the comparison is equal-length and constant time. */
function sameSecret(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

function header(call: WebhookCall, name: string): string | undefined {
  const value = call.headers[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Delivery ids are the caller's; only short, plain ones are kept (they end up as keys in memory). */
function ids(value: string | undefined): string[] {
  return value !== undefined && /^[\w.:-]{1,128}$/.test(value) ? [value] : [];
}

/** `/hook/` + sha256(token + name + namespace) in hex, exactly as Flux derives it. */
export function webhookPath(token: string, name: string, namespace: string): string {
  return `${WEBHOOK_PATH_PREFIX}${createHash('sha256')
    .update(token + name + namespace)
    .digest('hex')}`;
}
