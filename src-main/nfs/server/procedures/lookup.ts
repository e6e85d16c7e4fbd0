import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import { attrOf, readFh, readName, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { lookupPath } from '../names.ts';
import { statusOf } from '../nfsstat.ts';
import { attrNow, nowArgs, nowDone, nowOf, nowReply } from '../now.ts';
import type { Caller } from '../../../vfs/types.ts';
import { requireAccess, X } from '../../../vfs/permissions.ts';

/** LOOKUP, RFC 1813 §3.3.3: "." and ".." resolve inside the export, never above its root. */
export const lookup: NfsProcedure = async (ctx, call) => {
  const dirFh = readFh(call.args);
  const name = readName(call.args);
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    const dirAttr = await ctx.vfs.getattr(dir, call);
    if (dirAttr.type !== 'dir') {
      call.reply.uint32(Nfsstat3.NOTDIR);
      writePostOpAttr(call.reply, dirAttr, ctx.fsid);
      return;
    }
    requireAccess(dirAttr, call.caller, X, dir);
    const path = lookupPath(dir, name);
    const a = await ctx.vfs.getattr(path, call);
    const w = call.reply;
    w.uint32(Nfsstat3.OK).opaque(ctx.handles.handleFor(path));
    writePostOpAttr(w, a, ctx.fsid);
    writePostOpAttr(w, dirAttr, ctx.fsid);
  } catch (err) {
    const dirAttr = dir === undefined ? undefined : await attrOf(ctx, dir, call.signal);
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, dirAttr, ctx.fsid);
  }
};

/**
 * LOOKUP answered synchronously (now.ts), the same steps as `lookup`; undefined when the
 * guest cannot answer inline. A name that does not exist (an untar looks up every name
 * before creating it) is answered here too.
 */
export function lookupNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): FastReply | undefined {
  const r = nowArgs(call);
  const dirFh = readFh(r);
  const name = readName(r);
  const now = nowOf(ctx);
  const w = nowReply(call.xid);
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    const dirAttr = now.getattr(dir);
    if (!dirAttr) return undefined;
    if (dirAttr.type !== 'dir') {
      w.uint32(Nfsstat3.NOTDIR);
      writePostOpAttr(w, dirAttr, ctx.fsid);
      return nowDone(w);
    }
    requireAccess(dirAttr, caller, X, dir);
    const path = lookupPath(dir, name);
    const a = now.lookup(path);
    if (a === undefined) return undefined;
    if (a === null) {
      w.uint32(Nfsstat3.NOENT);
      writePostOpAttr(w, dirAttr, ctx.fsid);
      return nowDone(w);
    }
    w.uint32(Nfsstat3.OK).opaque(ctx.handles.handleFor(path));
    writePostOpAttr(w, a, ctx.fsid);
    writePostOpAttr(w, dirAttr, ctx.fsid);
  } catch (err) {
    w.uint32(statusOf(err));
    writePostOpAttr(w, dir === undefined ? undefined : attrNow(ctx, dir), ctx.fsid);
  }
  return nowDone(w);
}
