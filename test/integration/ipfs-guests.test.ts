import { createHash } from 'node:crypto';
import { open as openFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { base32 } from 'multiformats/bases/base32';
import { base58btc } from 'multiformats/bases/base58';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipfsGuestOn } from '../../src-main/guests/ipfs.ts';
import { ipnsGuestOn } from '../../src-main/guests/ipns.ts';
import { keyfsGuestOn } from '../../src-main/guests/keyfs.ts';
import { pinfsGuestOn } from '../../src-main/guests/pinfs.ts';
import { connectNode } from '../../src-main/ipfs/discover.ts';
import type { IpfsNode } from '../../src-main/ipfs/IpfsNode.ts';
import { FsError } from '../../src-main/vfs/FsError.ts';
import type { DirEntry, Vfs } from '../../src-main/vfs/types.ts';
import {
  type AddedFixture,
  BIG_SIZE,
  type FixtureTree,
  MANY_COUNT,
  META_MODE,
  META_MTIME_SECS,
  unixfsType,
} from '../helpers/fixtures.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';

// Each IPFS guest driven directly through the Vfs interface, over a real js-ipfs peer
// holding the issue-2 fixture tree. FUSE and NFS tests build on the same guests.

const skip = missingIpfsPeer();

const o = (ms = 30_000): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(ms) });

async function list(vfs: Vfs, path: string): Promise<DirEntry[]> {
  const out: DirEntry[] = [];
  for await (const e of vfs.readdir(path, o(120_000))) out.push(e);
  return out;
}

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof FsError ? err.kind : `not an FsError: ${String(err)}`;
  }
}

async function readAll(vfs: Vfs, path: string, chunk = 128 * 1024, inFlight = 4): Promise<Buffer> {
  const size = (await vfs.getattr(path, o())).size;
  const h = await vfs.open(path, {}, o());
  const parts: Uint8Array[] = [];
  try {
    for (let pos = 0; pos < size; ) {
      const batch: Array<Promise<Uint8Array>> = [];
      for (let k = 0; k < inFlight && pos < size; k++, pos += chunk) batch.push(h.read(pos, chunk, o()));
      parts.push(...(await Promise.all(batch)));
    }
  } finally {
    await h.close();
  }
  return Buffer.concat(parts);
}

describe.skipIf(skip)('IPFS guests over a js-ipfs peer', () => {
  let tree: FixtureTree;
  let added: AddedFixture;
  let peer: SharedIpfsPeer | undefined;
  let node: IpfsNode;
  let ns: Vfs;
  let bigOnDisk: Buffer;
  const opened: Vfs[] = [];
  const guest = <T extends Vfs>(v: T): T => {
    opened.push(v);
    return v;
  };

  beforeAll(async () => {
    ({ peer, tree, added } = await sharedIpfsPeer({ fixture: true }));
    node = await connectNode(peer.apiMultiaddr);
    ns = guest(ipfsGuestOn(node, {}));
    bigOnDisk = await readFile(join(tree.dir, 'big.bin'));
  }, 600_000);

  afterAll(async () => {
    for (const v of opened) await v.close().catch(() => {});
    // The run's shared peer: left running for the next file (a failed test may have killed it).
    await peer?.start();
  });

  const R = (): string => `/${added.rootCid}`;

  it('the fixture is what the issue asks for: 5,000 entries HAMT-sharded, symlinks as UnixFS symlinks', async () => {
    expect(await unixfsType(peer!.client, added.cids.get('many')!)).toBe('hamt-sharded-directory');
    expect(await unixfsType(peer!.client, added.cids.get('links/rel')!)).toBe('symlink');
    expect(await unixfsType(peer!.client, added.rootCid)).toBe('directory');
  });

  describe('ipfs namespace (no root)', () => {
    it('shows an empty top level and any CID below it', async () => {
      const top = await ns.getattr('/', o());
      expect(top.type).toBe('dir');
      // the namespace never changes, so the whole mount is cached as immutable content
      expect(top.immutable).toBe(true);
      expect(await list(ns, '/')).toEqual([]);
      const root = await ns.getattr(R(), o());
      expect(root.type).toBe('dir');
      expect(root.mode).toBe(0o555);
      expect(root.immutable).toBe(true);
      expect(await kindOf(ns.getattr('/not-a-cid', o()))).toBe('NotExist');
      expect(await kindOf(ns.getattr(`${R()}/no-such-file`, o()))).toBe('NotExist');
      expect(await kindOf(ns.getattr(`${R()}/a/file.txt/below-a-file`, o()))).toBe('NotDir');
    });

    it('every node of the tree has the type, size and CID of the source', async () => {
      for (const e of tree.entries.values()) {
        if (e.path.startsWith('many/') && !e.path.endsWith('0.txt')) continue; // 500 of 5,000 suffice here
        const path = e.path === '' ? R() : `${R()}/${e.path}`;
        const attr = await ns.getattr(path, o());
        const want = e.path === 'links/abs' ? 'symlink' : e.type;
        expect({ path: e.path, type: attr.type }).toEqual({ path: e.path, type: want });
        if (e.type === 'file') expect({ path: e.path, size: attr.size }).toEqual({ path: e.path, size: e.size });
        const cid = new TextDecoder().decode(await ns.getxattr(path, 'user.ipfs.cid', o()));
        expect({ path: e.path, cid }).toEqual({ path: e.path, cid: added.cids.get(e.path) });
        expect(await ns.listxattr(path, o())).toEqual(['user.ipfs.cid']);
        expect(attr.ino).toBeGreaterThan(1);
        expect(attr.ino).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
      }
      expect(await ns.getxattr(`${R()}/a`, 'user.other', o())).toBeUndefined();
    });

    it('readdir lists the source names with attributes (spaces, Unicode, empty folders)', async () => {
      for (const e of tree.entries.values()) {
        if (e.type !== 'dir' || e.path === 'many') continue;
        const entries = await list(ns, e.path === '' ? R() : `${R()}/${e.path}`);
        expect({ dir: e.path, names: entries.map((x) => x.name).sort() }).toEqual({ dir: e.path, names: e.children });
        for (const x of entries) {
          const src = tree.entries.get(e.path === '' ? x.name : `${e.path}/${x.name}`)!;
          expect({ name: x.name, type: x.attr.type }).toEqual({ name: x.name, type: src.type });
          if (src.type === 'file') expect(x.attr.size).toBe(src.size);
        }
      }
    });

    it('the 5,000-entry sharded folder lists every name, and lookups in it work', async () => {
      const entries = await list(ns, `${R()}/many`);
      expect(entries.length).toBe(MANY_COUNT);
      expect(entries.map((e) => e.name).sort()).toEqual(tree.entries.get('many')!.children);
      expect(entries.every((e) => e.attr.type === 'file')).toBe(true);
      const attr = await ns.getattr(`${R()}/many/f4999.txt`, o());
      expect(attr.size).toBe(tree.entries.get('many/f4999.txt')!.size);
      expect(await kindOf(ns.getattr(`${R()}/many/f5000.txt`, o()))).toBe('NotExist');
    });

    it('mode and mtime come from UnixFS metadata when the node has them', async () => {
      const attr = await ns.getattr(`${R()}/meta/with-mtime.txt`, o());
      expect(attr.mtime).toBe(META_MTIME_SECS * 1000);
      expect(attr.mode).toBe(META_MODE & 0o555);
      const plain = await ns.getattr(`${R()}/a/file.txt`, o());
      expect(plain.mode).toBe(0o444);
    });

    it('reads small files, empty and 1-byte files exactly', async () => {
      for (const rel of ['empty.txt', 'one-byte.bin', 'a/file.txt', 'with spaces/a file name.txt', 'unicode/日本語/ファイル.txt'.normalize('NFC'), 'meta/with-mtime.txt']) {
        const got = await readAll(ns, `${R()}/${rel}`);
        expect({ rel, text: got.toString() }).toEqual({ rel, text: (await readFile(join(tree.dir, rel))).toString() });
      }
      const h = await ns.open(`${R()}/empty.txt`, {}, o());
      expect((await h.read(0, 4096, o())).length).toBe(0);
      await h.close();
    });

    it('a sequential read of the 50 MiB + 1 file has the sha256 of the source', async () => {
      const got = await readAll(ns, `${R()}/big.bin`);
      expect(got.length).toBe(BIG_SIZE);
      expect(createHash('sha256').update(got).digest('hex')).toBe(tree.entries.get('big.bin')!.sha256);
    });

    it('reads at odd offsets, across block boundaries and across the end of the file', async () => {
      // the fixture is added with the peer's defaults: 256 KiB leaves
      const CHUNK_SIZE = 256 * 1024;
      const h = await ns.open(`${R()}/big.bin`, {}, o());
      try {
        const cases: Array<[number, number]> = [
          [1, 7],
          [CHUNK_SIZE - 3, 10],
          [3 * CHUNK_SIZE + 12345, 200_000],
          [BIG_SIZE - 5, 100],
          [BIG_SIZE - 1, 1],
          [17 * 1024 * 1024 + 1, 128 * 1024],
          [7, 3],
        ];
        for (const [pos, len] of cases) {
          const got = await h.read(pos, len, o());
          expect({ pos, bytes: Buffer.from(got).equals(bigOnDisk.subarray(pos, pos + len)) }).toEqual({ pos, bytes: true });
        }
        expect((await h.read(BIG_SIZE, 10, o())).length).toBe(0);
        expect((await h.read(BIG_SIZE + 100, 10, o())).length).toBe(0);
      } finally {
        await h.close();
      }
      expect(await kindOf((await ns.open(`${R()}/big.bin`, {}, o())).read(-1, 10, o()))).toBe('InvalidItem');
    });

    it('concurrent out-of-order reads on one handle are each right', async () => {
      const h = await ns.open(`${R()}/big.bin`, {}, o());
      try {
        const offsets = [0, 3, 1, 2, 7, 5, 4, 6, 40, 41, 200, 8].map((i) => i * 128 * 1024 + (i % 3));
        const got = await Promise.all(offsets.map((pos) => h.read(pos, 128 * 1024, o())));
        offsets.forEach((pos, i) => {
          expect({ pos, ok: Buffer.from(got[i]!).equals(bigOnDisk.subarray(pos, pos + 128 * 1024)) }).toEqual({ pos, ok: true });
        });
      } finally {
        await h.close();
      }
    });

    it('16 concurrent readers of the same and of different files get every byte right', async () => {
      const small = ['a/file.txt', 'a/b/c/deep.txt', 'one-byte.bin', 'many/f0042.txt', 'unicode/café ☕ naïve.txt'.normalize('NFC'), 'with spaces/a file name.txt', 'meta/with-mtime.txt', 'many/f4999.txt'];
      const readers = [
        ...Array.from({ length: 8 }, async (_, i) => {
          const start = i * 6 * 1024 * 1024 + i;
          const h = await ns.open(`${R()}/big.bin`, {}, o());
          try {
            const parts: Uint8Array[] = [];
            for (let pos = start; pos < start + 2 * 1024 * 1024; pos += 128 * 1024) parts.push(await h.read(pos, 128 * 1024, o()));
            return Buffer.concat(parts).equals(bigOnDisk.subarray(start, start + 2 * 1024 * 1024));
          } finally {
            await h.close();
          }
        }),
        ...small.map(async (rel) => (await readAll(ns, `${R()}/${rel}`)).equals(await readFile(join(tree.dir, rel)))),
      ];
      expect(await Promise.all(readers)).toEqual(Array(16).fill(true));
    });

    it('readlink: relative kept, /ipfs/ rewritten into the namespace, escaping refused, loops bounded', async () => {
      expect(await ns.readlink(`${R()}/links/rel`, o())).toBe('../a/file.txt');
      expect(await ns.readlink(`${R()}/links/reldir`, o())).toBe('../a/b');
      expect(await ns.readlink(`${R()}/links/loop1`, o())).toBe('loop2');
      const abs = await ns.readlink(`${R()}/links/abs`, o());
      expect(abs).toBe(`../../${added.cids.get('a/file.txt')}`);
      // where the rewritten link lands: the namespace root's <cid> entry
      expect((await ns.getattr(`/${added.cids.get('a/file.txt')!}`, o())).size).toBe(tree.entries.get('a/file.txt')!.size);
      expect(await kindOf(ns.readlink(`${R()}/links/outside`, o()))).toBe('Permission');
      expect(await kindOf(ns.readlink(`${R()}/a/file.txt`, o()))).toBe('InvalidItem');
      // a path through symlinks resolves inside the mount, and loops stop
      expect((await ns.getattr(`${R()}/links/reldir/c/deep.txt`, o())).size).toBe(tree.entries.get('a/b/c/deep.txt')!.size);
      expect(await kindOf(ns.getattr(`${R()}/links/loop1/x`, o()))).toBe('Recursion');
      expect(await kindOf(ns.getattr(`${R()}/links/outside/x`, o()))).toBe('Permission');
      expect((await ns.getattr(`${R()}/links/outside`, o())).type).toBe('symlink');
    });

    it('is read-only and says so', async () => {
      expect(ns.readOnly).toBe(true);
      expect(await kindOf(ns.open(`${R()}/a/file.txt`, { write: true }, o()))).toBe('ReadOnly');
      expect(await kindOf(ns.open(`${R()}/a`, {}, o()))).toBe('IsDir');
      const fs = await ns.statfs(o());
      expect(fs.nameMax).toBe(255);
    });
  });

  describe('ipfs with a fixed root', () => {
    it('serves the root content path; /ipfs/ links are followed and shown as their target', async () => {
      const vfs = guest(ipfsGuestOn(node, { root: `/ipfs/${added.rootCid}` }));
      expect((await vfs.getattr('/a/file.txt', o())).size).toBe(tree.entries.get('a/file.txt')!.size);
      expect((await list(vfs, '/')).map((e) => e.name).sort()).toEqual(tree.entries.get('')!.children);
      const abs = await vfs.getattr('/links/abs', o());
      expect(abs.type).toBe('file');
      expect((await readAll(vfs, '/links/abs')).toString()).toBe('hello from a\n');
      expect(new TextDecoder().decode(await vfs.getxattr('/links/abs', 'user.ipfs.cid', o()))).toBe(added.cids.get('a/file.txt'));
      const absEntry = (await list(vfs, '/links')).find((e) => e.name === 'abs')!;
      expect(absEntry.attr.type).toBe('file');
      expect(await vfs.readlink('/links/rel', o())).toBe('../a/file.txt');
      expect(await kindOf(vfs.readlink('/links/abs', o()))).toBe('InvalidItem');
    });

    it('a root below the CID: links climbing above it are refused', async () => {
      const vfs = guest(ipfsGuestOn(node, { root: `${added.rootCid}/links` }));
      expect((await vfs.getattr('/', o())).type).toBe('dir');
      expect(await kindOf(vfs.readlink('/rel', o()))).toBe('Permission');
      expect(await vfs.readlink('/loop1', o())).toBe('loop2');
    });

    it('CIDs are printed one way: CIDv1 in base32 for the root (given in any base) and its children', async () => {
      let dir: CID | undefined;
      let file: CID | undefined;
      for await (const r of peer!.client.addAll([{ path: 'v1/x.txt', content: 'v1\n' }], { cidVersion: 1 })) {
        if (r.path === 'v1') dir = r.cid;
        else file = r.cid;
      }
      const b32 = dir!.toV1().toString(base32);
      for (const root of [`/ipfs/${dir!.toV1().toString(base58btc)}`, `/ipfs/${b32}`, `${b32}/`]) {
        const vfs = guest(ipfsGuestOn(node, { root }));
        expect(new TextDecoder().decode(await vfs.getxattr('/', 'user.ipfs.cid', o()))).toBe(b32);
        expect(new TextDecoder().decode(await vfs.getxattr('/x.txt', 'user.ipfs.cid', o()))).toBe(file!.toV1().toString(base32));
      }
      const cidv0 = added.cids.get('a')!;
      expect(cidv0).toMatch(/^Qm/);
      const asV1 = CID.parse(cidv0).toV1();
      expect(new TextDecoder().decode(await ns.getxattr(`/${asV1.toString(base58btc)}`, 'user.ipfs.cid', o()))).toBe(asV1.toString(base32));
    });

    it('a bad root is refused with a message saying what was expected', () => {
      expect(() => ipfsGuestOn(node, { root: 'not a cid' })).toThrow(/expected/);
    });
  });

  describe('pinfs', () => {
    it('lists the recursive pins of the node, cached, and serves below them', async () => {
      const vfs = guest(pinfsGuestOn(node, { cacheExpiryMs: 500 }));
      // the pin list changes: the top level (so the FUSE mount) is not immutable
      expect((await vfs.getattr('/', o())).immutable).toBe(false);
      const pins: string[] = [];
      for await (const p of peer!.client.pin.ls({ type: 'recursive' })) pins.push(p.cid.toString());
      const top = await list(vfs, '/');
      expect(top.map((e) => e.name).sort()).toEqual(pins.sort());
      expect(top.find((e) => e.name === added.rootCid)?.attr.type).toBe('dir');
      expect((await vfs.getattr(`/${added.rootCid}/a/b/c/deep.txt`, o())).size).toBe(tree.entries.get('a/b/c/deep.txt')!.size);
      expect(await kindOf(vfs.getattr(`/${added.cids.get('a/file.txt')!}`, o()))).toBe('NotExist');
      // a new pin shows up once the listing expires
      await peer!.client.pin.add(added.cids.get('a')!, { recursive: true });
      await new Promise((r) => setTimeout(r, 600));
      expect((await list(vfs, '/')).map((e) => e.name)).toContain(added.cids.get('a'));
      await peer!.client.pin.rm(added.cids.get('a')!);
    });
  });

  describe('ipns and keyfs', () => {
    let selfId = '';
    beforeAll(async () => {
      const res = await peer!.client.name.publish(`/ipfs/${added.rootCid}`, { allowOffline: true, resolve: false });
      selfId = res.name;
      await peer!.client.key.gen('berth-unpublished', { type: 'ed25519' });
    }, 120_000);

    it('ipns namespace: <name>/path resolves through the node', async () => {
      const vfs = guest(ipnsGuestOn(node, {}));
      expect(await list(vfs, '/')).toEqual([]);
      expect((await vfs.getattr(`/${selfId}/a/file.txt`, o())).size).toBe(tree.entries.get('a/file.txt')!.size);
      expect((await readAll(vfs, `/${selfId}/a/file.txt`)).toString()).toBe('hello from a\n');
      expect((await vfs.getattr(`/${selfId}`, o())).immutable).toBe(false);
    });

    it('ipns with a fixed name', async () => {
      const vfs = guest(ipnsGuestOn(node, { name: selfId }));
      expect((await list(vfs, '/')).map((e) => e.name).sort()).toEqual(tree.entries.get('')!.children);
    });

    it('keyfs: every key is a folder; a key never published is an empty folder', async () => {
      const vfs = guest(keyfsGuestOn(node, {}));
      const top = await list(vfs, '/');
      expect(top.map((e) => e.name).sort()).toEqual(['berth-unpublished', 'self']);
      expect((await list(vfs, '/self')).map((e) => e.name).sort()).toEqual(tree.entries.get('')!.children);
      expect(await list(vfs, '/berth-unpublished')).toEqual([]);
      expect(await vfs.listxattr('/berth-unpublished', o())).toEqual([]);
      expect(await kindOf(vfs.getattr('/no-such-key', o()))).toBe('NotExist');
    });
  });

  describe('when the peer dies', () => {
    it('a read in progress fails with IO/Timeout within its deadline; after a restart the same vfs reads again', async () => {
      const vfs = guest(ipfsGuestOn(node, {}));
      const path = `${R()}/big.bin`;
      const h = await vfs.open(path, {}, o());
      const first = await h.read(0, 128 * 1024, o());
      expect(Buffer.from(first).equals(bigOnDisk.subarray(0, 128 * 1024))).toBe(true);
      await peer!.kill();
      const deadline = 10_000;
      let failure: unknown;
      // How fast it fails is withTimeouts' promise (unit-tested with fake timers); here: it fails, with IO or Timeout.
      for (let pos = 128 * 1024; pos < BIG_SIZE; pos += 128 * 1024) {
        try {
          await h.read(pos, 128 * 1024, o(deadline));
        } catch (err) {
          failure = err;
          break;
        }
      }
      expect(failure).toBeInstanceOf(FsError);
      expect(['IO', 'Timeout']).toContain((failure as FsError).kind);
      // other calls fail fast too, and nothing hangs
      expect(['IO', 'Timeout']).toContain(await kindOf(vfs.getattr(`${R()}/many/f0001.txt`, o(deadline))));

      await peer!.start();
      const again = await h.read(20 * 1024 * 1024, 128 * 1024, o());
      expect(Buffer.from(again).equals(bigOnDisk.subarray(20 * 1024 * 1024, 20 * 1024 * 1024 + 128 * 1024))).toBe(true);
      await h.close();
      const fresh = await readAll(vfs, `${R()}/a/b/c/deep.txt`);
      expect(fresh.toString()).toBe('deep inside\n');
      const fd = await openFile(join(tree.dir, 'big.bin'));
      await fd.close();
    });
  });
});
