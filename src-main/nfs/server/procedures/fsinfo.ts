import { writePostOpAttr, writeTime } from '../../nfs3/attrs.ts';
import { FsfProps, Nfsstat3 } from '../../nfs3/constants.ts';
import { readFh, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';

/** Preferred READDIR size: big enough for ~100 entries per page. */
const DTPREF = 64 * 1024;

/**
 * FSINFO, RFC 1813 §3.3.19. rtmax/wtmax are what the record limit allows; no hard
 * links (LINK is NOTSUPP), symlinks yes, times settable when the guest has setattr.
 */
export const fsinfo: NfsProcedure = async (ctx, call) => {
  const fh = readFh(call.args);
  try {
    const a = await ctx.vfs.getattr(ctx.handles.pathOf(fh), call);
    const w = call.reply;
    w.uint32(Nfsstat3.OK);
    writePostOpAttr(w, a, ctx.fsid);
    w.uint32(ctx.maxIo).uint32(ctx.maxIo).uint32(4096); // rtmax, rtpref, rtmult
    w.uint32(ctx.maxIo).uint32(ctx.maxIo).uint32(4096); // wtmax, wtpref, wtmult
    w.uint32(DTPREF);
    w.uint64(Number.MAX_SAFE_INTEGER);
    writeTime(w, 1); // time_delta: the guests keep millisecond times
    const settable = !ctx.readOnly && typeof ctx.vfs.setattr === 'function' ? FsfProps.CANSETTIME : 0;
    w.uint32(FsfProps.SYMLINK | FsfProps.HOMOGENEOUS | settable);
  } catch (err) {
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, undefined, ctx.fsid);
  }
};
