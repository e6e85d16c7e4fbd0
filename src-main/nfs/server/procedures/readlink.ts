import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import { readFh, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';
import { nowArgs, nowDone, nowOf, nowReply } from '../now.ts';

/** READLINK, RFC 1813 §3.3.5. */
export const readlink: NfsProcedure = async (ctx, call) => {
  const fh = readFh(call.args);
  try {
    const path = ctx.handles.pathOf(fh);
    const a = await ctx.vfs.getattr(path, call);
    if (a.type !== 'symlink') throw new NfsStatusError(Nfsstat3.INVAL, 'not a symbolic link');
    const target = await ctx.vfs.readlink(path, call);
    call.reply.uint32(Nfsstat3.OK);
    writePostOpAttr(call.reply, a, ctx.fsid);
    call.reply.string(target);
  } catch (err) {
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, undefined, ctx.fsid);
  }
};

/** READLINK answered synchronously (now.ts), the same steps as `readlink`; undefined when the guest cannot read it inline. */
export function readlinkNow(ctx: NfsContext, call: FastCall): FastReply | undefined {
  const fh = readFh(nowArgs(call));
  const now = nowOf(ctx);
  const w = nowReply(call.xid);
  try {
    const path = ctx.handles.pathOf(fh);
    const a = now.getattr(path);
    if (!a) return undefined;
    if (a.type !== 'symlink') throw new NfsStatusError(Nfsstat3.INVAL, 'not a symbolic link');
    const target = now.readlink(path);
    if (target === undefined) return undefined;
    w.uint32(Nfsstat3.OK);
    writePostOpAttr(w, a, ctx.fsid);
    w.string(target);
  } catch (err) {
    w.uint32(statusOf(err));
    writePostOpAttr(w, undefined, ctx.fsid);
  }
  return nowDone(w);
}
