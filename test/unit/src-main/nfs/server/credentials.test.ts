import { describe, expect, it } from 'vitest';
import { AUTH_NONE, AUTH_SYS, AuthStat } from '../../../../../src-main/nfs/rpc/messages.ts';
import { callerOf, type NfsAuthPolicy } from '../../../../../src-main/nfs/server/credentials.ts';

const sys = (uid: number, gid: number, gids: number[] = []) => ({ flavor: AUTH_SYS, uid, gid, gids, machine: 'h' });
const policy = (p: Partial<NfsAuthPolicy> = {}): NfsAuthPolicy => ({ writable: true, rootSquash: true, reservedPort: false, serverUid: 0, allowUids: [], ...p });
const refusal = (f: () => unknown): unknown => {
  try {
    f();
    return 'accepted';
  } catch (err) {
    return (err as { authStat?: number }).authStat;
  }
};

describe('NFS credentials (issue 9)', () => {
  it('takes uid, gid and groups from AUTH_SYS', () => {
    expect(callerOf(policy(), sys(1000, 100, [4, 27]), '127.0.0.1:40000')).toEqual({ uid: 1000, gid: 100, groups: [4, 27] });
  });

  it('squashes root unless told not to', () => {
    expect(callerOf(policy(), sys(0, 0, [0]), '127.0.0.1:700')).toEqual({ uid: 65534, gid: 65534, groups: [] });
    expect(callerOf(policy({ rootSquash: false }), sys(0, 0), '127.0.0.1:700')).toMatchObject({ uid: 0, gid: 0 });
  });

  it('refuses AUTH_NONE on a writable export and makes it nobody on a read-only one', () => {
    expect(refusal(() => callerOf(policy(), { flavor: AUTH_NONE }, '127.0.0.1:1'))).toBe(AuthStat.AUTH_TOOWEAK);
    expect(callerOf(policy({ writable: false }), { flavor: AUTH_NONE }, '127.0.0.1:1')).toEqual({ uid: 65534, gid: 65534, groups: [] });
  });

  it('requires a reserved source port when asked, also over IPv6', () => {
    const p = policy({ reservedPort: true });
    expect(refusal(() => callerOf(p, sys(1000, 1000), '127.0.0.1:40000'))).toBe(AuthStat.AUTH_TOOWEAK);
    expect(refusal(() => callerOf(p, sys(1000, 1000), '::1:1023'))).toBe('accepted');
    expect(refusal(() => callerOf(p, sys(1000, 1000), '::1:1024'))).toBe(AuthStat.AUTH_TOOWEAK);
  });

  it('a server not running as root serves its own uid and the allowed ones only', () => {
    const p = policy({ serverUid: 1000 });
    expect(refusal(() => callerOf(p, sys(1000, 1000), '127.0.0.1:40000'))).toBe('accepted');
    expect(refusal(() => callerOf(p, sys(1001, 1001), '127.0.0.1:40000'))).toBe(AuthStat.AUTH_TOOWEAK);
    // root is squashed to nobody first, and nobody is not the server either.
    expect(refusal(() => callerOf(p, sys(0, 0), '127.0.0.1:40000'))).toBe(AuthStat.AUTH_TOOWEAK);
    expect(refusal(() => callerOf(policy({ serverUid: 1000, allowUids: [1001] }), sys(1001, 1001), '127.0.0.1:1'))).toBe('accepted');
  });
});
