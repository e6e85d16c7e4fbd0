import { writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import { attrOf, readFh, readName, requireWritable, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { checkName, childPath } from '../names.ts';
import { statusOf } from '../nfsstat.ts';
import { attrNow, nowArgs, nowDone, nowOf, nowReply, unchecked } from '../now.ts';
import { replyDirWccError } from '../replies.ts';
import type { Caller } from '../../../vfs/types.ts';
import { requireMayDelete } from '../../../vfs/permissions.ts';

/** REMOVE, RFC 1813 §3.3.12: files and symlinks; handles of the removed path become STALE. */
export const remove: NfsProcedure = async (ctx, call) => {
  const dirFh = readFh(call.args);
  const name = readName(call.args);
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    const unlink = requireWritable(ctx, 'unlink');
    checkName(name);
    const path = childPath(dir, name);
    if (call.caller) requireMayDelete(await ctx.vfs.getattr(dir, call), await ctx.vfs.getattr(path, call), call.caller, path);
    ctx.files.invalidate(path);
    await unlink(path, call);
    ctx.handles.forget(path);
    call.reply.uint32(Nfsstat3.OK);
    writeWcc(call.reply, await attrOf(ctx, dir, call.signal), ctx.fsid);
  } catch (err) {
    await replyDirWccError(ctx, call.reply, err, dir, call.signal);
  }
};

/** REMOVE answered synchronously (now.ts), the same steps as `remove`; undefined (nothing removed) when not inline. */
export function removeNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): FastReply | undefined {
  return removeEntryNow(ctx, call, caller, 'unlink');
}

/**
 * REMOVE or RMDIR answered synchronously: the same steps as `remove` and `rmdir` (they
 * differ only in the guest call); undefined (nothing removed) when not inline.
 */
export function removeEntryNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined, op: 'unlink' | 'rmdir'): FastReply | undefined {
  const r = nowArgs(call);
  const dirFh = readFh(r);
  const name = readName(r);
  const now = nowOf(ctx);
  const w = nowReply(call.xid);
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    requireWritable(ctx, op);
    checkName(name);
    const path = childPath(dir, name);
    if (!unchecked(caller)) {
      const d = now.getattr(dir);
      const v = d && now.getattr(path);
      if (!d || !v) return undefined;
      requireMayDelete(d, v, caller, path);
    }
    if (op === 'unlink') ctx.files.invalidate(path); // a cache only: harmless when the async path runs instead
    if (!(op === 'unlink' ? now.unlink(path) : now.rmdir(path))) return undefined;
    ctx.handles.forget(path);
    w.uint32(Nfsstat3.OK);
  } catch (err) {
    w.uint32(statusOf(err));
  }
  writeWcc(w, dir === undefined ? undefined : attrNow(ctx, dir), ctx.fsid);
  return nowDone(w);
}
