import { writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import { attrOf, readFh, readName, requireWritable, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { checkName, childPath } from '../names.ts';
import { statusOf } from '../nfsstat.ts';
import { attrNow, nowArgs, nowDone, nowOf, nowReply, unchecked } from '../now.ts';
import type { Caller, Vfs } from '../../../vfs/types.ts';
import type { XdrReader } from '../../xdr/XdrReader.ts';
import { requireAccess, requireMayDelete, W, X } from '../../../vfs/permissions.ts';

/** RENAME3args: the folder and name renamed, the folder and name it gets. */
interface Args {
  fromFh: Buffer;
  fromName: string;
  toFh: Buffer;
  toName: string;
}

function readArgs(r: XdrReader): Args {
  return { fromFh: readFh(r), fromName: readName(r), toFh: readFh(r), toName: readName(r) };
}

/**
 * The two folders, the renamed node's path and its new one: handles, then a writable
 * export, then names. The folders go into `dirs` as soon as they are known (the reply's
 * wcc_data names them even when a later check fails).
 */
function resolve(ctx: NfsContext, a: Args, dirs: { from?: string; to?: string }): { fromDir: string; toDir: string; from: string; to: string; mv: NonNullable<Vfs['rename']> } {
  const fromDir = (dirs.from = ctx.handles.pathOf(a.fromFh));
  const toDir = (dirs.to = ctx.handles.pathOf(a.toFh));
  const mv = requireWritable(ctx, 'rename');
  checkName(a.fromName);
  checkName(a.toName);
  return { fromDir, toDir, from: childPath(fromDir, a.fromName), to: childPath(toDir, a.toName), mv };
}

/** RENAME, RFC 1813 §3.3.14: handles follow the renamed node (they stay valid). */
export const rename: NfsProcedure = async (ctx, call) => {
  const args = readArgs(call.args);
  const dirs: { from?: string; to?: string } = {};
  let status: number = Nfsstat3.OK;
  try {
    const { fromDir, toDir, from, to, mv } = resolve(ctx, args, dirs);
    if (call.caller) {
      const [fd, victim, td] = await Promise.all([ctx.vfs.getattr(fromDir, call), ctx.vfs.getattr(from, call), ctx.vfs.getattr(toDir, call)]);
      requireMayDelete(fd, victim, call.caller, from);
      requireAccess(td, call.caller, W | X, toDir);
      const replaced = await attrOf(ctx, to, call.signal);
      if (replaced && from !== to) requireMayDelete(td, replaced, call.caller, to);
    }
    if (from !== to) {
      ctx.files.invalidateTree(from);
      ctx.files.invalidateTree(to);
      await mv(from, to, call);
      ctx.handles.rename(from, to);
    }
  } catch (err) {
    status = statusOf(err);
  }
  const [a, b] = await Promise.all([
    dirs.from === undefined ? undefined : attrOf(ctx, dirs.from, call.signal),
    dirs.to === undefined ? undefined : attrOf(ctx, dirs.to, call.signal),
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
  const args = readArgs(nowArgs(call));
  const now = nowOf(ctx);
  const dirs: { from?: string; to?: string } = {};
  let status: number = Nfsstat3.OK;
  try {
    const { fromDir, toDir, from, to } = resolve(ctx, args, dirs);
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
      ctx.files.invalidateTree(from);
      ctx.files.invalidateTree(to);
      if (!now.rename(from, to)) return undefined;
      ctx.handles.rename(from, to);
    }
  } catch (err) {
    status = statusOf(err);
  }
  const w = nowReply(call.xid);
  w.uint32(status);
  const fromAttr = dirs.from === undefined ? undefined : attrNow(ctx, dirs.from);
  writeWcc(w, fromAttr, ctx.fsid);
  // Most renames stay in one folder: its attributes read once.
  writeWcc(w, dirs.to === undefined ? undefined : dirs.to === dirs.from ? fromAttr : attrNow(ctx, dirs.to), ctx.fsid);
  return nowDone(w);
}
