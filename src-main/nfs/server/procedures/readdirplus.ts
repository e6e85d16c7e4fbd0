import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3, VERF_SIZE } from '../../nfs3/constants.ts';
import { HANDLE_BYTES } from '../HandleTable.ts';
import { attrOf, readFh, type NfsProcedure } from '../NfsContext.ts';
import { childPath } from '../names.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';
import { nameBytes, openListing } from './readdir.ts';

/** Bytes of a READDIRPLUS3resok without entries. */
const FIXED = 4 + 4 + 84 + 8 + 4 + 4;

/**
 * READDIRPLUS, RFC 1813 §3.3.17: like READDIR, plus each entry's attributes and handle
 * (the guest's readdir already carries attributes, so this costs no extra guest call).
 * `dircount` bounds the entry3-sized part, `maxcount` the whole reply.
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
    const budget = Math.min(maxcount, ctx.maxIo * 2) - FIXED;
    let used = 0;
    let dirUsed = 0;
    let end = start;
    for (; end < listing.entries.length; end++) {
      const base = 8 + nameBytes(listing.entries[end]!.name) + 8;
      const size = 4 + base + 4 + 84 + 4 + 4 + HANDLE_BYTES;
      if (used + size > budget || (dircount > 0 && dirUsed + base > dircount && end > start)) break;
      used += size;
      dirUsed += base;
    }
    if (end === start && start < listing.entries.length) throw new NfsStatusError(Nfsstat3.TOOSMALL, 'maxcount too small for one entry');
    const w = call.reply;
    w.uint32(Nfsstat3.OK);
    writePostOpAttr(w, dirAttr, ctx.fsid);
    w.uint64(listing.verf);
    for (let i = start; i < end; i++) {
      const e = listing.entries[i]!;
      w.bool(true).uint64(e.attr.ino).string(e.name).uint64(i + 1);
      writePostOpAttr(w, e.attr, ctx.fsid);
      w.bool(true).opaque(ctx.handles.handleFor(childPath(path, e.name)));
    }
    w.bool(false).bool(end === listing.entries.length);
  } catch (err) {
    const a = path === undefined ? undefined : await attrOf(ctx, path, call.signal);
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, a, ctx.fsid);
  }
};
