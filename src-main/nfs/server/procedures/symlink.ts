import { readSattr3 } from '../../nfs3/attrs.ts';
import { PATH_MAX } from '../../nfs3/constants.ts';
import { readFh, readName, requireWritable, type NfsProcedure } from '../NfsContext.ts';
import { checkName, childPath } from '../names.ts';
import { replyDirWccError, replyNewObject } from '../replies.ts';
import { requireAccess, W, X } from '../../../vfs/permissions.ts';

/** SYMLINK, RFC 1813 §3.3.10. The target is stored as given; the guest decides what it may point at. */
export const symlink: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const dirFh = readFh(r);
  const name = readName(r);
  readSattr3(r);
  const target = r.string(PATH_MAX);
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    const sym = requireWritable(ctx, 'symlink');
    checkName(name);
    requireAccess(await ctx.vfs.getattr(dir, call), call.caller, W | X, dir);
    const path = childPath(dir, name);
    await sym(target, path, call);
    await replyNewObject(ctx, call.reply, path, dir, call.signal);
  } catch (err) {
    await replyDirWccError(ctx, call.reply, err, dir, call.signal);
  }
};
