import { constants } from 'node:os';
import type { FsErrorKind } from '../../src-shared/errors.ts';

const E = constants.errno;

/** The one table from error kind to POSIX errno (FUSE answers the negative of it). */
export const ERRNO: Record<FsErrorKind, number> = {
  NotExist: E.ENOENT,
  Exist: E.EEXIST,
  NotDir: E.ENOTDIR,
  IsDir: E.EISDIR,
  NotEmpty: E.ENOTEMPTY,
  Permission: E.EACCES,
  NotPermitted: E.EPERM,
  ReadOnly: E.EROFS,
  InvalidItem: E.EINVAL,
  InvalidOperation: E.ENOSYS,
  Recursion: E.ELOOP,
  Closed: E.EBADF,
  IO: E.EIO,
  Timeout: E.ETIMEDOUT,
  NoSpace: E.ENOSPC,
  QuotaExceeded: E.EDQUOT,
  NameTooLong: E.ENAMETOOLONG,
  TooBig: E.EFBIG,
  // mv and cp fall back to copy-and-delete on EXDEV only (issue 9).
  CrossDevice: E.EXDEV,
  TooManyLinks: E.EMLINK,
  NoAttribute: E.ENODATA,
  NotUtf8: E.EILSEQ,
};

/** The errno for an error kind; anything unknown is EIO. */
export function errnoFor(kind: FsErrorKind | string): number {
  // hasOwn: a kind read off the wire such as "toString" must not reach Object.prototype.
  return Object.hasOwn(ERRNO, kind) ? (ERRNO as Record<string, number>)[kind]! : E.EIO;
}
