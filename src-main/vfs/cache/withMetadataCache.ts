import type { Attr, CallOpts, DirEntry, FileHandle, Vfs } from '../types.ts';
import { flatten, readdirBatches as listBatches } from '../listing.ts';
import { PathLru } from './PathLru.ts';
import { parentOf } from '../pathNames.ts';

// Attribute and directory caches as one wrapper around any vfs, with a named policy
// (like rclone's vfs cache modes). Mutable entries live `expiryMs`; entries the guest marks
// immutable (content under a CID) live until the LRU bound evicts them. Changes made
// through this wrapper invalidate what they touch at once; changes made elsewhere show
// after the expiry, which is the price of the cache and why it is short by default.

/** off: every call reaches the guest. metadata: attributes and listings are cached. */
export type CachePolicy = 'off' | 'metadata';

/** Options of the metadata cache. */
export interface MetadataCacheOptions {
  policy: CachePolicy;
  /** How long attributes and listings of mutable nodes stay fresh, in milliseconds. */
  expiryMs: number;
  /** Bound on cached attributes (default 100,000). */
  maxAttrs?: number;
  /** Bound on cached listings (default 2,000); listings over maxListing entries are not cached. */
  maxDirs?: number;
  maxListing?: number;
  /** Clock, for tests that must not sleep; defaults to Date.now. */
  now?: () => number;
}

interface Fresh<V> {
  value: V;
  /** Epoch ms after which the value is stale; Infinity for immutable nodes. */
  until: number;
}

function childOf(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** A cached listing; its entries answer lookups of its children (found by name, indexed on first use). */
interface Listed extends Fresh<DirEntry[]> {
  byName?: Map<string, DirEntry>;
}

/** Wraps a vfs with attribute and directory caches; policy 'off' returns it unchanged. */
export function withMetadataCache(vfs: Vfs, options: MetadataCacheOptions): Vfs {
  if (options.policy === 'off') return vfs;
  const now = options.now ?? Date.now;
  const maxListing = options.maxListing ?? 50_000;
  // Owned by this wrapper; guests never see them.
  const attrs = new PathLru<Fresh<Attr>>(options.maxAttrs ?? 100_000);
  const dirs = new PathLru<Listed>(options.maxDirs ?? 2_000);
  const pending = new Map<string, Promise<Attr>>();
  // Bumped by every change so that a listing started before it is not stored after it.
  let generation = 0;

  const until = (a: Attr): number => (a.immutable ? Infinity : now() + options.expiryMs);
  const fresh = <V>(f: Fresh<V> | undefined): V | undefined => (f && f.until > now() ? f.value : undefined);
  const putAttr = (path: string, a: Attr): void => {
    if (a.immutable || options.expiryMs > 0) attrs.set(path, { value: a, until: until(a) });
  };
  /**
   * A child's attributes from its folder's cached listing. A listing is stored whole, not
   * entry by entry: a walk of 10,000 entries that never looks one up pays nothing per
   * entry, and `ls -l` (a lookup per entry) indexes the listing by name once.
   */
  const listedAttr = (path: string): Attr | undefined => {
    if (path === '/') return undefined;
    const dir = parentOf(path);
    const l = dirs.get(dir);
    if (!l || !(l.until > now())) return undefined;
    if (!l.byName) {
      l.byName = new Map();
      for (const e of l.value) l.byName.set(e.name, e);
    }
    return l.byName.get(path.slice(dir === '/' ? 1 : dir.length + 1))?.attr;
  };
  const known = (path: string): Attr | undefined => fresh(attrs.get(path)) ?? listedAttr(path);
  /** Stops a folder's cached listing from answering lookups of `path` (its listing itself stays). */
  const unlist = (path: string): void => {
    if (path === '/') return;
    const dir = parentOf(path);
    if (!dirs.get(dir)) return;
    listedAttr(path); // builds the index
    dirs.get(dir)?.byName?.delete(path.slice(dir === '/' ? 1 : dir.length + 1));
  };
  /** Keeps the attributes of a listing's entries one by one (listings too big to keep whole). */
  const keepEach = (dir: string, entries: readonly DirEntry[]): void => {
    for (const e of entries) if (options.expiryMs > 0 || e.attr.immutable) putAttr(childOf(dir, e.name), e.attr);
  };

  /** Forgets a node, its parent's listing and attributes, and (for renames) its subtree. */
  const forget = (path: string, subtree = false): void => {
    generation++;
    attrs.delete(path);
    dirs.delete(path);
    const parent = parentOf(path);
    attrs.delete(parent);
    dirs.delete(parent);
    if (subtree) {
      // In time proportional to what is cached under it (PathLru), not to the whole cache.
      attrs.deleteUnder(path);
      dirs.deleteUnder(path);
    }
  };

  const getattr = (path: string, opts: CallOpts): Promise<Attr> => {
    const hit = known(path);
    if (hit) return Promise.resolve(hit);
    // Concurrent lookups of one path (the kernel sends many) share one guest call.
    const inflight = pending.get(path);
    if (inflight) return inflight;
    const gen = generation;
    const p = vfs.getattr(path, opts).then(
      (a) => {
        pending.delete(path);
        if (gen === generation) putAttr(path, a);
        return a;
      },
      (err: unknown) => {
        pending.delete(path);
        throw err;
      },
    );
    pending.set(path, p);
    return p;
  };

  /** The listing in batches: a cached one as one batch, else the guest's, remembered on the way. */
  async function* readdirBatches(path: string, opts: CallOpts): AsyncGenerator<readonly DirEntry[]> {
    const hit = fresh(dirs.get(path));
    if (hit) {
      yield hit;
      return;
    }
    const gen = generation;
    let got: DirEntry[] = [];
    let eager = false;
    let complete = false;
    try {
      for await (const batch of listBatches(vfs, path, opts)) {
        if (!eager) {
          for (const e of batch) got.push(e);
          if (got.length > maxListing) {
            // Too big to keep whole: its entries' attributes are kept one by one instead.
            eager = true;
            if (gen === generation) keepEach(path, got);
            got = [];
          }
        } else if (gen === generation) keepEach(path, batch);
        yield batch;
      }
      complete = true;
    } finally {
      if (complete && !eager && gen === generation) {
        const self = known(path);
        const forever = self?.immutable === true;
        if (forever || options.expiryMs > 0) dirs.set(path, { value: got, until: forever ? Infinity : now() + options.expiryMs });
      }
    }
  }

  const readdir = (path: string, opts: CallOpts): AsyncIterable<DirEntry> => flatten(readdirBatches(path, opts));


  /** Wraps a writable handle so writes invalidate the file's cached size and times. */
  const watchHandle = (h: FileHandle, path: string): FileHandle => {
    if (!h.write && !h.truncate && !h.setattr) return h;
    const out: FileHandle = { read: h.read.bind(h), close: h.close.bind(h) };
    if (h.madeAttr) out.madeAttr = h.madeAttr;
    if (h.readInto) out.readInto = h.readInto.bind(h);
    if (h.flush) out.flush = h.flush.bind(h);
    if (h.getattr) out.getattr = h.getattr.bind(h);
    if (h.setattr) {
      const s = h.setattr.bind(h);
      out.setattr = async (attr, opts) => {
        try {
          return await s(attr, opts);
        } finally {
          forget(path);
        }
      };
    }
    if (h.now) {
      const now = h.now;
      out.now = {
        readInto: (buf, pos) => now.readInto(buf, pos),
        write: (pos, data) => {
          try {
            return now.write(pos, data);
          } finally {
            forget(path);
          }
        },
      };
      if (now.stat) out.now.stat = now.stat.bind(now);
      // Only read through (sendfile): nothing written by it for the cache to forget.
      if (now.fd) out.now.fd = now.fd.bind(now);
      if (now.named) out.now.named = now.named.bind(now);
      // Only reads where data lies: nothing for the cache to forget.
      if (now.seek) out.now.seek = now.seek.bind(now);
      if (now.fallocate) {
        const allocate = now.fallocate.bind(now);
        out.now.fallocate = (mode, offset, length) => {
          try {
            allocate(mode, offset, length);
          } finally {
            forget(path);
          }
        };
      }
      if (now.setattr) {
        const set = now.setattr.bind(now);
        out.now.setattr = (attr) => {
          try {
            set(attr);
          } finally {
            forget(path);
          }
        };
      }
    }
    if (h.write) {
      const w = h.write.bind(h);
      out.write = async (pos, data, opts) => {
        try {
          return await w(pos, data, opts);
        } finally {
          forget(path);
        }
      };
    }
    if (h.truncate) {
      const t = h.truncate.bind(h);
      out.truncate = async (size, opts) => {
        try {
          await t(size, opts);
        } finally {
          forget(path);
        }
      };
    }
    return out;
  };

  /** Runs a change and then forgets what it touched (also when it failed half-way). */
  const change = async <T>(paths: string[], subtree: boolean, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } finally {
      for (const p of paths) forget(p, subtree);
    }
  };

  const wrapped: Vfs = {
    name: vfs.name,
    readOnly: vfs.readOnly,
    ...(vfs.noXattrs ? { noXattrs: true } : {}),
    ...(vfs.health ? { health: vfs.health } : {}),
    getattr,
    cachedAttr: known,
    forgetAttr: (path) => {
      generation++;
      attrs.delete(path);
      unlist(path);
    },
    readdir,
    readdirBatches,
    open: async (path, flags, opts) => {
      // Close-to-open: a file being opened has its attributes asked afresh (its size may
      // have changed outside Berth), unless it can never change (issue 9: old sizes with new bytes).
      if (known(path)?.immutable !== true) {
        attrs.delete(path);
        unlist(path);
      }
      const h = await vfs.open(path, flags, opts);
      if (flags.truncate) forget(path);
      // A handle that can change attributes itself (FileHandleNow.setattr, FileHandle.setattr) is watched too.
      return flags.write || flags.truncate || h.now?.setattr || h.setattr ? watchHandle(h, path) : h;
    },
    readlink: (path, opts) => vfs.readlink(path, opts),
    statfs: (opts) => vfs.statfs(opts),
    getxattr: (path, name, opts) => vfs.getxattr(path, name, opts),
    listxattr: (path, opts) => vfs.listxattr(path, opts),
    close: async () => {
      attrs.clear();
      dirs.clear();
      await vfs.close();
    },
  };
  if (vfs.now) {
    // The synchronous face through the same cache: hits answer from memory, changes forget
    // what they touched (also when they failed half-way), exactly as the async calls do.
    const inner = vfs.now;
    const changeNow = (paths: string[], subtree: boolean, fn: () => boolean): boolean => {
      let done = true;
      try {
        done = fn();
        return done;
      } finally {
        if (done) for (const p of paths) forget(p, subtree);
      }
    };
    wrapped.now = {
      getattr: (path) => {
        const hit = known(path);
        if (hit) return hit;
        const a = inner.getattr(path);
        if (a) putAttr(path, a);
        return a;
      },
      lookup: (path) => {
        const hit = known(path);
        if (hit) return hit;
        const a = inner.lookup(path);
        if (a) putAttr(path, a);
        return a;
      },
      create: (path, mode, caller) => {
        let h: FileHandle | undefined;
        changeNow([path], false, () => (h = inner.create(path, mode, caller)) !== undefined);
        return h && watchHandle(h, path);
      },
      mkdir: (path, mode, caller) => changeNow([path], false, () => inner.mkdir(path, mode, caller)),
      unlink: (path) => changeNow([path], false, () => inner.unlink(path)),
      rmdir: (path) => changeNow([path], true, () => inner.rmdir(path)),
      setattr: (path, attr) => {
        let after: Attr | undefined;
        changeNow([path], false, () => (after = inner.setattr(path, attr)) !== undefined);
        return after;
      },
      rename: (from, to) => changeNow([from, to], true, () => inner.rename(from, to)),
      // Not kept: the async readlink is not either.
      readlink: (path) => inner.readlink(path),
      readdir: (path) => {
        const hit = fresh(dirs.get(path));
        if (hit) return hit;
        const got = inner.readdir(path);
        if (!got || got.length > maxListing) return got;
        const forever = known(path)?.immutable === true;
        if (forever || options.expiryMs > 0) dirs.set(path, { value: [...got], until: forever ? Infinity : now() + options.expiryMs });
        return got;
      },
    };
  }
  if (vfs.create) {
    const f = vfs.create.bind(vfs);
    wrapped.create = async (path, mode, opts) => watchHandle(await change([path], false, () => f(path, mode, opts)), path);
  }
  if (vfs.mkdir) {
    const f = vfs.mkdir.bind(vfs);
    wrapped.mkdir = (path, mode, opts) => change([path], false, () => f(path, mode, opts));
  }
  if (vfs.symlink) {
    const f = vfs.symlink.bind(vfs);
    wrapped.symlink = (target, path, opts) => change([path], false, () => f(target, path, opts));
  }
  if (vfs.link) {
    const f = vfs.link.bind(vfs);
    // The target's link count changes too.
    wrapped.link = (target, path, opts) => change([path, target], false, () => f(target, path, opts));
  }
  if (vfs.mknod) {
    const f = vfs.mknod.bind(vfs);
    wrapped.mknod = (path, type, mode, rdev, opts) => change([path], false, () => f(path, type, mode, rdev, opts));
  }
  // A node's extended attributes are never kept; its ctime changes with them.
  if (vfs.setxattr) {
    const f = vfs.setxattr.bind(vfs);
    wrapped.setxattr = (path, name, value, how, opts) => change([path], false, () => f(path, name, value, how, opts));
  }
  if (vfs.removexattr) {
    const f = vfs.removexattr.bind(vfs);
    wrapped.removexattr = (path, name, opts) => change([path], false, () => f(path, name, opts));
  }
  if (vfs.unlink) {
    const f = vfs.unlink.bind(vfs);
    wrapped.unlink = (path, opts) => change([path], false, () => f(path, opts));
  }
  if (vfs.rmdir) {
    const f = vfs.rmdir.bind(vfs);
    wrapped.rmdir = (path, opts) => change([path], true, () => f(path, opts));
  }
  if (vfs.rename) {
    const f = vfs.rename.bind(vfs);
    wrapped.rename = (from, to, opts) => change([from, to], true, () => f(from, to, opts));
  }
  if (vfs.rename2) {
    const f = vfs.rename2.bind(vfs);
    wrapped.rename2 = (from, to, how, opts) => change([from, to], true, () => f(from, to, how, opts));
  }
  if (vfs.setattr) {
    const f = vfs.setattr.bind(vfs);
    wrapped.setattr = (path, attr, opts) => change([path], false, () => f(path, attr, opts));
  }
  return wrapped;
}
