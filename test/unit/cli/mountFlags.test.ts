import { describe, expect, it } from 'vitest';
import { parseMountArgs } from '../../../src-main/cli/mountFlags.ts';

describe('parseMountArgs', () => {
  it('builds a validated mount input from flags', () => {
    const { input, foreground } = parseMountArgs([
      'fuse', 'ipfs', '--ipfs-api', '/ip4/127.0.0.1/tcp/5001', '--root', '/ipfs/bafybeihnqohtjaxafnn54bqe7bztaibdprkl6gzdcccv4t6ela2qosqg7i', '--timeout', '30s', '--cache-expiry', '2m',
      '--uid', '1000', '--gid', '100', '--allow-other', '-o', 'noatime', '-o', 'max_read=65536', '/mnt/ipfs', '--foreground',
    ]);
    expect(foreground).toBe(true);
    expect(input.host).toEqual({ kind: 'fuse', mountpoint: '/mnt/ipfs', readOnly: true, allowOther: true, uid: 1000, gid: 100, options: ['noatime', 'max_read=65536'] });
    expect(input.guest).toEqual({ kind: 'ipfs', root: '/ipfs/bafybeihnqohtjaxafnn54bqe7bztaibdprkl6gzdcccv4t6ela2qosqg7i', node: '/ip4/127.0.0.1/tcp/5001', timeoutMs: 30_000, cacheExpiryMs: 120_000, uid: 1000, gid: 100 });
  });

  it('read-only by default, --rw for a writable local folder', () => {
    expect(parseMountArgs(['fuse', 'local', '--path', '/srv', '/mnt/x']).input).toMatchObject({
      host: { readOnly: true }, guest: { kind: 'local', path: '/srv', readOnly: false },
    });
    expect(parseMountArgs(['fuse', 'local', '--rw', '--path', '/srv', '/mnt/x']).input).toMatchObject({
      host: { readOnly: false }, guest: { readOnly: false },
    });
    expect(parseMountArgs(['fuse', 'local', '--read-only', '--path', '/srv', '/mnt/x']).input.guest).toMatchObject({ readOnly: true });
  });

  it('ipns takes --name or --root; nfs hosts take a listen address', () => {
    expect(parseMountArgs(['fuse', 'ipns', '--name', 'docs.example.org', '/m']).input.guest).toMatchObject({ kind: 'ipns', name: 'docs.example.org' });
    expect(parseMountArgs(['fuse', 'ipns', '--root', '/ipns/example.org', '/m']).input.guest).toMatchObject({ name: '/ipns/example.org' });
    expect(parseMountArgs(['nfs', 'pinfs', '/ip4/127.0.0.1/tcp/0']).input.host).toMatchObject({ kind: 'nfs', listen: '/ip4/127.0.0.1/tcp/0' });
  });

  it('nfs hosts take the credential flags (issue 9); fuse hosts refuse them', () => {
    const plain = parseMountArgs(['nfs', 'local', '--path', '/srv', '--rw', '/ip4/127.0.0.1/tcp/0']).input.host;
    expect(plain).toMatchObject({ kind: 'nfs', readOnly: false, rootSquash: true, reservedPort: false, allowUids: [] });
    const strict = parseMountArgs(['nfs', 'local', '--path', '/srv', '--rw', '--nfs-no-root-squash', '--nfs-reserved-port', '--nfs-allow-uid', '1001', '--nfs-allow-uid', '1002', '/ip4/127.0.0.1/tcp/0']).input.host;
    expect(strict).toMatchObject({ rootSquash: false, reservedPort: true, allowUids: [1001, 1002] });
    expect(() => parseMountArgs(['nfs', 'local', '--path', '/srv', '--nfs-allow-uid', 'bob', '/ip4/127.0.0.1/tcp/0'])).toThrow(/--nfs-allow-uid: expected a numeric id/);
    expect(() => parseMountArgs(['fuse', 'local', '--path', '/srv', '--nfs-no-root-squash', '/mnt/x'])).toThrow(/applies to nfs hosts only/);
  });

  it('--xattrs asks a local folder through FUSE to keep user.* extended attributes; elsewhere refused', () => {
    expect(parseMountArgs(['fuse', 'local', '--path', '/srv', '--rw', '--xattrs', '/mnt/x']).input.guest).toMatchObject({ kind: 'local', xattrs: true });
    expect(parseMountArgs(['fuse', 'local', '--path', '/srv', '/mnt/x']).input.guest).not.toHaveProperty('xattrs');
    expect(() => parseMountArgs(['fuse', 'mfs', '--xattrs', '/mnt/x'])).toThrow(/local guest only/);
    expect(() => parseMountArgs(['nfs', 'local', '--path', '/srv', '--xattrs', '/ip4/127.0.0.1/tcp/0'])).toThrow(/fuse hosts only/);
  });

  it('nfs guests take --nfs-mount-port (no portmapper needed)', () => {
    const args = ['fuse', 'nfs', '--nfs-server', '/ip4/127.0.0.1/tcp/2049', '--nfs-mount-port', '20048', '/m'];
    expect(parseMountArgs(args).input.guest).toMatchObject({ kind: 'nfs', mountPort: 20048 });
    expect(parseMountArgs(['fuse', 'nfs', '--nfs-server', '/ip4/127.0.0.1/tcp/2049', '/m']).input.guest).not.toHaveProperty('mountPort');
  });

  it('says which flag takes what a guest serves when it is given as a fourth word', () => {
    const cid = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
    expect(() => parseMountArgs(['fuse', 'ipfs', cid, '/mnt/x'])).toThrow(`ipfs takes that by a flag: berth mount fuse ipfs --root ${cid} /mnt/x`);
    expect(() => parseMountArgs(['fuse', 'local', '--rw', '/srv/my files', '/mnt/x'])).toThrow("berth mount fuse local --rw --path '/srv/my files' /mnt/x");
    expect(() => parseMountArgs(['nfs', 'mfs', '/docs', '/ip4/127.0.0.1/tcp/0'])).toThrow('berth mount nfs mfs --path /docs /ip4/127.0.0.1/tcp/0');
    expect(() => parseMountArgs(['fuse', 'nfs', '/ip4/10.0.0.2/tcp/2049', '/m'])).toThrow('--nfs-server /ip4/10.0.0.2/tcp/2049 /m');
    // Nothing to suggest: pinfs serves the node's pins, and five words are not four.
    expect(() => parseMountArgs(['fuse', 'pinfs', 'x', '/m'])).toThrow(/got 4 arguments: "fuse" "pinfs" "x" "\/m"$/);
    expect(() => parseMountArgs(['fuse', 'ipfs', 'a', 'b', '/m'])).toThrow(/got 5 arguments: [^;]*$/);
  });

  it.each([
    [['fuse', 'ipfs'], /expected <host> <guest> <target>/],
    [['smb', 'ipfs', '/m'], /unknown host "smb"/],
    [['fuse', 'http', '/m'], /unknown guest "http"/],
    [['fuse', 'ipfs', '--timeout', '10 parsecs', '/m'], /--timeout: invalid duration/],
    [['fuse', 'ipfs', '--uid', '-1', '/m'], /ambiguous|--uid: expected a numeric id/],
    [['fuse', 'ipfs', '--uid=-1', '/m'], /--uid: expected a numeric id/],
    [['fuse', 'ipfs', '--path', '/x', '/m'], /--path applies to local\/mfs guests/],
    [['fuse', 'ipfs', '--name', 'x', '/m'], /--name applies to ipns guests/],
    [['fuse', 'ipns', '--name', 'a', '--root', 'b', '/m'], /not both/],
    [['fuse', 'local', '/m'], /needs --path/],
    [['fuse', 'local', '--path', 'rel', '/m'], /guest\.path: expected an absolute path/],
    [['fuse', 'ipfs', 'mnt'], /host\.mountpoint: expected an absolute path/],
    [['fuse', 'ipfs', '-o', 'a b', '/m'], /host\.options\.0: expected a FUSE option/],
    [['nfs', 'ipfs', '--allow-other', '/ip4/127.0.0.1/tcp/0'], /fuse hosts only/],
    [['fuse', 'ipfs', '--rw', '--read-only', '/m'], /contradict/],
    [['fuse', 'nfs', '--nfs-server', '/ip4/127.0.0.1/tcp/2049', '--nfs-mount-port', '70000', '/m'], /--nfs-mount-port: expected a TCP port from 1 to 65535/],
    [['fuse', 'ipfs', '--nfs-mount-port', '2049', '/m'], /--nfs-mount-port applies to nfs guests/],
  ])('refuses %j', (args, msg) => {
    expect(() => parseMountArgs(args)).toThrow(msg);
    try {
      parseMountArgs(args);
    } catch (err) {
      expect((err as Error).name).toBe('UsageError');
    }
  });
});
