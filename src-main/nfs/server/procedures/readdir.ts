import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3, VERF_SIZE } from '../../nfs3/constants.ts';
import type { RpcCall } from '../../rpc/RpcServer.ts';
import { attrOf, readFh, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';
import { R, requireAccess } from '../../../vfs/permissions.ts';

/** Bytes of a READDIR3resok without entries: status, post_op_attr, verifier, list end, eof. */
const FIXED = 4 + 4 + 84 + 8 + 4 + 4;

/** XDR size of a name (length + padded bytes). */
export function nameBytes(name: string): number {
  return 4 + ((Buffer.byteLength(name) + 3) & ~3);
}

/**
 * What READDIR and READDIRPLUS share before paging: the folder's attributes (NOTDIR for
 * anything else), its cached listing for this verifier, and the index the cookie names
 * (BAD_COOKIE past the end).
 */
export async function openListing(ctx: NfsContext, call: RpcCall, path: string, cookie: bigint, verf: bigint) {
  const dirAttr = await ctx.vfs.getattr(path, call);
  if (dirAttr.type !== 'dir') throw new NfsStatusError(Nfsstat3.NOTDIR, 'not a directory');
  requireAccess(dirAttr, call.caller, R, path);
  const listing = await ctx.dirs.get(path, cookie, verf, call.signal);
  if (cookie > BigInt(listing.entries.length)) throw new NfsStatusError(Nfsstat3.BAD_COOKIE, 'cookie past the end of the directory');
  return { dirAttr, listing, start: Number(cookie) };
}

/** READDIR, RFC 1813 §3.3.16: pages through a cached snapshot; entry i has cookie i+1. */
export const readdir: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const fh = readFh(r);
  const cookie = r.uint64();
  const verf = r.fixedOpaque(VERF_SIZE).readBigUInt64BE(0);
  const count = r.uint32();
  let path: string | undefined;
  try {
    path = ctx.handles.pathOf(fh);
    const { dirAttr, listing, start } = await openListing(ctx, call, path, cookie, verf);
    const budget = Math.min(count, ctx.maxIo) - FIXED;
    let used = 0;
    let end = start;
    for (; end < listing.entries.length; end++) {
      const size = 4 + 8 + nameBytes(listing.entries[end]!.name) + 8;
      if (used + size > budget) break;
      used += size;
    }
    if (end === start && start < listing.entries.length) throw new NfsStatusError(Nfsstat3.TOOSMALL, 'count too small for one entry');
    const w = call.reply;
    w.uint32(Nfsstat3.OK);
    writePostOpAttr(w, dirAttr, ctx.fsid);
    w.uint64(listing.verf);
    for (let i = start; i < end; i++) {
      const e = listing.entries[i]!;
      w.bool(true).uint64(e.attr.ino).string(e.name).uint64(i + 1);
    }
    w.bool(false).bool(end === listing.entries.length);
  } catch (err) {
    const a = path === undefined ? undefined : await attrOf(ctx, path, call.signal);
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, a, ctx.fsid);
  }
};
