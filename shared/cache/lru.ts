/**
 * A map that holds at most `capacity` entries and drops the least recently used one to make room.
 * For caches keyed by what tenants write (time zone names, apiVersions): without a bound, a stream
 * of distinct keys grows the process until it dies.
 */
export class LruMap<K, V> {
  readonly capacity: number;
  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  private readonly entries = new Map<K, V>();
  /** Told about each entry dropped to make room (e.g. to close a connection pool). */
  private readonly onEvict: ((value: V, key: K) => void) | undefined;

  constructor(capacity: number, onEvict?: (value: V, key: K) => void) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`an LRU capacity must be a positive integer, not ${capacity}`);
    this.capacity = capacity;
    this.onEvict = onEvict;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked as just used. */
  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key) as V;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Whether `key` is held, without marking it used. */
  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): this {
    this.entries.delete(key);
    this.entries.set(key, value);
    for (const [oldest, dropped] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(oldest);
      this.onEvict?.(dropped, oldest);
    }
    return this;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Values from the least to the most recently used. */
  values(): V[] {
    return [...this.entries.values()];
  }

  /** Keys from the least to the most recently used. */
  keys(): IterableIterator<K> {
    return this.entries.keys();
  }
}
