import { writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import type { Attr, Caller } from '../../../vfs/types.ts';
import { attrOf, readFh, requireWritableExport, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';
import type { XdrWriter } from '../../xdr/XdrWriter.ts';
import { nowArgs, nowDone, nowReply, postOpAttrNow } from '../now.ts';

/** COMMIT, RFC 1813 §3.3.21: flushes the file's open writable handle, if any. */
export const commit: NfsProcedure = async (ctx, call) => {
  const fh = readFh(call.args);
  call.args.uint64();
  call.args.uint32();
  let path: string | undefined;
  try {
    path = ctx.handles.pathOf(fh);
    requireWritableExport(ctx);
    await ctx.files.flush(path, call);
    writeCommitRes(call.reply, ctx, Nfsstat3.OK, await attrOf(ctx, path, call.signal));
  } catch (err) {
    writeCommitRes(call.reply, ctx, statusOf(err), path === undefined ? undefined : await attrOf(ctx, path, call.signal));
  }
};

/** COMMIT3res: the status, the file's wcc_data (post-op only) and, when it succeeded, the write verifier. */
function writeCommitRes(w: XdrWriter, ctx: NfsContext, status: Nfsstat3, after: Attr | undefined): void {
  w.uint32(status);
  writeWcc(w, after, ctx.fsid);
  if (status === Nfsstat3.OK) w.fixedOpaque(ctx.writeVerf);
}

/**
 * COMMIT without the usual path (now.ts), for a guest with a synchronous face: checked
 * now, its reply given once the flush is done (a promise: the call waits only on the
 * guest's fdatasync, off this thread), with the file's attributes read by descriptor when
 * it is open and proven to be what its path names. Undefined when the usual path must
 * answer: a handle not known, a read-only export (it says why), or calls enough in flight.
 */
export function commitNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): Promise<FastReply> | undefined {
  if (!call.mayDefer) return undefined;
  const args = nowArgs(call);
  const fh = readFh(args);
  args.uint64();
  args.uint32();
  let path: string;
  try {
    path = ctx.handles.pathOf(fh);
    requireWritableExport(ctx);
  } catch {
    return undefined;
  }
  const reply = (status: Nfsstat3): FastReply => {
    const w = nowReply(call.xid);
    writeCommitRes(w, ctx, status, postOpAttrNow(ctx, path, ctx.files.namedNow(path)));
    return nowDone(w);
  };
  return ctx.files.flush(path, { signal: call.signal, ...(caller ? { caller } : {}) }).then(
    () => reply(Nfsstat3.OK),
    (err: unknown) => reply(statusOf(err)),
  );
}
