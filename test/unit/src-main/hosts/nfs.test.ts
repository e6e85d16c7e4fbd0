import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { clientAllowList, isLoopback, mountCommands, nfsHost } from '../../../../src-main/hosts/nfs.ts';
import type { Vfs } from '../../../../src-main/vfs/types.ts';
import { NfsServer } from '../../../../src-main/nfs/server/NfsServer.ts';

// The NFS host's rules: loopback by default, an explicit allow-list off loopback,
// enforced on every accepted connection; and the mount commands it reports.

const vfs = { name: 'empty', readOnly: true, close: async () => {} } as unknown as Vfs;

describe('nfs host', () => {
  it('knows loopback addresses, IPv4-mapped included', () => {
    for (const a of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a), a).toBe(true);
    for (const a of ['10.0.0.1', '0.0.0.0', '::', '::ffff:192.168.1.2']) expect(isLoopback(a), a).toBe(false);
  });

  it('allows loopback plus listed addresses and CIDR ranges only', () => {
    const allow = clientAllowList(['192.168.1.20', '10.0.0.0/8', 'fd00::/8']);
    expect(allow('127.0.0.1')).toBe(true);
    expect(allow('192.168.1.20')).toBe(true);
    expect(allow('::ffff:192.168.1.20')).toBe(true);
    expect(allow('10.200.3.4')).toBe(true);
    expect(allow('fd12::1')).toBe(true);
    expect(allow('192.168.1.21')).toBe(false);
    expect(allow('8.8.8.8')).toBe(false);
    expect(() => clientAllowList(['not-an-ip'])).toThrow(/expected an IP address or a CIDR range/);
    expect(() => clientAllowList(['10.0.0.0/33'])).toThrow(/prefix length/);
  });

  it('reports the exact mount commands and libnfs URL', () => {
    expect(mountCommands('127.0.0.1', 2049)).toEqual({
      port: '2049',
      linux: 'mount -t nfs -o vers=3,proto=tcp,port=2049,mountport=2049,nolock 127.0.0.1:/ /mnt/x',
      macos: 'mount -t nfs -o vers=3,tcp,port=2049,mountport=2049,locallocks 127.0.0.1:/ /Volumes/x',
      url: 'nfs://127.0.0.1/?version=3&nfsport=2049&mountport=2049',
    });
  });

  it('refuses a non-loopback address without an allow-list, and bad multiaddrs', async () => {
    await expect(nfsHost.mount(vfs, '/ip4/0.0.0.0/tcp/0', {})).rejects.toMatchObject({ kind: 'Permission', message: expect.stringMatching(/allow-list/) });
    await expect(nfsHost.mount(vfs, '/dns4/example.com/tcp/0', {})).rejects.toMatchObject({ kind: 'InvalidItem' });
    await expect(nfsHost.mount(vfs, 'localhost:2049', {})).rejects.toMatchObject({ kind: 'InvalidItem' });
  });

  it('binds port 0 to a free port, reports it, and frees it on unmount', async () => {
    const m = await nfsHost.mount(vfs, '/ip4/127.0.0.1/tcp/0', {});
    const port = Number(m.info!.port);
    expect(m.target).toBe(`/ip4/127.0.0.1/tcp/${port}`);
    await expect(nfsHost.mount(vfs, m.target, {})).rejects.toMatchObject({ kind: 'Exist' });
    let settled = false;
    void m.done.then(() => (settled = true));
    await m.unmount();
    await Promise.resolve();
    expect(settled).toBe(true);
    const again = await nfsHost.mount(vfs, m.target, {});
    await again.unmount();
  });

  it('closes connections from clients the allow-list refuses, at accept', async () => {
    const refused: string[] = [];
    const server = new NfsServer(vfs, { allow: () => false, onError: (e) => refused.push(e.message) });
    const { port } = await server.listen(0);
    try {
      const closed = await new Promise<boolean>((resolve) => {
        const s = connect({ host: '127.0.0.1', port });
        s.on('error', () => {});
        s.on('close', () => resolve(true));
        setTimeout(() => resolve(false), 5_000);
      });
      expect(closed).toBe(true);
      expect(refused[0]).toMatch(/not in the allow-list/);
    } finally {
      await server.close();
    }
  });
});
