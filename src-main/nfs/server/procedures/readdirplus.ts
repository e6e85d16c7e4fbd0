import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3, VERF_SIZE } from '../../nfs3/constants.ts';
import type { FastCall, FastReply } from '../../rpc/RpcServer.ts';
import type { XdrReader } from '../../xdr/XdrReader.ts';
import type { XdrWriter } from '../../xdr/XdrWriter.ts';
import { EncodedEntries } from '../EncodedEntries.ts';
import { attrOf, readFh, type NfsContext, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';
import { attrNow, nowArgs, nowDone, nowReply } from '../now.ts';
import { openListing, openListingNow, type OpenedListing } from './readdir.ts';
import type { Caller } from '../../../vfs/types.ts';

/** Bytes of a READDIRPLUS3resok without entries. */
const FIXED = 4 + 4 + 84 + 8 + 4 + 4;

/** READDIRPLUS3args. */
function readArgs(r: XdrReader): { fh: Buffer; cookie: bigint; verf: bigint; dircount: number; maxcount: number } {
  const fh = readFh(r);
  const cookie = r.uint64();
  const verf = r.fixedOpaque(VERF_SIZE).readBigUInt64BE(0);
  const dircount = r.uint32();
  const maxcount = r.uint32();
  return { fh, cookie, verf, dircount, maxcount };
}

/** READDIRPLUS3resok: one page of the snapshot's encoded entries. */
function replyPage(ctx: NfsContext, w: XdrWriter, path: string, { dirAttr, listing, start }: OpenedListing, dircount: number, maxcount: number): void {
  listing.plus ??= new EncodedEntries(path, listing.entries, true, ctx.handles, ctx.fsid, listing.previous?.plus);
  const page = listing.plus.page(start, Math.min(maxcount, ctx.maxIo * 2) - FIXED, dircount);
  if (page.end === start && start < listing.entries.length) throw new NfsStatusError(Nfsstat3.TOOSMALL, 'maxcount too small for one entry');
  w.uint32(Nfsstat3.OK);
  writePostOpAttr(w, dirAttr, ctx.fsid);
  w.uint64(listing.verf);
  for (const part of page.parts) w.encoded(part);
  w.bool(false).bool(page.end === listing.entries.length);
}

/**
 * READDIRPLUS, RFC 1813 §3.3.17: like READDIR, plus each entry's attributes and handle
 * (the guest's readdir already carries attributes, so this costs no extra guest call;
 * the entries are encoded once per snapshot, EncodedEntries.ts). `dircount` bounds the
 * entry3-sized part, `maxcount` the whole reply.
 */
export const readdirplus: NfsProcedure = async (ctx, call) => {
  const { fh, cookie, verf, dircount, maxcount } = readArgs(call.args);
  let path: string | undefined;
  try {
    path = ctx.handles.pathOf(fh);
    const opened = await openListing(ctx, call, path, cookie, verf);
    replyPage(ctx, call.reply, path, opened, dircount, maxcount);
  } catch (err) {
    const a = path === undefined ? undefined : await attrOf(ctx, path, call.signal);
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, a, ctx.fsid);
  }
};

/**
 * READDIRPLUS answered synchronously (now.ts): a later page of a snapshot, or a small
 * folder listed by the guest's synchronous face (`find` lists a thousand small folders);
 * undefined when the folder must be listed the async way.
 */
export function readdirplusNow(ctx: NfsContext, call: FastCall, caller: Caller | undefined): FastReply | undefined {
  const { fh, cookie, verf, dircount, maxcount } = readArgs(nowArgs(call));
  // A fresh writer per try: a failure half-way through a page must not leave bytes behind.
  let w = nowReply(call.xid);
  let path: string | undefined;
  try {
    path = ctx.handles.pathOf(fh);
    const opened = openListingNow(ctx, caller, path, cookie, verf);
    if (!opened) return undefined;
    replyPage(ctx, w, path, opened, dircount, maxcount);
  } catch (err) {
    w = nowReply(call.xid);
    w.uint32(statusOf(err));
    writePostOpAttr(w, path === undefined ? undefined : attrNow(ctx, path), ctx.fsid);
  }
  return nowDone(w);
}
