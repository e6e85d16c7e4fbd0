import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3, VERF_SIZE } from '../../nfs3/constants.ts';
import type { RpcCall } from '../../rpc/RpcServer.ts';
import { attrOf, readFh, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { EncodedEntries } from '../EncodedEntries.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';
import { R, requireAccess } from '../../../vfs/permissions.ts';
import type { Attr, Caller } from '../../../vfs/types.ts';
import type { Listing } from '../DirListingCache.ts';

/** Bytes of a READDIR3resok without entries: status, post_op_attr, verifier, list end, eof. */
const FIXED = 4 + 4 + 84 + 8 + 4 + 4;

/**
 * What READDIR and READDIRPLUS share before paging: the folder's attributes (NOTDIR for
 * anything else), its cached listing for this verifier, and the index the cookie names
 * (BAD_COOKIE past the end).
 */
export async function openListing(ctx: NfsContext, call: RpcCall, path: string, cookie: bigint, verf: bigint): Promise<OpenedListing> {
  const known = continuedListing(ctx, call.caller, path, cookie, verf);
  if (known) return known;
  const dirAttr = await ctx.vfs.getattr(path, call);
  checkListable(dirAttr, call.caller, path);
  return opened(await ctx.dirs.get(path, cookie, verf, call), dirAttr, cookie);
}

/** openListing() by the guest's synchronous face (now.ts); undefined when it must be the async one. */
export function openListingNow(ctx: NfsContext, caller: Caller | undefined, path: string, cookie: bigint, verf: bigint): OpenedListing | undefined {
  const known = continuedListing(ctx, caller, path, cookie, verf);
  if (known) return known;
  const dirAttr = ctx.vfs.now?.getattr(path);
  if (!dirAttr) return undefined;
  checkListable(dirAttr, caller, path);
  const listing = ctx.dirs.getNow(path, cookie, verf);
  return listing && opened(listing, dirAttr, cookie);
}

/** A snapshot, its folder's attributes and the index a cookie names. */
export interface OpenedListing {
  dirAttr: Attr;
  listing: Listing;
  start: number;
}

/**
 * A later page of a snapshot answers with the folder's attributes of when it was taken:
 * the entries are of that moment too, and it spares a guest getattr per page (nfs-ls -R
 * of 10,000 files asks ~190 pages). Read permission is checked on every page all the same.
 */
function continuedListing(ctx: NfsContext, caller: Caller | undefined, path: string, cookie: bigint, verf: bigint): OpenedListing | undefined {
  const known = ctx.dirs.continued(path, cookie, verf);
  if (!known?.dirAttr) return undefined;
  requireAccess(known.dirAttr, caller, R, path);
  return opened(known, known.dirAttr, cookie);
}

/** NOTDIR for anything but a folder; read permission on it. */
function checkListable(dirAttr: Attr, caller: Caller | undefined, path: string): void {
  if (dirAttr.type !== 'dir') throw new NfsStatusError(Nfsstat3.NOTDIR, 'not a directory');
  requireAccess(dirAttr, caller, R, path);
}

/** The snapshot opened at `cookie` (BAD_COOKIE past its end). */
function opened(listing: Listing, dirAttr: Attr, cookie: bigint): OpenedListing {
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
