import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ERRNO, errnoFor } from '../../../../src-main/vfs/errno.ts';

const E = constants.errno;

describe('the kind -> errno table', () => {
  // Record<FsErrorKind, number> already makes the table cover every kind; what the type
  // cannot check is that no two kinds collapse into one errno.
  it('gives every kind a distinct, positive errno', () => {
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
