import { describe, expect, it } from 'vitest';
import type { GuestSpec, HostSpec } from '../../../../src-shared/mountSpec.ts';
import { selfOverlap, type OverlapSpec } from '../../../../src-main/service/selfOverlap.ts';

const fuse = (mountpoint: string): HostSpec => ({ kind: 'fuse', mountpoint, readOnly: false, allowOther: false, options: [] }) as HostSpec;
const local = (path: string): GuestSpec => ({ kind: 'local', path, readOnly: false }) as GuestSpec;
const ipfs = { kind: 'ipfs' } as GuestSpec;
const m = (mountpoint: string, guest: GuestSpec): OverlapSpec => ({ host: fuse(mountpoint), guest });

describe('selfOverlap', () => {
  it('allows unrelated folders and mounts, and siblings sharing a prefix', () => {
    expect(selfOverlap(m('/mnt/a', local('/srv/a')), [m('/mnt/b', local('/srv/b')), m('/mnt/c', ipfs)])).toBeUndefined();
    expect(selfOverlap(m('/mnt/ab', local('/srv/x')), [m('/mnt/a', local('/srv/y'))])).toBeUndefined();
    expect(selfOverlap(m('/mnt/a', local('/mnt/ab')), [m('/mnt/abc', ipfs)])).toBeUndefined();
  });

  it('refuses a local folder inside its own mount point or another served mount', () => {
    expect(selfOverlap(m('/mnt/x', local('/mnt/x/sub')), [])).toMatch(/local folder \/mnt\/x\/sub lies inside the FUSE mount \/mnt\/x/);
    expect(selfOverlap(m('/mnt/b', local('/mnt/a/data')), [m('/mnt/a', ipfs)])).toMatch(/inside the FUSE mount \/mnt\/a/);
    expect(selfOverlap(m('/mnt/b', local('/mnt/a')), [m('/mnt/a', ipfs)])).toMatch(/inside the FUSE mount \/mnt\/a/);
  });

  it('refuses a mount point inside a served local folder, either way round', () => {
    expect(selfOverlap(m('/srv/a/m', ipfs), [m('/mnt/a', local('/srv/a'))])).toMatch(/FUSE mount \/srv\/a\/m lies inside the local folder \/srv\/a/);
    expect(selfOverlap(m('/mnt/a', local('/srv')), [m('/srv/x/m', ipfs)])).toMatch(/lies inside the local folder \/srv/);
  });

  it('checks an NFS host\'s local folder against the FUSE mounts (an NFS host has no mount point)', () => {
    const nfsHost = { kind: 'nfs', listen: '/ip4/127.0.0.1/tcp/0' } as HostSpec;
    expect(selfOverlap({ host: nfsHost, guest: local('/mnt/a/x') }, [m('/mnt/b', ipfs)])).toBeUndefined();
    expect(selfOverlap({ host: nfsHost, guest: local('/mnt/b/x') }, [m('/mnt/b', ipfs)])).toMatch(/inside the FUSE mount \/mnt\/b/);
    expect(selfOverlap(m('/mnt/c', ipfs), [{ host: nfsHost, guest: local('/srv') }])).toBeUndefined();
  });
});
