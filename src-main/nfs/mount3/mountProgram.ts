import type { RpcCall, RpcProgram } from '../rpc/RpcServer.ts';
import { AUTH_NONE, AUTH_SYS } from '../rpc/messages.ts';
import { MOUNT_PROGRAM, MOUNT_V3, MountProc, Mountstat3 } from '../nfs3/constants.ts';
import type { NfsContext } from '../server/NfsContext.ts';
import { callerOf } from '../server/credentials.ts';
import { childPath } from '../server/names.ts';
import { attrSoon } from '../server/now.ts';
import { toFsError } from '../../vfs/FsError.ts';
import { mayAccess, X } from '../../vfs/permissions.ts';
import type { FsErrorKind } from '../../../src-shared/errors.ts';

// MOUNT protocol version 3, RFC 1813 Appendix I. The guest is exported as "/"; a
// client may mount a directory below it too ("/sub/dir"), resolved inside the guest.

/** MNTPATHLEN, Appendix I §5.1. */
const MNTPATHLEN = 1024;
/** Clients remembered for DUMP, so a flood of MNT calls cannot grow memory without bound. */
const MAX_DUMP = 1024;

/** The one table from error kind to mountstat3 (Appendix I §5.1.5). */
const MOUNTSTAT: Record<FsErrorKind, number> = {
  NotExist: Mountstat3.NOENT,
  Exist: Mountstat3.IO,
  NotDir: Mountstat3.NOTDIR,
  IsDir: Mountstat3.IO,
  NotEmpty: Mountstat3.IO,
  Permission: Mountstat3.ACCES,
  NotPermitted: Mountstat3.PERM,
  ReadOnly: Mountstat3.ACCES,
  InvalidItem: Mountstat3.INVAL,
  InvalidOperation: Mountstat3.NOTSUPP,
  Recursion: Mountstat3.INVAL,
  Closed: Mountstat3.IO,
  IO: Mountstat3.IO,
  Timeout: Mountstat3.IO,
  NoSpace: Mountstat3.IO,
  QuotaExceeded: Mountstat3.IO,
  NameTooLong: Mountstat3.NAMETOOLONG,
  TooBig: Mountstat3.IO,
  CrossDevice: Mountstat3.IO,
  TooManyLinks: Mountstat3.IO,
  NoAttribute: Mountstat3.IO,
  NotUtf8: Mountstat3.INVAL,
};

/** Normalises a dirpath to a guest path, or undefined when it is not one we export. */
function guestPath(dirpath: string): string | undefined {
  // libnfs sends "" for a file directly under the export root.
  if (dirpath === '') return '/';
  if (!dirpath.startsWith('/') || dirpath.includes('\0')) return undefined;
  let path = '/';
  for (const part of dirpath.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return undefined;
    path = childPath(path, part);
  }
  return path;
}

function clientHost(call: RpcCall): string {
  return call.header.cred.machine || call.remote.replace(/:\d+$/, '');
}

/** MNT, Appendix I §5.2.1. */
async function mnt(ctx: NfsContext, call: RpcCall): Promise<void> {
  const dirpath = call.args.string(MNTPATHLEN);
  const path = guestPath(dirpath);
  const w = call.reply;
  // Refused credentials are refused at mount time already, with the reason in the log.
  const caller = callerOf(ctx.auth, call.header.cred, call.remote);
  if (path === undefined) {
    w.uint32(Mountstat3.NOENT);
    return;
  }
  try {
    // Every client session starts here: the guest's synchronous face where it has one.
    const a = await attrSoon(ctx, path, { signal: call.signal, caller });
    if (a.type !== 'dir') {
      w.uint32(Mountstat3.NOTDIR);
      return;
    }
    if (!mayAccess(a, caller, X)) {
      w.uint32(Mountstat3.ACCES);
      return;
    }
  } catch (err) {
    w.uint32(MOUNTSTAT[toFsError(err).kind]);
    return;
  }
  const host = clientHost(call);
  if (!ctx.mounts.has(host) && ctx.mounts.size >= MAX_DUMP) ctx.mounts.delete(ctx.mounts.keys().next().value as string);
  const set = ctx.mounts.get(host) ?? new Set<string>();
  if (set.size < 64) set.add(dirpath);
  ctx.mounts.set(host, set);
  w.uint32(Mountstat3.OK).opaque(ctx.handles.handleFor(path));
  w.uint32(2).uint32(AUTH_SYS).uint32(AUTH_NONE);
}

/** DUMP, Appendix I §5.2.2: the mount list as a linked list of (hostname, directory). */
function dump(ctx: NfsContext, call: RpcCall): void {
  const w = call.reply;
  for (const [host, dirs] of ctx.mounts) for (const d of dirs) w.bool(true).string(host).string(d);
  w.bool(false);
}

/** UMNT, Appendix I §5.2.3. */
function umnt(ctx: NfsContext, call: RpcCall): void {
  const dirpath = call.args.string(MNTPATHLEN);
  const host = clientHost(call);
  const set = ctx.mounts.get(host);
  set?.delete(dirpath);
  if (set?.size === 0) ctx.mounts.delete(host);
}

/** UMNTALL, Appendix I §5.2.4. */
function umntall(ctx: NfsContext, call: RpcCall): void {
  ctx.mounts.delete(clientHost(call));
}

/** EXPORT, Appendix I §5.2.5: one export, "/", open to every client the server accepts. */
function exportList(_ctx: NfsContext, call: RpcCall): void {
  call.reply.bool(true).string('/').bool(false).bool(false);
}

/** The MOUNT v3 program bound to one server's context. */
export function mountProgram(ctx: NfsContext): RpcProgram {
  const procedures: RpcProgram['procedures'] = [];
  const table = {
    [MountProc.NULL]: () => {},
    [MountProc.MNT]: (c: RpcCall) => mnt(ctx, c),
    [MountProc.DUMP]: (c: RpcCall) => dump(ctx, c),
    [MountProc.UMNT]: (c: RpcCall) => umnt(ctx, c),
    [MountProc.UMNTALL]: (c: RpcCall) => umntall(ctx, c),
    [MountProc.EXPORT]: (c: RpcCall) => exportList(ctx, c),
  };
  for (const [n, p] of Object.entries(table)) (procedures as unknown[])[Number(n)] = p;
  return { prog: MOUNT_PROGRAM, vers: MOUNT_V3, procedures };
}
