import { describe, expect, it } from 'vitest';
import {
  describeIssues,
  MountInputSchema,
  MountSpecSchema,
  mountTarget,
  type MountInput,
} from '../../../src-shared/mountSpec.ts';

/** Parses and returns the one-line problem description, or throws if the spec was accepted. */
function problems(spec: unknown): string {
  const r = MountInputSchema.safeParse(spec);
  if (r.success) throw new Error(`expected the spec to be refused: ${JSON.stringify(spec)}`);
  return describeIssues(r.error);
}

const fuse = { kind: 'fuse', mountpoint: '/mnt/ipfs' } as const;

describe('mount spec schema: accepted specs get their defaults', () => {
  it('fuse + ipfs with nothing else', () => {
    const spec = MountInputSchema.parse({ host: fuse, guest: { kind: 'ipfs' } } satisfies MountInput);
    expect(spec).toEqual({
      host: { kind: 'fuse', mountpoint: '/mnt/ipfs', readOnly: true, allowOther: false, options: [] },
      guest: { kind: 'ipfs' },
      autoMount: true,
    });
  });

  it('nfs host listens on loopback port 0 by default', () => {
    const spec = MountInputSchema.parse({ host: { kind: 'nfs' }, guest: { kind: 'pinfs' } });
    expect(spec.host).toEqual({ kind: 'nfs', listen: '/ip4/127.0.0.1/tcp/0', readOnly: true, clients: [], rootSquash: true, reservedPort: false, allowUids: [] });
    expect(mountTarget(spec.host)).toBe('/ip4/127.0.0.1/tcp/0');
  });

  it.each([
    ['ipfs with a root and a Kubo node', { kind: 'ipfs', root: '/ipfs/bafybeihnqohtjaxafnn54bqe7bztaibdprkl6gzdcccv4t6ela2qosqg7i/wiki', node: '/ip4/127.0.0.1/tcp/5001' }],
    ['ipfs on the embedded node', { kind: 'ipfs', node: 'embedded' }],
    ['ipns over https', { kind: 'ipns', name: 'example.org', node: '/dns4/ipfs.example.org/tcp/443/https' }],
    ['keyfs over a unix socket', { kind: 'keyfs', node: '/unix/run/ipfs.sock' }],
    ['mfs (default path /)', { kind: 'mfs' }],
    ['nfs guest', { kind: 'nfs', server: '/ip4/127.0.0.1/tcp/2049', export: '/export' }],
    ['nfs guest with its MOUNT port', { kind: 'nfs', server: '/ip4/127.0.0.1/tcp/2049', mountPort: 20048 }],
    ['local folder', { kind: 'local', path: '/srv/data' }],
  ])('%s', (_name, guest) => {
    expect(MountInputSchema.safeParse({ host: fuse, guest }).success).toBe(true);
  });

  it('fills mfs path and local readOnly', () => {
    expect(MountInputSchema.parse({ host: fuse, guest: { kind: 'mfs' } }).guest).toEqual({ kind: 'mfs', path: '/' });
    expect(MountInputSchema.parse({ host: fuse, guest: { kind: 'local', path: '/a' } }).guest).toEqual({
      kind: 'local',
      path: '/a',
      readOnly: false,
    });
  });

  it('a stored spec needs a safe id', () => {
    const input = { host: fuse, guest: { kind: 'ipfs' } };
    expect(MountSpecSchema.safeParse({ ...input, id: 'm_3fKq9-x' }).success).toBe(true);
    const r = MountSpecSchema.safeParse({ ...input, id: '../etc' });
    expect(r.success || describeIssues(r.error)).toBe('id: expected a mount id of 1-64 letters, digits, "_" or "-"');
  });
});

describe('mount spec schema: bad specs are refused with a useful message', () => {
  it.each([
    ['relative mountpoint', { host: { kind: 'fuse', mountpoint: 'mnt/x' }, guest: { kind: 'ipfs' } }, 'host.mountpoint: expected an absolute path starting with "/"'],
    ['empty mountpoint', { host: { kind: 'fuse', mountpoint: '' }, guest: { kind: 'ipfs' } }, 'host.mountpoint: expected an absolute path, got an empty string'],
    ['NUL in a mountpoint', { host: { kind: 'fuse', mountpoint: '/mnt/a\0b' }, guest: { kind: 'ipfs' } }, 'host.mountpoint: path contains a NUL byte'],
    ['NUL in a local path', { host: fuse, guest: { kind: 'local', path: '/a\0' } }, 'guest.path: path contains a NUL byte'],
    ['unknown host kind', { host: { kind: 'smb', mountpoint: '/x' }, guest: { kind: 'ipfs' } }, "host.kind: Invalid discriminator value. Expected 'fuse' | 'nfs'"],
    ['unknown guest kind', { host: fuse, guest: { kind: 'ftp' } }, "guest.kind: Invalid discriminator value. Expected 'ipfs' | 'ipns'"],
    ['bad node multiaddr', { host: fuse, guest: { kind: 'ipfs', node: '/ip4/127.0.0.1/udp/5001' } }, 'guest.node: unsupported multiaddr "/ip4/127.0.0.1/udp/5001" (ip4/udp): expected /ip4/<addr>/tcp/<port>'],
    ['node that is not a multiaddr', { host: fuse, guest: { kind: 'pinfs', node: 'localhost:5001' } }, 'guest.node: expected a multiaddr starting with "/"'],
    ['bad nfs listen address', { host: { kind: 'nfs', listen: '/ip4/127.0.0.1/tcp/99999' }, guest: { kind: 'pinfs' } }, 'host.listen: not a usable multiaddr'],
    ['bad nfs server', { host: fuse, guest: { kind: 'nfs', server: '/dns4/x' } }, 'guest.server: unsupported multiaddr "/dns4/x"'],
    ['nfs mount port out of range', { host: fuse, guest: { kind: 'nfs', server: '/ip4/127.0.0.1/tcp/2049', mountPort: 0 } }, 'guest.mountPort: expected a port from 1 to 65535'],
    ['relative mfs path', { host: fuse, guest: { kind: 'mfs', path: 'docs' } }, 'guest.path: expected an MFS path starting with "/"'],
    ['FUSE option with a space', { host: { ...fuse, options: ['allow_other ro'] }, guest: { kind: 'ipfs' } }, 'host.options.0: expected a FUSE option like "noatime"'],
    ['negative uid', { host: { ...fuse, uid: -1 }, guest: { kind: 'ipfs' } }, 'host.uid: Too small: expected number to be >=0'],
    ['fractional timeout', { host: fuse, guest: { kind: 'ipfs', timeoutMs: 1.5 } }, 'guest.timeoutMs'],
    ['missing guest', { host: fuse }, 'guest:'],
    ['not an object', 'fuse ipfs /mnt', '(spec):'],
  ])('%s', (_name, spec, message) => {
    expect(problems(spec)).toContain(message);
  });

  it('lists every problem, one per field', () => {
    const text = problems({ host: { kind: 'fuse', mountpoint: 'x' }, guest: { kind: 'local', path: 'y' } });
    expect(text.split('; ')).toEqual([
      'host.mountpoint: expected an absolute path starting with "/"',
      'guest.path: expected an absolute path starting with "/"',
    ]);
  });
});

describe('content paths inside guest specs', () => {
  const fuse = { kind: 'fuse', mountpoint: '/mnt/x' } as const;
  it('rejects an ipfs root that is not a content path, saying what was expected', () => {
    const r = MountInputSchema.safeParse({ host: fuse, guest: { kind: 'ipfs', root: '/ipfs/nope' } });
    expect(r.success).toBe(false);
    if (!r.success) expect(describeIssues(r.error)).toMatch(/^guest\.root: .*expected a CID/);
  });
  it('rejects an /ipns/ path as an ipfs root and an /ipfs/ path as an ipns name', () => {
    const cid = 'bafybeihnqohtjaxafnn54bqe7bztaibdprkl6gzdcccv4t6ela2qosqg7i';
    const a = MountInputSchema.safeParse({ host: fuse, guest: { kind: 'ipfs', root: '/ipns/example.org' } });
    expect(a.success).toBe(false);
    const b = MountInputSchema.safeParse({ host: fuse, guest: { kind: 'ipns', name: `/ipfs/${cid}` } });
    expect(b.success).toBe(false);
    if (!b.success) expect(describeIssues(b.error)).toMatch(/expected \/ipns\//);
  });
  it('accepts a CID, a gateway URL and a bare IPNS name', () => {
    const cid = 'bafybeihnqohtjaxafnn54bqe7bztaibdprkl6gzdcccv4t6ela2qosqg7i';
    for (const root of [cid, `/ipfs/${cid}/docs`, `https://dweb.link/ipfs/${cid}`]) {
      expect(MountInputSchema.safeParse({ host: fuse, guest: { kind: 'ipfs', root } }).success, root).toBe(true);
    }
    expect(MountInputSchema.safeParse({ host: fuse, guest: { kind: 'ipns', name: 'example.org' } }).success).toBe(true);
  });
});
