import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import { attrOf, readFh, readName, type NfsProcedure } from '../NfsContext.ts';
import { lookupPath } from '../names.ts';
import { statusOf } from '../nfsstat.ts';
import { requireAccess, X } from '../../../vfs/permissions.ts';

/** LOOKUP, RFC 1813 §3.3.3: "." and ".." resolve inside the export, never above its root. */
export const lookup: NfsProcedure = async (ctx, call) => {
  const dirFh = readFh(call.args);
  const name = readName(call.args);
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    const dirAttr = await ctx.vfs.getattr(dir, call);
    if (dirAttr.type !== 'dir') {
      call.reply.uint32(Nfsstat3.NOTDIR);
      writePostOpAttr(call.reply, dirAttr, ctx.fsid);
      return;
    }
    requireAccess(dirAttr, call.caller, X, dir);
    const path = lookupPath(dir, name);
    const a = await ctx.vfs.getattr(path, call);
    const w = call.reply;
    w.uint32(Nfsstat3.OK).opaque(ctx.handles.handleFor(path));
    writePostOpAttr(w, a, ctx.fsid);
    writePostOpAttr(w, dirAttr, ctx.fsid);
  } catch (err) {
    const dirAttr = dir === undefined ? undefined : await attrOf(ctx, dir, call.signal);
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, dirAttr, ctx.fsid);
  }
};
