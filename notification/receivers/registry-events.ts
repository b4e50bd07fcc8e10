import type { ReceiverType } from '../../shared/api/receiver.ts';
import { isObject } from '../../shared/kube/object.ts';

/** A repository a registry call reports a push to: `path` always, `host` when the payload names it. */
export interface PushedRepository {
  host: string | undefined;
  path: string;
}

export interface RegistryPush {
  repository: PushedRepository;
  /** The registry's own id of this event (distribution's envelope), for replay detection. */
  id: string | undefined;
}

export type PushesRead = { ok: true; pushes: RegistryPush[] } | { ok: false; why: string };

/** A payload is read up to this many events; the body limit bounds it too. */
const MAX_EVENTS = 1000;

/**
 * The tag pushes a registry's webhook payload reports. Only what names a repository is read; the
 * payload's other fields (pusher, digests, URLs) are never kept.
 */
export function registryPushes(type: ReceiverType, body: Buffer): PushesRead {
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, why: 'the body is not JSON' };
  }
  if (!isObject(payload)) return { ok: false, why: 'the body is not a JSON object' };
  switch (type) {
    case 'distribution':
      return distribution(payload);
    case 'dockerhub':
      return one(text(obj(payload.repository)?.repo_name), 'docker.io', 'repository.repo_name');
    case 'quay':
      return quay(payload);
    case 'harbor':
      return harbor(payload);
    case 'ghcr':
      return ghcr(payload);
    default:
      return { ok: false, why: `${type} is not a registry type` };
  }
}

/** The CNCF registry's notifications envelope: `{events: [{id, action, target: {repository, tag}, request: {host}}]}`. */
function distribution(payload: Record<string, unknown>): PushesRead {
  if (!Array.isArray(payload.events)) return { ok: false, why: 'events is not a list' };
  const pushes: RegistryPush[] = [];
  for (const event of payload.events.slice(0, MAX_EVENTS)) {
    const e = obj(event);
    const target = obj(e?.target);
    if (e?.action !== 'push' || !text(target?.tag)) continue;
    const path = repositoryPath(text(target?.repository));
    if (!path) continue;
    // The host the pusher used may not be the one ImageRepositories name (in-cluster Service vs
    // Ingress): the path alone is matched, and a Receiver serves one registry.
    pushes.push({ repository: { host: undefined, path }, id: text(e.id) });
  }
  return { ok: true, pushes };
}

function quay(payload: Record<string, unknown>): PushesRead {
  const dockerUrl = text(payload.docker_url);
  if (dockerUrl) return fromReference(dockerUrl, 'docker_url');
  return one(text(payload.repository), 'quay.io', 'repository');
}

/** Harbor: `{type: PUSH_ARTIFACT, event_data: {resources: [{resource_url: host/project/app:tag}]}}`. */
function harbor(payload: Record<string, unknown>): PushesRead {
  if (payload.type !== 'PUSH_ARTIFACT') return { ok: true, pushes: [] };
  const resources = obj(payload.event_data)?.resources;
  if (!Array.isArray(resources)) return { ok: false, why: 'event_data.resources is not a list' };
  const pushes: RegistryPush[] = [];
  for (const resource of resources.slice(0, MAX_EVENTS)) {
    const url = text(obj(resource)?.resource_url);
    const read = url ? fromReference(url, 'resource_url') : undefined;
    if (read?.ok) pushes.push(...read.pushes);
  }
  return { ok: true, pushes };
}

/** GitHub's package event: `{action: published, package: {package_type: container, package_version: {package_url}}}`. */
function ghcr(payload: Record<string, unknown>): PushesRead {
  const pkg = obj(payload.package) ?? obj(payload.registry_package);
  if (payload.action !== 'published' || !pkg) return { ok: true, pushes: [] };
  const type = text(pkg.package_type)?.toLowerCase();
  if (type !== 'container' && type !== 'docker') return { ok: true, pushes: [] };
  const url = text(obj(pkg.package_version)?.package_url);
  if (url) return fromReference(url, 'package.package_version.package_url');
  const owner = text(obj(pkg.owner)?.login);
  const name = text(pkg.name);
  return one(owner && name ? `${owner.toLowerCase()}/${name.toLowerCase()}` : undefined, 'ghcr.io', 'package.name');
}

function one(path: string | undefined, host: string, field: string): PushesRead {
  const clean = repositoryPath(path);
  if (!clean) return { ok: false, why: `${field} is missing or not a repository` };
  return { ok: true, pushes: [{ repository: { host, path: normalizePath(host, clean) }, id: undefined }] };
}

/** `host/path[:tag][@digest]` → the repository. */
function fromReference(reference: string, field: string): PushesRead {
  const split = splitImage(reference.replace(/@.*$/, '').replace(/:[\w][\w.-]{0,127}$/, ''));
  if (!split) return { ok: false, why: `${field} is not an image reference` };
  return { ok: true, pushes: [{ repository: split, id: undefined }] };
}

/**
 * An image reference's repository as `{host, path}`: the first component is a host when it has a
 * dot or a port or is localhost (the distribution rule), else Docker Hub, where a one-component
 * name lives under `library/`.
 */
export function splitImage(image: string): { host: string; path: string } | undefined {
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  const isHost = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = isHost ? first.toLowerCase().replace(/^(index\.|registry-1\.)?docker\.io$/, 'docker.io') : 'docker.io';
  const path = repositoryPath(isHost ? image.slice(slash + 1) : image);
  return path ? { host, path: normalizePath(host, path) } : undefined;
}

/** Whether an ImageRepository's image is the pushed repository. */
export function imageMatches(image: string, pushed: PushedRepository): boolean {
  const split = splitImage(image);
  if (!split || split.path !== pushed.path) return false;
  return pushed.host === undefined || pushed.host === split.host;
}

function normalizePath(host: string, path: string): string {
  return host === 'docker.io' && !path.includes('/') ? `library/${path}` : path;
}

const PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

function repositoryPath(value: string | undefined): string | undefined {
  return value !== undefined && value.length <= 255 && PATH.test(value) ? value : undefined;
}

function obj(value: unknown): Record<string, unknown> | undefined {
  return isObject(value) ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
