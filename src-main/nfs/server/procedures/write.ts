import { writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3, StableHow } from '../../nfs3/constants.ts';
import { attrOf, checkEnum, readFh, requireWritableExport, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';
import { owns, requireAccess, W } from '../../../vfs/permissions.ts';

/** WRITE, RFC 1813 §3.3.7. UNSTABLE writes are acknowledged as such; others are flushed first. */
export const write: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const fh = readFh(r);
  const offset = r.uint64Number();
  const count = r.uint32();
  const stable = checkEnum(r.uint32(), StableHow.FILE_SYNC, 'stable_how');
  const data = r.opaque(ctx.maxIo);
  let path: string | undefined;
  try {
    path = ctx.handles.pathOf(fh);
    requireWritableExport(ctx);
    if (count > data.length) throw new NfsStatusError(Nfsstat3.INVAL, 'count exceeds the data sent');
    const p = path;
    if (call.caller) {
      // The owner may write whatever the mode says, as for READ.
      const a = await ctx.vfs.getattr(p, call);
      if (!owns(a, call.caller)) requireAccess(a, call.caller, W, p);
    }
    const written = await ctx.files.use(p, true, call.signal, async (h) => {
      if (!h.write) throw new NfsStatusError(Nfsstat3.ROFS, 'the guest cannot write this file');
      const n = await h.write(offset, data.subarray(0, count), call);
      if (stable !== StableHow.UNSTABLE) await h.flush?.(call);
      return n;
    });
    const after = await attrOf(ctx, p, call.signal);
    const w = call.reply;
    w.uint32(Nfsstat3.OK);
    writeWcc(w, after, ctx.fsid);
    w.uint32(written).uint32(stable === StableHow.UNSTABLE ? StableHow.UNSTABLE : StableHow.FILE_SYNC).fixedOpaque(ctx.writeVerf);
  } catch (err) {
    const after = path === undefined ? undefined : await attrOf(ctx, path, call.signal);
    call.reply.uint32(statusOf(err));
    writeWcc(call.reply, after, ctx.fsid);
  }
};
