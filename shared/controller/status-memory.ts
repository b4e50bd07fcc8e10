import type { KubeObject } from '../kube/object.ts';
import { keyOf } from './objects.ts';

/**
 * The status this process last wrote per object. A reconcile can run before the watch has
 * delivered our own previous write; starting from the watched copy then would repeat an Event
 * or lose a field set in the last run. Keyed by uid, so a recreated object starts from its own status.
 */
export class StatusMemory<S> {
  private readonly written = new Map<string, { uid: string | undefined; status: S }>();

  current(obj: KubeObject & { status?: S | undefined }): S | undefined {
    const mine = this.written.get(keyOf(obj));
    return mine && mine.uid === obj.metadata.uid ? mine.status : obj.status;
  }

  remember(obj: KubeObject, status: S): void {
    this.written.set(keyOf(obj), { uid: obj.metadata.uid, status });
  }

  /** Drops what is remembered for objects that no longer exist. */
  retain(keep: (key: string) => boolean): void {
    for (const key of this.written.keys()) if (!keep(key)) this.written.delete(key);
  }
}
