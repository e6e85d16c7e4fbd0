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

/** RMDIR, RFC 1813 §3.3.13. */
export const rmdir: NfsProcedure = async (ctx, call) => {
  const dirFh = readFh(call.args);
  const name = readName(call.args);
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    const rm = requireWritable(ctx, 'rmdir');
    checkName(name);
    const path = childPath(dir, name);
    if (call.caller) requireMayDelete(await ctx.vfs.getattr(dir, call), await ctx.vfs.getattr(path, call), call.caller, path);
    await rm(path, call);
    ctx.handles.forget(path);
    call.reply.uint32(Nfsstat3.OK);
    writeWcc(call.reply, await attrOf(ctx, dir, call.signal), ctx.fsid);
  } catch (err) {
    await replyDirWccError(ctx, call.reply, err, dir, call.signal);
  }
};

/** RMDIR answered synchronously (now.ts), the same steps as `rmdir`; undefined (nothing removed) when not inline. */
export function rmdirNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): FastReply | undefined {
  const r = nowArgs(call);
  const dirFh = readFh(r);
  const name = readName(r);
  const now = nowOf(ctx);
  const w = nowReply(call.xid);
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    requireWritable(ctx, 'rmdir');
    checkName(name);
    const path = childPath(dir, name);
    if (!unchecked(caller)) {
      const d = now.getattr(dir);
      const v = d && now.getattr(path);
      if (!d || !v) return undefined;
      requireMayDelete(d, v, caller, path);
    }
    if (!now.rmdir(path)) return undefined;
    ctx.handles.forget(path);
    w.uint32(Nfsstat3.OK);
  } catch (err) {
    w.uint32(statusOf(err));
  }
  writeWcc(w, dir === undefined ? undefined : attrNow(ctx, dir), ctx.fsid);
  return nowDone(w);
}
