import { writePostOpAttr, writeWcc } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import { attrOf, readFh, readName, requireWritableExport, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { statusOf } from '../nfsstat.ts';

/** LINK, RFC 1813 §3.3.15: guests have no hard links, so NOTSUPP (ROFS when read-only). */
export const link: NfsProcedure = async (ctx, call) => {
  const r = call.args;
  const fileFh = readFh(r);
  readFh(r);
  readName(r);
  let file: string | undefined;
  let status: number;
  try {
    file = ctx.handles.pathOf(fileFh);
    requireWritableExport(ctx);
    throw new NfsStatusError(Nfsstat3.NOTSUPP, 'hard links are not supported');
  } catch (err) {
    status = statusOf(err);
  }
  call.reply.uint32(status);
  writePostOpAttr(call.reply, file === undefined ? undefined : await attrOf(ctx, file, call.signal), ctx.fsid);
  writeWcc(call.reply, undefined, ctx.fsid);
};
