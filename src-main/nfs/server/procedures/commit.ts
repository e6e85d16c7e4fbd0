import { writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import { attrOf, readFh, requireWritableExport, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';

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
    const after = await attrOf(ctx, path, call.signal);
    call.reply.uint32(Nfsstat3.OK);
    writeWcc(call.reply, after, ctx.fsid);
    call.reply.fixedOpaque(ctx.writeVerf);
  } catch (err) {
    const after = path === undefined ? undefined : await attrOf(ctx, path, call.signal);
    call.reply.uint32(statusOf(err));
    writeWcc(call.reply, after, ctx.fsid);
  }
};
