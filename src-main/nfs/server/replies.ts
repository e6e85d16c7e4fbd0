import { writePostOpAttr, writeWcc } from '../nfs3/attrs.ts';
import { Nfsstat3 } from '../nfs3/constants.ts';
import type { XdrWriter } from '../xdr/XdrWriter.ts';
import type { FileHandleNow } from '../../vfs/types.ts';
import { attrOf, type NfsContext } from './NfsContext.ts';
import { attrNow, postOpAttrNow } from './now.ts';
import { statusOf } from './nfsstat.ts';

// Reply bodies shared by several procedures of RFC 1813 §3.3.

/** CREATE/MKDIR/SYMLINK success (§3.3.8): post_op_fh3, post_op_attr, dir_wcc. */
export async function replyNewObject(ctx: NfsContext, w: XdrWriter, path: string, dir: string, signal: AbortSignal): Promise<void> {
  const [a, d] = await Promise.all([attrOf(ctx, path, signal), attrOf(ctx, dir, signal)]);
  w.uint32(Nfsstat3.OK).bool(true).opaque(ctx.handles.handleFor(path));
  writePostOpAttr(w, a, ctx.fsid);
  writeWcc(w, d, ctx.fsid);
}

/**
 * replyNewObject with attributes read synchronously (now.ts); those of a file just created
 * from its open handle (`made`, fstat) while it is proven to be what the path names.
 */
export function replyNewObjectNow(ctx: NfsContext, w: XdrWriter, path: string, dir: string, made?: FileHandleNow): void {
  w.uint32(Nfsstat3.OK).bool(true).opaque(ctx.handles.handleFor(path));
  writePostOpAttr(w, postOpAttrNow(ctx, path, made?.named?.() ? made : undefined), ctx.fsid);
  writeWcc(w, attrNow(ctx, dir), ctx.fsid);
}

/** A failure followed by one wcc_data of `dir` (CREATE, MKDIR, REMOVE...). */
export async function replyDirWccError(ctx: NfsContext, w: XdrWriter, err: unknown, dir: string | undefined, signal: AbortSignal): Promise<void> {
  const d = dir === undefined ? undefined : await attrOf(ctx, dir, signal);
  w.uint32(statusOf(err));
  writeWcc(w, d, ctx.fsid);
}
