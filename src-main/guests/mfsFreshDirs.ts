import { posix } from 'node:path';
import { Lru } from '../vfs/cache/Lru.ts';

// Folders the mfs guest itself made, with every name it put in them since (issue 10):
// while it keeps changing such a folder, a lookup of a name it does not know there is
// answered "no such file" without asking the node. That is the lookup before every file
// an untar, `cp -r` or rsync creates (the kernel caches no negative entries for a mutable
// mount); on the js-ipfs peer it waited behind the puts of the files before it, so the
// untar ran at the pace of the node's MFS updates and its puts never batched. Policy
// "fresh folders": knowledge lasts FRESH_MS after the folder's last change made here (the
// mutable-guest cache expiry: the FUSE host caches names that long too), so a writer
// elsewhere is seen again within that moment once this mount stops writing there.

/** How long a folder stays known after its last change made here. */
export const FRESH_MS = 1_000;
/** Names kept at most, over all folders (the oldest folders are forgotten first). */
const MAX_NAMES = 200_000;

interface Known {
  names: Set<string>;
  at: number;
}

/** The fresh folders of one mfs guest. Owner: the MfsGuest. */
export class FreshDirs {
  /** By MFS path, least recently changed first. */
  private readonly dirs = new Lru<string, Known>(Infinity);
  private total = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private live(dir: string): Known | undefined {
    const k = this.dirs.peek(dir);
    if (!k) return undefined;
    if (this.now() - k.at > FRESH_MS) {
      this.drop(dir, k);
      return undefined;
    }
    return k;
  }

  private drop(dir: string, k: Known): void {
    this.dirs.delete(dir);
    this.total -= k.names.size;
  }

  private touch(dir: string, k: Known): void {
    k.at = this.now();
    this.dirs.get(dir); // the most recently changed now
  }

  /** This guest just made folder `dir` (empty). */
  made(dir: string): void {
    const old = this.dirs.peek(dir);
    if (old) this.drop(dir, old);
    this.dirs.set(dir, { names: new Set(), at: this.now() });
    this.added(dir);
  }

  /** This guest put something at `path` (a file, folder or link). */
  added(path: string): void {
    const dir = posix.dirname(path);
    const k = this.live(dir);
    if (!k || path === dir) return;
    const name = posix.basename(path);
    if (!k.names.has(name)) {
      k.names.add(name);
      this.total++;
    }
    this.touch(dir, k);
    for (const [d, v] of this.dirs.oldestFirst()) {
      if (this.total <= MAX_NAMES) break;
      this.drop(d, v);
    }
  }

  /** This guest removed `path` (or moved it away); a folder below it is forgotten. */
  removed(path: string): void {
    const k = this.live(posix.dirname(path));
    if (k) {
      if (k.names.delete(posix.basename(path))) this.total--;
      this.touch(posix.dirname(path), k);
    }
    const below = `${path}/`;
    for (const [d, v] of [...this.dirs.oldestFirst()]) if (d === path || d.startsWith(below)) this.drop(d, v);
  }

  /** True when `path` is surely absent: its folder is fresh and holds no such name. */
  absent(path: string): boolean {
    const k = this.live(posix.dirname(path));
    return k !== undefined && path !== '/' && !k.names.has(posix.basename(path));
  }
}
