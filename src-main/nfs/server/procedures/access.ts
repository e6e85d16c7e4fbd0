import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Access3, Nfsstat3 } from '../../nfs3/constants.ts';
import { readFh, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';
import { accessBits, R, W, X } from '../../../vfs/permissions.ts';

/**
 * ACCESS, RFC 1813 §3.3.4: what the caller's uid, gid and groups get from the node's
 * owner, group and mode (as the procedures enforce), less writes on a read-only export.
 */
export const access: NfsProcedure = async (ctx, call) => {
  const fh = readFh(call.args);
  const wanted = call.args.uint32();
  try {
    const a = await ctx.vfs.getattr(ctx.handles.pathOf(fh), call);
    const writable = !(ctx.readOnly || ctx.vfs.readOnly);
    const bits = call.caller ? accessBits(a, call.caller) : R | W | X;
    let allowed = 0;
    if (bits & R) allowed |= Access3.READ;
    if (bits & X) allowed |= a.type === 'dir' ? Access3.LOOKUP : Access3.EXECUTE;
    if (writable && bits & W) allowed |= Access3.MODIFY | Access3.EXTEND | (a.type === 'dir' ? Access3.DELETE : 0);
    call.reply.uint32(Nfsstat3.OK);
    writePostOpAttr(call.reply, a, ctx.fsid);
    call.reply.uint32(wanted & allowed);
  } catch (err) {
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, undefined, ctx.fsid);
  }
};
