import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { startProcess, waitFor, type ManagedProcess } from './process.ts';
import { registerTempDir, runCommand } from './registry-process.ts';
import { RegistryPusher, type Platform, type PushedManifest } from './registry-push.ts';
import {
  createTokenSigner,
  startTokenIssuer,
  TOKEN_ISSUER,
  TOKEN_SERVICE,
  type TokenIssuer,
  type TokenSigner,
} from './registry-token-issuer.ts';

export { MEDIA, tarGz, type PushedManifest, type Platform, type TarEntry } from './registry-push.ts';
export type { TokenIssuer } from './registry-token-issuer.ts';

/**
 * A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8.2) on a free
 * loopback port with filesystem storage in a temp dir, anonymous, behind htpasswd basic auth, or
 * behind token auth with a local issuer.
 */

export type RegistryAuthMode = 'none' | 'htpasswd' | 'token';

export interface TestRegistry {
  mode: RegistryAuthMode;
  /** `127.0.0.1:PORT`, as it appears in image references. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  username: string;
  password: string;
  /** The token issuer in `token` mode. */
  issuer: TokenIssuer | undefined;
  dataDir: string;
  pushImage(repo: string, tags: string[], options?: { label?: string; format?: 'docker' | 'oci' }): Promise<PushedManifest>;
  pushIndex(
    repo: string,
    tag: string,
    options?: { format?: 'docker' | 'oci'; platforms?: Platform[]; label?: string },
  ): Promise<{ index: PushedManifest; children: PushedManifest[] }>;
  deleteTag(repo: string, tag: string): Promise<void>;
  /** An OCI artifact (Flux's format by default) whose one layer is `layer`, under every tag. */
  pushArtifact(
    repo: string,
    tags: readonly string[],
    layer: Buffer,
    options?: { format?: 'flux' | 'plain'; revision?: string },
  ): Promise<PushedManifest>;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  auth?: RegistryAuthMode;
  /** Manifest PUTs in flight while pushing. */
  pushConcurrency?: number;
  /**
   * A notifications endpoint (distribution's `notifications.endpoints`): the registry posts its
   * event envelope there after each push, as it would to a Receiver in a cluster.
   */
  notifications?: { url: string; headers?: Record<string, string> };
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const mode = options.auth ?? 'none';
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-registry-'));
  const removeDir = registerTempDir(dir);
  const username = 'tidemark';
  const password = randomBytes(12).toString('hex');
  let proc: ManagedProcess | undefined;
  let issuer: TokenIssuer | undefined;
  let pusher: RegistryPusher | undefined;

  const stop = async () => {
    await pusher?.close();
    await proc?.stop();
    await issuer?.close();
    await removeDir();
  };

  try {
    let authBlock = '';
    let signer: TokenSigner | undefined;
    if (mode === 'htpasswd') {
      // -i reads the password from stdin, keeping it off the process list.
      const line = await runCommand('htpasswd', ['-niB', '--', username], `${password}\n`);
      await writeFile(join(dir, 'htpasswd'), line.trim() + '\n', { mode: 0o600 });
      authBlock = `auth:\n  htpasswd:\n    realm: tidemark-test\n    path: ${join(dir, 'htpasswd')}\n`;
    } else if (mode === 'token') {
      signer = await createTokenSigner(dir);
      issuer = await startTokenIssuer(signer, await freePort(), { username, password });
      authBlock =
        `auth:\n  token:\n    realm: ${issuer.url}\n    service: ${TOKEN_SERVICE}\n    issuer: ${TOKEN_ISSUER}\n` +
        `    rootcertbundle: ${signer.certPath}\n`;
    }

    // Another process may take the port between probe and bind: then the registry exits with
    // "address already in use" and we try another port. The instance header makes sure the
    // readiness probe talks to our registry and not to whatever else listens there.
    let url = '';
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const instance = randomBytes(8).toString('hex');
      const config =
        `version: 0.1\n` +
        `log:\n  level: warn\n  accesslog:\n    disabled: true\n` +
        `storage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\n` +
        `  maintenance:\n    uploadpurging:\n      enabled: false\n` +
        `http:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(16).toString('hex')}\n` +
        `  headers:\n    X-Tidemark-Instance: [${instance}]\n` +
        `health:\n  storagedriver:\n    enabled: false\n` +
        notificationsBlock(options.notifications) +
        authBlock;
      const configPath = join(dir, 'config.yml');
      await writeFile(configPath, config, { mode: 0o600 });
      const started = await startProcess({
        name: 'docker-registry',
        command: 'docker-registry',
        args: ['serve', configPath],
        cwd: dir,
      });
      proc = started;
      url = `http://127.0.0.1:${port}`;
      try {
        await waitFor(
          async () => {
            const res = await fetch(`${url}/v2/`);
            await res.arrayBuffer();
            return res.headers.get('x-tidemark-instance') === instance;
          },
          { what: 'docker-registry /v2/', timeoutMs: 20_000, intervalMs: 50, watch: [started] },
        );
        break;
      } catch (err) {
        await started.stop();
        if (attempt >= 3 || !/address already in use/.test(started.tail(200))) throw err;
      }
    }

    const tokens = new Map<string, { value: string; until: number }>();
    const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    pusher = new RegistryPusher(
      url,
      (repo, actions) => {
        if (mode === 'none') return undefined;
        if (mode === 'htpasswd') return basic;
        // Mint directly rather than over HTTP so the issuer's request count reflects only the
        // code under test.
        const key = `${repo}|${actions.join(',')}`;
        const cached = tokens.get(key);
        if (cached && cached.until > Date.now()) return `Bearer ${cached.value}`;
        const value = (signer as TokenSigner).sign(
          [{ type: 'repository', name: repo, actions: ['pull', 'push', 'delete'] }],
          username,
          600,
        );
        tokens.set(key, { value, until: Date.now() + 300_000 });
        return `Bearer ${value}`;
      },
      options.pushConcurrency ?? 16,
    );
    const ready = pusher;

    return {
      mode,
      host: new URL(url).host,
      url,
      username,
      password,
      issuer,
      dataDir: join(dir, 'data'),
      pushImage: (repo, tags, pushOptions) => ready.pushImage(repo, tags, pushOptions),
      pushIndex: (repo, tag, pushOptions) => ready.pushIndex(repo, tag, pushOptions),
      pushArtifact: (repo, tags, layer, pushOptions) => ready.pushArtifact(repo, tags, layer, pushOptions),
      deleteTag: async (repo, tag) => {
        const status = await ready.deleteTag(repo, tag);
        if (status === 202) return;
        // distribution 2.8 refuses DELETE by tag (400), and deleting by digest would drop every
        // tag sharing the manifest; untagging is removing the tag's directory in the storage,
        // which is what later versions do behind that DELETE.
        const safe = /^[\w][\w.-]{0,127}$/.test(tag) && /^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/.test(repo);
        if (status !== 400 || !safe) throw new Error(`deleting ${repo}:${tag} answered ${status}`);
        const tagDir = join(dir, 'data', 'docker', 'registry', 'v2', 'repositories', repo, '_manifests', 'tags', tag);
        await stat(tagDir);
        await rm(tagDir, { recursive: true });
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Pulls are not sent (every scan would post one); a failed post is retried after 100 ms. */
function notificationsBlock(notifications: StartRegistryOptions['notifications']): string {
  if (!notifications) return '';
  const headers = Object.entries(notifications.headers ?? {})
    .map(([name, value]) => `        ${name}: [${JSON.stringify(value)}]\n`)
    .join('');
  return (
    `notifications:\n  endpoints:\n    - name: tidemark\n      url: ${JSON.stringify(notifications.url)}\n` +
    (headers ? `      headers:\n${headers}` : '') +
    `      timeout: 2s\n      threshold: 3\n      backoff: 100ms\n      ignore:\n        actions: [pull]\n`
  );
}
