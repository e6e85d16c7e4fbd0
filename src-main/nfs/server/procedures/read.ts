import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import type { Attr, Caller, FileHandleNow } from '../../../vfs/types.ts';
import { ACCEPTED_HEAD, acceptedReply, type FastCall, type FastReply } from '../../rpc/RpcServer.ts';
import { HANDLE_BYTES } from '../HandleTable.ts';
import { readFh, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';
import { owns, R, requireAccess } from '../../../vfs/permissions.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import type { ReadResult } from '../OpenFileCache.ts';
import { nowReply } from '../now.ts';

/**
 * The access check of a READ by `caller`: not a folder, and read permission unless the
 * caller owns the file (NFS has no open: a client may hold the file open since before a
 * chmod, and knfsd lets the owner read whatever the mode says).
 */
function readCheck(caller: Caller, path: string): (a: Attr) => void {
  return (a) => {
    if (a.type === 'dir') throw new NfsStatusError(Nfsstat3.ISDIR, 'is a directory');
    if (!owns(a, caller)) requireAccess(a, caller, R, path);
  };
}

/**
 * READ, RFC 1813 §3.3.6. The guest's buffer goes into the reply by reference (the
 * XDR writer keeps large opaques as their own chunk), so the bytes are not copied.
 * Post-op attributes are omitted (optional in the RFC) to spare a getattr per READ.
 */
export const read: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const fh = readFh(r);
  const offset = r.uint64Number();
  const count = Math.min(r.uint32(), ctx.maxIo);
  try {
    const path = ctx.handles.pathOf(fh);
    const caller = call.caller;
    // A streaming reader is checked against the attributes read with each chunk
    // (OpenFileCache.read), not a getattr per READ.
    const check = caller ? readCheck(caller, path) : undefined;
    if (count === 0 && check) check(await ctx.vfs.getattr(path, call));
    const got = count === 0 ? { data: new Uint8Array(0) } : await ctx.files.read(path, offset, count, call, check);
    if (got.release) call.onSent(got.release);
    const data = got.data;
    let eof = data.length < count;
    if (count === 0) eof = offset >= (await ctx.vfs.getattr(path, call)).size;
    const w = call.reply;
    w.uint32(Nfsstat3.OK);
    writePostOpAttr(w, undefined, ctx.fsid);
    w.uint32(data.length).bool(eof).opaque(data);
  } catch (err) {
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, undefined, ctx.fsid);
  }
};

/** READ3args with our handle: fh length, handle, offset, count. */
const ARGS_BYTES = 4 + HANDLE_BYTES + 8 + 4;
/** READ3resok before the data: status, post_op_attr (absent), count, eof, data length. */
const RESULT_HEAD = 4 + 4 + 4 + 4 + 4;
const PAD = Buffer.alloc(4);

/**
 * READ answered synchronously (RpcServer's FastProcedure): from the file's descriptor when
 * the host holds it open with one (readFileNow, a local file, read or written), else when
 * the bytes are already read ahead for a sequential reader: no promise, no guest call, one
 * writev of a 48-byte head and a view of the chunk. The caller's access check runs exactly
 * as in `read` (against attributes read afresh, or with the chunk); anything else — another
 * handle size, a failed check, a file not open yet, bytes not in memory yet — goes to
 * `read`, which answers it in full.
 */
export function readNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): FastReply | undefined {
  const b = call.record;
  const at = call.at;
  if (b.length !== at + ARGS_BYTES || b.readUInt32BE(at) !== HANDLE_BYTES) return undefined;
  const path = ctx.handles.pathAt(b, at + 4);
  const hi = b.readUInt32BE(at + 4 + HANDLE_BYTES);
  const count = Math.min(b.readUInt32BE(at + 4 + HANDLE_BYTES + 8), ctx.maxIo);
  if (path === undefined || hi > 0x1f_ffff || count === 0) return undefined;
  const offset = hi * 0x1_0000_0000 + b.readUInt32BE(at + 4 + HANDLE_BYTES + 4);
  const open = ctx.files.fileNow(path);
  if (open) return readFileNow(ctx, call.xid, path, open, offset, count, caller);
  const now = ctx.files.readNow(path, offset, count);
  if (!now) return undefined;
  const { got, ahead } = now;
  if (caller) {
    try {
      readCheck(caller, path)(got.attr!);
    } catch {
      got.release?.();
      return undefined;
    }
  }
  return readReply(call.xid, got, count, () => ahead.prefetch());
}

/**
 * A READ of a local file whose handle is open, answered from the file as it is now: its
 * attributes read afresh (fstat: the access check, the size that sets the count and eof,
 * and the reply's post-op attributes), the head written here and the bytes sent by the RPC
 * layer from the file's descriptor (sendfile: page cache to socket, no copy through this
 * process; read into a pooled buffer when the socket is busy). Undefined when `read`
 * must answer (a failed fstat or check: it says why).
 */
function readFileNow(
  ctx: NfsContext,
  xid: number,
  path: string,
  open: { now: FileHandleNow; fd: number },
  offset: number,
  count: number,
  caller: Caller | undefined,
): FastReply | undefined {
  let a: Attr;
  try {
    a = open.now.stat!();
    if (caller) readCheck(caller, path)(a);
  } catch {
    return undefined;
  }
  // The path names another file now (or none): `read` opens it afresh.
  if (ctx.files.dropIfGone(path, a)) return undefined;
  const n = offset >= a.size ? 0 : Math.min(count, a.size - offset);
  const w = nowReply(xid);
  w.uint32(Nfsstat3.OK);
  writePostOpAttr(w, a, ctx.fsid);
  w.uint32(n).bool(offset + n >= a.size).uint32(n);
  const { now } = open;
  return {
    chunks: w.recordOut(),
    file: { fd: open.fd, offset, length: n, pad: (4 - (n & 3)) & 3, read: (at, len) => pooledBuffer(ctx.files.readPooledNow(now, at, len)) },
  };
}

/** A read's result as a Buffer (the RPC layer writes Buffers). */
function pooledBuffer(got: ReadResult): { data: Buffer; release?: () => void } {
  const d = got.data;
  return { data: Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.length), ...(got.release ? { release: got.release } : {}) };
}

/** READ3resok for bytes in memory: a 48-byte head and a view of the bytes, sent by reference. */
function readReply(xid: number, got: ReadResult, count: number, after?: () => void): FastReply {
  const data = got.data;
  const head = acceptedReply(xid, RESULT_HEAD);
  head.writeUInt32BE(Nfsstat3.OK, ACCEPTED_HEAD);
  head.writeUInt32BE(0, ACCEPTED_HEAD + 4);
  head.writeUInt32BE(data.length, ACCEPTED_HEAD + 8);
  head.writeUInt32BE(data.length < count ? 1 : 0, ACCEPTED_HEAD + 12);
  head.writeUInt32BE(data.length, ACCEPTED_HEAD + 16);
  const body = Buffer.from(data.buffer, data.byteOffset, data.length);
  const pad = (4 - (data.length & 3)) & 3;
  return {
    chunks: pad ? [head, body, PAD.subarray(0, pad)] : [head, body],
    ...(got.release ? { sent: got.release } : {}),
    ...(after ? { after } : {}),
  };
}
