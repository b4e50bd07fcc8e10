import { terminal } from '../../shared/errors/index.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { DeploymentConfig } from '../../shared/spec/index.ts';
import { decryptObject, isSopsEncrypted, keysFromSecretData, type SopsKeys } from '../sops/decrypt.ts';
import { decryptGeneratedSecret } from '../sops/generated.ts';
import { generatorSourceMacs, verifiedSourceMacs } from '../sops/sources.ts';
import { collectVariables, secretValues, substituteObjects } from '../substitute/index.ts';
import type { NamespaceObjects, StepContext } from './context.ts';

/**
 * After the render, as Flux's kustomize-controller does per object: SOPS documents decrypted,
 * then variables substituted. All in memory, after the render cache (which keeps only what Git
 * holds), so plaintext never reaches the disk or the cache. `sensitive` are the strings that must
 * never be shown (decrypted values, Secret-sourced variables): `tidemark diff` masks them.
 */
export async function postRender(
  ctx: StepContext,
  rendered: KubeObject[],
  decryption: Decryption | undefined,
): Promise<{ objects: KubeObject[]; sensitive: string[] }> {
  const { config } = ctx.input;
  const sensitive: string[] = [];
  let objects = rendered;
  if (decryption) objects = await decryptAll(objects, decryption, sensitive);
  if (config.postBuild) objects = await substituteAll(objects, config.postBuild, reader(ctx), sensitive);
  return { objects, sensitive };
}

/** The keys of spec.decryption and, once the checkout was scanned, the source files' verified MACs. */
export interface Decryption {
  keys: SopsKeys;
  verifiedMacs: Set<string>;
  /** MACs of the SOPS files kustomize generators read: only their values are decrypted in generated objects. */
  generatorMacs: Set<string>;
}

/** Scans the checkout while it is held: a kustomization may change SOPS objects, and generators read SOPS files. */
export function sourceScan(decryption: Decryption, signal: AbortSignal | undefined): (dir: string) => Promise<void> {
  return async (dir) => {
    for (const mac of await verifiedSourceMacs(dir, decryption.keys, signal)) decryption.verifiedMacs.add(mac);
    for (const mac of await generatorSourceMacs(dir, signal)) decryption.generatorMacs.add(mac);
  };
}

/** Read before the render, so the checkout's SOPS files can be verified while it is held. */
export async function readDecryptionKeys(ctx: StepContext): Promise<Decryption | undefined> {
  const secretRef = ctx.input.config.decryption?.secretRef;
  if (secretRef === undefined) return undefined;
  const namespace = ctx.owner.namespace;
  const field = 'spec.decryption.secretRef';
  const data = await reader(ctx).secret(secretRef);
  if (!data) {
    throw terminal('SecretNotFound', `Secret ${namespace}/${secretRef} (${field}) not found`, `create the Secret or fix ${field}`);
  }
  return {
    keys: keysFromSecretData(data, `Secret ${namespace}/${secretRef} (${field})`),
    verifiedMacs: new Set(),
    generatorMacs: new Set(),
  };
}

function reader(ctx: StepContext): NamespaceObjects {
  if (!ctx.deps.namespaceObjects) throw terminal('InternalError', 'no reader for the ConfigMaps and Secrets the spec names');
  return ctx.deps.namespaceObjects;
}

async function decryptAll(objects: KubeObject[], decryption: Decryption, sensitive: string[]): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const obj of objects) {
    out.push(
      isSopsEncrypted(obj)
        ? await decryptObject(obj, decryption.keys, sensitive, decryption.verifiedMacs)
        : await decryptGeneratedSecret(obj, decryption.keys, decryption, sensitive),
    );
  }
  return out;
}

async function substituteAll(
  objects: KubeObject[],
  postBuild: NonNullable<DeploymentConfig['postBuild']>,
  reader: NamespaceObjects,
  sensitive: string[],
): Promise<KubeObject[]> {
  const sources: Parameters<typeof collectVariables>[0][number][] = [];
  for (const [i, source] of postBuild.substituteFrom.entries()) {
    const data = source.kind === 'Secret' ? await reader.secret(source.name) : await reader.configMap(source.name);
    if (data === undefined && !source.optional) {
      throw terminal(
        'VariablesNotFound',
        `${source.kind} ${source.name} (spec.postBuild.substituteFrom[${i}]) not found`,
        `create the ${source.kind}, fix the name, or mark it optional: true`,
      );
    }
    sources.push({ kind: source.kind, name: source.name, data });
  }
  const variables = collectVariables(sources, postBuild.substitute);
  sensitive.push(...secretValues(variables));
  return substituteObjects(objects, variables, { strict: true });
}
