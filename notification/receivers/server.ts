import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { nodeHttp } from '../../shared/http/node-http.ts';
import { toTidemarkError } from '../../shared/errors/index.ts';
import { splitHostPort } from '../../shared/http/address.ts';
import type { Logger } from '../../shared/log/index.ts';
import { recordWebhookRequest, type WebhookResultLabel } from '../../shared/metrics/index.ts';
import type { Clock } from '../../shared/time/clock.ts';
import type { Route } from './controller.ts';
import { ReplayWindow, TokenBuckets } from './limits.ts';
import { chooseTargets, listTargets, requestReconcile, type TargetPort } from './targets.ts';
import { verifyCall } from './verify.ts';

/** 1 MiB: a GitHub push of many commits is well below it; registries send far less. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface ReceiverServerOptions {
  routes: { route(path: string): Route | undefined };
  kube: TargetPort;
  clock: Clock;
  log: Logger;
  maxBodyBytes?: number | undefined;
  /** Per Receiver: `burst` calls at once, then `perSecond`. Default 20 and 2. */
  rateLimit?: { burst: number; perSecond: number } | undefined;
  /** How long a delivery id is remembered; default an hour (GitHub redelivers by hand, registries within minutes). */
  replayWindowMs?: number | undefined;
}

/** One call's answer: the status, a short plain text that never repeats the payload, the metric's result. */
export interface Answer {
  status: number;
  text: string;
  result: WebhookResultLabel;
  headers?: Record<string, string>;
}

/**
 * Answers webhook calls on the receiver port: finds the Receiver by path, limits its rate and
 * body size, verifies the call, ignores replays, and asks the selected objects to reconcile now.
 * Nothing a caller sends is logged: only the Receiver, the outcome and counts.
 */
export class ReceiverEndpoint {
  private readonly options: ReceiverServerOptions;
  private readonly buckets: TokenBuckets;
  private readonly replays: ReplayWindow;
  readonly maxBodyBytes: number;

  constructor(options: ReceiverServerOptions) {
    this.options = options;
    const now = () => options.clock.now();
    this.buckets = new TokenBuckets({ ...(options.rateLimit ?? { burst: 20, perSecond: 2 }), now });
    this.replays = new ReplayWindow({ windowMs: options.replayWindowMs ?? 3_600_000, max: 10_000, now });
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** Before the body is read: the route, or the answer that ends the call. */
  admit(method: string | undefined, url: string | undefined): { route: Route } | { answer: Answer; route: Route | undefined } {
    const path = (url ?? '').split('?')[0] ?? '';
    const route = this.options.routes.route(path);
    if (!route) return { route: undefined, answer: { status: 404, text: 'not found', result: 'not_found' } };
    if (method !== 'POST') {
      return { route, answer: { status: 405, text: 'only POST', result: 'method_not_allowed', headers: { allow: 'POST' } } };
    }
    const taken = this.buckets.take(route.key);
    if (!taken.ok) {
      return {
        route,
        answer: {
          status: 429,
          text: 'too many calls',
          result: 'rate_limited',
          headers: { 'retry-after': String(taken.retryAfterSeconds) },
        },
      };
    }
    return { route };
  }

  /** After the body is read: verify, then ask the targets to reconcile. */
  async answer(route: Route, headers: Readonly<Record<string, string | undefined>>, body: Buffer): Promise<Answer> {
    const { config } = route;
    const verdict = verifyCall(config.type, { headers, body }, route.token, config.events);
    const log = this.options.log.child({ receiver: route.key, type: config.type });
    if (verdict.kind === 'unauthorized') {
      log.warn({ why: verdict.why }, 'webhook call refused');
      return { status: 401, text: 'unauthorized', result: 'unauthorized' };
    }
    if (verdict.kind === 'bad-request') return { status: 400, text: verdict.why, result: 'bad_request' };
    if (verdict.kind === 'ignored') return { status: 200, text: verdict.why, result: 'ignored' };

    const deliveries = verdict.deliveries.map((id) => `${route.key}|${id}`);
    if (deliveries.some((id) => this.replays.has(id))) return { status: 200, text: 'delivery already handled', result: 'replayed' };
    const pushes = (verdict.pushes ?? []).filter((push) => push.id === undefined || !this.replays.has(`${route.key}|${push.id}`));
    if (verdict.pushes !== undefined && pushes.length === 0) return { status: 200, text: 'delivery already handled', result: 'replayed' };

    const started = this.options.clock.now();
    let requested: number;
    try {
      const objects = await listTargets(this.options.kube, config.resources);
      const targets = chooseTargets(
        config.type,
        objects,
        pushes.map((push) => push.repository),
      );
      if (targets.length === 0) {
        log.info({ selected: objects.length }, 'webhook call matched no object');
        this.remember(deliveries, route.key, pushes);
        return { status: 200, text: 'no object to reconcile', result: 'unmatched' };
      }
      const stamp = new Date(this.options.clock.now()).toISOString();
      requested = await requestReconcile(this.options.kube, targets, stamp, `receiver/${route.key}`);
    } catch (err) {
      const error = toTidemarkError(err);
      log.warn({ reason: error.code, err: error.message }, 'webhook call could not request a reconcile');
      return { status: 500, text: 'could not request a reconcile', result: 'failed' };
    }
    this.remember(deliveries, route.key, pushes);
    log.info({ event: safeEvent(verdict.event), requested, ms: this.options.clock.now() - started }, 'reconcile requested');
    return { status: 200, text: `reconcile requested for ${requested} object${requested === 1 ? '' : 's'}`, result: 'accepted' };
  }

  /** A Receiver that is gone: its bucket goes. */
  forget(key: string): void {
    this.buckets.forget(key);
  }

  private remember(deliveries: string[], key: string, pushes: ReadonlyArray<{ id: string | undefined }>): void {
    for (const id of deliveries) this.replays.remember(id);
    for (const push of pushes) if (push.id !== undefined) this.replays.remember(`${key}|${push.id}`);
  }
}

/** Serves `endpoint` on `address` (`:9292`, `127.0.0.1:0`): its own port, apart from health and metrics. */
export async function serveReceivers(address: string, endpoint: ReceiverEndpoint, log: Logger): Promise<Server> {
  const [host, port] = splitHostPort(address);
  const server = nodeHttp.createServer((req, res) => void handle(endpoint, req, res, log));
  // A slow caller cannot hold a connection open for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

async function handle(endpoint: ReceiverEndpoint, req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
  const admitted = endpoint.admit(req.method, req.url);
  if ('answer' in admitted) return finish(res, admitted.route, admitted.answer, req);
  const { route } = admitted;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > endpoint.maxBodyBytes) return finish(res, route, tooLarge(), req);
  let body: Buffer | undefined;
  try {
    body = await readBody(req, endpoint.maxBodyBytes);
  } catch {
    // The caller went away mid-body: nobody is left to answer.
    recordWebhookRequest(route.key, 'bad_request');
    return;
  }
  if (!body) return finish(res, route, tooLarge(), req);
  try {
    finish(res, route, await endpoint.answer(route, headersOf(req), body), req);
  } catch (err) {
    log.warn({ receiver: route.key, err: toTidemarkError(err).message }, 'webhook call failed');
    finish(res, route, { status: 500, text: 'internal error', result: 'failed' }, req);
  }
}

function tooLarge(): Answer {
  return { status: 413, text: 'body too large', result: 'too_large' };
}

function finish(res: ServerResponse, route: Route | undefined, answer: Answer, req: IncomingMessage): void {
  recordWebhookRequest(route?.key, answer.result);
  const close = answer.status === 413 || !req.complete;
  res.writeHead(answer.status, {
    'content-type': 'text/plain; charset=utf-8',
    ...(close ? { connection: 'close' } : {}),
    ...answer.headers,
  });
  res.end(`${answer.text}\n`);
  // An unread body of a refused call is not drained: the connection closes instead.
  if (close) res.once('finish', () => req.destroy());
}

/** The body, or undefined once it passes `max` bytes (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('aborted', () => reject(new Error('aborted')));
  });
}

function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) out[name] = Array.isArray(value) ? value[0] : value;
  return out;
}

/** An event name is the caller's text: only a short, plain one reaches a log line. */
function safeEvent(event: string | undefined): string | undefined {
  return event !== undefined && /^[\w :.-]{1,64}$/.test(event) ? event : undefined;
}
