/**
 * The data a commit message template sees, built from the typed list of changes the rewrite
 * made. The shape follows Flux's image-automation-controller so that Flux templates work:
 * `.AutomationObject`, `.Changed` (v1beta2 data) and `.Values`, plus the v1beta1 `.Updated`
 * that Flux later removed but the seed's template uses.
 */
import type { ObjectId } from '../markers/types.ts';
import { makeStruct, namedMap } from './values.ts';
import type { GoStruct } from './values.ts';

export interface CommitChange {
  /** File path relative to the repository root, with forward slashes. */
  file: string;
  object: ObjectId;
  oldValue: string;
  newValue: string;
  /** The marker's policy string, e.g. `default:app` or `default:app:tag`. */
  setter: string;
  /** The full reference the policy chose (`name:tag` or `name:tag@digest`), for `.Updated.Images`. */
  image: string;
}

export interface CommitDataInput {
  automation: { namespace: string; name: string };
  changes: readonly CommitChange[];
  /** `messageTemplateValues`: free-form strings the template reaches as `.Values.key`. */
  values?: Readonly<Record<string, string>>;
}

/** A parsed image reference, as go-containerregistry's name.ParseReference (weak validation). */
export interface ImageRefParts {
  registry: string;
  repository: string;
  tag: string;
  digest: string;
}

const DEFAULT_REGISTRY = 'index.docker.io';

export function parseImageRef(ref: string): ImageRefParts {
  let rest = ref;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let registry = DEFAULT_REGISTRY;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first === 'docker.io' ? DEFAULT_REGISTRY : first;
      repository = rest.slice(slash + 1);
    }
  }
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, repository, tag, digest };
}

function namespacedName(namespace: string, name: string): GoStruct {
  return makeStruct(
    'types.NamespacedName',
    { Namespace: namespace, Name: name },
    {
      string: () => `${namespace}/${name}`,
    },
  );
}

function parsePolicy(setter: string): { namespace: string; name: string } {
  const [namespace = '', name = ''] = setter.split(':');
  return { namespace, name };
}

/** Flux's ImageRef: prints as the reference as written; methods give its parts. */
function imageRef(ref: string, policy: { namespace: string; name: string }): GoStruct {
  const p = parseImageRef(ref);
  const context = `${p.registry}/${p.repository}`;
  const identifier = p.digest !== '' ? p.digest : p.tag !== '' ? p.tag : 'latest';
  const fullName = p.digest !== '' ? `${context}@${p.digest}` : `${context}:${identifier}`;
  return makeStruct(
    'update.imageRef',
    {},
    {
      string: () => ref,
      json: () => ref,
      members: {
        String: ref,
        Identifier: identifier,
        Repository: p.repository,
        Registry: p.registry,
        Name: fullName,
        Tag: p.tag,
        Digest: p.digest,
        Policy: namespacedName(policy.namespace, policy.name),
      },
    },
  );
}

/** Flux's ObjectIdentifier (kyaml ResourceIdentifier embedded): fields promoted for templates. */
function objectIdentifier(o: ObjectId): GoStruct {
  const typeMeta = makeStruct('yaml.TypeMeta', { APIVersion: o.apiVersion, Kind: o.kind });
  const nameMeta = makeStruct('yaml.NameMeta', { Name: o.name, Namespace: o.namespace });
  const resourceIdentifier = makeStruct('yaml.ResourceIdentifier', { TypeMeta: typeMeta, NameMeta: nameMeta });
  return makeStruct(
    'update.ObjectIdentifier',
    { ResourceIdentifier: resourceIdentifier },
    {
      members: { APIVersion: o.apiVersion, Kind: o.kind, Name: o.name, Namespace: o.namespace },
      json: () => {
        const out: Record<string, string> = {};
        if (o.apiVersion !== '') out.apiVersion = o.apiVersion;
        if (o.kind !== '') out.kind = o.kind;
        if (o.name !== '') out.name = o.name;
        if (o.namespace !== '') out.namespace = o.namespace;
        return out;
      },
    },
  );
}

function objectKey(o: ObjectId): string {
  return JSON.stringify([o.apiVersion, o.kind, o.name, o.namespace]);
}

function compareObjects(a: ObjectId, b: ObjectId): number {
  // fmtsort order of ObjectIdentifier: APIVersion, Kind, Name, Namespace.
  for (const k of ['apiVersion', 'kind', 'name', 'namespace'] as const) {
    if (a[k] !== b[k]) return Buffer.compare(Buffer.from(a[k]), Buffer.from(b[k]));
  }
  return 0;
}

interface Grouped {
  file: string;
  objects: Array<{ object: ObjectId; changes: CommitChange[] }>;
}

/** Changes grouped by file then object, both in the order templates range over them. */
function group(changes: readonly CommitChange[]): Grouped[] {
  const files = new Map<string, Map<string, { object: ObjectId; changes: CommitChange[] }>>();
  for (const c of changes) {
    let objects = files.get(c.file);
    if (!objects) {
      objects = new Map();
      files.set(c.file, objects);
    }
    const key = objectKey(c.object);
    let entry = objects.get(key);
    if (!entry) {
      entry = { object: c.object, changes: [] };
      objects.set(key, entry);
    }
    entry.changes.push(c);
  }
  return [...files.entries()]
    .sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])))
    .map(([file, objects]) => ({
      file,
      objects: [...objects.values()].sort((a, b) => compareObjects(a.object, b.object)),
    }));
}

/**
 * Builds the template data. Where Flux iterates Go maps (random order), Tidemark uses the
 * sorted order ranges show, so `.Updated.Images` and `.Changed.Changes` are deterministic.
 * `.Changed.Objects` and `.Updated.Objects` gather an object's changes from every file
 * (Flux keeps one file's list when the same object appears in several).
 */
export function buildCommitData(input: CommitDataInput): GoStruct {
  const grouped = group(input.changes);
  const ids = new Map<string, GoStruct>();
  const idOf = (o: ObjectId): GoStruct => {
    const key = objectKey(o);
    let id = ids.get(key);
    if (!id) {
      id = objectIdentifier(o);
      ids.set(key, id);
    }
    return id;
  };
  const refs = new Map<string, GoStruct>();
  const refOf = (c: CommitChange): GoStruct => {
    const policy = parsePolicy(c.setter);
    const key = JSON.stringify([policy.namespace, policy.name, c.image]);
    let ref = refs.get(key);
    if (!ref) {
      ref = imageRef(c.image, policy);
      refs.set(key, ref);
    }
    return ref;
  };
  const changeStructs = new Map<CommitChange, GoStruct>();
  const changeOf = (c: CommitChange): GoStruct => {
    let s = changeStructs.get(c);
    if (!s) {
      s = makeStruct('update.Change', { OldValue: c.oldValue, NewValue: c.newValue, Setter: c.setter });
      changeStructs.set(c, s);
    }
    return s;
  };

  // v1beta2: .Changed
  const fileChanges = namedMap(new Map<string, unknown>(), 'map[string]update.ObjectChanges');
  const changedObjects = namedMap(new Map<GoStruct, GoStruct[]>(), 'update.ObjectChanges');
  const allChanges: GoStruct[] = [];
  const seenChanges = new Set<string>();
  // v1beta1: .Updated
  const updatedFiles = namedMap(new Map<string, unknown>(), 'map[string]update.FileResult');
  const updatedObjects = namedMap(new Map<GoStruct, GoStruct[]>(), 'map[update.ObjectIdentifier][]update.ImageRef');
  const images: GoStruct[] = [];
  const seenImages = new Set<GoStruct>();

  for (const { file, objects } of grouped) {
    const perFileChanges = namedMap(new Map<GoStruct, GoStruct[]>(), 'update.ObjectChanges');
    const perFileRefs = namedMap(new Map<GoStruct, GoStruct[]>(), 'map[update.ObjectIdentifier][]update.ImageRef');
    for (const { object, changes } of objects) {
      const id = idOf(object);
      const structs = changes.map(changeOf);
      perFileChanges.set(id, structs);
      changedObjects.set(id, [...(changedObjects.get(id) ?? []), ...structs]);
      for (const c of changes) {
        const key = JSON.stringify([c.oldValue, c.newValue, c.setter]);
        if (!seenChanges.has(key)) {
          seenChanges.add(key);
          allChanges.push(changeOf(c));
        }
      }
      const objectRefs: GoStruct[] = [];
      for (const c of changes) {
        const ref = refOf(c);
        if (!objectRefs.includes(ref)) objectRefs.push(ref);
      }
      perFileRefs.set(id, objectRefs);
      const all = updatedObjects.get(id) ?? [];
      for (const ref of objectRefs) if (!all.includes(ref)) all.push(ref);
      updatedObjects.set(id, all);
      for (const ref of objectRefs) {
        if (!seenImages.has(ref)) {
          seenImages.add(ref);
          images.push(ref);
        }
      }
    }
    fileChanges.set(file, perFileChanges);
    updatedFiles.set(file, makeStruct('update.FileResult', { Objects: perFileRefs }));
  }

  const updated = makeStruct(
    'update.Result',
    { Files: updatedFiles },
    {
      members: { Images: images, Objects: updatedObjects },
    },
  );
  const changed = makeStruct(
    'update.ResultV2',
    { ImageResult: updated, FileChanges: fileChanges },
    {
      members: { Changes: allChanges, Objects: changedObjects },
    },
  );
  return makeStruct('update.TemplateData', {
    AutomationObject: namespacedName(input.automation.namespace, input.automation.name),
    Updated: updated,
    Changed: changed,
    Values: { ...(input.values ?? {}) },
  });
}
