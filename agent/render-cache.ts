import { realpath } from 'node:fs/promises';
import { credentialsFingerprint } from '../shared/git/credentials.ts';
import type { GitCredentials } from '../shared/git/types.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import { findKustomizationFile } from './render/kustomization-refs.ts';
import { isChartDirectory } from './render/helm.ts';
import { resolveInside } from './render/paths.ts';

/**
 * What a render is remembered under. A commit SHA alone is no capability: anyone can name one. An
 * entry is only ever written after the source checked the commit out from this URL with these
 * credentials (a pinned commit the server does not advertise is fetched from it first), so a
 * deployment is served a render only if its own repository and credentials could give it the commit.
 */
export interface RenderKey {
  url: string;
  credentials: GitCredentials | undefined;
  sha: string;
  path: string;
}

/**
 * Plain YAML at one path of one commit always renders to the same objects, so a reconcile of a
 * commit it has rendered before skips the checkout check and the parse (most of a no-op
 * reconcile's time and garbage). Entries are keyed by repository URL and credentials too (a keyed
 * hash of them, never the secret). Kustomizations are never cached: they may pull remote bases.
 * Least recently used entries go first once either bound is reached. Callers must not mutate
 * the objects they get (the planner copies what it changes).
 */
export class RenderCache {
  private readonly entries = new Map<string, readonly KubeObject[]>();
  private readonly maxEntries: number;
  private readonly maxObjects: number;
  private objects = 0;

  constructor(options: { maxEntries?: number; maxObjects?: number } = {}) {
    this.maxEntries = options.maxEntries ?? 64;
    this.maxObjects = options.maxObjects ?? 50_000;
  }

  get(entry: RenderKey): KubeObject[] | undefined {
    const key = keyOf(entry);
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return [...hit];
  }

  set(entry: RenderKey, objects: readonly KubeObject[]): void {
    if (objects.length > this.maxObjects) return;
    const key = keyOf(entry);
    const old = this.entries.get(key);
    if (old) {
      this.objects -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, [...objects]);
    this.objects += objects.length;
    for (const [oldest, value] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.objects <= this.maxObjects) break;
      this.entries.delete(oldest);
      this.objects -= value.length;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

function keyOf(entry: RenderKey): string {
  return JSON.stringify([entry.url, credentialsFingerprint(entry.credentials), entry.sha, entry.path]);
}

/** True when `path` of the checkout is rendered as plain manifests (no kustomization and no chart there). */
export async function isPlainDirectory(checkoutDir: string, path: string): Promise<boolean> {
  try {
    const dir = await resolveInside(await realpath(checkoutDir), path || './');
    // A chart's render depends on spec.helm too, which the key does not hold: never cached.
    return !(await findKustomizationFile(dir)) && !(await isChartDirectory(dir));
  } catch {
    return false;
  }
}
