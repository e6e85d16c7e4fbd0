import { writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import { attrOf, readFh, readName, requireWritable, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { checkName, childPath } from '../names.ts';
import { statusOf } from '../nfsstat.ts';
import { attrNow, nowArgs, nowDone, nowOf, nowReply, unchecked } from '../now.ts';
import type { Caller } from '../../../vfs/types.ts';
import { requireAccess, requireMayDelete, W, X } from '../../../vfs/permissions.ts';

/** RENAME, RFC 1813 §3.3.14: handles follow the renamed node (they stay valid). */
export const rename: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const fromFh = readFh(r);
  const fromName = readName(r);
  const toFh = readFh(r);
  const toName = readName(r);
  let fromDir: string | undefined;
  let toDir: string | undefined;
  let status: number = Nfsstat3.OK;
  try {
    fromDir = ctx.handles.pathOf(fromFh);
    toDir = ctx.handles.pathOf(toFh);
    const mv = requireWritable(ctx, 'rename');
    checkName(fromName);
    checkName(toName);
    const from = childPath(fromDir, fromName);
    const to = childPath(toDir, toName);
    if (call.caller) {
      const [fd, victim, td] = await Promise.all([ctx.vfs.getattr(fromDir, call), ctx.vfs.getattr(from, call), ctx.vfs.getattr(toDir, call)]);
      requireMayDelete(fd, victim, call.caller, from);
      requireAccess(td, call.caller, W | X, toDir);
      const replaced = await attrOf(ctx, to, call.signal);
      if (replaced && from !== to) requireMayDelete(td, replaced, call.caller, to);
    }
    if (from !== to) {
      ctx.files.invalidate(from);
      ctx.files.invalidate(to);
      await mv(from, to, call);
      ctx.handles.rename(from, to);
    }
  } catch (err) {
    status = statusOf(err);
  }
  const [a, b] = await Promise.all([
    fromDir === undefined ? undefined : attrOf(ctx, fromDir, call.signal),
    toDir === undefined ? undefined : attrOf(ctx, toDir, call.signal),
  ]);
  call.reply.uint32(status);
  writeWcc(call.reply, a, ctx.fsid);
  writeWcc(call.reply, b, ctx.fsid);
};

/**
 * RENAME answered synchronously (now.ts), the same steps as `rename` (rsync, git and editors
 * rename every file they write); undefined (nothing renamed) when either folder is not inline.
 */
export function renameNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): FastReply | undefined {
  const r = nowArgs(call);
  const fromFh = readFh(r);
  const fromName = readName(r);
  const toFh = readFh(r);
  const toName = readName(r);
  const now = nowOf(ctx);
  let fromDir: string | undefined;
  let toDir: string | undefined;
  let status: number = Nfsstat3.OK;
  try {
    fromDir = ctx.handles.pathOf(fromFh);
    toDir = ctx.handles.pathOf(toFh);
    requireWritable(ctx, 'rename');
    checkName(fromName);
    checkName(toName);
    const from = childPath(fromDir, fromName);
    const to = childPath(toDir, toName);
    if (!unchecked(caller)) {
      const fd = now.getattr(fromDir);
      const victim = fd && now.getattr(from);
      const td = victim && now.getattr(toDir);
      if (!fd || !victim || !td) return undefined;
      requireMayDelete(fd, victim, caller, from);
      requireAccess(td, caller, W | X, toDir);
      const replaced = now.lookup(to);
      if (replaced === undefined) return undefined;
      if (replaced && from !== to) requireMayDelete(td, replaced, caller, to);
    }
    if (from !== to) {
      // Caches only: harmless when the async path runs instead.
      ctx.files.invalidate(from);
      ctx.files.invalidate(to);
      if (!now.rename(from, to)) return undefined;
      ctx.handles.rename(from, to);
    }
  } catch (err) {
    status = statusOf(err);
  }
  const w = nowReply(call.xid);
  w.uint32(status);
  const fromAttr = fromDir === undefined ? undefined : attrNow(ctx, fromDir);
  writeWcc(w, fromAttr, ctx.fsid);
  // Most renames stay in one folder: its attributes read once.
  writeWcc(w, toDir === undefined ? undefined : toDir === fromDir ? fromAttr : attrNow(ctx, toDir), ctx.fsid);
  return nowDone(w);
}
