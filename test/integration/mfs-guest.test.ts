import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mfsGuestOn } from '../../src-main/guests/mfs.ts';
import { connectNode } from '../../src-main/ipfs/discover.ts';
import type { IpfsNode } from '../../src-main/ipfs/IpfsNode.ts';
import { FsError } from '../../src-main/vfs/FsError.ts';
import type { FileHandle, Vfs } from '../../src-main/vfs/types.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';

// Issue 10 part 2: the mfs guest, driven directly, on the js-ipfs peer (Kubo's files API)
// and on the embedded node: every write operation, write-back with flush on close, the
// CID after the last flush, random writes checked against a local copy.

const skip = missingIpfsPeer();
const o = (ms = 60_000): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(ms) });
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function kind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof FsError ? err.kind : `not an FsError: ${String(err)}`;
  }
}

async function readAll(vfs: Vfs, path: string): Promise<Buffer> {
  const h = await vfs.open(path, {}, o());
  const parts: Uint8Array[] = [];
  try {
    for (let pos = 0; ; ) {
      const b = await h.read(pos, 256 * 1024, o());
      if (b.length === 0) break;
      parts.push(b);
      pos += b.length;
    }
  } finally {
    await h.close();
  }
  return Buffer.concat(parts);
}

async function writeFile(vfs: Vfs, path: string, data: Uint8Array): Promise<void> {
  const h = await vfs.create!(path, 0o644, o());
  try {
    for (let pos = 0; pos < data.length; pos += 128 * 1024) await h.write!(pos, data.subarray(pos, pos + 128 * 1024), o());
  } finally {
    await h.close();
  }
}

async function names(vfs: Vfs, path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of vfs.readdir(path, o())) out.push(e.name);
  return out.sort();
}

function mfsCases(label: string, make: () => Promise<{ node: IpfsNode; base: string; env: NodeJS.ProcessEnv }>): void {
  describe(`mfs guest on ${label}`, () => {
    let vfs: Vfs;
    let node: IpfsNode;
    let base = '';
    beforeAll(async () => {
      const m = await make();
      node = m.node;
      base = m.base;
      await node.mfs().mkdir(m.base, o());
      vfs = mfsGuestOn(node, { path: m.base }, m.env);
    });
    afterAll(async () => {
      await vfs?.close();
    });

    it('creates, writes, reads back; the xattr CID is the content after the flush', async () => {
      const data = randomBytes(1024 * 1024 + 77);
      await vfs.mkdir!('/d', 0o755, o());
      await writeFile(vfs, '/d/f.bin', data);
      expect((await vfs.getattr('/d/f.bin', o())).size).toBe(data.length);
      expect(sha(await readAll(vfs, '/d/f.bin'))).toBe(sha(data));
      const cid = new TextDecoder().decode((await vfs.getxattr('/d/f.bin', 'user.ipfs.cid', o()))!);
      expect(cid).toBe(await node.mfs().cidOf(`${(vfs as { name: string }).name.slice(4)}/d/f.bin`, o()));
      const viaCat: Uint8Array[] = [];
      for await (const c of node.cat(cid, o())) viaCat.push(c);
      expect(sha(Buffer.concat(viaCat))).toBe(sha(data));
      expect(await names(vfs, '/d')).toEqual(['f.bin']);
    });

    it('lists files whose last handle is still closing (FUSE release does not wait for it)', async () => {
      await vfs.mkdir!('/closing', 0o755, o());
      const closes: Promise<void>[] = [];
      for (let i = 0; i < 12; i++) {
        const h = await vfs.create!(`/closing/f${i}.txt`, 0o644, o());
        await h.write!(0, new TextEncoder().encode(`file ${i}\n`), o());
        closes.push(h.close()); // like the kernel's release: nobody waits for it
      }
      expect(await names(vfs, '/closing')).toEqual(Array.from({ length: 12 }, (_, i) => `f${i}.txt`).sort());
      await Promise.all(closes);
    });

    it('lists a file whose last handle closes while the folder is being listed', async () => {
      await vfs.mkdir!('/racing', 0o755, o());
      const h = await vfs.create!('/racing/late.txt', 0o644, o());
      await h.write!(0, new TextEncoder().encode('late\n'), o());
      // the listing has started (it waits for the node) when the kernel's release arrives
      const listing = vfs.readdir('/racing', o())[Symbol.asyncIterator]();
      const first = listing.next();
      const closed = h.close();
      const got: string[] = [];
      for (let r = await first; !r.done; r = await listing.next()) got.push(r.value.name);
      expect(got).toEqual(['late.txt']);
      await closed;
    });

    it('random writes and truncates match a local copy; a file being written is seen with its new size', async () => {
      const local = Buffer.from(randomBytes(600_000));
      await writeFile(vfs, '/r.bin', local);
      const h: FileHandle = await vfs.open('/r.bin', { write: true }, o());
      let copy = Buffer.from(local);
      for (let i = 0; i < 40; i++) {
        const pos = (i * 104_729) % 900_000;
        const chunk = randomBytes(1 + ((i * 7919) % 70_000));
        await h.write!(pos, chunk, o());
        if (pos + chunk.length > copy.length) copy = Buffer.concat([copy, Buffer.alloc(pos + chunk.length - copy.length)]);
        chunk.copy(copy, pos);
      }
      expect((await vfs.getattr('/r.bin', o())).size).toBe(copy.length);
      await h.truncate!(500_001, o());
      copy = copy.subarray(0, 500_001);
      await h.close();
      expect(sha(await readAll(vfs, '/r.bin'))).toBe(sha(copy));
      await vfs.setattr!('/r.bin', { size: 10 }, o());
      expect((await readAll(vfs, '/r.bin')).equals(copy.subarray(0, 10))).toBe(true);
    });

    it('two writers of one file are serialised: every byte of both lands', async () => {
      const a = await vfs.create!('/two.txt', 0o644, o());
      const b = await vfs.open('/two.txt', { write: true }, o());
      await Promise.all([a.write!(0, Buffer.from('aaaa'), o()), b.write!(4, Buffer.from('bbbb'), o())]);
      await a.close();
      await b.close();
      expect((await readAll(vfs, '/two.txt')).toString()).toBe('aaaabbbb');
    });

    it('renames over an existing file (editor save), unlinks, refuses rmdir of a full folder', async () => {
      await writeFile(vfs, '/doc.txt', Buffer.from('old\n'));
      await writeFile(vfs, '/.doc.txt.swp', Buffer.from('new\n'));
      await vfs.rename!('/.doc.txt.swp', '/doc.txt', o());
      expect((await readAll(vfs, '/doc.txt')).toString()).toBe('new\n');
      expect(await kind(vfs.getattr('/.doc.txt.swp', o()))).toBe('NotExist');
      await vfs.mkdir!('/full', 0o755, o());
      await writeFile(vfs, '/full/x', Buffer.from('x'));
      expect(await kind(vfs.rmdir!('/full', o()))).toBe('NotEmpty');
      await vfs.rename!('/full/x', '/full/y', o());
      expect(await names(vfs, '/full')).toEqual(['y']);
      await vfs.unlink!('/full/y', o());
      await vfs.rmdir!('/full', o());
      expect(await kind(vfs.getattr('/full', o()))).toBe('NotExist');
      expect(await kind(vfs.unlink!('/nope', o()))).toBe('NotExist');
      expect(await kind(vfs.mkdir!('/d', 0o755, o()))).toBe('Exist');
    });

    it('symlinks, chmod and mtime are stored in the UnixFS nodes', async () => {
      await vfs.symlink!('d/f.bin', '/link', o());
      expect(await vfs.readlink('/link', o())).toBe('d/f.bin');
      expect((await vfs.getattr('/link', o())).type).toBe('symlink');
      await writeFile(vfs, '/m.txt', Buffer.from('m'));
      await vfs.setattr!('/m.txt', { mode: 0o600 }, o());
      expect((await vfs.getattr('/m.txt', o())).mode).toBe(0o600);
      await vfs.setattr!('/m.txt', { mtime: 1_600_000_000_000, atime: 1_600_000_000_000 }, o());
      expect((await vfs.getattr('/m.txt', o())).mtime).toBe(1_600_000_000_000);
      expect((await readAll(vfs, '/m.txt')).toString()).toBe('m');
    });

    it('a put that fails reaches the caller that waits (fsync) by its kind, and is logged when nobody waits (last close)', async () => {
      await vfs.mkdir!('/vanishing', 0o755, o());
      // another client of the node removes the folder: the guest does not know
      await node.mfs().rm(`${base}/vanishing`, o());
      const h = await vfs.create!('/vanishing/a', 0o644, o());
      await h.write!(0, new TextEncoder().encode('a\n'), o());
      expect(await kind(h.flush!(o()))).toBe('NotExist');
      await h.close();
      const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        await writeFile(vfs, '/vanishing/b', new TextEncoder().encode('b\n'));
        await expect.poll(() => logged.mock.calls.map((c) => String(c[0])).find((m) => m.includes('/vanishing/b')), { timeout: 10_000 }).toMatch(/could not be saved/);
      } finally {
        logged.mockRestore();
      }
    });
  });
}

describe.skipIf(skip)('issue 10: the mfs guest', () => {
  let peer: SharedIpfsPeer | undefined;
  let work = '';
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-mfs-'));
    peer = await sharedIpfsPeer();
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  mfsCases('the js-ipfs peer (Kubo files API)', async () => {
    const env = { ...process.env, XDG_CACHE_HOME: join(work, 'cache-js') };
    return { node: await connectNode(peer!.apiMultiaddr, { env }), base: `/berth-test-${process.pid}-${Date.now()}`, env };
  });
  mfsCases('the embedded node', async () => {
    const data = join(work, 'data');
    await mkdir(data, { recursive: true });
    const env = { ...process.env, XDG_DATA_HOME: data, XDG_CACHE_HOME: join(work, 'cache-emb') };
    return { node: await connectNode('embedded', { env, gateways: [] }), base: `/berth-test-${process.pid}-${Date.now()}`, env };
  });
});
