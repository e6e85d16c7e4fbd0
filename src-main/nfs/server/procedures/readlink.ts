import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import { readFh, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';

/** READLINK, RFC 1813 §3.3.5. */
export const readlink: NfsProcedure = async (ctx, call) => {
  const fh = readFh(call.args);
  try {
    const path = ctx.handles.pathOf(fh);
    const a = await ctx.vfs.getattr(path, call);
    if (a.type !== 'symlink') throw new NfsStatusError(Nfsstat3.INVAL, 'not a symbolic link');
    const target = await ctx.vfs.readlink(path, call);
    call.reply.uint32(Nfsstat3.OK);
    writePostOpAttr(call.reply, a, ctx.fsid);
    call.reply.string(target);
  } catch (err) {
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, undefined, ctx.fsid);
  }
};
