import type { KubeObject } from '../kube/object.ts';
import { keyOf } from './objects.ts';

/**
 * A value derived from an object's spec (its validated, compiled configuration), computed once per
 * generation: a spec change bumps the generation, a status write or a resync does not. Keyed by
 * uid too, so a recreated object is computed afresh.
 */
export class PerGeneration<V> {
  private readonly values = new Map<string, { uid: string | undefined; generation: number | undefined; value: V }>();

  get(obj: KubeObject, compute: () => V): V {
    const key = keyOf(obj);
    const cached = this.values.get(key);
    if (cached && cached.uid === obj.metadata.uid && cached.generation === obj.metadata.generation) return cached.value;
    const value = compute();
    this.values.set(key, { uid: obj.metadata.uid, generation: obj.metadata.generation, value });
    return value;
  }

  /** Drops values of objects that no longer exist. */
  retain(keep: (key: string) => boolean): void {
    for (const key of this.values.keys()) if (!keep(key)) this.values.delete(key);
  }
}
