import type { FsErrorKind } from '../../../src-shared/errors.ts';
import { Nfsstat3 } from '../nfs3/constants.ts';

/** The one table from a server's nfsstat3 to the error kind our guest reports (RFC 1813 §2.6). */
export const NFSSTAT_KIND: Record<Exclude<Nfsstat3, 0>, FsErrorKind> = {
  [Nfsstat3.PERM]: 'NotPermitted',
  [Nfsstat3.NOENT]: 'NotExist',
  [Nfsstat3.IO]: 'IO',
  [Nfsstat3.NXIO]: 'NotExist',
  [Nfsstat3.ACCES]: 'Permission',
  [Nfsstat3.EXIST]: 'Exist',
  [Nfsstat3.XDEV]: 'CrossDevice',
  [Nfsstat3.NODEV]: 'InvalidOperation',
  [Nfsstat3.NOTDIR]: 'NotDir',
  [Nfsstat3.ISDIR]: 'IsDir',
  [Nfsstat3.INVAL]: 'InvalidItem',
  [Nfsstat3.FBIG]: 'TooBig',
  [Nfsstat3.NOSPC]: 'NoSpace',
  [Nfsstat3.ROFS]: 'ReadOnly',
  [Nfsstat3.MLINK]: 'TooManyLinks',
  [Nfsstat3.NAMETOOLONG]: 'NameTooLong',
  [Nfsstat3.NOTEMPTY]: 'NotEmpty',
  [Nfsstat3.DQUOT]: 'QuotaExceeded',
  [Nfsstat3.STALE]: 'NotExist',
  [Nfsstat3.REMOTE]: 'InvalidOperation',
  [Nfsstat3.BADHANDLE]: 'NotExist',
  [Nfsstat3.NOT_SYNC]: 'IO',
  [Nfsstat3.BAD_COOKIE]: 'IO',
  [Nfsstat3.NOTSUPP]: 'InvalidOperation',
  [Nfsstat3.TOOSMALL]: 'IO',
  [Nfsstat3.SERVERFAULT]: 'IO',
  [Nfsstat3.BADTYPE]: 'InvalidOperation',
  [Nfsstat3.JUKEBOX]: 'Timeout',
};
