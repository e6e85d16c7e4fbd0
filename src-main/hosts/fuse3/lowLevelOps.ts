import { constants as C } from 'node:fs';
import type { OpHandlers, Req } from './FuseSession.ts';
import { CAP, CONN, FI, type LibFuse3 } from './libfuse3.ts';
import { E, makeOpKit, type LowLevelContext } from './opKit.ts';
import { STATVFS_SIZE, writeStat, writeStatvfs } from './structs.ts';
import { makeWriterOps } from './lowLevelWriters.ts';
import type { Attr, FileHandle, Vfs } from '../../vfs/types.ts';

// The low-level FUSE operations over one vfs. The kernel names nodes by number; the node
// table (NodeTable.ts) turns them into vfs paths. Each request becomes one vfs call (a few
// for create and the like), answered with fuse_reply_* when it settles (opKit.ts). This file
// holds the reading side; lowLevelWriters.ts the writers, present only on writable mounts.

export type { LowLevelContext } from './opKit.ts';

const O_ACCMODE = 3;

/** Read buffers reused across requests of one mount (owned by its ops): a few per size the kernel asks. */
class BufferPool {
  private readonly free = new Map<number, Buffer[]>();

  take(size: number): Buffer {
    return this.free.get(size)?.pop() ?? Buffer.allocUnsafe(size);
  }

  give(b: Buffer): void {
    let list = this.free.get(b.length);
    if (!list) {
      // Sizes are few (the kernel's read size, and the tail of files): keep at most 8 of them.
      if (this.free.size >= 8) return;
      this.free.set(b.length, (list = []));
    }
    if (list.length < 16) list.push(b);
  }
}

/** Builds the op handlers of one mount; writers only when the mount can write. */
export function makeLowLevelOps(vfs: Vfs, lib: LibFuse3, ctx: LowLevelContext): OpHandlers {
  const kit = makeOpKit(vfs, lib, ctx);
  const pool = new BufferPool();
  /** Whether the kernel takes ENOSYS from OPENDIR as success (decided at INIT). */
  let zeroOpendir = false;
  /** A READDIR(PLUS) page: from the snapshot the offset names, or a listing started now (DirListings.ts: pages wait only for their own entries). */
  const listPage = (req: Req, ino: number, size: number, off: number, fi: unknown, plus: boolean): void => {
    const fh = fhOf(fi);
    if (vfs.now) {
      // A snapshot already taken, or a small folder the guest lists at once: no promise.
      let page: Buffer | undefined;
      // The reply copies the page to the kernel at once (fuse_reply_buf writes it), so the
      // page can be built in a pooled buffer given back right after.
      const scratch = pool.take(size);
      try {
        const dir = node(ino);
        const at = fh !== 0 && off === 0 ? { id: fh, index: 0 } : dirs.atNow(vfs, dir.path, off);
        if (at) page = dirs.page(at.id, dir, size, at.index, plus, nodes, own, ctx, scratch);
      } catch (err) {
        pool.give(scratch);
        return fail(req, err);
      }
      if (page) {
        lib.replyBuf(req, page, page.length);
        pool.give(scratch);
        return;
      }
      pool.give(scratch);
    }
    serve(req, async () => {
      const dir = node(ino);
      const { id, index } = fh !== 0 && off === 0 ? { id: fh, index: 0 } : dirs.at(vfs, dir.path, off, opts(req));
      return await dirs.pageWhenReady(id, dir, size, index, plus, nodes, own, ctx);
    }, (buf) => lib.replyBuf(req, buf, buf.length));
  };
  const { koffi, nodes, handles, dirs, own, statBuf, base, opts, fail, serve, serveNow, node, childPath, okErr, replyEntry, keep, drop, nowOf, fhOf, handle, fillFi } = kit;
  const ops: OpHandlers = {
    init: ((_userdata: unknown, conn: unknown) => {
      const v = new DataView(koffi.view(conn, 40) as ArrayBuffer);
      let want = v.getUint32(CONN.want, true);
      // The kernel clears set-id bits on write/chown/truncate itself, as with libfuse 2:
      // the guest writes as root and would keep them.
      want &= ~CAP.handleKillpriv;
      zeroOpendir = (v.getUint32(CONN.capable, true) & CAP.noOpendirSupport) !== 0;
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
      // Known in memory (the metadata cache after a listing): answered at once, no promise.
      const known = vfs.cachedAttr?.(path);
      if (known) return replyEntry(req, path, known);
      // A guest that can answer at once (a local disk): no promise, no Error for a missing name.
      const now = vfs.now;
      serveNow(req, now && (() => now.lookup(path)), () => vfs.getattr(path, opts(req)), (a) => replyEntry(req, path, a));
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
    getattr: ((req: Req, ino: number, fi: unknown) => {
      // A file open here (its fstat, or the kernel asking before tar's fchown): from its
      // descriptor, answered at once.
      const now = nowOf(ino, fi);
      if (now) {
        let a: Attr;
        try {
          a = now.stat();
        } catch (err) {
          return fail(req, err);
        }
        writeStat(statBuf, 0, a, own);
        return void lib.replyAttr(req, statBuf, ctx.attrTimeoutS);
      }
      const vnow = vfs.now;
      serveNow(req, vnow && (() => vnow.getattr(node(ino).path)), () => vfs.getattr(node(ino).path, opts(req)), (a) => {
        writeStat(statBuf, 0, a, own);
        lib.replyAttr(req, statBuf, ctx.attrTimeoutS);
      });
    }) as never,
    readlink: ((req: Req, ino: number) => {
      // Read at once where the guest can (Vfs.now: a local disk).
      const now = vfs.now;
      serveNow(req, now && (() => now.readlink(node(ino).path)), () => vfs.readlink(node(ino).path, opts(req)), (t) => lib.replyReadlink(req, t));
    }) as never,
    open: ((req: Req, ino: number, fi: unknown) => {
      const flags = koffi.decode(fi, FI.flags, 'int') as number;
      const write = (flags & O_ACCMODE) !== C.O_RDONLY;
      serve(req, () => vfs.open(node(ino).path, { write, truncate: (flags & C.O_TRUNC) !== 0 }, opts(req)), (h) => {
        // Close-to-open: a mutable file's size is asked afresh after every open (fuse3Host.ts).
        if (!ctx.immutable) ctx.invalidateAttrs(ino);
        lib.replyOpen(req, fillFi(keep(h, ino)));
      });
    }) as never,
    read: ((req: Req, _ino: number, size: number, off: number, fi: unknown) => {
      let h: FileHandle;
      try {
        h = handle(fi);
      } catch (err) {
        return fail(req, err);
      }
      if (h.now) {
        // A local file: read before this returns, into a pooled buffer given back at once.
        const b = pool.take(size);
        let n: number;
        try {
          n = h.now.readInto(b, off);
        } catch (err) {
          pool.give(b);
          return fail(req, err);
        }
        lib.replyBuf(req, b, n);
        return pool.give(b);
      }
      if (!h.readInto) return serve(req, () => h.read(off, size, base), (data) => lib.replyBuf(req, data, data.length));
      // Into a pooled buffer: a fresh one per 128 KiB request costs page faults. libfuse has
      // copied it into the kernel when fuse_reply_buf returns, so it goes back right after; a
      // read that failed (a guest may still write into it after a timeout) keeps its own.
      const b = pool.take(size);
      const into = h.readInto.bind(h);
      serve(req, () => into(b, off, base), (n) => {
        lib.replyBuf(req, b, n);
        pool.give(b);
      });
    }) as never,
    release: ((req: Req, ino: number, fi: unknown) => {
      const fh = fhOf(fi);
      const h = handles.get(fh);
      drop(ino, fh);
      if (!h) return lib.replyErr(req, 0);
      if (h.now) {
        // A local file is closed within the call (closeSync); the kernel takes no error from a release anyway.
        void h.close().catch((err: unknown) => console.error(`berth: closing a file failed: ${(err as Error).message}`));
        return void lib.replyErr(req, 0);
      }
      serve(req, () => h.close(), okErr(req));
    }) as never,
    opendir: ((req: Req, ino: number, _fi: unknown) => {
      // Zero-message opendir: ENOSYS here means "open", and the kernel stops sending OPENDIR
      // and RELEASEDIR (DirListings.ts); the listing is taken by the first read.
      if (zeroOpendir) return lib.replyErr(req, E.ENOSYS);
      serve(req, async () => {
        const id = dirs.open(vfs, node(ino).path, opts(req));
        await dirs.ready(id);
        return id;
      }, (id) => {
        lib.replyOpen(req, fillFi(id, false));
      });
    }) as never,
    readdir: ((req: Req, ino: number, size: number, off: number, fi: unknown) => listPage(req, ino, size, off, fi, false)) as never,
    readdirplus: ((req: Req, ino: number, size: number, off: number, fi: unknown) => listPage(req, ino, size, off, fi, true)) as never,
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
      // Guests hold user.* attributes only; other namespaces (security.*, system.posix_acl_*,
      // trusted.*) are "not supported", as the kernel itself answers for a name no handler
      // takes. Not ENODATA: GNU ls -l asks every file for security.selinux and
      // system.posix_acl_access, and stops asking a device that said EOPNOTSUPP once
      // (10,000 round trips fewer for a 5,000-entry folder, issue 11). Never ENOSYS: that
      // would stop the kernel sending any GETXATTR, user.ipfs.cid too.
      if (!name.startsWith('user.')) return lib.replyErr(req, E.EOPNOTSUPP);
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
  if (!ctx.writable) return guarded(ops, lib);
  return guarded({ ...ops, ...makeWriterOps(vfs, lib, ctx, kit) }, lib);
}

/** Ops that answer nothing (forget) or are not requests (init). */
const NO_REPLY = new Set(['init', 'destroy', 'forget', 'forget_multi']);

/**
 * Wraps every request handler so that one that throws before replying answers EIO: a
 * request never answered would hang its caller in the kernel for good. (Handlers throw only
 * before their reply; after it they do nothing but return.)
 */
function guarded(ops: OpHandlers, lib: LibFuse3): OpHandlers {
  const out: OpHandlers = {};
  for (const [name, fn] of Object.entries(ops) as [keyof OpHandlers, (...a: unknown[]) => void][]) {
    out[name] = (NO_REPLY.has(name)
      ? fn
      : (req: Req, ...rest: unknown[]) => {
          try {
            fn(req, ...rest);
          } catch (err) {
            console.error(`berth: FUSE ${name} failed: ${(err as Error).message}`);
            lib.replyErr(req, E.EIO);
          }
        }) as never;
  }
  return out;
}

