import { constants as C } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { FsError, toFsError } from '../vfs/FsError.ts';
import { errnoFor } from '../vfs/errno.ts';
import { readdirBatches } from '../vfs/listing.ts';
import type { Attr, CallOpts, FileHandle, SetAttr, Vfs } from '../vfs/types.ts';
import { closeOnEnd } from './openFiles.ts';
import { blocksOf, specialOfMode, TYPE_BITS } from '../vfs/modeType.ts';

// The fuse-native operation table for one vfs: each FUSE request becomes one vfs call,
// answered through a callback with 0 / a value or a negative errno from vfs/errno.ts (the
// one table). Handlers are async and never touch sync I/O: libfuse runs its own threads
// and every request crosses this one event loop, so per-request work stays tiny.

/** fuse-native's callback: an errno (negative) or 0, then the op's result. */
type Cb = (code: number, ...result: unknown[]) => void;

/** The stat shape fuse-native's getStatArray reads (times in ms since the epoch). */
interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  ino: number;
  rdev: number;
  blksize: number;
  blocks: number;
  atime: number;
  mtime: number;
  ctime: number;
}

/** How the ops present the vfs. */
export interface FuseOpsContext {
  /** Signal every call gets; aborted when the mount goes away. */
  signal: AbortSignal;
  /** Owner shown for every node instead of the guest's, when set. */
  uid?: number;
  gid?: number;
  /** Where a refusal worth explaining once goes (default: stderr). */
  log?: (message: string) => void;
}

/** A folder's type for "." and "..": libfuse 2 only takes d_type from readdir stats. */
const DOT_STAT: FuseStat = { mode: C.S_IFDIR | 0o555, uid: 0, gid: 0, size: 0, nlink: 2, ino: 0, rdev: 0, blksize: 4096, blocks: 0, atime: 0, mtime: 0, ctime: 0 };

/** The negative errno FUSE answers for anything thrown by a vfs call. */
function errnoOf(err: unknown): number {
  return -errnoFor(toFsError(err).kind);
}

/** The access-mode bits of open flags (POSIX; not exported by node:fs). */
const O_ACCMODE = 3;

/** FUSE's read size under libfuse 2 (128 KiB); buffers of this size are pooled. */
const POOLED_READ = 128 * 1024;
/** Pooled read buffers kept per mount (enough for the kernel's reads in flight). */
const POOL_MAX = 64;

/**
 * Times below this in utimens are not times: fuse-native turns a timespec into whole
 * milliseconds, so libfuse's UTIME_OMIT and UTIME_NOW (tv_sec 0, tv_nsec ~2^30) both
 * arrive as ~1073 ms and cannot be told apart.
 */
export const UTIME_SENTINEL_MS = 2_000;

/**
 * The times a utimens call sets. Whole sentinel pairs can only be `touch -a` (the kernel
 * sends no request when both are omitted): atime now. A sentinel atime beside a real mtime
 * is `touch`, `touch -m` or rsync's "atime now": it is left as it is, which is right for
 * the explicit cases and only misses an atime update for a plain touch.
 */
export function utimensAttr(atime: number, mtime: number, now: number): SetAttr | undefined {
  const a = atime >= UTIME_SENTINEL_MS;
  const m = mtime >= UTIME_SENTINEL_MS;
  if (!a && !m) return { atime: now, timesNow: true };
  const out: SetAttr = {};
  if (a) out.atime = atime;
  if (m) out.mtime = mtime;
  return out;
}

/** Builds the operation table fuse-native calls; writers only when the vfs can write. */
export function makeFuseOps(vfs: Vfs, ctx: FuseOpsContext, writable: boolean): Record<string, unknown> {
  const opts: CallOpts = { signal: ctx.signal };
  const handles = new Map<number, FileHandle>();
  closeOnEnd(ctx.signal, handles);
  let nextFd = 1;

  const stat = (a: Attr): FuseStat => ({
    mode: TYPE_BITS[a.type] | (a.mode & 0o7777),
    uid: ctx.uid ?? a.uid,
    gid: ctx.gid ?? a.gid,
    size: a.size,
    nlink: a.nlink || 1,
    // Only 32 bits reach the kernel, and only with use_ino, which Berth leaves off.
    ino: a.ino >>> 0,
    rdev: a.rdev ?? 0,
    blksize: 4096,
    blocks: blocksOf(a),
    // Whole milliseconds, rounded: fuse-native truncates, and a time read back as a float
    // (100 ms is 99.99999… after the seconds) must not lose one (issue 9).
    atime: Math.round(a.atime),
    mtime: Math.round(a.mtime),
    ctime: Math.round(a.ctime),
  });

  /** Runs one request: the promise's value goes to cb, its error to cb(-errno). */
  const serve = <T>(cb: Cb, p: () => Promise<T>, answer: (v: T) => unknown[] = () => []): void => {
    let run: Promise<T>;
    try {
      run = p();
    } catch (err) {
      cb(errnoOf(err));
      return;
    }
    run.then(
      (v) => cb(0, ...answer(v)),
      (err: unknown) => cb(errnoOf(err)),
    );
  };

  // Read buffers of the usual FUSE size, reused (owned by this mount's ops): a fresh
  // 128 KiB buffer per request costs page faults. A failed read's buffer is not reused.
  const pool: Buffer[] = [];
  const takeBuffer = (len: number): Buffer => {
    const b = len === POOLED_READ ? pool.pop() : undefined;
    return b ?? Buffer.allocUnsafe(len);
  };
  const giveBuffer = (b: Buffer): void => {
    if (b.length === POOLED_READ && pool.length < POOL_MAX) pool.push(b);
  };

  const keep = (h: FileHandle): number => {
    const fd = nextFd++;
    handles.set(fd, h);
    return fd;
  };
  const handle = (fd: number): FileHandle => {
    const h = handles.get(fd);
    if (!h) throw new FsError('Closed', `no open file ${fd}`);
    return h;
  };
  const refuse = (): Promise<never> => Promise.reject(new FsError('ReadOnly', `${vfs.name} cannot do that`));
  const told = new Set<string>();
  const log = ctx.log ?? ((m: string) => console.error(m));
  /** EPERM for what the guest cannot hold (link, mknod), as POSIX file systems answer; said once in the log. */
  const cannotHold = (what: string): Promise<never> => {
    const reason = `${vfs.name} cannot hold ${what}`;
    if (!told.has(what)) {
      told.add(what);
      log(`berth: ${reason}: answering EPERM`);
    }
    return Promise.reject(new FsError('NotPermitted', reason));
  };
  const setattr = async (path: string, attr: SetAttr): Promise<void> => {
    if (!vfs.setattr) throw new FsError('ReadOnly', `${vfs.name} is read-only`);
    await vfs.setattr(path, attr, opts);
  };

  const ops: Record<string, unknown> = {
    init: (cb: Cb) => cb(0),
    getattr: (path: string, cb: Cb) => serve(cb, () => vfs.getattr(path, opts), (a) => [stat(a)]),
    readdir: (path: string, cb: Cb) =>
      serve(
        cb,
        async () => {
          const names = ['.', '..'];
          const stats = [DOT_STAT, DOT_STAT];
          for await (const batch of readdirBatches(vfs, path, opts)) {
            for (const e of batch) {
              names.push(e.name);
              stats.push(stat(e.attr));
            }
          }
          return { names, stats };
        },
        (r) => [r.names, r.stats],
      ),
    open: (path: string, flags: number, cb: Cb) =>
      serve(
        cb,
        () => {
          const write = (flags & O_ACCMODE) !== C.O_RDONLY;
          return vfs.open(path, { write, truncate: (flags & C.O_TRUNC) !== 0 }, opts);
        },
        (h) => [keep(h)],
      ),
    release: (_path: string, fd: number, cb: Cb) => {
      const h = handles.get(fd);
      handles.delete(fd);
      if (!h) return cb(0);
      serve(cb, () => h.close());
    },
    read: (_path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      let h: FileHandle;
      try {
        h = handle(fd);
      } catch (err) {
        cb(errnoOf(err));
        return;
      }
      if (h.readInto) {
        // Into a buffer of ours, then one copy into libfuse's: libfuse frees its buffer once
        // we answer, and a guest that timed out may still be writing into the one it got.
        const mine = takeBuffer(len);
        h.readInto(mine, pos, opts).then(
          (n) => {
            buf.set(n === mine.length ? mine : mine.subarray(0, n));
            giveBuffer(mine);
            cb(n);
          },
          (err: unknown) => cb(errnoOf(err)),
        );
        return;
      }
      h.read(pos, len, opts).then(
        (data) => {
          // buf is libfuse's own buffer for this request: one copy, straight into it.
          const n = Math.min(data.length, len);
          buf.set(n === data.length ? data : data.subarray(0, n));
          cb(n);
        },
        (err: unknown) => cb(errnoOf(err)),
      );
    },
    readlink: (path: string, cb: Cb) => serve(cb, () => vfs.readlink(path, opts), (t) => [t]),
    statfs: (_path: string, cb: Cb) =>
      serve(
        cb,
        () => vfs.statfs(opts),
        (s) => {
          // fuse-native passes 32-bit fields: grow the fragment size until the counts fit.
          let frsize = s.blockSize || 4096;
          let blocks = s.blocks;
          let bfree = s.blocksFree;
          let bavail = s.blocksAvail;
          while (blocks > 0xffff_ffff) {
            frsize *= 2;
            blocks = Math.floor(blocks / 2);
            bfree = Math.floor(bfree / 2);
            bavail = Math.floor(bavail / 2);
          }
          const cap = (n: number): number => Math.min(n, 0xffff_ffff);
          return [{
            bsize: s.blockSize || 4096, frsize, blocks, bfree, bavail,
            files: cap(s.files), ffree: cap(s.filesFree), favail: cap(s.filesFree), fsid: 0, flag: 0, namemax: s.nameMax,
          }];
        },
      ),
    // Linux passes no position; macOS's extra argument is only for resource forks.
    getxattr: (path: string, name: string, _position: number, cb: Cb) => {
      // Guests only ever hold user.* attributes: the rest is answered without a guest call,
      // "not supported" on Linux (GNU ls -l then stops asking the device: fuseFastPath.ts).
      if (!name.startsWith('user.')) return process.platform === 'linux' ? cb(-osConstants.errno.EOPNOTSUPP) : cb(0, undefined);
      serve(cb, () => vfs.getxattr(path, name, opts), (v) => [v === undefined ? undefined : Buffer.from(v.buffer, v.byteOffset, v.byteLength)]);
    },
    listxattr: (path: string, cb: Cb) => serve(cb, () => vfs.listxattr(path, opts), (l) => [l]),
    access: (path: string, mode: number, cb: Cb) =>
      serve(cb, async () => {
        await vfs.getattr(path, opts);
        if ((mode & C.W_OK) !== 0 && !writable) throw new FsError('ReadOnly', `${vfs.name} is read-only`);
      }),
  };

  if (!writable) return ops;

  Object.assign(ops, {
    create: (path: string, mode: number, cb: Cb) => {
      if (!vfs.create) return cb(errnoOf(new FsError('ReadOnly', `${vfs.name} is read-only`)));
      const create = vfs.create.bind(vfs);
      serve(cb, () => create(path, mode & 0o7777, opts), (h) => [keep(h)]);
    },
    write: (_path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      // Copied: libfuse reuses buf once we answer, and a timed-out guest may still hold it.
      const data = Buffer.from(buf.subarray(0, len));
      let run: Promise<number>;
      try {
        const h = handle(fd);
        if (!h.write) throw new FsError('ReadOnly', `${vfs.name} is read-only`);
        run = h.write(pos, data, opts);
      } catch (err) {
        cb(errnoOf(err));
        return;
      }
      run.then(cb, (err: unknown) => cb(errnoOf(err)));
    },
    truncate: (path: string, size: number, cb: Cb) => serve(cb, () => setattr(path, { size })),
    ftruncate: (path: string, fd: number, size: number, cb: Cb) =>
      serve(cb, () => {
        const h = handles.get(fd);
        return h?.truncate ? h.truncate(size, opts) : setattr(path, { size });
      }),
    fsync: (_path: string, _datasync: number, fd: number, cb: Cb) =>
      serve(cb, async () => {
        await handles.get(fd)?.flush?.(opts);
      }),
    mkdir: (path: string, mode: number, cb: Cb) => serve(cb, () => (vfs.mkdir ? vfs.mkdir(path, mode & 0o7777, opts) : refuse())),
    rmdir: (path: string, cb: Cb) => serve(cb, () => (vfs.rmdir ? vfs.rmdir(path, opts) : refuse())),
    unlink: (path: string, cb: Cb) => serve(cb, () => (vfs.unlink ? vfs.unlink(path, opts) : refuse())),
    rename: (from: string, to: string, cb: Cb) => serve(cb, () => (vfs.rename ? vfs.rename(from, to, opts) : refuse())),
    // libfuse's symlink(from, to): `from` is the target text, `to` the new link's path.
    symlink: (target: string, path: string, cb: Cb) => serve(cb, () => (vfs.symlink ? vfs.symlink(target, path, opts) : refuse())),
    chmod: (path: string, mode: number, cb: Cb) => serve(cb, () => setattr(path, { mode: mode & 0o7777 })),
    chown: (path: string, uid: number, gid: number, cb: Cb) =>
      serve(cb, () => setattr(path, {
        // (uid_t)-1 arrives as 2^32-1 and means "leave as it is".
        ...(uid !== 0xffff_ffff && uid !== -1 ? { uid } : {}),
        ...(gid !== 0xffff_ffff && gid !== -1 ? { gid } : {}),
      })),
    // The real mtime arrives here because fuse.ts reads it below the binding (fuse-native
    // 2.2.6 passes atime twice); see utimensAttr for what the sentinels mean.
    utimens: (path: string, atime: number, mtime: number, cb: Cb) =>
      serve(cb, async () => {
        const attr = utimensAttr(atime, mtime, Date.now());
        if (attr) await setattr(path, attr);
      }),
    link: (target: string, path: string, cb: Cb) => serve(cb, () => (vfs.link ? vfs.link(target, path, opts) : cannotHold('hard links'))),
    mknod: (path: string, mode: number, dev: number, cb: Cb) =>
      serve(cb, async () => {
        const type = specialOfMode(mode);
        if (type === undefined) {
          // mknod of a regular file (the kernel uses create when it can).
          if (!vfs.create) throw new FsError('ReadOnly', `${vfs.name} is read-only`);
          await (await vfs.create(path, mode & 0o7777, opts)).close();
          return;
        }
        if (!vfs.mknod) return cannotHold('fifos, sockets or device nodes');
        await vfs.mknod(path, type, mode & 0o7777, dev, opts);
      }),
  });
  return ops;
}

/** What the FUSE host can answer from memory, below fuse-native's per-request JS (fuseFastPath.ts). */
export interface FastAnswers {
  /** Fills `out` (fuse-native's 18-word stat layout) from attributes known in memory; false when none are. */
  stat(path: string, out: Uint32Array): boolean;
  /** Whether the answer to getxattr `name` is "no such attribute" whatever the path. */
  noXattr(name: string): boolean;
}

/** The fast answers for one vfs as makeFuseOps presents it (same owner, modes and times). */
export function fastAnswers(vfs: Vfs, ctx: FuseOpsContext): FastAnswers {
  const peek = vfs.cachedAttr?.bind(vfs);
  return {
    stat(path, out) {
      const a = peek?.(path);
      if (!a) return false;
      // fuse-native's getStatArray layout: mode, uid, gid, size (2 words), dev, nlink, ino,
      // rdev, blksize, blocks (2), atime, mtime, ctime (2 words each, milliseconds).
      out[0] = TYPE_BITS[a.type] | (a.mode & 0o7777);
      out[1] = ctx.uid ?? a.uid;
      out[2] = ctx.gid ?? a.gid;
      words(out, 3, a.size);
      out[5] = 0;
      out[6] = a.nlink || 1;
      out[7] = a.ino >>> 0;
      out[8] = a.rdev ?? 0;
      out[9] = 4096;
      words(out, 10, blocksOf(a));
      words(out, 12, Math.round(a.atime));
      words(out, 14, Math.round(a.mtime));
      words(out, 16, Math.round(a.ctime));
      return true;
    },
    // Guests only ever hold user.* attributes (see getxattr above).
    noXattr: (name) => !name.startsWith('user.'),
  };
}

/** A non-negative integer below 2^53 as two 32-bit words, low first (fuse-native's setDoubleInt). */
function words(out: Uint32Array, at: number, n: number): void {
  const v = n > 0 ? n : 0;
  const lo = v % 0x1_0000_0000;
  out[at] = lo;
  out[at + 1] = (v - lo) / 0x1_0000_0000;
}
