import type { FsErrorKind } from '../../../src-shared/errors.ts';
import { toFsError } from '../../vfs/FsError.ts';
import { Nfsstat3 } from '../nfs3/constants.ts';
import { NfsStatusError } from './NfsStatusError.ts';

/** The one table from error kind to nfsstat3 (RFC 1813 §2.6) for the NFS host. */
export const NFSSTAT: Record<FsErrorKind, Nfsstat3> = {
  NotExist: Nfsstat3.NOENT,
  Exist: Nfsstat3.EXIST,
  NotDir: Nfsstat3.NOTDIR,
  IsDir: Nfsstat3.ISDIR,
  NotEmpty: Nfsstat3.NOTEMPTY,
  Permission: Nfsstat3.ACCES,
  NotPermitted: Nfsstat3.PERM,
  ReadOnly: Nfsstat3.ROFS,
  InvalidItem: Nfsstat3.INVAL,
  InvalidOperation: Nfsstat3.NOTSUPP,
  // NFSv3 has no ELOOP; a symlink loop is a request the server cannot satisfy.
  Recursion: Nfsstat3.INVAL,
  Closed: Nfsstat3.IO,
  IO: Nfsstat3.IO,
  // JUKEBOX tells the client to retry later, which is right for a slow guest (IPFS fetch).
  Timeout: Nfsstat3.JUKEBOX,
  NoSpace: Nfsstat3.NOSPC,
  QuotaExceeded: Nfsstat3.DQUOT,
  NameTooLong: Nfsstat3.NAMETOOLONG,
  TooBig: Nfsstat3.FBIG,
  CrossDevice: Nfsstat3.XDEV,
  TooManyLinks: Nfsstat3.MLINK,
  // NFSv3 has no extended attributes: never answered by a procedure of its own.
  NoAttribute: Nfsstat3.IO,
  NotUtf8: Nfsstat3.INVAL,
};

/** The nfsstat3 for anything a procedure caught. */
export function statusOf(err: unknown): Nfsstat3 {
  if (err instanceof NfsStatusError) return err.status;
  return NFSSTAT[toFsError(err).kind];
}
