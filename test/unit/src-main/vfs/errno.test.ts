import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { FS_ERROR_KINDS } from '../../../../src-shared/errors.ts';
import { ERRNO, errnoFor } from '../../../../src-main/vfs/errno.ts';

const E = constants.errno;

describe('the kind -> errno table', () => {
  it.each([
    ['NotExist', E.ENOENT],
    ['Exist', E.EEXIST],
    ['NotDir', E.ENOTDIR],
    ['IsDir', E.EISDIR],
    ['NotEmpty', E.ENOTEMPTY],
    ['Permission', E.EACCES],
    ['ReadOnly', E.EROFS],
    ['InvalidItem', E.EINVAL],
    ['InvalidOperation', E.ENOSYS],
    ['Recursion', E.ELOOP],
    ['Closed', E.EBADF],
    ['IO', E.EIO],
    ['Timeout', E.ETIMEDOUT],
    ['NotPermitted', E.EPERM],
    ['NoSpace', E.ENOSPC],
    ['QuotaExceeded', E.EDQUOT],
    ['NameTooLong', E.ENAMETOOLONG],
    ['TooBig', E.EFBIG],
    ['CrossDevice', E.EXDEV],
    ['TooManyLinks', E.EMLINK],
  ] as const)('%s -> %i', (kind, errno) => {
    expect(errnoFor(kind)).toBe(errno);
  });

  it('covers every kind with a distinct, positive errno', () => {
    expect(Object.keys(ERRNO).sort()).toEqual([...FS_ERROR_KINDS].sort());
    const values = Object.values(ERRNO);
    expect(new Set(values).size).toBe(values.length);
    for (const v of values) expect(v).toBeGreaterThan(0);
  });

  it('answers EIO for an unknown kind', () => {
    expect(errnoFor('Bogus')).toBe(E.EIO);
    expect(errnoFor('')).toBe(E.EIO);
    expect(errnoFor('toString')).toBe(E.EIO);
  });
});
