import { writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import { removeEntryNow } from './remove.ts';
import { attrOf, readFh, readName, requireWritable, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { checkName, childPath } from '../names.ts';
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
  return removeEntryNow(ctx, call, caller, 'rmdir');
}
