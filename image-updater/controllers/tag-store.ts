/**
 * Where scans leave their tags for the policies to choose from. In memory for now: after a
 * restart every ImageRepository is scanned again before its policies resolve. The interface is
 * asynchronous so a persisted store can replace this one without touching the controllers.
 */

export interface ScanRecord {
  /** The ImageRepository the tags belong to; a deleted and recreated object starts over. */
  uid: string | undefined;
  /** The spec generation that was scanned: a changed spec means the tags may be stale. */
  generation: number | undefined;
  /** `spec.image` exactly as written. */
  image: string;
  /** E.g. `docker.io/library/nginx`. */
  canonicalImageName: string;
  /** In the registry's order, after the exclusion list. */
  tags: readonly string[];
  scanTimeMs: number;
}

export interface TagStore {
  get(key: string): Promise<ScanRecord | undefined>;
  set(key: string, record: ScanRecord): Promise<void>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

/** `namespace/name` of an ImageRepository: the store's key. */
export function repositoryKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class MemoryTagStore implements TagStore {
  private readonly records = new Map<string, ScanRecord>();

  get(key: string): Promise<ScanRecord | undefined> {
    return Promise.resolve(this.records.get(key));
  }

  set(key: string, record: ScanRecord): Promise<void> {
    // A frozen copy: a caller keeping its array cannot change what policies read.
    this.records.set(key, { ...record, tags: Object.freeze([...record.tags]) });
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.records.delete(key);
    return Promise.resolve();
  }

  keys(): Promise<string[]> {
    return Promise.resolve([...this.records.keys()]);
  }
}
