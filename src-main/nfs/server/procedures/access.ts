import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Access3, Nfsstat3 } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import type { XdrWriter } from '../../xdr/XdrWriter.ts';
import { readFh, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';
import { nowArgs, nowDone, nowOf, nowReply } from '../now.ts';
import type { Attr, Caller } from '../../../vfs/types.ts';
import { accessBits, R, W, X } from '../../../vfs/permissions.ts';

/** Writes ACCESS3resok: what the caller gets of `wanted` on a node with attributes `a`. */
function replyAccess(ctx: NfsContext, w: XdrWriter, a: Attr, caller: Caller | undefined, wanted: number): void {
  const writable = !(ctx.readOnly || ctx.vfs.readOnly);
  const bits = caller ? accessBits(a, caller) : R | W | X;
  let allowed = 0;
  if (bits & R) allowed |= Access3.READ;
  if (bits & X) allowed |= a.type === 'dir' ? Access3.LOOKUP : Access3.EXECUTE;
  if (writable && bits & W) allowed |= Access3.MODIFY | Access3.EXTEND | (a.type === 'dir' ? Access3.DELETE : 0);
  w.uint32(Nfsstat3.OK);
  writePostOpAttr(w, a, ctx.fsid);
  w.uint32(wanted & allowed);
}

/**
 * ACCESS, RFC 1813 §3.3.4: what the caller's uid, gid and groups get from the node's
 * owner, group and mode (as the procedures enforce), less writes on a read-only export.
 */
export const access: NfsProcedure = async (ctx, call) => {
  const fh = readFh(call.args);
  const wanted = call.args.uint32();
  try {
    replyAccess(ctx, call.reply, await ctx.vfs.getattr(ctx.handles.pathOf(fh), call), call.caller, wanted);
  } catch (err) {
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, undefined, ctx.fsid);
  }
};

/** ACCESS answered synchronously (now.ts); undefined when the guest cannot answer inline. */
export function accessNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): FastReply | undefined {
  const r = nowArgs(call);
  const fh = readFh(r);
  const wanted = r.uint32();
  const w = nowReply(call.xid);
  try {
    const a = nowOf(ctx).getattr(ctx.handles.pathOf(fh));
    if (!a) return undefined;
    replyAccess(ctx, w, a, caller, wanted);
  } catch (err) {
    w.uint32(statusOf(err));
    writePostOpAttr(w, undefined, ctx.fsid);
  }
  return nowDone(w);
}
