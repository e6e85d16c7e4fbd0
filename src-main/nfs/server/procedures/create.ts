import { readSattr3 } from '../../nfs3/attrs.ts';
import { CreateMode, Nfsstat3, VERF_SIZE } from '../../nfs3/constants.ts';
import type { Attr } from '../../../vfs/types.ts';
import { checkEnum, readFh, readName, requireWritable, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { checkName, childPath } from '../names.ts';
import { replyDirWccError, replyNewObject } from '../replies.ts';
import { requireAccess, requireMaySetattr, W, X } from '../../../vfs/permissions.ts';

/** CREATE, RFC 1813 §3.3.8: UNCHECKED, GUARDED and EXCLUSIVE (verifier kept per path). */
export const create: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const dirFh = readFh(r);
  const name = readName(r);
  const how = checkEnum(r.uint32(), CreateMode.EXCLUSIVE, 'createmode3');
  const attrs = how === CreateMode.EXCLUSIVE ? {} : readSattr3(r);
  const verf = how === CreateMode.EXCLUSIVE ? r.fixedOpaque(VERF_SIZE).toString('hex') : '';
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    const createFn = requireWritable(ctx, 'create');
    checkName(name);
    requireAccess(await ctx.vfs.getattr(dir, call), call.caller, W | X, dir);
    const path = childPath(dir, name);
    let existing: Attr | undefined;
    try {
      existing = await ctx.vfs.getattr(path, call);
    } catch {
      existing = undefined;
    }
    if (existing) {
      const retransmit = how === CreateMode.EXCLUSIVE && ctx.exclusive.get(path) === verf;
      if (how !== CreateMode.UNCHECKED && !retransmit) throw new NfsStatusError(Nfsstat3.EXIST, `${name} exists`);
      if (existing.type === 'dir') throw new NfsStatusError(Nfsstat3.EXIST, `${name} is a directory`);
      if (how === CreateMode.UNCHECKED && attrs.size !== undefined) {
        const set = requireWritable(ctx, 'setattr');
        requireAccess(existing, call.caller, W, path);
        ctx.files.invalidate(path);
        await set(path, { size: attrs.size }, call);
      }
    } else {
      const h = await createFn(path, attrs.mode ?? 0o644, call);
      await h.close();
      if (how === CreateMode.EXCLUSIVE) {
        ctx.exclusive.set(path, verf);
        if (ctx.exclusive.size > 1024) ctx.exclusive.delete(ctx.exclusive.keys().next().value as string);
      }
      const { mode: _mode, size: _size, ...rest } = attrs;
      if (Object.keys(rest).length > 0 && ctx.vfs.setattr) {
        // An owner asked for in the create is a chown like any other: only root may give a file away.
        if (call.caller) requireMaySetattr(await ctx.vfs.getattr(path, call), rest, call.caller, path);
        await ctx.vfs.setattr(path, rest, call);
      }
    }
    await replyNewObject(ctx, call.reply, path, dir, call.signal);
  } catch (err) {
    await replyDirWccError(ctx, call.reply, err, dir, call.signal);
  }
};
