import { constants as C } from 'node:fs';
import { constants } from 'node:os';
import { FsError, toFsError } from '../../vfs/FsError.ts';
import { errnoFor } from '../../vfs/errno.ts';
import type { Attr, CallOpts, Caller, FileHandle, SetAttr, SpecialType, Vfs } from '../../vfs/types.ts';
import { CAP, CONN, FI, FI_BIT, type LibFuse3, SET } from './libfuse3.ts';
import { NodeTable, type FuseNode } from './NodeTable.ts';
import type { OpHandlers, Req } from './FuseSession.ts';
import { ENTRY_SIZE, readStat, STAT_SIZE, STATVFS_SIZE, writeEntry, writeStat, writeStatvfs } from './structs.ts';
import { DirListings } from './DirListings.ts';

// The low-level FUSE operations over one vfs. The kernel names nodes by number; NodeTable
// turns them into vfs paths. Each request becomes one vfs call (a few for rename/create),
// answered with fuse_reply_* when it settles, or with the negative errno of vfs/errno.ts
// (the one table). Every reply checks that the session still lives: after teardown its
// requests are freed memory.

/** How the ops present the vfs. */
export interface LowLevelContext {
  /** Signal every call gets; aborted when the mount goes away. */
  signal: AbortSignal;
  /** Owner shown for every node instead of the guest's, when set. */
  uid?: number;
  gid?: number;
  writable: boolean;
  /** Content never changes: pages and attributes may be kept by the kernel. */
  immutable: boolean;
  /** Kernel attribute and entry cache, seconds. */
  attrTimeoutS: number;
  entryTimeoutS: number;
  /** Other users reach the mount: pass who calls (fuse_req_ctx) to the guest. */
  allowOther: boolean;
  /** Where a refusal worth explaining once goes (default: stderr). */
  log?: (message: string) => void;
  /** Whether the session still takes replies. */
  alive: () => boolean;
  /** Called once the kernel's INIT came (the mount is served). */
  onInit: () => void;
}

const O_ACCMODE = 3;
const E = constants.errno;

/** Builds the op handlers of one mount; writers only when the mount can write. */
export function makeLowLevelOps(vfs: Vfs, lib: LibFuse3, ctx: LowLevelContext): OpHandlers {
  const { koffi } = lib;
  const nodes = new NodeTable();
  const handles = new Map<number, FileHandle>();
  const dirs = new DirListings();
  let nextFh = 1;
  const own = { ...(ctx.uid !== undefined ? { uid: ctx.uid } : {}), ...(ctx.gid !== undefined ? { gid: ctx.gid } : {}) };
  const entryBuf = Buffer.alloc(ENTRY_SIZE);
  const statBuf = Buffer.alloc(STAT_SIZE);
  const fiBuf = Buffer.alloc(FI.size);
  const log = ctx.log ?? ((m: string) => console.error(m));
  const told = new Set<string>();
  const base: CallOpts = { signal: ctx.signal };

  /** CallOpts of a request: with its caller when other users can reach the mount. */
  const opts = (req: Req): CallOpts => {
    if (!ctx.allowOther) return base;
    const c = koffi.decode(lib.reqCtx(req), lib.ctxType) as { uid: number; gid: number };
    const caller: Caller = { uid: c.uid, gid: c.gid };
    return { signal: ctx.signal, caller };
  };
  const fail = (req: Req, err: unknown): void => {
    if (ctx.alive()) lib.replyErr(req, errnoFor(toFsError(err).kind));
  };
  /** Runs one request's promise; its value goes to `ok`, its error to fuse_reply_err. */
  const serve = <T>(req: Req, p: () => Promise<T>, ok: (v: T) => void): void => {
    let run: Promise<T>;
    try {
      run = p();
    } catch (err) {
      fail(req, err);
      return;
    }
    run.then(
      (v) => {
        if (ctx.alive()) ok(v);
      },
      (err: unknown) => fail(req, err),
    );
  };
  const node = (id: number): FuseNode => {
    const n = nodes.get(id);
    if (!n) throw new FsError('Closed', `no node ${id} (forgotten)`);
    return n;
  };
  const childPath = (parent: number, name: string): string => NodeTable.child(node(parent), name);
  const okErr = (req: Req) => () => lib.replyErr(req, 0);
  /** Replies with a new entry for `path` (counted as one lookup the kernel holds). */
  const replyEntry = (req: Req, path: string, a: Attr): void => {
    const n = nodes.remember(path);
    writeEntry(entryBuf, n.id, a, own, ctx.attrTimeoutS, ctx.entryTimeoutS);
    lib.replyEntry(req, entryBuf);
  };
  const keep = (h: FileHandle): number => {
    const fh = nextFh++;
    handles.set(fh, h);
    return fh;
  };
  const fhOf = (fi: unknown): number => Number(koffi.decode(fi, FI.fh, 'uint64_t'));
  const handle = (fi: unknown): FileHandle => {
    const h = handles.get(fhOf(fi));
    if (!h) throw new FsError('Closed', 'no such open file');
    return h;
  };
  /** Writes fh and the cache flags into fuse_file_info for fuse_reply_open/create. */
  const fillFi = (fi: unknown, fh: number): Buffer => {
    const view = Buffer.from(koffi.view(fi, FI.size) as ArrayBuffer);
    view.copy(fiBuf);
    fiBuf.writeBigUInt64LE(BigInt(fh), FI.fh);
    let bits = fiBuf.readUInt32LE(FI.bits);
    // Immutable content keeps its pages across opens (libfuse 2's kernel_cache); mutable drops them.
    if (ctx.immutable) bits |= FI_BIT.keepCache;
    fiBuf.writeUInt32LE(bits >>> 0, FI.bits);
    return fiBuf;
  };
  const readOnly = (): never => {
    throw new FsError('ReadOnly', `${vfs.name} is read-only`);
  };
  const cannotHold = (what: string): never => {
    const reason = `${vfs.name} cannot hold ${what}`;
    if (!told.has(what)) {
      told.add(what);
      log(`berth: ${reason}: answering EPERM`);
    }
    throw new FsError('NotPermitted', reason);
  };

  const ops: OpHandlers = {
    init: ((_userdata: unknown, conn: unknown) => {
      const v = new DataView(koffi.view(conn, 40) as ArrayBuffer);
      let want = v.getUint32(CONN.want, true);
      // The kernel clears set-id bits on write/chown/truncate itself, as with libfuse 2:
      // the guest writes as root and would keep them.
      want &= ~CAP.handleKillpriv;
      v.setUint32(CONN.want, want >>> 0, true);
      ctx.onInit();
    }) as never,
    lookup: ((req: Req, parent: number, name: string) => {
      let path: string;
      try {
        path = childPath(parent, name);
      } catch (err) {
        return fail(req, err);
      }
      serve(req, () => vfs.getattr(path, opts(req)), (a) => replyEntry(req, path, a));
    }) as never,
    forget: ((req: Req, ino: number, nlookup: number) => {
      nodes.forget(ino, nlookup);
      lib.replyNone(req);
    }) as never,
    forget_multi: ((req: Req, count: number, forgets: unknown) => {
      const v = new DataView(koffi.view(forgets, count * 16) as ArrayBuffer);
      for (let i = 0; i < count; i++) nodes.forget(Number(v.getBigUint64(i * 16, true)), Number(v.getBigUint64(i * 16 + 8, true)));
      lib.replyNone(req);
    }) as never,
    getattr: ((req: Req, ino: number) => {
      serve(req, () => vfs.getattr(node(ino).path, opts(req)), (a) => {
        writeStat(statBuf, 0, a, own);
        lib.replyAttr(req, statBuf, ctx.attrTimeoutS);
      });
    }) as never,
    readlink: ((req: Req, ino: number) => serve(req, () => vfs.readlink(node(ino).path, opts(req)), (t) => lib.replyReadlink(req, t))) as never,
    open: ((req: Req, ino: number, fi: unknown) => {
      const flags = koffi.decode(fi, FI.flags, 'int') as number;
      const write = (flags & O_ACCMODE) !== C.O_RDONLY;
      serve(req, () => vfs.open(node(ino).path, { write, truncate: (flags & C.O_TRUNC) !== 0 }, opts(req)), (h) => lib.replyOpen(req, fillFi(fi, keep(h))));
    }) as never,
    read: ((req: Req, _ino: number, size: number, off: number, fi: unknown) => {
      serve(req, async () => {
        const h = handle(fi);
        if (h.readInto) {
          const b = Buffer.allocUnsafe(size);
          const n = await h.readInto(b, off, base);
          return n === size ? b : b.subarray(0, n);
        }
        return h.read(off, size, base);
      }, (data) => lib.replyBuf(req, data, data.length));
    }) as never,
    release: ((req: Req, _ino: number, fi: unknown) => {
      const fh = fhOf(fi);
      const h = handles.get(fh);
      handles.delete(fh);
      if (!h) return lib.replyErr(req, 0);
      serve(req, () => h.close(), okErr(req));
    }) as never,
    opendir: ((req: Req, ino: number, fi: unknown) => {
      serve(req, () => dirs.open(vfs, node(ino).path, opts(req)), (id) => {
        const view = Buffer.from(koffi.view(fi, FI.size) as ArrayBuffer);
        view.copy(fiBuf);
        fiBuf.writeBigUInt64LE(BigInt(id), FI.fh);
        lib.replyOpen(req, fiBuf);
      });
    }) as never,
    readdir: ((req: Req, ino: number, size: number, off: number, fi: unknown) => {
      serve(req, async () => dirs.page(fhOf(fi), node(ino), size, off, false, nodes, own, ctx), (buf) => lib.replyBuf(req, buf, buf.length));
    }) as never,
    readdirplus: ((req: Req, ino: number, size: number, off: number, fi: unknown) => {
      serve(req, async () => dirs.page(fhOf(fi), node(ino), size, off, true, nodes, own, ctx), (buf) => lib.replyBuf(req, buf, buf.length));
    }) as never,
    releasedir: ((req: Req, _ino: number, fi: unknown) => {
      dirs.close(fhOf(fi));
      lib.replyErr(req, 0);
    }) as never,
    statfs: ((req: Req) => {
      serve(req, () => vfs.statfs(base), (s) => {
        const b = Buffer.alloc(STATVFS_SIZE);
        writeStatvfs(b, s);
        lib.replyStatfs(req, b);
      });
    }) as never,
    getxattr: ((req: Req, ino: number, name: string, size: number) => {
      if (vfs.noXattrs) return lib.replyErr(req, E.ENOSYS);
      // `ls -l` asks every file for security.selinux and system.posix_acl_*; guests only
      // hold user.* attributes, so the rest is "none" without a guest call.
      if (!name.startsWith('user.')) return lib.replyErr(req, E.ENODATA);
      serve(req, () => vfs.getxattr(node(ino).path, name, opts(req)), (v) => {
        if (v === undefined) return lib.replyErr(req, E.ENODATA);
        if (size === 0) return lib.replyXattr(req, v.length);
        if (v.length > size) return lib.replyErr(req, E.ERANGE);
        lib.replyBuf(req, v, v.length);
      });
    }) as never,
    listxattr: ((req: Req, ino: number, size: number) => {
      if (vfs.noXattrs) return lib.replyErr(req, E.ENOSYS);
      serve(req, () => vfs.listxattr(node(ino).path, opts(req)), (names) => {
        const b = Buffer.from(names.map((n) => `${n}\0`).join(''));
        if (size === 0) return lib.replyXattr(req, b.length);
        if (b.length > size) return lib.replyErr(req, E.ERANGE);
        lib.replyBuf(req, b, b.length);
      });
    }) as never,
  };
  if (!ctx.writable) return ops;

  Object.assign(ops, {
    create: ((req: Req, parent: number, name: string, mode: number, fi: unknown) => {
      let path: string;
      try {
        path = childPath(parent, name);
      } catch (err) {
        return fail(req, err);
      }
      const o = opts(req);
      serve(req, async () => {
        const h = await (vfs.create ?? readOnly).call(vfs, path, mode & 0o7777, o);
        try {
          return { h, a: await vfs.getattr(path, o) };
        } catch (err) {
          await h.close().catch(() => {});
          throw err;
        }
      }, ({ h, a }) => {
        const n = nodes.remember(path);
        writeEntry(entryBuf, n.id, a, own, ctx.attrTimeoutS, ctx.entryTimeoutS);
        lib.replyCreate(req, entryBuf, fillFi(fi, keep(h)));
      });
    }) as never,
    write: ((req: Req, _ino: number, buf: unknown, size: number, off: number, fi: unknown) => {
      // Copied now: libfuse reuses its buffer for the next request once this returns.
      const data = Buffer.from(koffi.view(buf, size) as ArrayBuffer);
      const copy = Buffer.allocUnsafe(size);
      data.copy(copy);
      serve(req, () => {
        const h = handle(fi);
        if (!h.write) readOnly();
        return h.write!(off, copy, base);
      }, (n) => lib.replyWrite(req, n));
    }) as never,
    // No flush handler: libfuse answers ENOSYS and the kernel stops sending one per close
    // (nothing is buffered above the guest; a handle's own buffers are flushed at release).
    fsync: ((req: Req, _ino: number, _datasync: number, fi: unknown) => {
      serve(req, async () => {
        await handles.get(fhOf(fi))?.flush?.(base);
      }, okErr(req));
    }) as never,
    setattr: ((req: Req, ino: number, attr: unknown, toSet: number, fi: unknown) => {
      const st = readStat(new DataView(koffi.view(attr, STAT_SIZE) as ArrayBuffer));
      const set: SetAttr = {};
      if (toSet & SET.mode) set.mode = st.mode & 0o7777;
      if (toSet & SET.uid) set.uid = st.uid;
      if (toSet & SET.gid) set.gid = st.gid;
      if (toSet & SET.size) set.size = st.size;
      const now = Date.now();
      if (toSet & SET.atimeNow) set.atime = now;
      else if (toSet & SET.atime) {
        set.atime = Number(st.atimeNs) / 1e6;
        set.atimeNs = st.atimeNs;
      }
      if (toSet & SET.mtimeNow) set.mtime = now;
      else if (toSet & SET.mtime) {
        set.mtime = Number(st.mtimeNs) / 1e6;
        set.mtimeNs = st.mtimeNs;
      }
      // UTIME_NOW needs only write access; an explicit time beside it needs ownership.
      const explicit = ((toSet & SET.atime) !== 0 && (toSet & SET.atimeNow) === 0) || ((toSet & SET.mtime) !== 0 && (toSet & SET.mtimeNow) === 0);
      if ((toSet & (SET.atimeNow | SET.mtimeNow)) !== 0 && !explicit) set.timesNow = true;
      const fh = fi ? fhOf(fi) : 0;
      const o = opts(req);
      serve(req, async () => {
        const path = node(ino).path;
        const h = fh ? handles.get(fh) : undefined;
        if (set.size !== undefined && h?.truncate && Object.keys(set).length === 1) await h.truncate(set.size, o);
        else if (vfs.setattr) await vfs.setattr(path, set, o);
        else readOnly();
        return vfs.getattr(path, o);
      }, (a) => {
        writeStat(statBuf, 0, a, own);
        lib.replyAttr(req, statBuf, ctx.attrTimeoutS);
      });
    }) as never,
    mkdir: ((req: Req, parent: number, name: string, mode: number) => {
      let path: string;
      try {
        path = childPath(parent, name);
      } catch (err) {
        return fail(req, err);
      }
      const o = opts(req);
      serve(req, async () => {
        await (vfs.mkdir ?? readOnly).call(vfs, path, mode & 0o7777, o);
        return vfs.getattr(path, o);
      }, (a) => replyEntry(req, path, a));
    }) as never,
    mknod: ((req: Req, parent: number, name: string, mode: number, rdev: number) => {
      let path: string;
      try {
        path = childPath(parent, name);
      } catch (err) {
        return fail(req, err);
      }
      const o = opts(req);
      serve(req, async () => {
        const type = specialOf(mode);
        if (type === undefined) await (await (vfs.create ?? readOnly).call(vfs, path, mode & 0o7777, o)).close();
        else if (!vfs.mknod) cannotHold('fifos, sockets or device nodes');
        else await vfs.mknod(path, type, mode & 0o7777, rdev, o);
        return vfs.getattr(path, o);
      }, (a) => replyEntry(req, path, a));
    }) as never,
    symlink: ((req: Req, target: string, parent: number, name: string) => {
      let path: string;
      try {
        path = childPath(parent, name);
      } catch (err) {
        return fail(req, err);
      }
      const o = opts(req);
      serve(req, async () => {
        await (vfs.symlink ?? readOnly).call(vfs, target, path, o);
        return vfs.getattr(path, o);
      }, (a) => replyEntry(req, path, a));
    }) as never,
    link: ((req: Req, ino: number, newparent: number, newname: string) => {
      let from: string;
      let path: string;
      try {
        from = node(ino).path;
        path = childPath(newparent, newname);
      } catch (err) {
        return fail(req, err);
      }
      const o = opts(req);
      serve(req, async () => {
        if (!vfs.link) cannotHold('hard links');
        await vfs.link!(from, path, o);
        return vfs.getattr(path, o);
      }, (a) => replyEntry(req, path, a));
    }) as never,
    unlink: ((req: Req, parent: number, name: string) => {
      let path: string;
      try {
        path = childPath(parent, name);
      } catch (err) {
        return fail(req, err);
      }
      serve(req, () => (vfs.unlink ?? readOnly).call(vfs, path, opts(req)), () => {
        nodes.unlinked(path);
        lib.replyErr(req, 0);
      });
    }) as never,
    rmdir: ((req: Req, parent: number, name: string) => {
      let path: string;
      try {
        path = childPath(parent, name);
      } catch (err) {
        return fail(req, err);
      }
      serve(req, () => (vfs.rmdir ?? readOnly).call(vfs, path, opts(req)), () => {
        nodes.unlinked(path);
        lib.replyErr(req, 0);
      });
    }) as never,
    rename: ((req: Req, parent: number, name: string, newparent: number, newname: string, flags: number) => {
      let from: string;
      let to: string;
      try {
        from = childPath(parent, name);
        to = childPath(newparent, newname);
      } catch (err) {
        return fail(req, err);
      }
      // RENAME_NOREPLACE / RENAME_EXCHANGE: the vfs has neither; EINVAL makes mv fall back.
      if (flags !== 0) return lib.replyErr(req, E.EINVAL);
      serve(req, () => (vfs.rename ?? readOnly).call(vfs, from, to, opts(req)), () => {
        nodes.renamed(from, to);
        lib.replyErr(req, 0);
      });
    }) as never,
  } satisfies OpHandlers);
  return ops;
}

/** The type of node a mknod asks for; undefined for a regular file. */
function specialOf(mode: number): SpecialType | undefined {
  switch (mode & C.S_IFMT) {
    case C.S_IFIFO:
      return 'fifo';
    case C.S_IFSOCK:
      return 'socket';
    case C.S_IFCHR:
      return 'char';
    case C.S_IFBLK:
      return 'block';
    default:
      return undefined;
  }
}
