// Values of mutable IPFS state (pins, keys, IPNS names) kept for a while, so a listing
// or a path walk does not ask the node again on every call. A failed load is not kept.

/** A keyed cache whose entries expire `ttlMs` after they were loaded. Owner: its guest. */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { at: number; value: Promise<V> }>();

  constructor(private readonly ttlMs: number) {}

  /** The cached value of `key`, or the result of `load` (shared by concurrent callers). */
  async get(key: K, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return await hit.value;
    const value = load();
    this.entries.set(key, { at: now, value });
    try {
      return await value;
    } catch (err) {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
      throw err;
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
  }
}
