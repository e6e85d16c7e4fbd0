import type { Credentials } from '../rpc/messages.ts';
import type { FastCall, FastProcedure, FastReply, RpcCall, RpcProgram } from '../rpc/RpcServer.ts';
import { XdrError } from '../xdr/XdrError.ts';
import type { Caller } from '../../vfs/types.ts';
import { NFS_PROGRAM, NFS_V3, NfsProc } from '../nfs3/constants.ts';
import { callerOf } from './credentials.ts';
import type { NfsContext, NfsProcedure } from './NfsContext.ts';
import { access, accessNow } from './procedures/access.ts';
import { commit, commitNow } from './procedures/commit.ts';
import { create, createNow } from './procedures/create.ts';
import { fsinfo } from './procedures/fsinfo.ts';
import { fsstat } from './procedures/fsstat.ts';
import { getattr, getattrNow } from './procedures/getattr.ts';
import { link } from './procedures/link.ts';
import { lookup, lookupNow } from './procedures/lookup.ts';
import { mkdir, mkdirNow } from './procedures/mkdir.ts';
import { mknod } from './procedures/mknod.ts';
import { pathconf } from './procedures/pathconf.ts';
import { nullProc } from './procedures/null.ts';
import { read, readNow } from './procedures/read.ts';
import { readdir } from './procedures/readdir.ts';
import { readdirplus, readdirplusNow } from './procedures/readdirplus.ts';
import { readlink, readlinkNow } from './procedures/readlink.ts';
import { remove, removeNow } from './procedures/remove.ts';
import { rename, renameNow } from './procedures/rename.ts';
import { rmdir, rmdirNow } from './procedures/rmdir.ts';
import { setattr, setattrNow } from './procedures/setattr.ts';
import { symlink } from './procedures/symlink.ts';
import { write, writeNow } from './procedures/write.ts';

/** The NFSv3 dispatch table: every procedure of RFC 1813 §3.3 by its number. */
export const NFS3_PROCEDURES = {
  [NfsProc.NULL]: nullProc,
  [NfsProc.GETATTR]: getattr,
  [NfsProc.SETATTR]: setattr,
  [NfsProc.LOOKUP]: lookup,
  [NfsProc.ACCESS]: access,
  [NfsProc.READLINK]: readlink,
  [NfsProc.READ]: read,
  [NfsProc.WRITE]: write,
  [NfsProc.CREATE]: create,
  [NfsProc.MKDIR]: mkdir,
  [NfsProc.SYMLINK]: symlink,
  [NfsProc.MKNOD]: mknod,
  [NfsProc.REMOVE]: remove,
  [NfsProc.RMDIR]: rmdir,
  [NfsProc.RENAME]: rename,
  [NfsProc.LINK]: link,
  [NfsProc.READDIR]: readdir,
  [NfsProc.READDIRPLUS]: readdirplus,
  [NfsProc.FSSTAT]: fsstat,
  [NfsProc.FSINFO]: fsinfo,
  [NfsProc.PATHCONF]: pathconf,
  [NfsProc.COMMIT]: commit,
} satisfies Record<(typeof NfsProc)[keyof typeof NfsProc], NfsProcedure>;

/**
 * Binds a dispatch table of NFS procedures to one server's context as an RPC program.
 * Every procedure but NULL first learns who calls (credentials.ts): refused credentials
 * never reach a procedure, and the call a procedure gets carries its caller, so passing
 * the call to the guest as CallOpts passes the caller too.
 */
export function nfsProgram(ctx: NfsContext, table: Record<number, NfsProcedure> = NFS3_PROCEDURES): RpcProgram {
  // A connection's credentials arrive as one object call after call (messages.ts decodes
  // them once), so the caller they stand for is worked out once per connection too.
  const known = new WeakMap<Credentials, { remote: string; caller: Caller }>();
  const callerFor = (cred: Credentials, remote: string): Caller => {
    const k = known.get(cred);
    if (k && k.remote === remote) return k.caller;
    const caller = callerOf(ctx.auth, cred, remote);
    known.set(cred, { remote, caller });
    return caller;
  };
  const procedures = [];
  for (const [num, proc] of Object.entries(table)) {
    procedures[Number(num)] =
      Number(num) === NfsProc.NULL
        ? (call: RpcCall) => proc(ctx, call)
        : (call: RpcCall) => proc(ctx, { ...call, caller: callerFor(call.header.cred, call.remote) });
  }
  // Synchronous paths (FastProcedure), each only beside the table's own async twin: the
  // same credential rules first; refused credentials go the usual way, which says why.
  // READ's answers bytes read ahead (procedures/read.ts); the others need the guest's
  // synchronous face (now.ts), and bad arguments go the usual way too (GARBAGE_ARGS).
  // COMMIT's is decided now and answers when its fdatasync is done (a promise).
  const fast: FastProcedure[] = [];
  const sync: [number, NfsProcedure, (ctx: NfsContext, call: FastCall, caller: Caller) => FastReply | Promise<FastReply> | undefined][] = [[NfsProc.READ, read, readNow]];
  if (ctx.vfs.now) {
    sync.push(
      [NfsProc.GETATTR, getattr, getattrNow],
      [NfsProc.ACCESS, access, accessNow],
      [NfsProc.LOOKUP, lookup, lookupNow],
      [NfsProc.SETATTR, setattr, setattrNow],
      [NfsProc.REMOVE, remove, removeNow],
      [NfsProc.RMDIR, rmdir, rmdirNow],
      [NfsProc.WRITE, write, writeNow],
      [NfsProc.READDIRPLUS, readdirplus, readdirplusNow],
      [NfsProc.CREATE, create, createNow],
      [NfsProc.MKDIR, mkdir, mkdirNow],
      [NfsProc.RENAME, rename, renameNow],
      [NfsProc.READLINK, readlink, readlinkNow],
      [NfsProc.COMMIT, commit, commitNow],
    );
  }
  for (const [num, twin, now] of sync) {
    if (table[num] !== twin) continue;
    fast[num] = (call: FastCall) => {
      let caller: Caller;
      try {
        caller = callerFor(call.cred, call.remote);
      } catch {
        return undefined;
      }
      try {
        return now(ctx, call, caller);
      } catch (err) {
        if (err instanceof XdrError) return undefined;
        throw err;
      }
    };
  }
  return { prog: NFS_PROGRAM, vers: NFS_V3, procedures, fast };
}
