import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3, VERF_SIZE } from '../../nfs3/constants.ts';
import type { RpcCall } from '../../rpc/RpcServer.ts';
import { attrOf, readFh, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { EncodedEntries } from '../EncodedEntries.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';
import { R, requireAccess } from '../../../vfs/permissions.ts';

/** Bytes of a READDIR3resok without entries: status, post_op_attr, verifier, list end, eof. */
const FIXED = 4 + 4 + 84 + 8 + 4 + 4;

/**
 * What READDIR and READDIRPLUS share before paging: the folder's attributes (NOTDIR for
 * anything else), its cached listing for this verifier, and the index the cookie names
 * (BAD_COOKIE past the end).
 */
export async function openListing(ctx: NfsContext, call: RpcCall, path: string, cookie: bigint, verf: bigint) {
  // A later page of a snapshot answers with the folder's attributes of when it was taken:
  // the entries are of that moment too, and it spares a guest getattr per page (nfs-ls -R
  // of 10,000 files asks ~190 pages). Read permission is checked on every page all the same.
  const known = ctx.dirs.continued(path, cookie, verf);
  if (known?.dirAttr) {
    requireAccess(known.dirAttr, call.caller, R, path);
    if (cookie > BigInt(known.entries.length)) throw new NfsStatusError(Nfsstat3.BAD_COOKIE, 'cookie past the end of the directory');
    return { dirAttr: known.dirAttr, listing: known, start: Number(cookie) };
  }
  const dirAttr = await ctx.vfs.getattr(path, call);
  if (dirAttr.type !== 'dir') throw new NfsStatusError(Nfsstat3.NOTDIR, 'not a directory');
  requireAccess(dirAttr, call.caller, R, path);
  const listing = await ctx.dirs.get(path, cookie, verf, call);
  listing.dirAttr ??= dirAttr;
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
    listing.plain ??= new EncodedEntries(path, listing.entries, false, ctx.handles, ctx.fsid, listing.previous?.plain);
    const page = listing.plain.page(start, Math.min(count, ctx.maxIo) - FIXED, 0);
    if (page.end === start && start < listing.entries.length) throw new NfsStatusError(Nfsstat3.TOOSMALL, 'count too small for one entry');
    const w = call.reply;
    w.uint32(Nfsstat3.OK);
    writePostOpAttr(w, dirAttr, ctx.fsid);
    w.uint64(listing.verf);
    for (const part of page.parts) w.encoded(part);
    w.bool(false).bool(page.end === listing.entries.length);
  } catch (err) {
    const a = path === undefined ? undefined : await attrOf(ctx, path, call.signal);
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, a, ctx.fsid);
  }
};
