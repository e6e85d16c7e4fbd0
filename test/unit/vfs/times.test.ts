import { describe, expect, it } from 'vitest';
import { joinNs, splitNs } from '../../../src-main/vfs/times.ts';

// struct timespec and nfstime3 hold a time as whole seconds and 0 ≤ nsec < 10^9: a time
// before 1970 has a negative second and a positive nanosecond part (floored).

describe('splitNs', () => {
  it('splits exact nanoseconds into whole seconds and the nanoseconds past them, floored', () => {
    expect(splitNs(1_764_633_600_123_456_789n)).toEqual([1_764_633_600n, 123_456_789n]);
    expect(splitNs(0n)).toEqual([0n, 0n]);
    expect(splitNs(999_999_999n)).toEqual([0n, 999_999_999n]);
    expect(splitNs(1_000_000_000n)).toEqual([1n, 0n]);
    expect(splitNs(-1n)).toEqual([-1n, 999_999_999n]);
    expect(splitNs(-1_500_000_000n)).toEqual([-2n, 500_000_000n]);
    expect(splitNs(-1_000_000_000n)).toEqual([-1n, 0n]);
  });

  it('is undone by joinNs, on both sides of 1970', () => {
    for (const ns of [1_764_633_600_000_000_001n, -86_400_000_000_001n, 123n, -123n]) {
      const [sec, nsec] = splitNs(ns);
      expect(nsec >= 0n && nsec < 1_000_000_000n).toBe(true);
      expect(joinNs(Number(sec), Number(nsec))).toBe(ns);
    }
  });
});
