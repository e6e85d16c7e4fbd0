import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3, VERF_SIZE } from '../../nfs3/constants.ts';
import { EncodedEntries } from '../EncodedEntries.ts';
import { attrOf, readFh, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';
import { openListing } from './readdir.ts';

/** Bytes of a READDIRPLUS3resok without entries. */
const FIXED = 4 + 4 + 84 + 8 + 4 + 4;

/**
 * READDIRPLUS, RFC 1813 §3.3.17: like READDIR, plus each entry's attributes and handle
 * (the guest's readdir already carries attributes, so this costs no extra guest call;
 * the entries are encoded once per snapshot, EncodedEntries.ts). `dircount` bounds the
 * entry3-sized part, `maxcount` the whole reply.
 */
export const readdirplus: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const fh = readFh(r);
  const cookie = r.uint64();
  const verf = r.fixedOpaque(VERF_SIZE).readBigUInt64BE(0);
  const dircount = r.uint32();
  const maxcount = r.uint32();
  let path: string | undefined;
  try {
    path = ctx.handles.pathOf(fh);
    const { dirAttr, listing, start } = await openListing(ctx, call, path, cookie, verf);
    listing.plus ??= new EncodedEntries(path, listing.entries, true, ctx.handles, ctx.fsid, listing.previous?.plus);
    const page = listing.plus.page(start, Math.min(maxcount, ctx.maxIo * 2) - FIXED, dircount);
    if (page.end === start && start < listing.entries.length) throw new NfsStatusError(Nfsstat3.TOOSMALL, 'maxcount too small for one entry');
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
