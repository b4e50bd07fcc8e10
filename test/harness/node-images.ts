import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { TidemarkError } from '../../shared/errors/index.ts';
import { RegistryPusher, type PushedManifest } from './registry-push.ts';

/**
 * The node's images, built here from local files and pushed to a local registry, so no Pod ever
 * pulls from the internet: the sandbox (pause) image from the pause binary built out of the
 * Kubernetes source tree's build/pause, and a small application image from Debian's
 * busybox-static. Each is one gzipped layer written by GNU tar with fixed owners and times, so the
 * same inputs give the same digests on every run.
 */

export const PAUSE_REPO = 'tidemark/pause';
/** build/pause/Makefile's TAG in Kubernetes 1.20.2. */
export const PAUSE_TAG = '3.4';
export const APP_REPO = 'tidemark/app';
export const APP_TAG = '1';
export const APP_PORT = 8080;

const BUSYBOX = '/bin/busybox';
/** Applets the application image and tests use; each is a symlink to busybox. */
const APPLETS = ['sh', 'sleep', 'httpd', 'echo', 'cat', 'ls', 'true', 'false', 'env', 'wget', 'hostname'];

export interface BuiltImage {
  config: Buffer;
  layers: Buffer[];
}

const exec = promisify(execFile);

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function tarLayer(dir: string): Promise<{ gz: Buffer; diffId: string }> {
  const { stdout } = await exec(
    'tar',
    ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--format=gnu', '-C', dir, '-cf', '-', '.'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  return { gz: gzipSync(stdout), diffId: sha256(stdout) };
}

function configOf(diffId: string, config: Record<string, unknown>): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config,
      rootfs: { type: 'layers', diff_ids: [diffId] },
    }),
  );
}

async function withStage<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-image-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The sandbox image: the static pause binary alone, as upstream's Dockerfile has it. */
export function buildPauseImage(pauseBinary: string): Promise<BuiltImage> {
  return withStage(async (dir) => {
    await copyFile(pauseBinary, join(dir, 'pause'));
    await chmod(join(dir, 'pause'), 0o755);
    const { gz, diffId } = await tarLayer(dir);
    return { config: configOf(diffId, { Entrypoint: ['/pause'] }), layers: [gz] };
  });
}

let appLayer: Promise<{ gz: Buffer; diffId: string }> | undefined;

function buildAppLayer(): Promise<{ gz: Buffer; diffId: string }> {
  appLayer ??= withStage(async (dir) => {
    await mkdir(join(dir, 'bin'));
    await mkdir(join(dir, 'tmp'), { mode: 0o1777 });
    await mkdir(join(dir, 'www'));
    try {
      await copyFile(BUSYBOX, join(dir, 'bin', 'busybox'));
    } catch (err) {
      throw new TidemarkError('NodeUnavailable', `${BUSYBOX} cannot be read`, {
        kind: 'terminal',
        hint: 'install busybox-static (scripts/install-system-deps.sh)',
        cause: err,
      });
    }
    await chmod(join(dir, 'bin', 'busybox'), 0o755);
    for (const applet of APPLETS) await symlink('busybox', join(dir, 'bin', applet));
    await writeFile(join(dir, 'www', 'index.html'), 'tidemark test app\n');
    return tarLayer(dir);
  }).catch((err: unknown) => {
    appLayer = undefined;
    throw err;
  });
  return appLayer;
}

/**
 * The application image: busybox's httpd on APP_PORT serving /www. The shell traps SIGTERM so the
 * container stops at once instead of waiting out the grace period (PID 1 ignores unhandled
 * signals). `label` changes only the config, giving a different digest for the same program.
 */
export async function buildAppImage(label?: string): Promise<BuiltImage> {
  const { gz, diffId } = await buildAppLayer();
  const config: Record<string, unknown> = {
    Env: ['PATH=/bin'],
    Cmd: ['/bin/sh', '-c', `trap 'exit 0' TERM; httpd -f -p ${APP_PORT} -h /www & wait`],
    ExposedPorts: { [`${APP_PORT}/tcp`]: {} },
  };
  if (label !== undefined) config.Labels = { 'dev.tidemark.test': label };
  return { config: configOf(diffId, config), layers: [gz] };
}

/**
 * Pushes the application image to an anonymous registry at `registryUrl` (http://127.0.0.1:PORT)
 * under every tag; the form test files use, since the registry may belong to another process.
 */
export async function pushAppImage(
  registryUrl: string,
  repo: string,
  tags: readonly string[],
  options: { label?: string } = {},
): Promise<PushedManifest> {
  const pusher = new RegistryPusher(registryUrl, () => undefined, 4);
  try {
    return await pusher.pushBuiltImage(repo, tags, await buildAppImage(options.label));
  } finally {
    await pusher.close();
  }
}
