import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import type { Attr } from '../../../vfs/types.ts';
import { readFh, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';
import { owns, R, requireAccess } from '../../../vfs/permissions.ts';
import { NfsStatusError } from '../NfsStatusError.ts';

/**
 * READ, RFC 1813 §3.3.6. The guest's buffer goes into the reply by reference (the
 * XDR writer keeps large opaques as their own chunk), so the bytes are not copied.
 * Post-op attributes are omitted (optional in the RFC) to spare a getattr per READ.
 */
export const read: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const fh = readFh(r);
  const offset = r.uint64Number();
  const count = Math.min(r.uint32(), ctx.maxIo);
  try {
    const path = ctx.handles.pathOf(fh);
    const caller = call.caller;
    // The owner may read whatever the mode says (NFS has no open: a client may hold the
    // file open since before a chmod), as knfsd allows. A streaming reader is checked
    // against the attributes read with each chunk (OpenFileCache.read), not a getattr per READ.
    const check = caller
      ? (a: Attr): void => {
          if (a.type === 'dir') throw new NfsStatusError(Nfsstat3.ISDIR, 'is a directory');
          if (!owns(a, caller)) requireAccess(a, caller, R, path);
        }
      : undefined;
    if (count === 0 && check) check(await ctx.vfs.getattr(path, call));
    const got = count === 0 ? { data: new Uint8Array(0) } : await ctx.files.read(path, offset, count, call, check);
    if (got.release) call.onSent(got.release);
    const data = got.data;
    let eof = data.length < count;
    if (count === 0) eof = offset >= (await ctx.vfs.getattr(path, call)).size;
    const w = call.reply;
    w.uint32(Nfsstat3.OK);
    writePostOpAttr(w, undefined, ctx.fsid);
    w.uint32(data.length).bool(eof).opaque(data);
  } catch (err) {
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, undefined, ctx.fsid);
  }
};
