import type { FsErrorKind } from '../../src-shared/errors.ts';
import { FsError } from '../vfs/FsError.ts';

// The local guest's one table from Node's errno codes to error kinds. Every errno a system
// call of the guest can return that a user acts on has its own kind (issue 9: ENOSPC is
// not EIO, EXDEV is what makes `mv` copy, ENAMETOOLONG is not EINVAL); the rest is IO.

const NODE_CODE_KIND: Record<string, FsErrorKind> = {
  ENOENT: 'NotExist',
  EEXIST: 'Exist',
  ENOTDIR: 'NotDir',
  EISDIR: 'IsDir',
  ENOTEMPTY: 'NotEmpty',
  EACCES: 'Permission',
  EPERM: 'NotPermitted',
  EROFS: 'ReadOnly',
  ELOOP: 'Recursion',
  EINVAL: 'InvalidItem',
  ENAMETOOLONG: 'NameTooLong',
  EXDEV: 'CrossDevice',
  ENOSPC: 'NoSpace',
  EDQUOT: 'QuotaExceeded',
  EFBIG: 'TooBig',
  EMLINK: 'TooManyLinks',
  ENODATA: 'NoAttribute',
  EILSEQ: 'NotUtf8',
  ENOSYS: 'InvalidOperation',
  ENOTSUP: 'InvalidOperation',
  EOPNOTSUPP: 'InvalidOperation',
  EBADF: 'Closed',
  ETIMEDOUT: 'Timeout',
  ABORT_ERR: 'Timeout',
};

/** Converts a Node fs error into an FsError naming the guest path (never the host path). */
export function fromNode(err: unknown, path: string): FsError {
  if (err instanceof FsError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const kind = Object.hasOwn(NODE_CODE_KIND, code) ? NODE_CODE_KIND[code]! : 'IO';
  return new FsError(kind, `${path}: ${code || (err instanceof Error ? err.message : String(err))}`, { cause: err });
}
