import type { Attr, FileHandle, SetAttr, Vfs, VfsNow } from '../../vfs/types.ts';
import type { OpHandlers, Req } from './FuseSession.ts';
import { type LibFuse3, SET } from './libfuse3.ts';
import { E, type LowLevelContext, type OpKit } from './opKit.ts';
import { readStat, STAT_SIZE, writeEntry, writeStat } from './structs.ts';
import { specialOfMode } from '../../vfs/modeType.ts';

// The writing low-level FUSE operations (writable mounts only): create, write, setattr with
// per-field validity (an omitted time is simply absent; UTIME_NOW arrives as its own flag),
// mkdir, mknod, symlink, link, unlink, rmdir, rename (the last three at once where the guest
// can: Vfs.now). Nodes made are answered with their attributes and counted as a lookup the
// kernel holds: read at once where the guest can (Vfs.now: a local disk), else asked. On a
// file open here, tar's fchown, fchmod and futimens act on its descriptor (FileHandle.now:
// opKit.ts's nowOf).

/** The writer ops of one mount. */
export function makeWriterOps(vfs: Vfs, lib: LibFuse3, ctx: LowLevelContext, kit: OpKit): OpHandlers {
  const { koffi, nodes, handles, own, entryBuf, statBuf, base, opts, fail, serve, node, childPath, okErr, replyEntry, keep, nowOf, fhOf, handle, fillFi, readOnly, cannotHold } = kit;
  /**
   * A change (unlink, rmdir, rename) made and answered at once where the guest can (Vfs.now),
   * then `after` (the nodes' bookkeeping); false when it was not done: ask the usual way.
   */
  const changedNow = (req: Req, change: (now: VfsNow) => boolean, after: () => void): boolean => {
    const now = vfs.now;
    if (!now) return false;
    try {
      if (!change(now)) return false;
    } catch (err) {
      fail(req, err);
      return true;
    }
    after();
    lib.replyErr(req, 0);
    return true;
  };
  const ops: OpHandlers = {
    create: ((req: Req, parent: number, name: string, mode: number, _fi: unknown) => {
      let path: string;
      try {
        path = childPath(parent, name);
      } catch (err) {
        return fail(req, err);
      }
      const o = opts(req);
      // Created at once where the guest can (Vfs.now: a local disk) and, with a descriptor
      // to fstat, answered at once too.
      let made: FileHandle | undefined;
      try {
        made = vfs.now?.create(path, mode & 0o7777, o.caller);
        if (made?.now?.stat) {
          const h = made;
          let a: Attr;
          try {
            a = h.now!.stat!();
          } catch (err) {
            void h.close().catch(() => {});
            throw err;
          }
          const n = nodes.remember(path);
          writeEntry(entryBuf, n.id, a, own, ctx.attrTimeoutS, ctx.entryTimeoutS);
          return void lib.replyCreate(req, entryBuf, fillFi(keep(h, n.id)));
        }
      } catch (err) {
        return fail(req, err);
      }
      serve(req, async () => {
        const h = made ?? (await (vfs.create ?? readOnly).call(vfs, path, mode & 0o7777, o));
        try {
          // The new file's attributes from its descriptor where it has one (no second lookup).
          return { h, a: h.now?.stat ? h.now.stat() : await vfs.getattr(path, o) };
        } catch (err) {
          await h.close().catch(() => {});
          throw err;
        }
      }, ({ h, a }) => {
        const n = nodes.remember(path);
        writeEntry(entryBuf, n.id, a, own, ctx.attrTimeoutS, ctx.entryTimeoutS);
        lib.replyCreate(req, entryBuf, fillFi(keep(h, n.id)));
      });
    }) as never,
    write: ((req: Req, _ino: number, buf: unknown, size: number, off: number, fi: unknown) => {
      const now = handles.get(fhOf(fi))?.now;
      if (now) {
        // Written before this returns: straight from libfuse's buffer, no copy, no promise.
        let n: number;
        try {
          n = now.write(off, new Uint8Array(koffi.view(buf, size) as ArrayBuffer));
        } catch (err) {
          return fail(req, err);
        }
        return void lib.replyWrite(req, n);
      }
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
      const nowMs = Date.now();
      if (toSet & SET.atimeNow) set.atime = nowMs;
      else if (toSet & SET.atime) {
        set.atime = Number(st.atimeNs) / 1e6;
        set.atimeNs = st.atimeNs;
      }
      if (toSet & SET.mtimeNow) set.mtime = nowMs;
      else if (toSet & SET.mtime) {
        set.mtime = Number(st.mtimeNs) / 1e6;
        set.mtimeNs = st.mtimeNs;
      }
      // UTIME_NOW needs only write access; an explicit time beside it needs ownership.
      const explicit = ((toSet & SET.atime) !== 0 && (toSet & SET.atimeNow) === 0) || ((toSet & SET.mtime) !== 0 && (toSet & SET.mtimeNow) === 0);
      if ((toSet & (SET.atimeNow | SET.mtimeNow)) !== 0 && !explicit) set.timesNow = true;
      const fh = fi ? fhOf(fi) : 0;
      // On a file open here (tar's fchown, fchmod, futimens after writing it): by its
      // descriptor, answered at once with its fstat. A size keeps the path below (the guest
      // opens the file for writing itself; this descriptor may be read-only).
      const now = set.size === undefined ? nowOf(ino, fi) : undefined;
      if (now) {
        let a: Attr;
        try {
          now.setattr(set);
          a = now.stat();
        } catch (err) {
          return fail(req, err);
        }
        writeStat(statBuf, 0, a, own);
        return void lib.replyAttr(req, statBuf, ctx.attrTimeoutS);
      }
      const o = opts(req);
      const h = fh ? handles.get(fh) : undefined;
      const truncate = set.size !== undefined && h?.truncate !== undefined && Object.keys(set).length === 1;
      // By path at once where the guest can (a folder's chmod, chown and utimensat in an untar).
      if (!truncate && vfs.now) {
        let a: Attr | undefined;
        try {
          const path = node(ino).path;
          a = vfs.now.setattr(path, set);
        } catch (err) {
          return fail(req, err);
        }
        if (a) {
          writeStat(statBuf, 0, a, own);
          return void lib.replyAttr(req, statBuf, ctx.attrTimeoutS);
        }
      }
      serve(req, async () => {
        const path = node(ino).path;
        if (truncate) await h!.truncate!(set.size!, o);
        else if (vfs.setattr) await vfs.setattr(path, set, o);
        else readOnly();
        return vfs.now?.getattr(path) ?? vfs.getattr(path, o);
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
      // Made and answered at once where the guest can (Vfs.now).
      let made = false;
      try {
        made = vfs.now?.mkdir(path, mode & 0o7777, o.caller) === true;
        const a = made ? vfs.now!.getattr(path) : undefined;
        if (a) return replyEntry(req, path, a);
      } catch (err) {
        return fail(req, err);
      }
      serve(req, async () => {
        if (!made) await (vfs.mkdir ?? readOnly).call(vfs, path, mode & 0o7777, o);
        return vfs.now?.getattr(path) ?? vfs.getattr(path, o);
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
        const type = specialOfMode(mode);
        if (type === undefined) await (await (vfs.create ?? readOnly).call(vfs, path, mode & 0o7777, o)).close();
        else if (!vfs.mknod) cannotHold('fifos, sockets or device nodes');
        else await vfs.mknod(path, type, mode & 0o7777, rdev, o);
        return vfs.now?.getattr(path) ?? vfs.getattr(path, o);
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
        return vfs.now?.getattr(path) ?? vfs.getattr(path, o);
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
        return vfs.now?.getattr(path) ?? vfs.getattr(path, o);
      }, (a) => replyEntry(req, path, a));
    }) as never,
    unlink: ((req: Req, parent: number, name: string) => {
      let path: string;
      try {
        path = childPath(parent, name);
      } catch (err) {
        return fail(req, err);
      }
      if (changedNow(req, (now) => now.unlink(path), () => nodes.unlinked(path))) return;
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
      if (changedNow(req, (now) => now.rmdir(path), () => nodes.unlinked(path))) return;
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
      if (changedNow(req, (now) => now.rename(from, to), () => nodes.renamed(from, to))) return;
      serve(req, () => (vfs.rename ?? readOnly).call(vfs, from, to, opts(req)), () => {
        nodes.renamed(from, to);
        lib.replyErr(req, 0);
      });
    }) as never,
  };
  return ops;
}

