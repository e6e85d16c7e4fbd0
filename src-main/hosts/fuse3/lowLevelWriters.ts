import type { Attr, FileHandle, SetAttr, Vfs, VfsNow } from '../../vfs/types.ts';
import { FsError } from '../../vfs/FsError.ts';
import type { OpHandlers, Req } from './FuseSession.ts';
import { E, type LowLevelContext, type OpKit } from './opKit.ts';
import { FATTR } from './wire.ts';
import type { FuseNode } from './NodeTable.ts';
import { specialOfMode } from '../../vfs/modeType.ts';

// The writing low-level FUSE operations (writable mounts only): create, write, setattr with
// per-field validity (an omitted time is simply absent; UTIME_NOW arrives as its own flag),
// mkdir, mknod, symlink, link, unlink, rmdir, rename (the last three at once where the guest
// can: Vfs.now). Nodes made are answered with their attributes and counted as a lookup the
// kernel holds: read at once where the guest can (Vfs.now: a local disk), else asked. On a
// file open here, tar's fchown, fchmod and futimens act on its descriptor (FileHandle.now:
// opKit.ts's nowOf).

/** The writer ops of one mount. */
export function makeWriterOps(vfs: Vfs, ctx: LowLevelContext, kit: OpKit): OpHandlers {
  const { r, nodes, handles, own, base, opts, fail, serve, pathOf, heldOpen, childPath, okErr, replyEntry, replyAttr, nowOf, handle, openedFile, readOnly, cannotHold } = kit;
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
    r.replyErr(req, 0);
    return true;
  };
  /** Drops node `o`'s attributes where they are kept: in the kernel, and in a cache layer of the vfs. */
  const dropAttrs = (o: FuseNode): void => {
    vfs.forgetAttr?.(o.path);
    ctx.invalidateAttrs(o.id);
  };
  /**
   * A link of node `n`'s file was made or dropped: the attributes kept for its other nodes
   * (its other names) hold the old link count, so they are dropped, before the reply.
   */
  const linksChanged = (n: FuseNode | undefined): void => {
    if (n) for (const o of nodes.otherNodes(n)) dropAttrs(o);
  };
  /** Answers a CREATE of `path`: its node (counted as a lookup the kernel holds) and the open file. */
  const replyCreate = (req: Req, path: string, a: Attr, h: FileHandle): void => {
    const n = nodes.remember(path, a.ino);
    const o = openedFile(h, n.id);
    if (o) r.replyCreate(req, n.id, a, own, ctx, o);
    else r.replyErr(req, E.ESTALE);
  };
  const ops: OpHandlers = {
    create: (req, parent, name, mode) => {
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
          return replyCreate(req, path, a, h);
        }
      } catch (err) {
        return fail(req, err);
      }
      serve(req, async () => {
        const h = made ?? (await (vfs.create ?? readOnly).call(vfs, path, mode & 0o7777, o));
        try {
          // The new file's attributes from its descriptor, or as the guest made it (an NFS
          // guest's CREATE reply), where it has them: no second call.
          return { h, a: h.now?.stat ? h.now.stat() : (h.madeAttr ?? (await vfs.getattr(path, o))) };
        } catch (err) {
          await h.close().catch(() => {});
          throw err;
        }
      }, ({ h, a }) => replyCreate(req, path, a, h));
    },
    write: (req, _ino, fh, off, data) => {
      const now = handles.get(fh)?.now;
      if (now) {
        // Written before this returns: straight from the session's buffer, no copy, no promise.
        let n: number;
        try {
          n = now.write(off, data);
        } catch (err) {
          return fail(req, err);
        }
        return r.replyWrite(req, n);
      }
      // Copied now: the session reads the next request into its buffer once this returns.
      const copy = Buffer.from(data);
      serve(req, () => {
        const h = handle(fh);
        if (!h.write) readOnly();
        return h.write!(off, copy, base);
      }, (n) => r.replyWrite(req, n));
    },
    // No flush handler: libfuse answers ENOSYS and the kernel stops sending one per close
    // (nothing is buffered above the guest; a handle's own buffers are flushed at release).
    fsync: (req, _ino, fh) => {
      serve(req, async () => {
        await handles.get(fh)?.flush?.(base);
      }, okErr(req));
    },
    setattr: (req, ino, st) => {
      const toSet = st.valid;
      const set: SetAttr = {};
      if (toSet & FATTR.MODE) set.mode = st.mode & 0o7777;
      if (toSet & FATTR.UID) set.uid = st.uid;
      if (toSet & FATTR.GID) set.gid = st.gid;
      if (toSet & FATTR.SIZE) set.size = st.size;
      const nowMs = Date.now();
      if (toSet & FATTR.ATIME_NOW) set.atime = nowMs;
      else if (toSet & FATTR.ATIME) {
        set.atime = Number(st.atimeNs) / 1e6;
        set.atimeNs = st.atimeNs;
      }
      if (toSet & FATTR.MTIME_NOW) set.mtime = nowMs;
      else if (toSet & FATTR.MTIME) {
        set.mtime = Number(st.mtimeNs) / 1e6;
        set.mtimeNs = st.mtimeNs;
      }
      // UTIME_NOW needs only write access; an explicit time beside it needs ownership.
      const explicit = ((toSet & FATTR.ATIME) !== 0 && (toSet & FATTR.ATIME_NOW) === 0) || ((toSet & FATTR.MTIME) !== 0 && (toSet & FATTR.MTIME_NOW) === 0);
      if ((toSet & (FATTR.ATIME_NOW | FATTR.MTIME_NOW)) !== 0 && !explicit) set.timesNow = true;
      const fh = st.fh;
      // On a file open here (tar's fchown, fchmod, futimens after writing it): by its
      // descriptor, answered at once with its fstat. A size keeps the path below (the guest
      // opens the file for writing itself; this descriptor may be read-only), except on a
      // file that lost its name (unlinked while open): its ftruncate's own descriptor then.
      const now = set.size === undefined || nodes.get(ino)?.detached ? nowOf(ino, fh) : undefined;
      if (now) {
        let a: Attr;
        try {
          now.setattr(set);
          a = now.stat();
        } catch (err) {
          return fail(req, err);
        }
        return replyAttr(req, a);
      }
      const o = opts(req);
      // A file that lost its name, open through a guest that reaches it by handle (NFS): changed through it.
      const held = heldOpen(ino, fh);
      if (held?.setattr) {
        return serve(req, async () => {
          const after = (await held.setattr!(set, o)) ?? (await held.getattr?.(o));
          if (!after) throw new FsError('IO', 'the open file did not say its attributes');
          return after;
        }, (a) => replyAttr(req, a));
      }
      const h = fh ? handles.get(fh) : undefined;
      const truncate = set.size !== undefined && h?.truncate !== undefined && Object.keys(set).length === 1;
      // By path at once where the guest can (a folder's chmod, chown and utimensat in an untar).
      if (!truncate && vfs.now) {
        let a: Attr | undefined;
        try {
          const path = pathOf(ino);
          a = vfs.now.setattr(path, set);
        } catch (err) {
          return fail(req, err);
        }
        if (a) return replyAttr(req, a);
      }
      serve(req, async () => {
        const path = pathOf(ino);
        let after: Attr | undefined;
        if (truncate) await h!.truncate!(set.size!, o);
        else if (vfs.setattr) after = (await vfs.setattr(path, set, o)) || undefined;
        else readOnly();
        // The guest's own answer where it gave one (an NFS guest's SETATTR reply): no second call.
        return after ?? vfs.now?.getattr(path) ?? vfs.getattr(path, o);
      }, (a) => replyAttr(req, a));
    },
    mkdir: (req, parent, name, mode) => {
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
        const a = made ? undefined : (await (vfs.mkdir ?? readOnly).call(vfs, path, mode & 0o7777, o)) || undefined;
        return a ?? vfs.now?.getattr(path) ?? vfs.getattr(path, o);
      }, (a) => replyEntry(req, path, a));
    },
    mknod: (req, parent, name, mode, rdev) => {
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
    },
    symlink: (req, target, parent, name) => {
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
    },
    link: (req, ino, newparent, newname) => {
      let from: string;
      let path: string;
      try {
        from = pathOf(ino);
        path = childPath(newparent, newname);
      } catch (err) {
        return fail(req, err);
      }
      const o = opts(req);
      serve(req, async () => {
        if (!vfs.link) cannotHold('hard links');
        await vfs.link!(from, path, o);
        return vfs.now?.getattr(path) ?? vfs.getattr(path, o);
      }, (a) => {
        // The source's node keeps its old count too (the kernel makes the new name a node of its own).
        const source = nodes.get(ino);
        if (source) {
          dropAttrs(source);
          linksChanged(source);
        }
        replyEntry(req, path, a);
      });
    },
    unlink: (req, parent, name) => {
      let path: string;
      try {
        path = childPath(parent, name);
      } catch (err) {
        return fail(req, err);
      }
      if (changedNow(req, (now) => now.unlink(path), () => linksChanged(nodes.unlinked(path)))) return;
      serve(req, () => (vfs.unlink ?? readOnly).call(vfs, path, opts(req)), () => {
        linksChanged(nodes.unlinked(path));
        r.replyErr(req, 0);
      });
    },
    rmdir: (req, parent, name) => {
      let path: string;
      try {
        path = childPath(parent, name);
      } catch (err) {
        return fail(req, err);
      }
      // What the folder was, kept for a process still in it (FuseNode.removed), where known
      // without a wait: the cache's, or the local guest's own (one fstatat at most).
      let before: Attr | undefined;
      try {
        before = vfs.cachedAttr?.(path) ?? vfs.now?.getattr(path);
      } catch {
        before = undefined;
      }
      const removed = (): void => {
        const n = nodes.unlinked(path);
        if (n && before?.type === 'dir') n.removed = { ...before, nlink: 0, size: 0 };
      };
      if (changedNow(req, (now) => now.rmdir(path), removed)) return;
      serve(req, () => (vfs.rmdir ?? readOnly).call(vfs, path, opts(req)), () => {
        removed();
        r.replyErr(req, 0);
      });
    },
    setxattr: (req, ino, name, value, flags) => {
      // user.* only, as getxattr (lowLevelOps.ts); a guest that keeps none: ENOSYS, and the kernel answers EOPNOTSUPP from then on.
      if (!vfs.setxattr) return r.replyErr(req, E.ENOSYS);
      if (!name.startsWith('user.')) return r.replyErr(req, E.EOPNOTSUPP);
      if (flags & ~3 || flags === 3) return r.replyErr(req, E.EINVAL);
      // A copy: the value lies in the session's read buffer, reused by the next request.
      const v = Buffer.from(value);
      const set = vfs.setxattr.bind(vfs);
      serve(req, () => set(pathOf(ino), name, v, flags === 1 ? 'create' : flags === 2 ? 'replace' : undefined, opts(req)), okErr(req));
    },
    removexattr: (req, ino, name) => {
      if (!vfs.removexattr) return r.replyErr(req, E.ENOSYS);
      if (!name.startsWith('user.')) return r.replyErr(req, E.EOPNOTSUPP);
      const remove = vfs.removexattr.bind(vfs);
      serve(req, () => remove(pathOf(ino), name, opts(req)), okErr(req));
    },
    fallocate: (req, _ino, fh, offset, length, mode) => {
      // The open file's own fallocate where the guest offers it (a local file), at once;
      // elsewhere ENOSYS, and the kernel answers EOPNOTSUPP for the mount from then on.
      const now = handles.get(fh)?.now;
      if (!now?.fallocate) return r.replyErr(req, E.ENOSYS);
      try {
        now.fallocate(mode, offset, length);
      } catch (err) {
        // A mode this disk cannot do (EOPNOTSUPP, read as InvalidOperation) must not answer
        // ENOSYS: the kernel would stop sending any FALLOCATE.
        if (err instanceof FsError && err.kind === 'InvalidOperation') return r.replyErr(req, E.EOPNOTSUPP);
        return fail(req, err);
      }
      r.replyErr(req, 0);
    },
    rename: (req, parent, name, newparent, newname, flags) => {
      let from: string;
      let to: string;
      try {
        from = childPath(parent, name);
        to = childPath(newparent, newname);
      } catch (err) {
        return fail(req, err);
      }
      // RENAME_NOREPLACE (1) / RENAME_EXCHANGE (2) where the guest has them (a local folder:
      // renameat2); elsewhere EINVAL, and mv falls back to a plain rename.
      if (flags !== 0) {
        if (!vfs.rename2 || (flags !== 1 && flags !== 2)) return r.replyErr(req, E.EINVAL);
        const exchange = flags === 2;
        const rename2 = vfs.rename2.bind(vfs);
        return serve(req, () => rename2(from, to, exchange ? 'exchange' : 'noreplace', opts(req)), () => {
          if (exchange) nodes.exchanged(from, to);
          else linksChanged(nodes.renamed(from, to));
          r.replyErr(req, 0);
        });
      }
      if (changedNow(req, (now) => now.rename(from, to), () => linksChanged(nodes.renamed(from, to)))) return;
      serve(req, () => (vfs.rename ?? readOnly).call(vfs, from, to, opts(req)), () => {
        linksChanged(nodes.renamed(from, to));
        r.replyErr(req, 0);
      });
    },
  };
  return ops;
}

