import { describe, expect, it } from 'vitest';
import { FRESH_MS, FreshDirs } from '../../../../src-main/guests/mfsFreshDirs.ts';

describe('FreshDirs', () => {
  it('knows a folder it made is empty but for what it put there', () => {
    const f = new FreshDirs(() => 0);
    expect(f.absent('/d/x')).toBe(false);
    f.made('/d');
    expect(f.absent('/d/x')).toBe(true);
    f.added('/d/x');
    expect(f.absent('/d/x')).toBe(false);
    f.removed('/d/x');
    expect(f.absent('/d/x')).toBe(true);
  });

  it('forgets a folder FRESH_MS after its last change made here', () => {
    let now = 0;
    const f = new FreshDirs(() => now);
    f.made('/d');
    now = FRESH_MS / 2;
    f.added('/d/a');
    now = FRESH_MS;
    expect(f.absent('/d/b')).toBe(true);
    now = FRESH_MS * 2;
    expect(f.absent('/d/b')).toBe(false);
  });

  it('forgets folders below one removed or moved away, and never claims the parent of a made folder', () => {
    const f = new FreshDirs(() => 0);
    f.made('/d');
    f.made('/d/e');
    f.removed('/d');
    expect(f.absent('/d/e/x')).toBe(false);
    expect(f.absent('/d/x')).toBe(false);
    expect(f.absent('/other')).toBe(false);
    expect(f.absent('/')).toBe(false);
  });
});
