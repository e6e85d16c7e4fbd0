import { writeFattr3 } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import { readFh, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';

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
