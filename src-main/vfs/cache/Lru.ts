/** A size-bounded map that forgets the least recently used key first (Map keeps insertion order). */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  /** `onEvict` hears of each key pushed out by the bound (not of `delete` or `clear`). */
  constructor(
    private readonly max: number,
    private readonly onEvict?: (key: K) => void,
  ) {
    if (!(max >= 1)) throw new Error(`an LRU needs room for at least one entry, got ${max}`);
  }

  /** Whether the key is held, without marking it used. */
  has(key: K): boolean {
    return this.map.has(key);
  }

  /** The value, marked as just used; undefined when absent. */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  /** Stores a value, evicting the oldest entries past the bound. */
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
      this.onEvict?.(oldest.value);
    }
  }

  /** Forgets one key. */
  delete(key: K): void {
    this.map.delete(key);
  }

  /** Forgets every key the predicate accepts (used for subtrees after a rename). */
  deleteWhere(pred: (key: K) => boolean): void {
    for (const k of [...this.map.keys()]) if (pred(k)) this.map.delete(k);
  }

  /** Forgets everything. */
  clear(): void {
    this.map.clear();
  }

  /** How many entries are held. */
  get size(): number {
    return this.map.size;
  }
}
