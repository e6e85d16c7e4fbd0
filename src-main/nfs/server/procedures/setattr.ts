import type { SetAttr } from '../../../vfs/types.ts';
import { readSattr3, readTime, writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import type { XdrReader } from '../../xdr/XdrReader.ts';
import { attrOf, readFh, requireWritable, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';
import { nowArgs, nowDone, nowOf, nowReply, postOpAttrNow, unchecked } from '../now.ts';
import type { Attr, Caller, FileHandleNow } from '../../../vfs/types.ts';
import { requireMaySetattr } from '../../../vfs/permissions.ts';

/** SETATTR3args: the handle, the new attributes and the ctime guard. */
function readArgs(r: XdrReader): { fh: Buffer; attrs: SetAttr; guard: number | undefined } {
  const fh = readFh(r);
  const attrs = readSattr3(r);
  const guard = r.bool() ? readTime(r) : undefined;
  return { fh, attrs, guard };
}

/** The ctime guard (§3.3.2): the change applies only while the node's ctime is the one the client saw. */
function checkGuard(now: Attr, guard: number): void {
  if (Math.floor(now.ctime / 1000) !== Math.floor(guard / 1000)) throw new NfsStatusError(Nfsstat3.NOT_SYNC, 'ctime guard failed');
}

/** SETATTR, RFC 1813 §3.3.2: mode, owner, size (truncate) and times, with the ctime guard. */
export const setattr: NfsProcedure = async (ctx, call) => {
  const { fh, attrs, guard } = readArgs(call.args);
  let path: string | undefined;
  let status: number = Nfsstat3.OK;
  let after: Attr | undefined;
  try {
    path = ctx.handles.pathOf(fh);
    const set = requireWritable(ctx, 'setattr');
    if (guard !== undefined) checkGuard(await ctx.vfs.getattr(path, call), guard);
    if (call.caller) requireMaySetattr(await ctx.vfs.getattr(path, call), attrs, call.caller, path);
    if (attrs.size !== undefined) ctx.files.invalidate(path);
    if (Object.keys(attrs).length > 0) after = (await set(path, attrs, call)) || undefined;
  } catch (err) {
    status = statusOf(err);
  }
  // The guest's own answer where it gave one (an NFS guest's SETATTR reply): no second call.
  after ??= path === undefined ? undefined : await attrOf(ctx, path, call.signal);
  call.reply.uint32(status);
  writeWcc(call.reply, after, ctx.fsid);
};

/** SETATTR answered synchronously (now.ts), the same steps as `setattr`; undefined (nothing changed) when not inline. */
export function setattrNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): FastReply | undefined {
  const { fh, attrs, guard } = readArgs(nowArgs(call));
  let path: string | undefined;
  let status: number = Nfsstat3.OK;
  let open: FileHandleNow | undefined;
  /** The attributes the change left, when it was made by path (read with it). */
  let after: Attr | undefined;
  try {
    path = ctx.handles.pathOf(fh);
    requireWritable(ctx, 'setattr');
    // What `tar x` sets on each file it just wrote (owner, mode, times) goes by the file's open
    // descriptor when it is proven to be the file the path names: fchown, fchmod, futimens and
    // fstat instead of resolving the path for each. A size goes by path (it drops read-aheads).
    open = attrs.size === undefined ? ctx.files.namedNow(path) : undefined;
    if (!open?.setattr || !open.stat) open = undefined;
    const now = nowOf(ctx);
    if (guard !== undefined || !unchecked(caller)) {
      const a = open ? open.stat!() : now.getattr(path);
      if (!a) return undefined;
      if (guard !== undefined) checkGuard(a, guard);
      requireMaySetattr(a, attrs, caller, path);
    }
    if (attrs.size !== undefined) ctx.files.invalidate(path); // a cache only: harmless when the async path runs instead
    if (Object.keys(attrs).length > 0) {
      if (open) open.setattr!(attrs);
      else if (!(after = now.setattr(path, attrs))) return undefined;
    }
  } catch (err) {
    status = statusOf(err);
  }
  const w = nowReply(call.xid);
  w.uint32(status);
  writeWcc(w, path === undefined ? undefined : (after ?? postOpAttrNow(ctx, path, open)), ctx.fsid);
  return nowDone(w);
}
