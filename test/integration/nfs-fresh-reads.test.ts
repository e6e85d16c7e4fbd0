import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { nfsHost } from '../../src-main/hosts/nfs.ts';
import type { MountedHost } from '../../src-main/hosts/types.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';
import { wrapGuest } from '../../src-main/vfs/wrapGuest.ts';
import { hasCommand, missingPeer } from '../helpers/peers.ts';

// Issue 11's caches on the NFS host's read paths (chunks read ahead, listing snapshots,
// entries encoded once, a listing's folder attributes) never hand out what a folder held
// before it changed outside Berth (issue 9 finding 7: no old size with new bytes), read
// by libnfs's tools against the host as a mount serves it (deadlines and caches included).

function run(cmd: string, args: string[]): Promise<{ code: number; out: Buffer; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 256 << 20 }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err: err.toString() }),
    );
  });
}

const skip = missingPeer('libnfs-utils', () => hasCommand('nfs-ls') && hasCommand('nfs-cp'), 'apt-get install libnfs-utils');

describe.skipIf(skip)('issue 11: the NFS host never serves old bytes or sizes after an outside change', () => {
  let dir: string;
  let out: string;
  let vfs: Vfs;
  let host: MountedHost;
  const url = (name: string): string => {
    const port = host.info!.port;
    return `nfs://127.0.0.1/${name}?version=3&nfsport=${port}&mountport=${port}`;
  };
  let copies = 0;
  const copy = async (name: string): Promise<Buffer> => {
    const dest = join(out, `copy-${copies++}`);
    const r = await run('nfs-cp', [url(`/${name}`), dest]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return readFileSync(dest);
  };
  const listed = async (): Promise<Map<string, number>> => {
    const r = await run('nfs-ls', [url('')]);
    expect(r.code).toBe(0);
    const m = new Map<string, number>();
    for (const line of r.out.toString('utf8').split('\n')) {
      const x = /^\S+\s+\d+\s+\d+\s+\d+\s+(\d+) (.*)$/.exec(line);
      if (x) m.set(x[2]!, Number(x[1]));
    }
    return m;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-nfs-fresh-'));
    chmodSync(dir, 0o755); // the host squashes root (nfs-cp here) to nobody
    out = mkdtempSync(join(tmpdir(), 'berth-nfs-fresh-out-'));
    vfs = wrapGuest(await openLocalGuest({ kind: 'local', path: dir, readOnly: true }));
    host = await nfsHost.mount(vfs, '/ip4/127.0.0.1/tcp/0', { readOnly: true });
  });

  afterAll(async () => {
    await host?.unmount();
    await vfs?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('a copy right after the file changed is the new file, longer or shorter, byte for byte', async () => {
    // 13 MiB: several read-ahead chunks and a partial one at the end
    let content = randomBytes(13 * (1 << 20) + 4321);
    writeFileSync(join(dir, 'big.bin'), content);
    expect((await copy('big.bin')).equals(content)).toBe(true);
    for (const size of [13 * (1 << 20) + 9999, 5 * (1 << 20) + 1, 13 * (1 << 20)]) {
      content = randomBytes(size);
      writeFileSync(join(dir, 'big.bin'), content);
      const got = await copy('big.bin');
      expect(got.length).toBe(size);
      expect(got.equals(content)).toBe(true);
    }
  });

  it('a listing right after files changed shows their new sizes and names', async () => {
    writeFileSync(join(dir, 'a.txt'), 'version2-');
    expect((await listed()).get('a.txt')).toBe(9);
    writeFileSync(join(dir, 'a.txt'), 'version2-longer');
    writeFileSync(join(dir, 'b.txt'), 'new');
    const now = await listed();
    expect(now.get('a.txt')).toBe(15);
    expect(now.get('b.txt')).toBe(3);
    rmSync(join(dir, 'b.txt'));
    expect((await listed()).has('b.txt')).toBe(false);
  });
});
