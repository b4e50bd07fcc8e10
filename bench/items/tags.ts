/**
 * Item 5: one scan of a repository with 10,000 tags in the real registry (CNCF distribution) —
 * list every page, apply the exclusion list, filter with the seed's pattern, pick the newest with
 * the numerical policy — against `skopeo list-tags` of the same repository. What is timed is what
 * a running image updater does each interval: the same long-lived client, the specs compiled once
 * per generation, and the per-tag outcomes of the previous scan kept (the ImageRepository
 * controller applies the exclusion list to the listing; the ImagePolicy controller decides over
 * the stored tags with no exclusions of its own). The first scan — compiled forms and memos
 * empty, a new connection — is timed once on its own. A small counting proxy (used for one extra,
 * untimed run per side) says how many requests and bytes each side needed.
 */
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import { compileDecideOptions, decide, ExclusionList, RegistryClient } from '../../image-updater/index.ts';
import type { CompiledDecideOptions } from '../../image-updater/index.ts';
import { startRegistry } from '../../test/harness/registry.ts';
import type { TestRegistry } from '../../test/harness/registry.ts';
import type { BenchEnv } from '../lib/env.ts';
import { mustRun } from '../lib/proc.ts';

export const TAG_REPO = 'team/app';
const BASE_TS = 1_700_000_000;

export function seedTag(i: number): string {
  const sha = createHash('sha1').update(`commit-${i}`).digest('hex').slice(0, 7);
  return `master-${sha}-${BASE_TS + i * 60}`;
}

/** 10,000 tags: mostly the seed's `master-<sha>-<ts>`, with the noise real repositories carry. */
export function tagSet(total: number): string[] {
  const tags: string[] = [];
  for (let i = 0; i < total; i++) {
    if (i % 50 === 0) tags.push(`feature-${i}-${BASE_TS + i}`);
    else if (i % 50 === 1) tags.push(`1.${Math.floor(i / 100)}.${i % 100}`);
    else if (i % 50 === 2) tags.push(`${seedTag(i)}.sig`);
    else tags.push(seedTag(i));
  }
  return tags;
}

/** The ImagePolicy of the seed, as written. */
const POLICY_SPEC = {
  filterTags: { pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' },
  policy: { numerical: { order: 'asc' as const } },
  // The ImagePolicy controller's: the tags it reads were filtered when they were scanned.
  exclusionList: [],
};

export interface TagsResult {
  tags: number;
  pushMs: number;
  /** The first scan: specs compiled, every tag through RE2, a new connection. */
  firstMs: number;
  /** Of each timed scan of ours, the listing alone (requests, JSON, de-duplication). */
  oursListMs: number[];
  oursMs: number[];
  peerMs: number[];
  chosen: string;
  ours: { requests: number; bytes: number; pages: number };
  peer: { requests: number; bytes: number; tagsPrinted: number };
}

interface CountingProxy {
  host: string;
  counts: { requests: number; bytes: number };
  close(): Promise<void>;
}

/** Forwards to the registry and counts requests and response bytes; loopback only. */
async function countingProxy(target: URL): Promise<CountingProxy> {
  const counts = { requests: 0, bytes: 0 };
  const server: Server = createServer((req, res) => {
    counts.requests++;
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.on('data', (chunk: Buffer) => {
          counts.bytes += chunk.length;
        });
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { host: `127.0.0.1:${port}`, counts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function runTags(env: BenchEnv, options: { total: number; reps: number; warmup: number }): Promise<TagsResult> {
  let registry: TestRegistry | undefined;
  const client = new RegistryClient();
  try {
    registry = await startRegistry({ auth: 'none', pushConcurrency: 16 });
    env.log(`tags: pushing ${options.total} tags`);
    const pushStart = performance.now();
    const tags = tagSet(options.total);
    await registry.pushImage(TAG_REPO, tags);
    const pushMs = performance.now() - pushStart;
    const reg = registry;
    // Compiled once per spec generation and kept, as the controllers keep them.
    const exclusions = new ExclusionList(undefined);
    let compiled: CompiledDecideOptions | undefined;

    const scan = async (host: string) => {
      const start = performance.now();
      const listed = await client.listTags(`${host}/${TAG_REPO}`, { access: { insecure: true } });
      const listMs = performance.now() - start;
      const kept = exclusions.keep(listed.tags);
      compiled ??= compileDecideOptions(POLICY_SPEC);
      const decision = decide(kept, compiled);
      if ('error' in decision) throw decision.error;
      return { listed, decision, listMs };
    };
    const skopeo = (host: string) =>
      mustRun('skopeo', ['list-tags', '--tls-verify=false', `docker://${host}/${TAG_REPO}`], {
        env: { ...process.env, HOME: env.workDir },
      });
    const oursListMs: number[] = [];
    const ours = async () => {
      const start = performance.now();
      const { listed, listMs } = await scan(reg.host);
      const ms = performance.now() - start;
      if (listed.tags.length !== options.total) throw new Error(`listed ${listed.tags.length} tags, expected ${options.total}`);
      oursListMs.push(listMs);
      return ms;
    };
    const peer = async () => (await skopeo(reg.host)).ms;

    const firstMs = await ours();
    oursListMs.length = 0;
    for (let i = 0; i < options.warmup; i++) {
      await ours();
      await peer();
    }
    oursListMs.length = 0;
    const oursMs: number[] = [];
    const peerMs: number[] = [];
    for (let i = 0; i < options.reps; i++) {
      if (i % 2 === 0) {
        oursMs.push(await ours());
        peerMs.push(await peer());
      } else {
        peerMs.push(await peer());
        oursMs.push(await ours());
      }
    }

    const proxy = await countingProxy(new URL(reg.url));
    try {
      const { listed, decision } = await scan(proxy.host);
      const oursCounts = { ...proxy.counts };
      proxy.counts.requests = 0;
      proxy.counts.bytes = 0;
      const printed = await skopeo(proxy.host);
      return {
        tags: options.total,
        pushMs,
        firstMs,
        oursListMs,
        oursMs,
        peerMs,
        chosen: decision.tag,
        ours: { requests: oursCounts.requests, bytes: oursCounts.bytes, pages: listed.pages },
        peer: { requests: proxy.counts.requests, bytes: proxy.counts.bytes, tagsPrinted: printed.stdoutLines },
      };
    } finally {
      await proxy.close();
    }
  } finally {
    await client.close();
    await registry?.stop();
  }
}
