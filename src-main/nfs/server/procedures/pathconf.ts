import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { NAME_MAX, Nfsstat3 } from '../../nfs3/constants.ts';
import { readFh, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';

/** PATHCONF, RFC 1813 §3.3.20: one link per file, NAME_MAX names refused (not truncated) when longer. */
export const pathconf: NfsProcedure = async (ctx, call) => {
  const fh = readFh(call.args);
  try {
    const a = await ctx.vfs.getattr(ctx.handles.pathOf(fh), call);
    const w = call.reply;
    w.uint32(Nfsstat3.OK);
    writePostOpAttr(w, a, ctx.fsid);
    w.uint32(1).uint32(NAME_MAX);
    w.bool(true).bool(true).bool(false).bool(true); // no_trunc, chown_restricted, case_insensitive, case_preserving
  } catch (err) {
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, undefined, ctx.fsid);
  }
};
