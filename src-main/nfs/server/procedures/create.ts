import { readSattr3 } from '../../nfs3/attrs.ts';
import { CreateMode, Nfsstat3, VERF_SIZE } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import type { XdrReader } from '../../xdr/XdrReader.ts';
import type { Attr, Caller, FileHandle, FileHandleNow, SetAttr } from '../../../vfs/types.ts';
import { FsError } from '../../../vfs/FsError.ts';
import { checkEnum, readFh, readName, requireWritable, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { checkName, childPath } from '../names.ts';
import { nowArgs, nowDone, nowOf, nowReply, mayMakeNow, unchecked, wccErrorNow } from '../now.ts';
import { replyDirWccError, replyNewObject, replyNewObjectNow } from '../replies.ts';
import { requireAccess, requireMaySetattr, W, X } from '../../../vfs/permissions.ts';

/** CREATE3args: where, how, and the attributes (or the EXCLUSIVE verifier). */
function readArgs(r: XdrReader): { dirFh: Buffer; name: string; how: number; attrs: SetAttr; verf: string } {
  const dirFh = readFh(r);
  const name = readName(r);
  const how = checkEnum(r.uint32(), CreateMode.EXCLUSIVE, 'createmode3');
  const attrs = how === CreateMode.EXCLUSIVE ? {} : readSattr3(r);
  const verf = how === CreateMode.EXCLUSIVE ? r.fixedOpaque(VERF_SIZE).toString('hex') : '';
  return { dirFh, name, how, attrs, verf };
}

/**
 * What an existing name means for a CREATE: EXIST unless UNCHECKED (or an EXCLUSIVE
 * retransmission, §3.3.8); returns the size to truncate to, if any (UNCHECKED with a size).
 */
function onExisting(ctx: NfsContext, path: string, name: string, existing: Attr, how: number, verf: string, attrs: SetAttr, caller: Caller | undefined): number | undefined {
  const retransmit = how === CreateMode.EXCLUSIVE && ctx.exclusive.get(path) === verf;
  if (how !== CreateMode.UNCHECKED && !retransmit) throw new NfsStatusError(Nfsstat3.EXIST, `${name} exists`);
  if (existing.type === 'dir') throw new NfsStatusError(Nfsstat3.EXIST, `${name} is a directory`);
  if (how !== CreateMode.UNCHECKED || attrs.size === undefined) return undefined;
  requireWritable(ctx, 'setattr');
  requireAccess(existing, caller, W, path);
  return attrs.size;
}

/** Remembers an EXCLUSIVE create's verifier, so a retransmission succeeds (bounded). */
function keepVerifier(ctx: NfsContext, how: number, path: string, verf: string): void {
  if (how !== CreateMode.EXCLUSIVE) return;
  ctx.exclusive.set(path, verf);
  if (ctx.exclusive.size > 1024) ctx.exclusive.delete(ctx.exclusive.keys().next().value as string);
}

/** The attributes a create sets after making the file (owner, times): not the mode nor the size. */
function laterAttrs(attrs: SetAttr): SetAttr {
  const { mode: _mode, size: _size, ...rest } = attrs;
  return rest;
}

/** CREATE, RFC 1813 §3.3.8: UNCHECKED, GUARDED and EXCLUSIVE (verifier kept per path). */
export const create: NfsProcedure = async (ctx, call) => {
  const { dirFh, name, how, attrs, verf } = readArgs(call.args);
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
      const size = onExisting(ctx, path, name, existing, how, verf, attrs, call.caller);
      if (size !== undefined) {
        ctx.files.invalidate(path);
        await requireWritable(ctx, 'setattr')(path, { size }, call);
      }
    } else {
      const h = await createFn(path, attrs.mode ?? 0o644, call);
      await h.close();
      keepVerifier(ctx, how, path, verf);
      const rest = laterAttrs(attrs);
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

/**
 * CREATE answered synchronously (now.ts), the same steps as `create`; undefined (nothing
 * made) when not inline. The new file's handle is kept open for the WRITEs that follow.
 */
export function createNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): FastReply | undefined {
  const { dirFh, name, how, attrs, verf } = readArgs(nowArgs(call));
  const now = nowOf(ctx);
  let w = nowReply(call.xid);
  let dir: string | undefined;
  let made: FileHandleNow | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    if (!mayMakeNow(ctx, 'create', dir, name, caller)) return undefined;
    const path = childPath(dir, name);
    // The create first (O_EXCL): a new name, as in an untar, costs no lookup before it.
    let h: FileHandle | undefined;
    try {
      h = now.create(path, attrs.mode ?? 0o644, caller);
      if (!h) return undefined;
    } catch (err) {
      if (!(err instanceof FsError && err.kind === 'Exist')) throw err;
    }
    if (!h) {
      const existing = now.lookup(path);
      if (!existing) return undefined; // gone again, or not inline: the async CREATE decides
      const size = onExisting(ctx, path, name, existing, how, verf, attrs, caller);
      if (size !== undefined) {
        ctx.files.invalidate(path);
        if (!now.setattr(path, { size })) return undefined;
      }
    } else {
      ctx.files.adopt(path, h);
      made = h.now;
      keepVerifier(ctx, how, path, verf);
      const rest = laterAttrs(attrs);
      if (Object.keys(rest).length > 0 && ctx.vfs.setattr) {
        // Made already: from here on nothing may fall back to the async path (it would find the file).
        if (!unchecked(caller)) {
          const a = now.getattr(path);
          if (!a) throw new NfsStatusError(Nfsstat3.SERVERFAULT, 'could not read the new file\'s attributes');
          requireMaySetattr(a, rest, caller, path);
        }
        if (!now.setattr(path, rest)) throw new NfsStatusError(Nfsstat3.SERVERFAULT, 'could not set the new file\'s attributes');
      }
    }
    replyNewObjectNow(ctx, w, path, dir, made);
  } catch (err) {
    w = wccErrorNow(ctx, call.xid, err, dir);
  }
  return nowDone(w);
}
