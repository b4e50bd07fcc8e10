/**
 * A Map that keeps at most `max` entries, dropping the least recently used. Registry hosts, CA
 * bundles and credentials are tenant input: a cache keyed by them must not grow with every new
 * value a tenant writes.
 */
export class BoundedMap<K, V> {
  private readonly max: number;
  private readonly onEvict: ((value: V, key: K) => void) | undefined;
  private readonly entries = new Map<K, V>();

  constructor(max: number, onEvict?: (value: V, key: K) => void) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`a bounded map needs a positive size, got ${max}`);
    this.max = max;
    this.onEvict = onEvict;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked as the most recently used. */
  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key) as V;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    for (const [oldest, dropped] of this.entries) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(oldest);
      this.onEvict?.(dropped, oldest);
    }
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  values(): V[] {
    return [...this.entries.values()];
  }

  clear(): void {
    this.entries.clear();
  }
}
