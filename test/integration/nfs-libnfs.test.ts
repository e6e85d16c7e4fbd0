import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { nfsHost } from '../../src-main/hosts/nfs.ts';
import type { MountedHost } from '../../src-main/hosts/types.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';
import { sharedFixtureTree, type SharedTree } from '../helpers/sharedPeers.ts';
import { hasCommand, missingPeer } from '../helpers/peers.ts';

// Our NFS host serving a local folder, read and written by Debian's libnfs-utils.
// The server runs in this process, so the tools must run asynchronously.

function run(cmd: string, args: string[]): Promise<{ code: number; out: Buffer; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 256 << 20 }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err: err.toString() }),
    );
  });
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const skip = missingPeer('libnfs-utils', () => hasCommand('nfs-ls') && hasCommand('nfs-cp') && hasCommand('nfs-cat'), 'apt-get install libnfs-utils');

describe.skipIf(skip)('NFS host read and written by libnfs-utils', () => {
  let base: string;
  let tree: SharedTree;
  let rwDir: string;
  const guests: Vfs[] = [];
  let ro: MountedHost;
  let rw: MountedHost;
  // libnfs mounts the URL's folder part and refuses an empty one, so a file at the
  // export root is addressed as nfs://host//name (folder "/").
  const url = (m: MountedHost, path: string): string => {
    const port = m.info!.port;
    return `nfs://127.0.0.1${path === '/' ? '/' : `/${path}`}?version=3&nfsport=${port}&mountport=${port}`;
  };

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-nfs-libnfs-'));
    // The run's shared tree; its `outside-secret` sits beside it, as ../outside-secret.
    tree = await sharedFixtureTree();
    rwDir = join(base, 'rw');
    mkdirSync(rwDir);
    const roGuest = await openLocalGuest({ kind: 'local', path: tree.dir, readOnly: true });
    const rwGuest = await openLocalGuest({ kind: 'local', path: rwDir, readOnly: false });
    guests.push(roGuest, rwGuest);
    ro = await nfsHost.mount(roGuest, '/ip4/127.0.0.1/tcp/0', { readOnly: true });
    // nfs-cp runs as root here; root squashing is tested in issue-9-nfs-auth.test.ts
    rw = await nfsHost.mount(rwGuest, '/ip4/127.0.0.1/tcp/0', { readOnly: false, rootSquash: false });
  }, 600_000);

  afterAll(async () => {
    await ro?.unmount();
    await rw?.unmount();
    for (const g of guests) await g.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('reports the bound port and the exact mount commands', () => {
    const port = Number(ro.info!.port);
    expect(port).toBeGreaterThan(0);
    expect(ro.target).toBe(`/ip4/127.0.0.1/tcp/${port}`);
    expect(ro.info!.linux).toBe(`mount -t nfs -o vers=3,proto=tcp,port=${port},mountport=${port},nolock 127.0.0.1:/ /mnt/x`);
    expect(ro.info!.macos).toBe(`mount -t nfs -o vers=3,tcp,port=${port},mountport=${port},locallocks 127.0.0.1:/ /Volumes/x`);
    expect(ro.info!.url).toBe(`nfs://127.0.0.1/?version=3&nfsport=${port}&mountport=${port}`);
  });

  it('nfs-ls -R lists every name with its type and size', async () => {
    const r = await run('nfs-ls', ['-R', url(ro, '/')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const seen = new Map<string, { type: string; size: number }>();
    for (const line of r.out.toString('utf8').split('\n')) {
      const m = /^(\S)\S+\s+\d+\s+\d+\s+\d+\s+(\d+) (.*)$/.exec(line);
      if (m) seen.set(m[3]!, { type: m[1]!, size: Number(m[2]) });
    }
    const expected = [...tree.entries.values()].filter((e) => e.path !== '');
    expect([...seen.keys()].sort()).toEqual(expected.map((e) => e.path).sort());
    for (const e of expected) {
      const got = seen.get(e.path)!;
      expect(got.type, e.path).toBe(e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : '-');
      if (e.type === 'file') expect(got.size, e.path).toBe(e.size);
    }
  });

  it('nfs-cat returns every byte of small files, unicode and spaced names included', async () => {
    const files = [...tree.entries.values()].filter((e) => e.type === 'file' && e.path !== 'big.bin');
    const sample = files.filter((e) => !e.path.startsWith('many/') || e.path.endsWith('77.txt'));
    expect(sample.length).toBeGreaterThan(20);
    for (const e of sample) {
      const r = await run('nfs-cat', [url(ro, `/${e.path}`)]);
      expect(r.code, `${e.path}: ${r.err}`).toBe(0);
      expect(sha(r.out), e.path).toBe(e.sha256);
    }
  });

  it('nfs-cp copies the 50 MiB file out byte for byte', async () => {
    const dest = join(base, 'big.copy');
    const r = await run('nfs-cp', [url(ro, '/big.bin'), dest]);
    expect(r.code, r.err).toBe(0);
    expect(sha(readFileSync(dest))).toBe(tree.entries.get('big.bin')!.sha256);
    rmSync(dest);
  });

  it('nfs-cp into a writable local export writes the file; a read-only export refuses', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const src = join(base, 'upload.bin');
    writeFileSync(src, data);
    const ok = await run('nfs-cp', [src, url(rw, '/uploaded.bin')]);
    expect(ok.code, ok.err).toBe(0);
    expect(sha(readFileSync(join(rwDir, 'uploaded.bin')))).toBe(sha(data));
    const back = await run('nfs-cat', [url(rw, '/uploaded.bin')]);
    expect(sha(back.out)).toBe(sha(data));

    const refused = await run('nfs-cp', [src, url(ro, '/uploaded.bin')]);
    expect(refused.code).not.toBe(0);
    expect(existsSync(join(tree.dir, 'uploaded.bin'))).toBe(false);
  });

  it('never serves a file outside the exported folder', async () => {
    for (const path of ['/links/outside', '/../outside-secret', '/../../etc/passwd', '/a/../../outside-secret']) {
      const r = await run('nfs-cat', [url(ro, path)]);
      const text = r.out.toString();
      expect(text, path).not.toContain('must never be served');
      expect(text, path).not.toContain('root:');
    }
  });
});
