import { constants as C } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { LocalGuestSchema } from '../../src-shared/mountSpec.ts';
import { FsError, toFsError } from '../vfs/FsError.ts';
import type { Attr, CallOpts, DirEntry, FileHandle, OpenFlags, SetAttr, SpecialType, StatFs, Vfs, VfsNow } from '../vfs/types.ts';
import type { z } from 'zod';
import { fromNode } from './localErrors.ts';
import { InlinePolicy } from './localInline.ts';
import { flatten } from '../vfs/listing.ts';
import { isPathName } from '../vfs/pathNames.ts';
import { needsFolderOwner, ownerFor } from './localOwner.ts';
import { type DirRef, type LocalPaths, type LocalPathsNow, type PathsKind, pathsKind } from './localPaths.ts';
import { libc } from './localLibc.ts';
import { ProcPaths } from './localProcPaths.ts';
import { AtPaths } from './localAtPaths.ts';
import { type AttrCacheStats, DEFAULT_MAX_WATCHES, LocalAttrCache } from './localAttrCache.ts';
import { LocalFileSync } from './localFileSync.ts';
import { getXattr, listXattrs, removeXattr, setXattr, type XattrRun } from './localXattrs.ts';

// A folder on this machine as a guest. The one promise it keeps: nothing reached through
// it lies outside the folder. Paths are checked component by component (no "..", ".",
// "/" or NUL), and every call acts on one name inside a folder proven to lie inside the
// root, never following a symlink there (localPaths.ts: on Linux by /proc/self/fd, elsewhere
// by an openat walk), so a symlink swapped in for a folder between two calls can never lead
// outside. Nodes are created with exactly the mode asked and, when Berth runs as root,
// owned by the caller (localOwner.ts). On a local disk, calls are made inline, by blocking
// system calls on this thread (localInline.ts says when that is safe and why it is worth it),
// and their attributes and listings are kept while inotify proves them fresh (localAttrCache.ts).

/** The local guest spec after schema defaults. */
export type LocalGuestSpec = z.infer<typeof LocalGuestSchema>;

export { fromNode } from './localErrors.ts';

/** Longest name of one path component (Linux NAME_MAX). */
const NAME_MAX = 255;
/** Folders up to this many entries are listed by the synchronous face; bigger ones in batches (readdirBatches). */
const NOW_LIST_MAX = 1024;

/** Options of the guest that are not part of the spec (tests, the environment). */
export interface LocalGuestOptions {
  /** How folders are proven inside the root (default: BERTH_LOCAL_PATHS, else the platform's). */
  paths?: PathsKind;
  /** False: no call is made inline even on a local disk (localInline.ts; for tests). */
  inline?: boolean;
  /**
   * The inotify-validated attribute cache of the synchronous face (localAttrCache.ts): false
   * turns it off, a number bounds the folders watched. Default: on, unless
   * BERTH_LOCAL_ATTR_CACHE=0 (benchmarks compare both).
   */
  attrCache?: boolean | { maxWatches: number };
  /** False: the /proc strategy goes through /proc paths alone, as where koffi or libc does not load (tests). */
  libc?: boolean;
}

/** Splits a guest path into checked components; "/" is []. */
export function splitGuestPath(path: string): string[] {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new FsError('InvalidItem', `expected an absolute guest path, got ${JSON.stringify(String(path).slice(0, 100))}`);
  }
  if (path === '/') return [];
  const parts = path.slice(1).split('/');
  for (const p of parts) {
    if (!isPathName(p)) {
      throw new FsError('InvalidItem', `bad path component ${JSON.stringify(p)} in ${JSON.stringify(path.slice(0, 200))}`);
    }
  }
  return parts;
}

/** renameat2's flags (linux/fs.h). */
const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;

/** Read-write (or read-only) view of one local folder. */
export class LocalGuest implements Vfs {
  readonly name: string;
  readonly readOnly: boolean;
  /**
   * No expiry-based cache by default: the folder changes under Berth (issue 9: old sizes
   * beside new bytes). What is kept is kept by this guest, proven fresh by inotify (localAttrCache.ts).
   */
  readonly cacheExpiryMs = 0;
  /** Unless asked for (spec.xattrs) and where libc's xattr calls load (localXattrs.ts: Linux only), a local folder presents none. */
  readonly noXattrs: boolean;
  private closed = false;

  private constructor(
    /** The folder's real path (symlinks resolved once at open). */
    private readonly root: string,
    readOnly: boolean,
    /** When calls may block this thread (owned by this guest). */
    private readonly policy: InlinePolicy,
    /** How nodes are reached inside the root (owned by this guest). */
    private readonly paths: LocalPaths,
    /** Attributes and listings proven fresh by inotify (owned by this guest; undefined: none). */
    private readonly cache: LocalAttrCache | undefined,
    /** Whether user.* extended attributes are kept (LocalGuestSchema.xattrs). */
    xattrs: boolean,
  ) {
    this.name = `local ${root}`;
    this.readOnly = readOnly;
    this.noXattrs = !xattrs || paths.xattr === undefined;
    if (paths.now) this.now = this.nowFace(paths.now);
  }

  /** The attribute cache's counters, or undefined when it is off (tests, benchmarks). */
  get attrCacheStats(): AttrCacheStats | undefined {
    return this.cache?.stats;
  }

  /**
   * The synchronous face (VfsNow): the calls hosts make most, by blocking calls when the
   * inline policy allows the node's path (else `undefined`/false, nothing done), with the
   * same checks and errors as the async methods.
   */
  readonly now?: VfsNow;

  private nowFace(p: LocalPathsNow): VfsNow {
    /** The folder `parts` held open (release() it), system errors as FsErrors naming `path`. */
    const dirNow = (parts: string[], path: string): DirRef => {
      try {
        return p.dir(parts, path);
      } catch (err) {
        throw fromNode(err, path);
      }
    };
    /** Runs `fn` on the folder `parts` held open, system errors as FsErrors naming `path`. */
    const inDirNow = <T>(parts: string[], path: string, fn: (d: DirRef) => T): T => {
      const d = dirNow(parts, path);
      try {
        return fn(d);
      } catch (err) {
        throw fromNode(err, path);
      } finally {
        d.release();
      }
    };
    /** The folder parts and name of `path` (not the root), checked, when its node may be reached inline; undefined otherwise. */
    const parentOf = (path: string): { parts: string[]; name: string } | undefined => {
      if (this.closed) throw new FsError('Closed', `${this.name} is closed`);
      const parts = splitGuestPath(path);
      const name = parts.pop();
      if (name === undefined) throw new FsError('InvalidOperation', `${path}: not allowed on the root`);
      if (Buffer.byteLength(name) > NAME_MAX) throw new FsError('NameTooLong', `${path}: a name is longer than ${NAME_MAX} bytes`);
      if (!this.policy.inline(`${this.lexical(parts)}/${name}`)) return undefined;
      return { parts, name };
    };
    /** Runs fn with the parent folder of `path` when inline; undefined (nothing done) otherwise. */
    const inParentNow = <T>(path: string, fn: (d: DirRef, name: string) => T): { v: T } | undefined => {
      const at = parentOf(path);
      return at && { v: inDirNow(at.parts, path, (d) => fn(d, at.name)) };
    };
    const cache = p.watchPath ? this.cache : undefined;
    const watchPath = p.watchPath?.bind(p);
    let epoch = this.policy.epoch;
    /** The cache, with every queued event applied (undefined when off): call before answering from it. */
    const synced = (): LocalAttrCache | undefined => {
      if (!cache) return undefined;
      if (epoch !== this.policy.epoch) {
        epoch = this.policy.epoch;
        cache.clear();
      }
      cache.sync();
      return cache;
    };
    // A folder whose watch was in place when it was last proven needs no new proof while the watch stays.
    if (cache) p.vouchBy?.({ token: (parts) => synced()?.watchOf(parts.length ? `/${parts.join('/')}` : '/'), holds: (t) => synced()?.holds(t) === true });
    /** Watches the folder `parts` (open as `d`) and those above it; false when the cache cannot keep what is read in it. */
    const watchNow = (c: LocalAttrCache, parts: string[], path: string, d: DirRef): boolean => {
      try {
        return c.watch(parts, (i) => {
          if (i === parts.length) return { path: watchPath!(d), release: () => {} };
          const up = p.dir(parts.slice(0, i), path);
          return { path: watchPath!(up), release: () => up.release() };
        });
      } catch {
        return false;
      }
    };
    // keptNow, attrNow and the getattr and lookup below make no closure per call: they run
    // for every GETATTR and LOOKUP, and V8 optimized such per-call closures again and again
    // on a long-running host (each of those sites 3-7 times in one untar of a warm host, seen
    // with --trace-opt and --perf-basic-prof, with no deoptimization between). readdir's
    // only closure is made when a folder is listed afresh.
    /**
     * The attributes of `path`, read by `read` in the folder `parts` held open, after that
     * folder is watched (so a change made after the read is reported), and kept. Its callers
     * have looked in the cache already (keptAt), in the same settled call: no second look,
     * which would cost a miss's work twice and count it twice in attrCacheStats.
     */
    const keptNow = <A extends Attr | null, N extends string | undefined>(path: string, parts: string[], read: (d: DirRef, name: N) => A, name: N): A => {
      const c = synced();
      const d = dirNow(parts, path);
      try {
        const keep = c !== undefined && watchNow(c, parts, path, d);
        const selfWatched = keep && c.watched(path);
        const a = read(d, name);
        if (keep && a) c.keep(path, a, selfWatched);
        return a;
      } catch (err) {
        throw fromNode(err, path);
      } finally {
        d.release();
      }
    };
    /** The attributes of `path` (not the root) read by `read` in its folder, through keptNow; undefined when not inline. */
    const attrNow = <A extends Attr | null>(path: string, read: (d: DirRef, name: string) => A): A | undefined => {
      const at = parentOf(path);
      return at && keptNow(path, at.parts, read, at.name);
    };
    const statIn = (d: DirRef, name: string | undefined): Attr => p.stat(d, name);
    const lookupIn = (d: DirRef, name: string): Attr | null => p.lookup(d, name);
    /**
     * The attributes kept for `path`, looked up before any work on the path: a kept path was
     * checked when it was read, and answering it makes no system call; but only while its
     * node may be reached inline, as for a read (a mount may have come over it since).
     */
    const keptAt = (path: string): Attr | undefined => {
      if (this.closed) throw new FsError('Closed', `${this.name} is closed`);
      const hit = synced()?.attr(path);
      return hit && this.policy.inline(path === '/' ? this.root : `${this.root}${path}`) ? hit : undefined;
    };
    const getattrNow = (path: string): Attr | undefined => {
      const hit = keptAt(path);
      if (hit) return hit;
      if (path !== '/') return attrNow(path, statIn);
      if (!this.policy.inline(this.root)) return undefined;
      return keptNow(path, [], statIn, undefined);
    };
    const lookupNow = (path: string): Attr | null | undefined => keptAt(path) ?? attrNow(path, lookupIn);
    const readdirNow = (path: string): readonly DirEntry[] | undefined => {
      if (this.closed) throw new FsError('Closed', `${this.name} is closed`);
      const parts = splitGuestPath(path);
      if (!this.policy.inline(this.lexical(parts))) return undefined;
      const c = synced();
      const hit = c?.listing(path);
      if (hit) return hit;
      return inDirNow(parts, path, (d) => {
        const keep = c !== undefined && watchNow(c, parts, path, d);
        const got = p.list(d, NOW_LIST_MAX);
        if (keep && got) c.keepListing(path, got);
        return got;
      });
    };
    const now: VfsNow = {
      // A call that changes nothing, with the cache's queue drained once for all of it (LocalAttrCache.settled).
      getattr: (path) => (cache ? cache.settled(getattrNow, path) : getattrNow(path)),
      lookup: (path) => (path === '/' ? now.getattr(path) : cache ? cache.settled(lookupNow, path) : lookupNow(path)),
      create: (path, mode, caller) => {
        this.writable(path);
        return inParentNow(path, (d, name) => {
          const c = synced();
          const before = c?.names(path.slice(0, path.lastIndexOf('/')) || '/');
          const h = p.create(d, name, path, mode, ownerFor(caller, needsFolderOwner(caller) ? p.folderOwner(d) : undefined));
          // The create is the one name made in the folder since `before` (O_EXCL: a new file): from
          // here on, while no other name changes there, the handle is the file its path names.
          c?.syncMade(path);
          if (before && h instanceof LocalFileSync && c!.sameNames(before, 1)) {
            const made = { watch: before.watch, renames: before.renames + 1 };
            // Once disproven, never again (the count only grows; a dropped watch is not restored): no drain then.
            let still = true;
            h.provenBy(() => (still &&= synced()?.sameNames(made) === true));
          }
          return h;
        })?.v;
      },
      mkdir: (path, mode, caller) => {
        this.writable(path);
        return inParentNow(path, (d, name) => p.mkdir(d, name, mode, ownerFor(caller, needsFolderOwner(caller) ? p.folderOwner(d) : undefined))) !== undefined;
      },
      unlink: (path) => {
        this.writable(path);
        return inParentNow(path, (d, name) => p.unlink(d, name)) !== undefined;
      },
      rmdir: (path) => {
        this.writable(path);
        const done = inParentNow(path, (d, name) => p.rmdir(d, name)) !== undefined;
        if (done) this.removedDir(path, splitGuestPath(path));
        return done;
      },
      readdir: (path) => (cache ? cache.settled(readdirNow, path) : readdirNow(path)),
      setattr: (path, attr) => {
        this.writable(path);
        if (path === '/') throw new FsError('NotPermitted', `/: the root's attributes are not changed through ${this.name}`);
        return inParentNow(path, (d, name) => {
          p.setattr(d, name, path, attr);
          return p.stat(d, name);
        })?.v;
      },
      rename: (from, to) => {
        this.writable(to);
        // Both folders inline, or nothing done (the async rename then does it all).
        const a = parentOf(from);
        const b = a && parentOf(to);
        if (!a || !b) return false;
        // One folder (most renames): opened, and proven, once.
        if (a.parts.join('/') === b.parts.join('/')) inDirNow(b.parts, to, (d) => p.rename(d, a.name, d, b.name));
        else inDirNow(a.parts, from, (fd) => inDirNow(b.parts, to, (td) => p.rename(fd, a.name, td, b.name)));
        // As the async rename: folders kept under either name now name other paths.
        this.paths.forgetTree([...a.parts, a.name]);
        this.paths.forgetTree([...b.parts, b.name]);
        return true;
      },
      readlink: (path) => inParentNow(path, (d, name) => p.readlink(d, name))?.v,
    };
    return now;
  }

  /** Opens a folder; fails when it is missing or not a folder. */
  static async open(spec: LocalGuestSpec, opts: LocalGuestOptions = {}): Promise<LocalGuest> {
    const kind = opts.paths ?? pathsKind();
    let real: string;
    try {
      real = await fsp.realpath(spec.path);
    } catch (err) {
      throw fromNode(err, spec.path);
    }
    const st = await fsp.stat(real).catch((err: unknown) => {
      throw fromNode(err, spec.path);
    });
    if (!st.isDirectory()) throw new FsError('NotDir', `${spec.path} is not a folder`);
    const policy = new InlinePolicy(real, opts.inline ?? true);
    await policy.refresh();
    const shown = { uid: spec.uid, gid: spec.gid };
    const paths = kind === 'proc' ? new ProcPaths(real, policy, shown, opts.libc === false ? null : libc()) : new AtPaths(real, policy, shown);
    const asked = opts.attrCache ?? process.env.BERTH_LOCAL_ATTR_CACHE !== '0';
    const hostPath = (p: string): string => (p === '/' ? real : real + p);
    const cache = asked === false ? undefined : LocalAttrCache.open(hostPath, asked === true ? DEFAULT_MAX_WATCHES : asked.maxWatches, Date.now, (p) => policy.inline(hostPath(p)));
    return new LocalGuest(real, spec.readOnly ?? false, policy, paths, cache, spec.xattrs === true);
  }

  /** Which strategy proves folders inside the root (localPaths.ts). */
  get pathsKind(): PathsKind {
    return this.paths.kind;
  }

  private check(opts: CallOpts): void {
    if (this.closed) throw new FsError('Closed', `${this.name} is closed`);
    if (opts.signal.aborted) throw toFsError(opts.signal.reason);
  }

  private writable(path: string): void {
    if (this.readOnly) throw new FsError('ReadOnly', `${path}: ${this.name} is read-only`);
  }

  /** The host path of the guest path `parts`: what the inline policy judges. */
  private lexical(parts: readonly string[]): string {
    return parts.length ? `${this.root}/${parts.join('/')}` : this.root;
  }

  /** Runs fn with the folder at `parts`, proven inside the root; errors name the guest path. */
  private async inDir<T>(parts: readonly string[], inlinePath: string, path: string, fn: (d: DirRef) => Promise<T>): Promise<T> {
    let d: DirRef;
    try {
      d = await this.paths.dir(parts, path, this.policy.inline(inlinePath));
    } catch (err) {
      throw fromNode(err, path);
    }
    try {
      return await fn(d);
    } catch (err) {
      throw fromNode(err, path);
    } finally {
      d.release();
    }
  }

  /**
   * Runs fn with the parent folder of `path` and the last component's name; calls on that
   * node are inline when the node's own path allows it (localInline.ts).
   */
  private inParent<T>(path: string, fn: (d: DirRef, name: string) => Promise<T>): Promise<T> {
    const parts = splitGuestPath(path);
    const name = parts.pop();
    if (name === undefined) return Promise.reject(new FsError('InvalidOperation', `${path}: not allowed on the root`));
    // Longer names fail in the kernel too; saying so here keeps the kind exact (ENAMETOOLONG).
    if (Buffer.byteLength(name) > NAME_MAX) return Promise.reject(new FsError('NameTooLong', `${path}: a name is longer than ${NAME_MAX} bytes`));
    return this.inDir(parts, `${this.lexical(parts)}/${name}`, path, (d) => fn(d, name));
  }

  /** Who a new node in `d` belongs to (the caller, when Berth runs as root). */
  private async owner(d: DirRef, opts: CallOpts): Promise<{ uid: number; gid: number } | undefined> {
    if (!needsFolderOwner(opts.caller)) return undefined;
    return ownerFor(opts.caller, await this.paths.folderOwner(d));
  }

  async getattr(path: string, opts: CallOpts): Promise<Attr> {
    this.check(opts);
    if (path === '/') return this.inDir([], this.root, path, (d) => this.paths.stat(d, undefined));
    return this.inParent(path, (d, name) => this.paths.stat(d, name));
  }

  readdir(path: string, opts: CallOpts): AsyncIterable<DirEntry> {
    return flatten(this.readdirBatches(path, opts));
  }

  /** The listing a batch at a time (sorted names; see the strategy's list). */
  async *readdirBatches(path: string, opts: CallOpts): AsyncIterable<readonly DirEntry[]> {
    this.check(opts);
    const parts = splitGuestPath(path);
    let d: DirRef;
    try {
      d = await this.paths.dir(parts, path, this.policy.inline(this.lexical(parts)));
    } catch (err) {
      throw fromNode(err, path);
    }
    try {
      const it = this.paths.list(d, opts.signal)[Symbol.asyncIterator]();
      for (;;) {
        let r: IteratorResult<readonly DirEntry[]>;
        try {
          r = await it.next();
        } catch (err) {
          throw fromNode(err, path);
        }
        if (r.done) return;
        yield r.value;
      }
    } finally {
      d.release();
    }
  }

  async open(path: string, flags: OpenFlags, opts: CallOpts): Promise<FileHandle> {
    this.check(opts);
    if (flags.write || flags.truncate) this.writable(path);
    // Close-to-open: writes through a shared mmap give no inotify event, so an open asks afresh.
    this.cache?.forget(path);
    let mode = flags.write ? C.O_RDWR : C.O_RDONLY;
    if (flags.truncate) mode |= C.O_TRUNC | (flags.write ? 0 : C.O_RDWR);
    return this.inParent(path, (d, name) => this.paths.open(d, name, path, mode, !this.readOnly));
  }

  async readlink(path: string, opts: CallOpts): Promise<string> {
    this.check(opts);
    return this.inParent(path, (d, name) => this.paths.readlink(d, name));
  }

  async statfs(opts: CallOpts): Promise<StatFs> {
    this.check(opts);
    const s = await fsp.statfs(this.root).catch((e: unknown) => Promise.reject(fromNode(e, '/')));
    return {
      blockSize: s.bsize,
      blocks: s.blocks,
      blocksFree: s.bfree,
      blocksAvail: s.bavail,
      files: s.files,
      filesFree: s.ffree,
      nameMax: NAME_MAX,
    };
  }

  async getxattr(path: string, name: string, opts: CallOpts): Promise<Uint8Array | undefined> {
    if (this.noXattrs) {
      // A folder without xattrs presents none (still proves the node exists).
      await this.getattr(path, opts);
      return undefined;
    }
    this.check(opts);
    return this.inNode(path, (run) => getXattr(run, name));
  }

  async listxattr(path: string, opts: CallOpts): Promise<string[]> {
    if (this.noXattrs) {
      await this.getattr(path, opts);
      return [];
    }
    this.check(opts);
    return this.inNode(path, listXattrs);
  }

  async setxattr(path: string, name: string, value: Uint8Array, how: 'create' | 'replace' | undefined, opts: CallOpts): Promise<void> {
    await this.changeXattrs(path, opts, (run) => setXattr(run, name, value, how));
  }

  async removexattr(path: string, name: string, opts: CallOpts): Promise<void> {
    await this.changeXattrs(path, opts, (run) => removeXattr(run, name));
  }

  /** A change of the extended attributes of `path`, where they are kept and the guest is writable. */
  private changeXattrs(path: string, opts: CallOpts, fn: (run: XattrRun) => Promise<void>): Promise<void> {
    this.check(opts);
    this.writable(path);
    if (this.noXattrs) throw new FsError('InvalidOperation', `${this.name} keeps no extended attributes here`);
    return this.inNode(path, fn);
  }

  /** Runs fn with the l*xattr calls of the node `path` (the root too), in its folder (localXattrs.ts). */
  private inNode<T>(path: string, fn: (run: XattrRun) => Promise<T>): Promise<T> {
    const x = this.paths.xattr!.bind(this.paths);
    if (path === '/') return this.inDir([], this.root, path, (d) => fn((call, args, outSize) => x(d, undefined, call, args, outSize)));
    return this.inParent(path, (d, name) => fn((call, args, outSize) => x(d, name, call, args, outSize)));
  }

  async create(path: string, mode: number, opts: CallOpts): Promise<FileHandle> {
    this.check(opts);
    this.writable(path);
    return this.inParent(path, async (d, name) => this.paths.create(d, name, path, mode, await this.owner(d, opts)));
  }

  async mkdir(path: string, mode: number, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    await this.inParent(path, async (d, name) => this.paths.mkdir(d, name, mode, await this.owner(d, opts)));
  }

  async symlink(target: string, path: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    if (target.length === 0 || target.includes('\0')) throw new FsError('InvalidItem', `${path}: bad symlink target`);
    if (Buffer.byteLength(target) >= 4096) throw new FsError('NameTooLong', `${path}: symlink target longer than 4095 bytes`);
    // The target is stored as given: it is only ever read back, never followed here.
    await this.inParent(path, async (d, name) => this.paths.symlink(target, d, name, await this.owner(d, opts)));
  }

  async link(target: string, path: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    await this.inParent(target, (from, fromName) => this.inParent(path, (to, toName) => this.paths.link(from, fromName, to, toName)));
  }

  async mknod(path: string, type: SpecialType, mode: number, rdev: number, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    await this.inParent(path, async (d, name) => this.paths.mknod(d, name, type, mode, rdev, await this.owner(d, opts)));
  }

  async unlink(path: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    await this.inParent(path, (d, name) => this.paths.unlink(d, name));
  }

  async rmdir(path: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    const parts = splitGuestPath(path);
    await this.inParent(path, (d, name) => this.paths.rmdir(d, name));
    this.removedDir(path, parts);
  }

  /** After this guest removed the folder `path`: its kept descriptor closed, its watch left to go with it. */
  private removedDir(path: string, parts: readonly string[]): void {
    this.cache?.removedHere(path);
    this.paths.forget(parts);
  }

  async rename(from: string, to: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(to);
    await this.renameBy(from, to, (fd, fromName, td, toName) => this.paths.rename(fd, fromName, td, toName));
  }

  async rename2(from: string, to: string, how: 'noreplace' | 'exchange', opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(to);
    if (how === 'exchange') this.writable(from);
    const rename2 = this.paths.rename2?.bind(this.paths);
    if (!rename2) throw new FsError('InvalidItem', `${this.name}: renames with flags need renameat2, which did not load here`);
    const flags = how === 'noreplace' ? RENAME_NOREPLACE : RENAME_EXCHANGE;
    await this.renameBy(from, to, (fd, fromName, td, toName) => rename2(fd, fromName, td, toName, flags));
  }

  /** A rename of `from` to `to` by `act` in their two folders. */
  private async renameBy(from: string, to: string, act: (fd: DirRef, fromName: string, td: DirRef, toName: string) => Promise<void>): Promise<void> {
    await this.inParent(from, (fd, fromName) => this.inParent(to, (td, toName) => act(fd, fromName, td, toName)));
    // Folders kept under either name now name other paths (they would be re-proven anyway).
    this.paths.forgetTree(splitGuestPath(from));
    this.paths.forgetTree(splitGuestPath(to));
  }

  async setattr(path: string, attr: SetAttr, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    if (path === '/') throw new FsError('NotPermitted', `/: the root's attributes are not changed through ${this.name}`);
    await this.inParent(path, (d, name) => this.paths.setattr(d, name, path, attr));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cache?.close();
    this.paths.close();
  }
}

/** Opens the local guest a spec describes. */
export function openLocalGuest(spec: LocalGuestSpec, opts?: LocalGuestOptions): Promise<LocalGuest> {
  return LocalGuest.open(spec, opts);
}
