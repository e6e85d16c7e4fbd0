import { readSattr3 } from '../../nfs3/attrs.ts';
import { readFh, readName, requireWritable, type NfsProcedure } from '../NfsContext.ts';
import { checkName, childPath } from '../names.ts';
import { replyDirWccError, replyNewObject } from '../replies.ts';
import { requireAccess, W, X } from '../../../vfs/permissions.ts';

/** MKDIR, RFC 1813 §3.3.9. */
export const mkdir: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const dirFh = readFh(r);
  const name = readName(r);
  const attrs = readSattr3(r);
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    const mk = requireWritable(ctx, 'mkdir');
    checkName(name);
    requireAccess(await ctx.vfs.getattr(dir, call), call.caller, W | X, dir);
    const path = childPath(dir, name);
    await mk(path, attrs.mode ?? 0o755, call);
    await replyNewObject(ctx, call.reply, path, dir, call.signal);
  } catch (err) {
    await replyDirWccError(ctx, call.reply, err, dir, call.signal);
  }
};
