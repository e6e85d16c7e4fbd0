import { lstatSync } from 'node:fs';
import { fsPath } from '../sys/byteNames.ts';
import { Lru } from '../vfs/cache/Lru.ts';
import { type Attr, type DirEntry } from '../vfs/types.ts';
import { ENOSPC, IN, Inotify } from '../sys/inotify.ts';

// Attributes and listings of the local guest kept in memory, proven fresh by inotify
// (issue 11 row 5, issue 9's du and rm -rf): before any answer the inotify queue is drained
// synchronously (sys/inotify.ts), and every event forgets what it names. fsnotify queues an
// event inside the system call that made the change, so a change finished before the drain
// is never answered from memory (issue 9 item 7: no old size beside new bytes).
//
// What is kept is only what inotify covers: a folder's data only while the folder and every
// folder above it up to the root are watched (a rename of any of them changes what its paths
// name, and is reported to the watch of its parent); a non-folder only with one link (a
// change through another link reaches only that link's folder; a new link to a kept file is
// reported as a creation in the new link's folder only, so each file created in a watched
// folder with more than one link forgets the folder that kept a file of that inode); a
// folder's own attributes
// only while it is itself watched; a listing only when every subfolder in it is watched (a
// change inside one changes its times, reported to its own watch). Not covered by inotify,
// hence bounded by MAX_AGE_MS: writes through a shared mmap, a hard link made to a cached
// file from a folder not watched, a file system mounted inside the folder (the guest's
// mount-table check sees it within a second and drops everything), and any change made by
// another machine to a folder on a network file system. A folder's own attributes on a
// local disk have none of these (what changes them, a name made, removed or renamed in it,
// a chmod, a read of it, is reported to its watch), so there they are kept without the bound:
// a walk that comes back after MAX_AGE_MS (find, du) is answered from memory.

/**
 * inotify events that change what a folder's cache holds. IN_ACCESS too: a change of the
 * access time alone (utimensat with UTIME_OMIT for mtime, a read under relatime) is reported
 * as an access, not as IN_ATTRIB.
 */
const MASK =
  IN.ACCESS | IN.MODIFY | IN.ATTRIB | IN.CLOSE_WRITE | IN.MOVED_FROM | IN.MOVED_TO | IN.CREATE | IN.DELETE | IN.DELETE_SELF | IN.MOVE_SELF | IN.ONLYDIR | IN.EXCL_UNLINK;
/** Events that change which node a name names (its subtree's watches then name other paths). */
const RENAMING = IN.MOVED_FROM | IN.MOVED_TO | IN.CREATE | IN.DELETE;
/** Events after which a watch names nothing any more. */
const GONE = IN.DELETE_SELF | IN.MOVE_SELF | IN.IGNORED | IN.UNMOUNT;
/** Default bound on folders watched (the per-user limit, 8,192 to ~500,000, is shared with other programs). */
export const DEFAULT_MAX_WATCHES = 4096;
/** How long after a refused watch (ENOSPC: the user's limit reached) no new watch is tried. */
const REFUSED_BACKOFF_MS = 1_000;
/**
 * Longest an entry is kept: bounds what inotify cannot see (see above). Long enough for one
 * walk to list a folder and then ask each entry's attributes (du, rm -rf, ls -l).
 */
export const MAX_AGE_MS = 5_000;
/** Files indexed by inode (to notice new links to them) before everything kept is dropped and the index with it. */
const MAX_INDEXED = 500_000;

/** The folder's own attributes kept by `w`, when still fresh: on a local disk (`seen`), or read after `t`. */
function selfKept(w: Watch | undefined, t: number): Attr | undefined {
  return w?.self && (w.seen || w.selfAt > t) ? w.self : undefined;
}

/** One watched folder and what is kept about it (owned by the LocalAttrCache). */
interface Watch {
  wd: number;
  /** Its guest path ("/" for the root). */
  path: string;
  parent: Watch | undefined;
  /** Its name in its parent ("" for the root). */
  name: string;
  /** Watched subfolders by name. */
  subs: Map<string, Watch>;
  /** The folder's own attributes. */
  self?: Attr;
  selfAt: number;
  /** Whether every change to the folder's own attributes is reported to its watch (a local disk): `self` is then kept past MAX_AGE_MS. */
  seen: boolean;
  /** Non-folder children with one link, by name, with the time kept. */
  children: Map<string, { a: Attr; at: number }>;
  listing?: readonly DirEntry[];
  listingAt: number;
  /** The listing by name, built on first lookup. */
  byName?: Map<string, Attr>;
  /** Names made, removed or renamed in it since it was watched (NamesToken). */
  renames: number;
  /** Removed by this guest (removedHere): its watch goes with it, not by inotify_rm_watch. */
  removedHere: boolean;
}

/**
 * What a folder's names were at one moment (LocalAttrCache.names): while sameNames() holds,
 * no name in it was made, removed or renamed, so a file opened there by name is still the
 * file that name names.
 */
export interface NamesToken {
  /** The folder's watch (opaque outside this file). */
  readonly watch: object;
  readonly renames: number;
}

/** Counters (read by tests and benchmarks). */
export interface AttrCacheStats {
  /** Answers from memory. */
  hits: number;
  /** Lookups not in memory (the guest then asks the system). */
  misses: number;
  /** inotify events read. */
  events: number;
  /** Times the queue was read (drained). */
  drains: number;
  /** Times the kernel's queue overflowed and everything was dropped. */
  overflows: number;
  /** Folders watched now. */
  watches: number;
  /** Watches the kernel refused (ENOSPC and others): those folders are served uncached. */
  refused: number;
  /** Watches dropped to stay under the bound (least recently used first). */
  evicted: number;
}

function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** The cache of one local guest; close() with the guest. */
export class LocalAttrCache {
  readonly stats: AttrCacheStats = { hits: 0, misses: 0, events: 0, drains: 0, overflows: 0, watches: 0, refused: 0, evicted: 0 };
  /** Watches by guest path, in order of use (a hit marks one used); evictOne drops the oldest it may. */
  private readonly byPath = new Lru<string, Watch>(Infinity);
  private readonly byWd = new Map<number, Watch>();
  private refusedUntil = 0;
  /** The folder that kept a file, by the file's inode (may name a folder dropped since: checked on use). */
  private readonly byIno = new Map<number, Watch>();
  private readonly onEvent = (wd: number, mask: number, name: string | undefined): void => this.event(wd, mask, name);

  private constructor(
    private ino: Inotify,
    private readonly maxWatches: number,
    /** The host path of a guest path (lexical: only an inode number is read through it). */
    private readonly hostPath: (guestPath: string) => string,
    /** Clock (ms), for the age bound. */
    private readonly now: () => number,
    /** Whether the folder at a guest path lies on a local disk, asked when it is first watched (see `Watch.seen`). */
    private readonly onLocalDisk: (guestPath: string) => boolean,
  ) {}

  /** A cache, or undefined when inotify is unavailable (off Linux, the instance limit reached). */
  static open(
    hostPath: (guestPath: string) => string,
    maxWatches = DEFAULT_MAX_WATCHES,
    now: () => number = Date.now,
    onLocalDisk: (guestPath: string) => boolean = () => false,
  ): LocalAttrCache | undefined {
    const ino = Inotify.open();
    return ino && new LocalAttrCache(ino, Math.max(1, maxWatches), hostPath, now, onLocalDisk);
  }

  /** Inside settled(): the queue was drained when it began, and nothing since needs reading. */
  private quiet = false;

  /** Reads every queued event and forgets what they name: call before answering from memory. */
  sync(): void {
    if (!this.quiet) this.drain();
  }

  private drain(): void {
    this.stats.drains++;
    this.stats.events += this.ino.drain(this.onEvent);
  }

  /**
   * Runs `fn(arg)`, a call that changes nothing, after one sync(); the syncs inside it read
   * nothing more. A change finished before the call began is reported by that first drain;
   * one made while it runs is concurrent with it, so answering as before that change is
   * right, as it is when the change lands just after any drain. A LOOKUP of a name not kept
   * drained three times (the cache, the folder's proof, its watch), ~1 µs each.
   */
  settled<A, T>(fn: (arg: A) => T, arg: A): T {
    if (this.quiet) return fn(arg);
    this.sync();
    this.quiet = true;
    try {
      return fn(arg);
    } finally {
      this.quiet = false;
    }
  }

  /** The file this guest just created (new, O_EXCL), during syncMade. */
  private made: { dir: string; name: string } | undefined;

  /**
   * sync() right after this guest created the regular file `path` with O_EXCL: its creation
   * event names a new file, not a new link to a kept one, so it is not looked at (an lstat
   * per file of an untar). Only the first such event is passed over.
   */
  syncMade(path: string): void {
    const i = path.lastIndexOf('/');
    this.made = { dir: i === 0 ? '/' : path.slice(0, i), name: path.slice(i + 1) };
    try {
      // Its own change to read: never inside settled() (which only calls that change nothing run in).
      this.drain();
    } finally {
      this.made = undefined;
    }
  }

  /** The attributes of `path` kept in memory, after sync(); undefined when not kept. */
  attr(path: string): Attr | undefined {
    const t = this.now() - MAX_AGE_MS;
    if (path === '/') {
      const root = this.byPath.peek('/');
      return this.hit(root, selfKept(root, t));
    }
    const i = path.lastIndexOf('/');
    const dir = i === 0 ? '/' : path.slice(0, i);
    const name = path.slice(i + 1);
    const w = this.byPath.peek(dir);
    if (!w) return this.miss();
    const c = w.children.get(name);
    if (c && c.at > t) return this.hit(w, c.a);
    const sub = w.subs.get(name);
    const own = selfKept(sub, t);
    if (own) return this.hit(sub, own);
    if (w.listing && w.listingAt > t) {
      if (!w.byName) {
        w.byName = new Map();
        for (const e of w.listing) w.byName.set(e.name, e.attr);
      }
      const a = w.byName.get(name);
      if (a) return this.hit(w, a);
    }
    return this.miss();
  }

  /** The listing of the folder `path` kept in memory, after sync(); undefined when not kept. */
  listing(path: string): readonly DirEntry[] | undefined {
    const w = this.byPath.peek(path);
    return this.hit(w, w?.listing && w.listingAt > this.now() - MAX_AGE_MS ? w.listing : undefined);
  }

  /**
   * Makes sure the folder `parts` and every folder above it are watched, BEFORE the caller
   * reads what it will keep (a change after the watch is added is then reported).
   * `ref(i)` gives a path naming the folder of the first `i` parts (a /proc/self/fd link to
   * the folder proven inside the root) and a release. False when a watch cannot be had.
   */
  watch(parts: readonly string[], ref: (i: number) => { path: string; release(): void }): boolean {
    let parent: Watch | undefined;
    let path = '/';
    for (let i = 0; i <= parts.length; i++) {
      if (i > 0) path = childPath(path, parts[i - 1]!);
      const have = this.byPath.peek(path);
      if (have) {
        parent = have;
        continue;
      }
      if (this.now() < this.refusedUntil) return false;
      if (this.byPath.size >= this.maxWatches) this.evictOne(path);
      const r = ref(i);
      let wd: number | { errno: number };
      try {
        wd = this.ino.add(r.path, MASK);
      } finally {
        r.release();
      }
      if (typeof wd !== 'number') {
        this.stats.refused++;
        if (wd.errno === ENOSPC) this.refusedUntil = this.now() + REFUSED_BACKOFF_MS;
        return false;
      }
      // The same folder under another path (a bind mount inside the root): kept under the first only.
      if (this.byWd.has(wd)) return false;
      const w: Watch = { wd, path, parent, name: i === 0 ? '' : parts[i - 1]!, subs: new Map(), selfAt: 0, seen: this.onLocalDisk(path), children: new Map(), listingAt: 0, renames: 0, removedHere: false };
      this.byPath.set(path, w);
      this.byWd.set(wd, w);
      parent?.subs.set(w.name, w);
      if (parent) this.unlist(parent);
      parent = w;
    }
    this.stats.watches = this.byPath.size;
    return true;
  }

  /** A token of the names in the watched folder `dir` now, after sync(); undefined when it is not watched. */
  names(dir: string): NamesToken | undefined {
    const w = this.byPath.peek(dir);
    return w && { watch: w, renames: w.renames };
  }

  /**
   * Whether, after sync(), exactly `made` names were made, removed or renamed in the
   * folder of `t` since the token was taken, and it is still watched at the same path
   * (a rename of it or of a folder above it drops its watch; an overflow drops all).
   */
  sameNames(t: NamesToken, made = 0): boolean {
    const w = t.watch as Watch;
    return this.byWd.get(w.wd) === w && w.renames === t.renames + made;
  }

  /** The watch of the folder `path` now, after sync(), as a token for holds(); undefined when it is not watched. */
  watchOf(path: string): object | undefined {
    return this.byPath.peek(path);
  }

  /**
   * Whether the watch `token` (watchOf) is still in place, after sync(): then neither its
   * folder nor any folder above it has been renamed or removed since it was made, so the
   * path names the same folder (localDirs.ts FolderWitness).
   */
  holds(token: object): boolean {
    const w = token as Watch;
    return this.byWd.get(w.wd) === w;
  }

  /** Whether the folder `path` is watched now (a folder's own attributes are kept only then). */
  watched(path: string): boolean {
    return this.byPath.has(path);
  }

  /**
   * Keeps `a`, the attributes of `path` read after watch() of its folder (and, for a folder,
   * after its own watch existed: `selfWatched`).
   */
  keep(path: string, a: Attr, selfWatched: boolean): void {
    const at = this.now();
    if (a.type === 'dir') {
      const w = selfWatched ? this.byPath.peek(path) : undefined;
      if (w) {
        w.self = a;
        w.selfAt = at;
      }
      return;
    }
    if (a.nlink !== 1 || path === '/') return;
    const i = path.lastIndexOf('/');
    const w = this.byPath.peek(i === 0 ? '/' : path.slice(0, i));
    if (!w) return;
    w.children.set(path.slice(i + 1), { a, at });
    this.index(a.ino, w);
  }

  /**
   * Keeps the listing of the watched folder `path`, read after watch(): whole when every
   * entry is covered, else the entries that are (files with one link), one by one.
   */
  keepListing(path: string, entries: readonly DirEntry[]): void {
    const w = this.byPath.peek(path);
    if (!w) return;
    const at = this.now();
    let whole = true;
    for (const e of entries) {
      if (e.attr.type === 'dir' ? !w.subs.has(e.name) : e.attr.nlink !== 1) {
        whole = false;
        break;
      }
    }
    if (whole) {
      w.listing = entries;
      w.listingAt = at;
      w.byName = undefined;
      for (const e of entries) if (e.attr.type !== 'dir') this.index(e.attr.ino, w);
      return;
    }
    for (const e of entries) {
      if (e.attr.type !== 'dir' && e.attr.nlink === 1) {
        w.children.set(e.name, { a: e.attr, at });
        this.index(e.attr.ino, w);
      }
    }
  }

  /**
   * This guest removed the folder `path` (rmdir), and closes its descriptors of it: when the
   * IN_DELETE that reports it is read, its watch is dropped here without inotify_rm_watch
   * (~50 µs of an RMDIR's reply). The kernel removes the watch with the folder once the last
   * descriptor of it is closed, and queues IN_IGNORED for a watch no longer known here
   * (passed over; watch numbers are given cyclically, so it is not reused meanwhile). A
   * folder removed by others is removed here as before: a descriptor of it this guest may
   * still keep (LocalDirs, until its next use) would hold it, and its watch, for long.
   */
  removedHere(path: string): void {
    const w = this.byPath.peek(path);
    if (w) w.removedHere = true;
  }

  /** Forgets the kept attributes of `path` (an open: a shared mmap's writes give no event). */
  forget(path: string): void {
    const i = path.lastIndexOf('/');
    const w = this.byPath.peek(i <= 0 ? '/' : path.slice(0, i));
    if (!w) return;
    w.children.delete(path.slice(i + 1));
    this.unlist(w, path.slice(i + 1));
  }

  /** Drops everything (the mount table inside the folder changed); watches are made again on use. */
  clear(): void {
    this.ino.close();
    const fresh = Inotify.open();
    this.byPath.clear();
    this.byWd.clear();
    this.byIno.clear();
    this.stats.watches = 0;
    if (fresh) this.ino = fresh;
    else this.refusedUntil = Infinity;
  }

  /** Closes the inotify descriptor and every watch. */
  close(): void {
    this.ino.close();
    this.byPath.clear();
    this.byWd.clear();
    this.byIno.clear();
    this.refusedUntil = Infinity;
    this.stats.watches = 0;
  }

  /** `v`, found with the watch `w`, counted as a hit and `w` marked used; undefined (nothing found) counted as a miss. */
  private hit<T>(w: Watch | undefined, v: T | undefined): T | undefined {
    if (!w || v === undefined) return this.miss();
    this.stats.hits++;
    this.byPath.get(w.path);
    return v;
  }

  private miss(): undefined {
    this.stats.misses++;
    return undefined;
  }

  /**
   * A folder's listing (and so its parent's, which holds its times) no longer answers as a
   * whole. Its files other than `changed` are still what it says (an event names each file
   * that changes): they stay, one by one, so the first REMOVE of an `rm -rf` in a folder
   * does not send every GETATTR after it to the disk.
   */
  private unlist(w: Watch, changed?: string): void {
    const listing = w.listing;
    w.listing = undefined;
    w.byName = undefined;
    if (!listing) return;
    for (const e of listing) {
      if (e.attr.type === 'dir' || e.name === changed) continue;
      const c = w.children.get(e.name);
      if (!c || c.at < w.listingAt) w.children.set(e.name, { a: e.attr, at: w.listingAt });
    }
  }

  /** Nothing kept in `w` answers any more (a new link to one of its files, whichever). */
  private forgetAll(w: Watch): void {
    w.children.clear();
    w.listing = undefined;
    w.byName = undefined;
  }

  private event(wd: number, mask: number, name: string | undefined): void {
    if (mask & IN.Q_OVERFLOW) {
      // Events were lost: nothing kept can be proven fresh.
      this.stats.overflows++;
      this.clear();
      return;
    }
    const w = this.byWd.get(wd);
    if (!w) return; // a watch dropped already (its IN_IGNORED, or events queued before)
    if (name === undefined) {
      if (mask & GONE) return this.drop(w, (mask & IN.IGNORED) === 0);
      // The folder's own attributes changed: its parent's listing holds them too.
      w.self = undefined;
      if (w.parent) this.unlist(w.parent);
      return;
    }
    // A child changed: its entry and the listing holding it go.
    w.children.delete(name);
    this.unlist(w, name);
    const sub = w.subs.get(name);
    if (mask & RENAMING) {
      w.renames++;
      // The folder's own times changed, and its parent's listing holds them.
      w.self = undefined;
      if (w.parent) this.unlist(w.parent);
      // A folder this guest removed takes its watch with it (removedHere); others' are removed.
      if (sub) this.drop(sub, !(mask & IN.DELETE && sub.removedHere));
      // A folder cannot be a new link, nor can the file this guest just made with O_EXCL.
      else if (mask & IN.CREATE && !(mask & IN.ISDIR)) {
        if (this.made?.name === name && this.made.dir === w.path) this.made = undefined;
        else this.linked(w, name);
      }
    } else if (sub) {
      sub.self = undefined;
    }
  }

  /**
   * A file was created as `name` in `w`: when it is a new link to a file kept elsewhere, that
   * file's link count changed with no event to its own folder, whose kept files then go.
   */
  private linked(w: Watch, name: string): void {
    if (this.byIno.size === 0) return;
    const st = lstatSync(fsPath(this.hostPath(childPath(w.path, name))), { bigint: true, throwIfNoEntry: false });
    if (!st || st.nlink < 2n || st.isDirectory()) return;
    const owner = this.byIno.get(Number(st.ino));
    if (!owner || this.byWd.get(owner.wd) !== owner) return;
    this.forgetAll(owner);
  }

  /** Remembers which folder kept the file `ino`; past MAX_INDEXED, everything kept goes (a link could no longer be noticed). */
  private index(ino: number, w: Watch): void {
    if (this.byIno.size >= MAX_INDEXED) {
      this.byIno.clear();
      for (const [, x] of this.byPath.oldestFirst()) this.forgetAll(x);
      if (w.children.size === 0 && !w.listing) return;
    }
    this.byIno.set(ino, w);
  }

  /** Drops a watch and every watch under it (their paths may now name other folders). */
  private drop(w: Watch, remove: boolean): void {
    for (const s of [...w.subs.values()]) this.drop(s, true);
    if (remove) this.ino.remove(w.wd);
    this.byWd.delete(w.wd);
    this.byPath.delete(w.path);
    if (w.parent) {
      w.parent.subs.delete(w.name);
      this.unlist(w.parent);
    }
    this.stats.watches = this.byPath.size;
  }

  /** Drops the least recently used watch that is not above `keep` (with what lies under it). */
  private evictOne(keep: string): void {
    for (const [, w] of this.byPath.oldestFirst()) {
      if (w.path === '/' || keep === w.path || keep.startsWith(`${w.path}/`)) continue;
      this.stats.evicted++;
      this.drop(w, true);
      return;
    }
  }
}
