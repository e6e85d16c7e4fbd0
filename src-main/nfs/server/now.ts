import type { Attr, Caller, CallOpts, FileHandleNow, VfsNow } from '../../vfs/types.ts';
import { AcceptStat, writeAcceptedHeader } from '../rpc/messages.ts';
import type { FastCall, FastReply } from '../rpc/RpcServer.ts';
import { XdrReader } from '../xdr/XdrReader.ts';
import { XdrWriter } from '../xdr/XdrWriter.ts';
import { requireWritable, type NfsContext } from './NfsContext.ts';
import { statusOf } from './nfsstat.ts';
import { writeWcc } from '../nfs3/attrs.ts';
import { checkName } from './names.ts';
import { requireAccess, W, X } from '../../vfs/permissions.ts';

// Procedures answered synchronously, from the guest's synchronous face (VfsNow: blocking
// system calls on a local disk). Measured on the NFS host serving a local folder: a
// GETATTR through the async path cost ~70-110 µs of this thread (a promise chain through
// the procedure, the cache and deadline layers, an AbortController and a timer-queue entry
// per guest call, the guest's own awaits), against a few µs of system calls; REMOVE, with
// four guest calls, ~800 µs. Each `…Now` procedure decodes, checks and answers as its async
// twin (less the attribute reads for mode checks root cannot fail: unchecked()), or returns
// undefined BEFORE changing anything when a guest call cannot be made inline (then the async
// twin answers the call in full).

/** The arguments of a synchronous call (they start at `call.at` in its record). */
export function nowArgs(call: FastCall): XdrReader {
  return new XdrReader(call.record.subarray(call.at));
}

/** A reply writer holding the record-mark placeholder and a successful accepted header. */
export function nowReply(xid: number): XdrWriter {
  const w = new XdrWriter(256).uint32(0);
  writeAcceptedHeader(w, xid, AcceptStat.SUCCESS);
  return w;
}

/** The finished reply of a synchronous call. */
export function nowDone(w: XdrWriter): FastReply {
  return { chunks: w.recordOut() };
}

/** The guest's synchronous face (nfsProgram only registers `…Now` procedures when there is one). */
export function nowOf(ctx: NfsContext): VfsNow {
  return ctx.vfs.now!;
}

/**
 * Whether no mode check can refuse `caller` anything these procedures check (root, not
 * squashed: it may search and write any folder, write any file, remove in sticky folders
 * and change any attribute), so the attributes read only to check it are not read. The
 * guest's own call still fails where the system refuses root (a read-only file system).
 */
export function unchecked(caller: Caller | undefined): boolean {
  return caller === undefined || caller.uid === 0;
}

/** Post-op attributes read synchronously: undefined when they cannot be (post_op_attr is optional). */
export function attrNow(ctx: NfsContext, path: string): Attr | undefined {
  try {
    return nowOf(ctx).getattr(path);
  } catch {
    return undefined;
  }
}

/**
 * The attributes of `path`: by the guest's synchronous face where it answers (no threadpool
 * hop), else by its async getattr, which reports the error if there is one.
 */
export async function attrSoon(ctx: NfsContext, path: string, opts: CallOpts): Promise<Attr> {
  return (ctx.vfs.now && attrNow(ctx, path)) || (await ctx.vfs.getattr(path, opts));
}

/** Post-op attributes of an open file (fstat): undefined when they cannot be read. */
export function statOf(h: FileHandleNow): Attr | undefined {
  try {
    return h.stat?.();
  } catch {
    return undefined;
  }
}

/**
 * Post-op attributes of `path`: by descriptor (fstat) when `open`, a handle proven to be the
 * file the path names, is given and can answer; else by path. Undefined when neither can.
 */
export function postOpAttrNow(ctx: NfsContext, path: string, open: FileHandleNow | undefined): Attr | undefined {
  return (open && statOf(open)) ?? attrNow(ctx, path);
}

/**
 * CREATE's and MKDIR's checks before making `name` in `dir`, inline: throws as their async
 * forms refuse (read-only export, bad name, no write and search right on the folder);
 * false when the folder's attributes cannot be read inline (nothing done).
 */
export function mayMakeNow(ctx: NfsContext, op: 'create' | 'mkdir', dir: string, name: string, caller: Caller | undefined): boolean {
  requireWritable(ctx, op);
  checkName(name);
  if (unchecked(caller)) return true;
  const d = nowOf(ctx).getattr(dir);
  if (!d) return false;
  requireAccess(d, caller, W | X, dir);
  return true;
}

/**
 * The error reply of a synchronous call whose results are a wcc_data of `path` (CREATE,
 * MKDIR, WRITE): a fresh reply, so nothing half-written before the error goes out; the
 * synchronous twin of replies.ts's replyDirWccError.
 */
export function wccErrorNow(ctx: NfsContext, xid: number, err: unknown, path: string | undefined): XdrWriter {
  const w = nowReply(xid);
  w.uint32(statusOf(err));
  writeWcc(w, path === undefined ? undefined : attrNow(ctx, path), ctx.fsid);
  return w;
}
