import { writeFattr3 } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import { readFh, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import { nowArgs, nowDone, nowOf, nowReply } from '../now.ts';

/** GETATTR, RFC 1813 §3.3.1. */
export const getattr: NfsProcedure = async (ctx, call) => {
  const fh = readFh(call.args);
  try {
    const a = await ctx.vfs.getattr(ctx.handles.pathOf(fh), call);
    call.reply.uint32(Nfsstat3.OK);
    writeFattr3(call.reply, a, ctx.fsid);
  } catch (err) {
    call.reply.uint32(statusOf(err));
  }
};

/** GETATTR answered synchronously (now.ts); undefined when the guest cannot answer inline. */
export function getattrNow(ctx: NfsContext, call: FastCall): FastReply | undefined {
  const fh = readFh(nowArgs(call));
  const w = nowReply(call.xid);
  try {
    const path = ctx.handles.pathOf(fh);
    // A file open here and proven to be what its path names is read by descriptor (fstat).
    const open = ctx.files.namedNow(path);
    const a = open?.stat ? open.stat() : nowOf(ctx).getattr(path);
    if (!a) return undefined;
    w.uint32(Nfsstat3.OK);
    writeFattr3(w, a, ctx.fsid);
  } catch (err) {
    w.uint32(statusOf(err));
  }
  return nowDone(w);
}
