import { describe, expect, it } from 'vitest';
import { accessBits, R, requireMayDelete, requireMaySetattr, W, X } from '../../../../src-main/vfs/permissions.ts';
import type { Attr } from '../../../../src-main/vfs/types.ts';

const node = (a: Partial<Attr>): Attr => ({ type: 'file', mode: 0o644, size: 0, nlink: 1, uid: 0, gid: 0, ino: 1, mtime: 0, atime: 0, ctime: 0, ...a });
const kind = (f: () => void): string => {
  try {
    f();
    return 'ok';
  } catch (err) {
    return (err as { kind: string }).kind;
  }
};

describe('POSIX permission rules for callers (issue 9)', () => {
  it('picks owner, group (primary or supplementary) or other bits', () => {
    const f = node({ mode: 0o640, uid: 10, gid: 20 });
    expect(accessBits(f, { uid: 10, gid: 1 })).toBe(R | W);
    expect(accessBits(f, { uid: 11, gid: 20 })).toBe(R);
    expect(accessBits(f, { uid: 11, gid: 1, groups: [20] })).toBe(R);
    expect(accessBits(f, { uid: 11, gid: 1 })).toBe(0);
    // root: everything, but no execute on a file nobody may execute
    expect(accessBits(f, { uid: 0, gid: 0 })).toBe(R | W);
    expect(accessBits(node({ type: 'dir', mode: 0o700, uid: 10 }), { uid: 0, gid: 0 })).toBe(R | W | X);
  });

  it('sticky folders: only the owner of the entry or of the folder removes it', () => {
    const tmp = node({ type: 'dir', mode: 0o1777, uid: 0 });
    const theirs = node({ uid: 10 });
    expect(kind(() => requireMayDelete(tmp, theirs, { uid: 11, gid: 11 }, '/x'))).toBe('NotPermitted');
    expect(kind(() => requireMayDelete(tmp, theirs, { uid: 10, gid: 10 }, '/x'))).toBe('ok');
    expect(kind(() => requireMayDelete(node({ type: 'dir', mode: 0o755 }), theirs, { uid: 10, gid: 10 }, '/x'))).toBe('Permission');
  });

  it('chmod, chown, chgrp and utimes follow the owner rules', () => {
    const f = node({ mode: 0o664, uid: 10, gid: 20 });
    const owner = { uid: 10, gid: 10, groups: [30] };
    const groupie = { uid: 11, gid: 20 };
    expect(kind(() => requireMaySetattr(f, { mode: 0o600 }, owner, '/f'))).toBe('ok');
    expect(kind(() => requireMaySetattr(f, { mode: 0o600 }, groupie, '/f'))).toBe('NotPermitted');
    expect(kind(() => requireMaySetattr(f, { uid: 11 }, owner, '/f'))).toBe('NotPermitted');
    expect(kind(() => requireMaySetattr(f, { gid: 30 }, owner, '/f'))).toBe('ok');
    expect(kind(() => requireMaySetattr(f, { gid: 31 }, owner, '/f'))).toBe('NotPermitted');
    expect(kind(() => requireMaySetattr(f, { mtime: 1 }, groupie, '/f'))).toBe('NotPermitted');
    expect(kind(() => requireMaySetattr(f, { mtime: 1, atime: 1, timesNow: true }, groupie, '/f'))).toBe('ok');
    expect(kind(() => requireMaySetattr(f, { size: 0 }, groupie, '/f'))).toBe('ok');
    expect(kind(() => requireMaySetattr(f, { size: 0 }, { uid: 12, gid: 12 }, '/f'))).toBe('Permission');
    expect(kind(() => requireMaySetattr(f, { uid: 12 }, { uid: 0, gid: 0 }, '/f'))).toBe('ok');
  });
});
