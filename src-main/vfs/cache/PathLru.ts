// An LRU keyed by absolute guest paths ("/a/b") that can forget a whole subtree in time
// proportional to the entries under it. The metadata cache forgets a folder's subtree on
// every rmdir and rename; scanning every cached key for a prefix cost `rm -rf` of a 1,000
// folder tree a million string compares and an array of all keys per folder (issue 9).

import { Lru } from './Lru.ts';
import { parentOf } from '../pathNames.ts';

/** A size-bounded map of path → value, least recently used first out, with subtree deletion. */
export class PathLru<V> {
  /** The entries; a key pushed out by the bound leaves the subtree index too. */
  private readonly lru: Lru<string, V>;
  /**
   * Path → the paths one level under it that are keys or lead to keys. A path has a node
   * here while anything under it is kept, so a subtree is found by walking down from it.
   */
  private readonly below = new Map<string, Set<string>>();

  constructor(max: number) {
    this.lru = new Lru(max, (evicted) => this.unlink(evicted));
  }

  /** The value, marked as just used; undefined when absent. */
  get(key: string): V | undefined {
    return this.lru.get(key);
  }

  /** Stores a value, evicting the oldest entries past the bound. */
  set(key: string, value: V): void {
    if (!this.lru.has(key)) this.link(key);
    this.lru.set(key, value);
  }

  /** Forgets one key. */
  delete(key: string): void {
    if (!this.lru.has(key)) return;
    this.lru.delete(key);
    this.unlink(key);
  }

  /** Forgets every key strictly under `path` (not `path` itself). */
  deleteUnder(path: string): void {
    const top = this.below.get(path);
    if (!top) return;
    const stack = [...top];
    for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
      this.lru.delete(p);
      const kids = this.below.get(p);
      if (kids) {
        for (const k of kids) stack.push(k);
        this.below.delete(p);
      }
    }
    this.below.delete(path);
    if (path !== '/' && !this.lru.has(path)) this.prune(path);
  }

  /** Forgets everything. */
  clear(): void {
    this.lru.clear();
    this.below.clear();
  }

  /** How many entries are held. */
  get size(): number {
    return this.lru.size;
  }

  /** How many paths the subtree index holds (keys and the folders leading to them); for tests. */
  get indexed(): number {
    return this.below.size;
  }

  /** Adds a new key under its ancestors, up to the first ancestor already indexed. */
  private link(key: string): void {
    for (let p = key; p !== '/'; ) {
      const parent = parentOf(p);
      const s = this.below.get(parent);
      if (s) {
        s.add(p);
        return;
      }
      this.below.set(parent, new Set([p]));
      p = parent;
    }
  }

  /** Removes a key gone from the map from the index, unless keys remain under it. */
  private unlink(key: string): void {
    if (key === '/' || this.below.has(key)) return;
    this.prune(key);
  }

  /** Removes `p` (neither a key nor leading to one) from its parent, and so on upwards. */
  private prune(p: string): void {
    while (p !== '/') {
      const parent = parentOf(p);
      const s = this.below.get(parent);
      if (!s) return;
      s.delete(p);
      if (s.size > 0) return;
      this.below.delete(parent);
      if (this.lru.has(parent)) return;
      p = parent;
    }
  }
}
