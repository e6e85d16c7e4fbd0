import { writePostOpAttr, writeTime } from '../../nfs3/attrs.ts';
import { FsfProps, Nfsstat3 } from '../../nfs3/constants.ts';
import { readFh, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';
import { attrSoon } from '../now.ts';

/** Preferred READDIR size: big enough for ~100 entries per page. */
const DTPREF = 64 * 1024;

/**
 * FSINFO, RFC 1813 §3.3.19. rtmax/wtmax are what the record limit allows; symlinks yes,
 * hard links and settable times where the export is writable and the guest has them.
 * Every client asks it once per mount: the root's attributes come from the guest's
 * synchronous face where it has one (no threadpool hop).
 */
export const fsinfo: NfsProcedure = async (ctx, call) => {
  const fh = readFh(call.args);
  try {
    const a = await attrSoon(ctx, ctx.handles.pathOf(fh), call);
    const w = call.reply;
    w.uint32(Nfsstat3.OK);
    writePostOpAttr(w, a, ctx.fsid);
    w.uint32(ctx.maxIo).uint32(ctx.maxIo).uint32(4096); // rtmax, rtpref, rtmult
    w.uint32(ctx.maxIo).uint32(ctx.maxIo).uint32(4096); // wtmax, wtpref, wtmult
    w.uint32(DTPREF);
    w.uint64(Number.MAX_SAFE_INTEGER);
    writeTime(w, 1); // time_delta: the guests keep millisecond times
    const settable = !ctx.readOnly && typeof ctx.vfs.setattr === 'function' ? FsfProps.CANSETTIME : 0;
    const links = !ctx.readOnly && typeof ctx.vfs.link === 'function' ? FsfProps.LINK : 0;
    w.uint32(FsfProps.SYMLINK | FsfProps.HOMOGENEOUS | settable | links);
  } catch (err) {
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, undefined, ctx.fsid);
  }
};
