import { writePostOpAttr, writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import { requireAccess, W, X } from '../../../vfs/permissions.ts';
import { FsError } from '../../../vfs/FsError.ts';
import { attrOf, readFh, readName, requireWritableExport, type NfsProcedure } from '../NfsContext.ts';
import { checkName, childPath } from '../names.ts';
import { statusOf } from '../nfsstat.ts';

/**
 * LINK, RFC 1813 §3.3.15: a new name for an existing file. Guests without hard links
 * answer PERM, as a POSIX file system does for link(2) it cannot do; folders cannot be linked.
 */
export const link: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const fileFh = readFh(r);
  const dirFh = readFh(r);
  const name = readName(r);
  let file: string | undefined;
  let dir: string | undefined;
  let status: number = Nfsstat3.OK;
  try {
    file = ctx.handles.pathOf(fileFh);
    dir = ctx.handles.pathOf(dirFh);
    requireWritableExport(ctx);
    checkName(name);
    if (!ctx.vfs.link) throw new FsError('NotPermitted', `${ctx.vfs.name} cannot hold hard links`);
    const [target, d] = await Promise.all([ctx.vfs.getattr(file, call), ctx.vfs.getattr(dir, call)]);
    if (target.type === 'dir') throw new FsError('NotPermitted', `${file}: folders cannot be hard-linked`);
    if (d.type !== 'dir') throw new FsError('NotDir', `${dir}: not a directory`);
    requireAccess(d, call.caller, W | X, dir);
    const path = childPath(dir, name);
    await ctx.vfs.link(file, path, call);
  } catch (err) {
    status = statusOf(err);
  }
  const [fa, da] = await Promise.all([
    file === undefined ? undefined : attrOf(ctx, file, call.signal),
    dir === undefined ? undefined : attrOf(ctx, dir, call.signal),
  ]);
  call.reply.uint32(status);
  writePostOpAttr(call.reply, fa, ctx.fsid);
  writeWcc(call.reply, da, ctx.fsid);
};
