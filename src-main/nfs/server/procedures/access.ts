import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Access3, Nfsstat3 } from '../../nfs3/constants.ts';
import { readFh, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';

/**
 * ACCESS, RFC 1813 §3.3.4. Grants what the node type and the export allow; the guest
 * itself still refuses what it must when the operation arrives (the RFC allows this:
 * ACCESS is advisory).
 */
export const access: NfsProcedure = async (ctx, call) => {
  const fh = readFh(call.args);
  const wanted = call.args.uint32();
  try {
    const a = await ctx.vfs.getattr(ctx.handles.pathOf(fh), call);
    const writable = !(ctx.readOnly || ctx.vfs.readOnly);
    let allowed = Access3.READ;
    if (a.type === 'dir') allowed |= Access3.LOOKUP | Access3.EXECUTE;
    else if (a.mode & 0o111) allowed |= Access3.EXECUTE;
    if (writable) allowed |= Access3.MODIFY | Access3.EXTEND | (a.type === 'dir' ? Access3.DELETE : 0);
    call.reply.uint32(Nfsstat3.OK);
    writePostOpAttr(call.reply, a, ctx.fsid);
    call.reply.uint32(wanted & allowed);
  } catch (err) {
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, undefined, ctx.fsid);
  }
};
