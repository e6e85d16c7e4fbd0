import { readSattr3 } from '../../nfs3/attrs.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import { readFh, readName, requireWritable, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { checkName, childPath } from '../names.ts';
import { nowArgs, nowDone, nowOf, nowReply, mayMakeNow, wccErrorNow } from '../now.ts';
import { replyDirWccError, replyNewObject, replyNewObjectNow } from '../replies.ts';
import type { Caller } from '../../../vfs/types.ts';
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

/** MKDIR answered synchronously (now.ts), the same steps as `mkdir`; undefined (nothing made) when not inline. */
export function mkdirNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): FastReply | undefined {
  const r = nowArgs(call);
  const dirFh = readFh(r);
  const name = readName(r);
  const attrs = readSattr3(r);
  const now = nowOf(ctx);
  let w = nowReply(call.xid);
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    if (!mayMakeNow(ctx, 'mkdir', dir, name, caller)) return undefined;
    const path = childPath(dir, name);
    if (!now.mkdir(path, attrs.mode ?? 0o755, caller)) return undefined;
    replyNewObjectNow(ctx, w, path, dir);
  } catch (err) {
    w = wccErrorNow(ctx, call.xid, err, dir);
  }
  return nowDone(w);
}
