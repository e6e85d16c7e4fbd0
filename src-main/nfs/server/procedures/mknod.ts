import { Nfsstat3 } from '../../nfs3/constants.ts';
import { readFh, readName, requireWritableExport, type NfsProcedure } from '../NfsContext.ts';
import { NfsStatusError } from '../NfsStatusError.ts';
import { replyDirWccError } from '../replies.ts';

/** MKNOD, RFC 1813 §3.3.11: guests hold no devices, sockets or FIFOs, so NOTSUPP (ROFS when read-only). */
export const mknod: NfsProcedure = async (ctx, call) => {
  const dirFh = readFh(call.args);
  readName(call.args);
  let dir: string | undefined;
  try {
    dir = ctx.handles.pathOf(dirFh);
    requireWritableExport(ctx);
    throw new NfsStatusError(Nfsstat3.NOTSUPP, 'special files are not supported');
  } catch (err) {
    await replyDirWccError(ctx, call.reply, err, dir, call.signal);
  }
};
