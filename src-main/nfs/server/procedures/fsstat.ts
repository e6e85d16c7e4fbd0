import { writePostOpAttr } from '../../nfs3/attrs.ts';
import { Nfsstat3 } from '../../nfs3/constants.ts';
import { readFh, type NfsProcedure } from '../NfsContext.ts';
import { statusOf } from '../nfsstat.ts';

/** FSSTAT, RFC 1813 §3.3.18: the guest's statfs figures; invarsec 0 (they may change any time). */
export const fsstat: NfsProcedure = async (ctx, call) => {
  const fh = readFh(call.args);
  try {
    const path = ctx.handles.pathOf(fh);
    const [a, s] = await Promise.all([ctx.vfs.getattr(path, call), ctx.vfs.statfs(call)]);
    const w = call.reply;
    w.uint32(Nfsstat3.OK);
    writePostOpAttr(w, a, ctx.fsid);
    w.uint64(s.blocks * s.blockSize).uint64(s.blocksFree * s.blockSize).uint64(s.blocksAvail * s.blockSize);
    w.uint64(s.files).uint64(s.filesFree).uint64(s.filesFree);
    w.uint32(0);
  } catch (err) {
    call.reply.uint32(statusOf(err));
    writePostOpAttr(call.reply, undefined, ctx.fsid);
  }
};
