import { writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3, StableHow } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import type { XdrReader } from '../../xdr/XdrReader.ts';
import type { XdrWriter } from '../../xdr/XdrWriter.ts';
import { attrOf, checkEnum, readFh, requireWritableExport, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';
import { attrNow, nowArgs, nowDone, nowOf, nowReply, unchecked, wccErrorNow } from '../now.ts';
import type { Attr, Caller, FileHandleNow } from '../../../vfs/types.ts';
import { owns, requireAccess, W } from '../../../vfs/permissions.ts';

/** WRITE3args. */
function readArgs(ctx: NfsContext, r: XdrReader): { fh: Buffer; offset: number; count: number; stable: number; data: Buffer } {
  const fh = readFh(r);
  const offset = r.uint64Number();
  const count = r.uint32();
  const stable = checkEnum(r.uint32(), StableHow.FILE_SYNC, 'stable_how');
  const data = r.opaque(ctx.maxIo);
  return { fh, offset, count, stable, data };
}

/** The access check of a WRITE: the owner may write whatever the mode says, as for READ. */
function writeCheck(a: Attr, caller: Caller, path: string): void {
  if (!owns(a, caller)) requireAccess(a, caller, W, path);
}

/** WRITE3resok. */
function replyWritten(ctx: NfsContext, w: XdrWriter, after: Attr | undefined, written: number, stable: number): void {
  w.uint32(Nfsstat3.OK);
  writeWcc(w, after, ctx.fsid);
  w.uint32(written).uint32(stable === StableHow.UNSTABLE ? StableHow.UNSTABLE : StableHow.FILE_SYNC).fixedOpaque(ctx.writeVerf);
}

/** WRITE, RFC 1813 §3.3.7. UNSTABLE writes are acknowledged as such; others are flushed first. */
export const write: NfsProcedure = async (ctx, call) => {
  const { fh, offset, count, stable, data } = readArgs(ctx, call.args);
  let path: string | undefined;
  try {
    path = ctx.handles.pathOf(fh);
    requireWritableExport(ctx);
    if (count > data.length) throw new NfsStatusError(Nfsstat3.INVAL, 'count exceeds the data sent');
    const p = path;
    if (call.caller) writeCheck(await ctx.vfs.getattr(p, call), call.caller, p);
    const written = await ctx.files.use(p, true, call.signal, async (h) => {
      if (!h.write) throw new NfsStatusError(Nfsstat3.ROFS, 'the guest cannot write this file');
      const n = await h.write(offset, data.subarray(0, count), call);
      if (stable !== StableHow.UNSTABLE) await h.flush?.(call);
      return n;
    });
    replyWritten(ctx, call.reply, await attrOf(ctx, p, call.signal), written, stable);
  } catch (err) {
    const after = path === undefined ? undefined : await attrOf(ctx, path, call.signal);
    call.reply.uint32(statusOf(err));
    writeWcc(call.reply, after, ctx.fsid);
  }
};

/**
 * The written file's attributes from its open descriptor (fstat), when the handle offers
 * them: the file just written whatever its path names now, and no path to resolve through the guest's
 * layers (a statx of the path and its cache and deadline steps, per WRITE of an untar).
 */
function statNow(h: FileHandleNow): Attr | undefined {
  try {
    return h.stat?.();
  } catch {
    return undefined;
  }
}

/**
 * An UNSTABLE WRITE to a file whose writable handle is open, answered synchronously
 * (now.ts, FileHandleNow) with the same check as `write`; undefined (nothing written) for
 * anything else: a first WRITE (the file gets opened), a stable one (a flush waits on the disk).
 */
export function writeNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): FastReply | undefined {
  const { fh, offset, count, stable, data } = readArgs(ctx, nowArgs(call));
  if (stable !== StableHow.UNSTABLE || count > data.length) return undefined;
  let path: string | undefined;
  let written: number;
  let h: FileHandleNow | undefined;
  try {
    path = ctx.handles.pathOf(fh);
    requireWritableExport(ctx);
    h = ctx.files.writerNow(path);
    if (!h) return undefined;
    if (caller && !unchecked(caller)) {
      const a = nowOf(ctx).getattr(path);
      if (!a) return undefined;
      writeCheck(a, caller, path);
    }
    written = h.write(offset, data.subarray(0, count));
  } catch (err) {
    return nowDone(wccErrorNow(ctx, call.xid, err, path));
  }
  const w = nowReply(call.xid);
  replyWritten(ctx, w, statNow(h) ?? attrNow(ctx, path), written, stable);
  return nowDone(w);
}
