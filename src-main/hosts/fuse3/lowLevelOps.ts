import { constants as C } from 'node:fs';
import { nameToBytes } from '../../sys/byteNames.ts';
import type { OpHandlers, Req } from './FuseSession.ts';
import { E, makeOpKit, type LowLevelContext, type Replies } from './opKit.ts';
import { makeWriterOps } from './lowLevelWriters.ts';
import { INIT } from './wire.ts';
import type { Attr, FileHandle, Vfs } from '../../vfs/types.ts';

// The low-level FUSE operations over one vfs. The kernel names nodes by number; the node
// table (NodeTable.ts) turns them into vfs paths. Each request becomes one vfs call (a few
// for create and the like), answered through the session when it settles (opKit.ts). This file
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
/** An empty READDIR page: the end of a folder. */
const NO_ENTRIES = Buffer.alloc(0);
/** What ends each name of a LISTXATTR answer. */
const NUL = Buffer.from([0]);

export function makeLowLevelOps(vfs: Vfs, r: Replies, ctx: LowLevelContext): OpHandlers {
  const kit = makeOpKit(vfs, r, ctx);
  const pool = new BufferPool();
  /** Whether the kernel takes ENOSYS from OPENDIR as success (decided at INIT). */
  let zeroOpendir = false;
  /** A READDIR(PLUS) page: from the snapshot the offset names, or a listing started now (DirListings.ts: pages wait only for their own entries). */
  const listPage = (req: Req, ino: number, fh: number, off: number, size: number, plus: boolean): void => {
    // A folder removed while a process is in it (its cwd) lists as empty, as on a disk; its
    // old path may name another folder by now (FuseNode.detached).
    if (nodes.get(ino)?.detached) return r.replyData(req, NO_ENTRIES, 0);
    if (vfs.now) {
      // A snapshot already taken, or a small folder the guest lists at once: no promise.
      let page: Buffer | undefined;
      // The reply copies the page to the kernel at once (written before it returns), so the
      // page can be built in a pooled buffer given back right after.
      const scratch = pool.take(size);
      try {
        const dir = node(ino);
        const at = fh !== 0 && off === 0 ? { id: fh, index: 0 } : dirs.atNow(vfs, pathOf(ino), off);
        if (at) page = dirs.page(at.id, dir, size, at.index, plus, nodes, own, ctx, scratch);
      } catch (err) {
        pool.give(scratch);
        return fail(req, err);
      }
      if (page) {
        r.replyData(req, page, page.length);
        pool.give(scratch);
        return;
      }
      pool.give(scratch);
    }
    serve(req, async () => {
      const dir = node(ino);
      const { id, index } = fh !== 0 && off === 0 ? { id: fh, index: 0 } : dirs.at(vfs, pathOf(ino), off, opts(req));
      return await dirs.pageWhenReady(id, dir, size, index, plus, nodes, own, ctx);
    }, (buf) => r.replyData(req, buf, buf.length));
  };
  const { nodes, handles, dirs, own, base, opts, fail, serve, serveNow, node, pathOf, heldOpen, childPath, okErr, replyEntry, replyAttr, drop, nowOf, handle, openedFile, sameFile } = kit;
  const ops: OpHandlers = {
    // The kernel clears set-id bits on write/chown/truncate itself (the session never asks
    // for HANDLE_KILLPRIV): the guest writes as root and would keep them.
    init: (kernel) => {
      zeroOpendir = (kernel.flags & INIT.NO_OPENDIR_SUPPORT) !== 0;
      ctx.onInit();
    },
    lookup: (req, parent, name) => {
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
    },
    forget: (ino, nlookup) => nodes.forget(ino, nlookup),
    getattr: (req, ino, fh) => {
      // A file open here (its fstat, or the kernel asking before tar's fchown): from its
      // descriptor, answered at once.
      const now = nowOf(ino, fh);
      if (now) {
        let a: Attr;
        try {
          a = now.stat();
        } catch (err) {
          return fail(req, err);
        }
        return replyAttr(req, a);
      }
      // A file that lost its name, open through a guest that reaches it by handle (NFS): asked through it.
      const held = heldOpen(ino, fh);
      if (held?.getattr) return serve(req, () => held.getattr!(opts(req)), (a) => replyAttr(req, a));
      // A folder removed through the mount, to a process still in it: what it was, with no links.
      const removed = nodes.get(ino)?.removed;
      if (removed) return replyAttr(req, removed);
      const vnow = vfs.now;
      serveNow(req, vnow && (() => vnow.getattr(pathOf(ino))), () => vfs.getattr(pathOf(ino), opts(req)), (a) => replyAttr(req, a));
    },
    readlink: (req, ino) => {
      // Read at once where the guest can (Vfs.now: a local disk).
      const now = vfs.now;
      serveNow(req, now && (() => now.readlink(pathOf(ino))), () => vfs.readlink(pathOf(ino), opts(req)), (t) => {
        const b = nameToBytes(t);
        r.replyData(req, b, b.length);
      });
    },
    open: (req, ino, flags) => {
      const write = (flags & O_ACCMODE) !== C.O_RDONLY;
      serve(req, () => vfs.open(pathOf(ino), { write, truncate: (flags & C.O_TRUNC) !== 0 }, opts(req)), (h) => {
        // Close-to-open: a mutable file's size is asked afresh after every open (fuse3Host.ts).
        if (!ctx.immutable) ctx.invalidateAttrs(ino);
        if (!sameFile(h, ino)) {
          void h.close().catch(() => {});
          return r.replyErr(req, E.ESTALE);
        }
        const o = openedFile(h, ino);
        if (o) r.replyOpen(req, o);
        else r.replyErr(req, E.ESTALE);
      });
    },
    read: (req, _ino, fh, off, size) => {
      let h: FileHandle;
      try {
        h = handle(fh);
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
        r.replyData(req, b, n);
        return pool.give(b);
      }
      if (!h.readInto) return serve(req, () => h.read(off, size, base), (data) => r.replyData(req, data, data.length));
      // Into a pooled buffer: a fresh one per 128 KiB request costs page faults. The kernel
      // has copied it when the reply returns, so it goes back right after; a
      // read that failed (a guest may still write into it after a timeout) keeps its own.
      const b = pool.take(size);
      const into = h.readInto.bind(h);
      serve(req, () => into(b, off, base), (n) => {
        r.replyData(req, b, n);
        pool.give(b);
      });
    },
    lseek: (req, _ino, fh, offset, whence) => {
      // SEEK_DATA (3) or SEEK_HOLE (4), where the guest can tell (FileHandleNow.seek: a local
      // file's own lseek). ENOSYS elsewhere: the kernel then answers every file itself, as if
      // all of it were data, which is true of every other guest's files.
      const now = handles.get(fh)?.now;
      if (!now?.seek || (whence !== 3 && whence !== 4)) return r.replyErr(req, E.ENOSYS);
      let at: number | null;
      try {
        at = now.seek(offset, whence === 3 ? 'data' : 'hole');
      } catch (err) {
        return fail(req, err);
      }
      if (at === null) r.replyErr(req, E.ENXIO);
      else r.replyLseek(req, at);
    },
    release: (req, ino, fh) => {
      const h = handles.get(fh);
      drop(ino, fh);
      if (!h) return r.replyErr(req, 0);
      if (h.now) {
        // A local file is closed within the call (closeSync); the kernel takes no error from a release anyway.
        void h.close().catch((err: unknown) => console.error(`berth: closing a file failed: ${(err as Error).message}`));
        return r.replyErr(req, 0);
      }
      serve(req, () => h.close(), okErr(req));
    },
    opendir: (req, ino) => {
      // Zero-message opendir: ENOSYS here means "open", and the kernel stops sending OPENDIR
      // and RELEASEDIR (DirListings.ts); the listing is taken by the first read.
      if (zeroOpendir) return r.replyErr(req, E.ENOSYS);
      serve(req, async () => {
        const id = dirs.open(vfs, pathOf(ino), opts(req));
        await dirs.ready(id);
        return id;
      }, (id) => r.replyOpen(req, { fh: id }));
    },
    readdir: (req, ino, fh, off, size) => listPage(req, ino, fh, off, size, false),
    readdirplus: (req, ino, fh, off, size) => listPage(req, ino, fh, off, size, true),
    releasedir: (req, _ino, fh) => {
      dirs.close(fh);
      r.replyErr(req, 0);
    },
    statfs: (req) => serve(req, () => vfs.statfs(base), (s) => r.replyStatfs(req, s)),
    getxattr: (req, ino, name, size) => {
      if (vfs.noXattrs) return r.replyErr(req, E.ENOSYS);
      // Guests hold user.* attributes only; other namespaces (security.*, system.posix_acl_*,
      // trusted.*) are "not supported", as the kernel itself answers for a name no handler
      // takes. Not ENODATA: GNU ls -l asks every file for security.selinux and
      // system.posix_acl_access, and stops asking a device that said EOPNOTSUPP once
      // (10,000 round trips fewer for a 5,000-entry folder, issue 11). Never ENOSYS: that
      // would stop the kernel sending any GETXATTR, user.ipfs.cid too.
      if (!name.startsWith('user.')) return r.replyErr(req, E.EOPNOTSUPP);
      serve(req, () => vfs.getxattr(pathOf(ino), name, opts(req)), (v) => {
        if (v === undefined) return r.replyErr(req, E.ENODATA);
        if (size === 0) return r.replyXattrSize(req, v.length);
        if (v.length > size) return r.replyErr(req, E.ERANGE);
        r.replyData(req, v, v.length);
      });
    },
    listxattr: (req, ino, size) => {
      if (vfs.noXattrs) return r.replyErr(req, E.ENOSYS);
      serve(req, () => vfs.listxattr(pathOf(ino), opts(req)), (names) => {
        const b = Buffer.concat(names.flatMap((n) => [nameToBytes(n), NUL]));
        if (size === 0) return r.replyXattrSize(req, b.length);
        if (b.length > size) return r.replyErr(req, E.ERANGE);
        r.replyData(req, b, b.length);
      });
    },
  };
  return ctx.writable ? { ...ops, ...makeWriterOps(vfs, ctx, kit) } : ops;
}
