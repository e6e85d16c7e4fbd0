import { readSattr3 } from '../../nfs3/attrs.ts';
import { Ftype3, Nfsstat3 } from '../../nfs3/constants.ts';
import { requireAccess, W, X } from '../../../vfs/permissions.ts';
import { FsError } from '../../../vfs/FsError.ts';
import type { SpecialType } from '../../../vfs/types.ts';
import { checkEnum, readFh, readName, requireWritableExport, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { checkName, childPath } from '../names.ts';
import { replyDirWccError, replyNewObject } from '../replies.ts';

const SPECIAL: Partial<Record<number, SpecialType>> = {
  [Ftype3.CHR]: 'char',
  [Ftype3.BLK]: 'block',
  [Ftype3.SOCK]: 'socket',
  [Ftype3.FIFO]: 'fifo',
};

/**
 * MKNOD, RFC 1813 §3.3.11: fifos, sockets and devices where the guest can hold them (a
 * local folder); devices only for root, as mknod(2) allows. Other types are BADTYPE; a
 * guest without special nodes answers PERM.
 */
export const mknod: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const dirFh = readFh(r);
  const name = readName(r);
  const ftype = checkEnum(r.uint32(), Ftype3.FIFO, 'ftype3');
  const type = SPECIAL[ftype];
  const attrs = type ? readSattr3(r) : {};
  // specdata3 (§3.3.11): major and minor, folded into Linux's dev_t encoding.
  const rdev = type === 'char' || type === 'block' ? ((major: number, minor: number) => ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12))(r.uint32(), r.uint32()) : 0;
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    requireWritableExport(ctx);
    if (!type) throw new NfsStatusError(Nfsstat3.BADTYPE, `ftype ${ftype} is not a special file`);
    if (!ctx.vfs.mknod) throw new FsError('NotPermitted', `${ctx.vfs.name} cannot hold special files`);
    checkName(name);
    requireAccess(await ctx.vfs.getattr(dir, call), call.caller, W | X, dir);
    if ((type === 'char' || type === 'block') && call.caller && call.caller.uid !== 0) throw new FsError('NotPermitted', 'only root may make device nodes');
    const path = childPath(dir, name);
    await ctx.vfs.mknod(path, type, attrs.mode ?? 0o644, rdev, call);
    await replyNewObject(ctx, call.reply, path, dir, call.signal);
  } catch (err) {
    await replyDirWccError(ctx, call.reply, err, dir, call.signal);
  }
};
