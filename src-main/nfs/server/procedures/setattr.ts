import { readSattr3, readTime, writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import { attrOf, readFh, requireWritable, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';
import { requireMaySetattr } from '../../../vfs/permissions.ts';

/** SETATTR, RFC 1813 §3.3.2: mode, owner, size (truncate) and times, with the ctime guard. */
export const setattr: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const fh = readFh(r);
  const attrs = readSattr3(r);
  const guard = r.bool() ? readTime(r) : undefined;
  let path: string | undefined;
  let status: number = Nfsstat3.OK;
  try {
    path = ctx.handles.pathOf(fh);
    const set = requireWritable(ctx, 'setattr');
    if (guard !== undefined) {
      const now = await ctx.vfs.getattr(path, call);
      if (Math.floor(now.ctime / 1000) !== Math.floor(guard / 1000)) throw new NfsStatusError(Nfsstat3.NOT_SYNC, 'ctime guard failed');
    }
    if (call.caller) requireMaySetattr(await ctx.vfs.getattr(path, call), attrs, call.caller, path);
    if (attrs.size !== undefined) ctx.files.invalidate(path);
    if (Object.keys(attrs).length > 0) await set(path, attrs, call);
  } catch (err) {
    status = statusOf(err);
  }
  const after = path === undefined ? undefined : await attrOf(ctx, path, call.signal);
  call.reply.uint32(status);
  writeWcc(call.reply, after, ctx.fsid);
};
