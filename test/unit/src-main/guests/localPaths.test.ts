import { describe, expect, it } from 'vitest';
import { HAS_PROC_FD } from '../../../../src-main/guests/localDirs.ts';
import { pathsKind } from '../../../../src-main/guests/localPaths.ts';

describe('pathsKind (BERTH_LOCAL_PATHS)', () => {
  it('defaults to the /proc proof where /proc/self/fd exists, else the openat walk', () => {
    expect(pathsKind(undefined)).toBe(HAS_PROC_FD ? 'proc' : 'openat');
    expect(pathsKind('')).toBe(HAS_PROC_FD ? 'proc' : 'openat');
  });

  it('takes either strategy by name', () => {
    expect(pathsKind('openat')).toBe('openat');
    if (HAS_PROC_FD) expect(pathsKind('proc')).toBe('proc');
  });

  it('refuses anything else, saying what it expected', () => {
    expect(() => pathsKind('realpath')).toThrow(/expected one of proc, openat, got "realpath"/);
  });
});
