import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestSpecSchema } from '../../src-shared/mountSpec.ts';
import { openGuest } from '../../src-main/guests/index.ts';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { NfsGuest } from '../../src-main/guests/nfs.ts';
import { NfsClient } from '../../src-main/nfs/client/NfsClient.ts';
import { FsfProps } from '../../src-main/nfs/nfs3/constants.ts';
import { NfsServer } from '../../src-main/nfs/server/NfsServer.ts';
import type { Attr, FileHandle, Vfs } from '../../src-main/vfs/types.ts';
import { missingGanesha, startGanesha, type Ganesha } from '../helpers/ganesha.ts';

// Our NFS client (the nfs guest) against two servers: nfs-ganesha and our own server.
// Every operation is checked against the same folder as seen on disk.

const opts = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(30_000) });

function makeTree(dir: string): Buffer {
  mkdirSync(join(dir, 'a/b/c'), { recursive: true });
  mkdirSync(join(dir, 'many'));
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  writeFileSync(join(dir, 'a/b/c/deep.txt'), 'deep\n');
  const big = randomBytes(9 * 1024 * 1024 + 123);
  writeFileSync(join(dir, 'big.bin'), big);
  for (let i = 0; i < 2000; i++) writeFileSync(join(dir, 'many', `n${i}`), String(i));
  symlinkSync('hello.txt', join(dir, 'rel-link'));
  symlinkSync('a/b', join(dir, 'dir-link'));
  return big;
}

async function collect(vfs: Vfs, path: string): Promise<Map<string, { type: string; size: number }>> {
  const out = new Map<string, { type: string; size: number }>();
  for await (const e of vfs.readdir(path, opts())) out.set(e.name, { type: e.attr.type, size: e.attr.size });
  return out;
}

/** Runs every guest operation against `vfs` and checks each result on disk under `dir`. */
function exerciseAgainstDisk(name: string, setup: () => Promise<{ vfs: Vfs; dir: string; big: Buffer; teardown: () => Promise<void> }>, skip: string | undefined): void {
  describe.skipIf(skip)(`nfs guest against ${name}`, () => {
    let vfs: Vfs;
    let dir: string;
    let big: Buffer;
    let teardown: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ vfs, dir, big, teardown } = await setup());
    });
    afterAll(async () => {
      await vfs?.close();
      await teardown?.();
    });

    it('lists folders with the same names, types and sizes as the disk', async () => {
      for (const p of ['', 'a', 'a/b/c', 'many']) {
        const listed = await collect(vfs, `/${p}`.replace(/\/$/, '') || '/');
        const onDisk = readdirSync(join(dir, p)).sort();
        expect([...listed.keys()].sort(), p).toEqual(onDisk);
        for (const n of onDisk) {
          const st = lstatSync(join(dir, p, n));
          const got = listed.get(n)!;
          expect(got.type, n).toBe(st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file');
          if (st.isFile()) expect(got.size, n).toBe(st.size);
        }
      }
    });

    it('getattr matches lstat (type, size, mode, mtime)', async () => {
      for (const p of ['hello.txt', 'big.bin', 'a', 'rel-link']) {
        const a = await vfs.getattr(`/${p}`, opts());
        const st = lstatSync(join(dir, p));
        expect(a.size, p).toBe(st.isDirectory() ? a.size : st.size);
        expect(a.mode, p).toBe(st.mode & 0o7777);
        expect(Math.floor(a.mtime / 1000), p).toBe(Math.floor(st.mtimeMs / 1000));
      }
      // Times to the nanosecond: set so, they reach the disk; read back from a lookup and
      // from a listing alike (a client that sees a time move between the two drops what it
      // cached). A double in ms would be ~0.25 µs off.
      await vfs.setattr!('/hello.txt', { mtime: 1_600_000_000_987.6543, mtimeNs: 1_600_000_000_987_654_321n }, opts());
      expect(lstatSync(join(dir, 'hello.txt'), { bigint: true }).mtimeNs).toBe(1_600_000_000_987_654_321n);
      const listed = new Map<string, Attr>();
      for await (const e of vfs.readdir('/', opts())) listed.set(e.name, e.attr);
      for (const p of ['hello.txt', 'big.bin', 'a', 'rel-link']) {
        const st = lstatSync(join(dir, p), { bigint: true });
        const a = await vfs.getattr(`/${p}`, opts());
        const want = { m: st.mtimeNs, c: st.ctimeNs };
        expect({ m: a.mtimeNs, c: a.ctimeNs }, p).toEqual(want);
        expect({ m: listed.get(p)?.mtimeNs, c: listed.get(p)?.ctimeNs }, `${p} listed`).toEqual(want);
      }
      await expect(vfs.getattr('/nope', opts())).rejects.toMatchObject({ kind: 'NotExist' });
      await expect(vfs.getattr('/hello.txt/x', opts())).rejects.toMatchObject({ kind: expect.stringMatching(/NotDir|NotExist/) });
    });

    it('reads the big file sequentially and at random offsets, byte for byte', async () => {
      const h = await vfs.open('/big.bin', {}, opts());
      const parts: Uint8Array[] = [];
      for (let pos = 0; pos < big.length; pos += 128 * 1024) parts.push(await h.read(pos, 128 * 1024, opts()));
      expect(Buffer.concat(parts).equals(big)).toBe(true);
      const reads = Array.from({ length: 64 }, () => {
        const pos = Math.floor(Math.random() * big.length);
        const len = 1 + Math.floor(Math.random() * 300_000);
        return h.read(pos, len, opts()).then((d) => expect(Buffer.from(d).equals(big.subarray(pos, pos + len))).toBe(true));
      });
      await Promise.all(reads);
      expect((await h.read(big.length, 10, opts())).length).toBe(0);
      await h.close();
      await expect(vfs.open('/a', {}, opts())).rejects.toMatchObject({ kind: 'IsDir' });
    });

    it('readInto fills caller buffers byte for byte, sequentially and concurrently at random', async () => {
      const h = await vfs.open('/big.bin', {}, opts());
      expect(h.readInto).toBeDefined();
      const out = Buffer.alloc(big.length);
      const buf = Buffer.alloc(128 * 1024);
      for (let pos = 0; pos < big.length; ) {
        const n = await h.readInto!(buf, pos, opts());
        if (n === 0) break;
        buf.copy(out, pos, 0, n);
        pos += n;
      }
      expect(out.equals(big)).toBe(true);
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          const pos = Math.floor(Math.random() * big.length);
          const b = Buffer.alloc(1 + Math.floor(Math.random() * 3_000_000));
          const n = await h.readInto!(b, pos, opts());
          expect(n).toBe(Math.min(b.length, big.length - pos));
          expect(b.subarray(0, n).equals(big.subarray(pos, pos + n))).toBe(true);
        }),
      );
      await h.close();
    });

    it('reads symlinks', async () => {
      expect(await vfs.readlink('/rel-link', opts())).toBe(readlinkSync(join(dir, 'rel-link')));
      expect(await vfs.readlink('/dir-link', opts())).toBe('a/b');
    });

    it('creates, writes, overwrites in place and truncates files', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 5);
      const h = await vfs.create!('/new.bin', 0o640, opts());
      expect(await h.write!(0, data, opts())).toBe(data.length);
      await h.close();
      expect(readFileSync(join(dir, 'new.bin')).equals(data)).toBe(true);
      expect(lstatSync(join(dir, 'new.bin')).mode & 0o777).toBe(0o640);
      await expect(vfs.create!('/new.bin', 0o644, opts())).rejects.toMatchObject({ kind: 'Exist' });

      const w = await vfs.open('/new.bin', { write: true }, opts());
      await w.write!(10, Buffer.from('PATCH'), opts());
      await w.close();
      const patched = Buffer.from(data);
      Buffer.from('PATCH').copy(patched, 10);
      expect(readFileSync(join(dir, 'new.bin')).equals(patched)).toBe(true);

      const t = await vfs.open('/new.bin', { write: true, truncate: true }, opts());
      await t.write!(0, Buffer.from('short'), opts());
      await t.close();
      expect(readFileSync(join(dir, 'new.bin'), 'utf8')).toBe('short');

      await vfs.setattr!('/new.bin', { size: 2 }, opts());
      expect(readFileSync(join(dir, 'new.bin'), 'utf8')).toBe('sh');
      await vfs.setattr!('/new.bin', { mode: 0o600 }, opts());
      expect(lstatSync(join(dir, 'new.bin')).mode & 0o777).toBe(0o600);
      const mtime = Date.UTC(2020, 0, 2, 3, 4, 5);
      await vfs.setattr!('/new.bin', { mtime, atime: mtime }, opts());
      expect(Math.floor(lstatSync(join(dir, 'new.bin')).mtimeMs)).toBe(mtime);
    });

    it('makes folders and symlinks, renames and removes', async () => {
      await vfs.mkdir!('/made', 0o750, opts());
      expect(lstatSync(join(dir, 'made')).isDirectory()).toBe(true);
      await expect(vfs.mkdir!('/made', 0o750, opts())).rejects.toMatchObject({ kind: 'Exist' });
      await vfs.symlink!('../hello.txt', '/made/sl', opts());
      expect(readlinkSync(join(dir, 'made/sl'))).toBe('../hello.txt');
      const f = await vfs.create!('/made/file', 0o644, opts());
      await f.write!(0, Buffer.from('x'), opts());
      await f.close();
      await expect(vfs.rmdir!('/made', opts())).rejects.toMatchObject({ kind: 'NotEmpty' });

      await vfs.rename!('/made/file', '/moved', opts());
      expect(existsSync(join(dir, 'made/file'))).toBe(false);
      expect(readFileSync(join(dir, 'moved'), 'utf8')).toBe('x');
      // The old name's handle was cached: it must not still answer.
      await expect(vfs.getattr('/made/file', opts())).rejects.toMatchObject({ kind: 'NotExist' });
      expect((await vfs.getattr('/moved', opts())).size).toBe(1);

      await vfs.rename!('/made', '/made2', opts());
      expect(readlinkSync(join(dir, 'made2/sl'))).toBe('../hello.txt');
      await vfs.unlink!('/made2/sl', opts());
      await vfs.rmdir!('/made2', opts());
      await vfs.unlink!('/moved', opts());
      await vfs.unlink!('/new.bin', opts());
      expect(existsSync(join(dir, 'made2'))).toBe(false);
      expect(existsSync(join(dir, 'moved'))).toBe(false);
      await expect(vfs.unlink!('/moved', opts())).rejects.toMatchObject({ kind: 'NotExist' });
    });

    it('keeps a file open through an unlink or a rename over it, under a hidden name removed at the last close', async () => {
      const text = async (h: FileHandle): Promise<string> => Buffer.from(await h.read(0, 100, opts())).toString();
      const hidden = (sub: string): string[] => readdirSync(join(dir, sub)).filter((n) => n.startsWith('.berth-removed-'));
      await vfs.mkdir!('/silly', 0o755, opts());
      const a = await vfs.create!('/silly/a', 0o644, opts());
      await a.write!(0, Buffer.from('first'), opts());
      await vfs.unlink!('/silly/a', opts());
      expect(existsSync(join(dir, 'silly/a'))).toBe(false);
      expect(hidden('silly')).toHaveLength(1);
      await a.write!(5, Buffer.from('+more'), opts());
      expect(await text(a)).toBe('first+more');
      expect((await a.getattr!(opts())).size).toBe(10);
      // Renamed over: the open file keeps its bytes, the name those of the file renamed there.
      const b = await vfs.create!('/silly/b', 0o644, opts());
      await b.write!(0, Buffer.from('bee'), opts());
      const c = await vfs.create!('/silly/c', 0o644, opts());
      await c.write!(0, Buffer.from('sea'), opts());
      await c.close();
      await vfs.rename!('/silly/c', '/silly/b', opts());
      expect(readFileSync(join(dir, 'silly/b'), 'utf8')).toBe('sea');
      expect(await text(b)).toBe('bee');
      // Open in a folder renamed since, then unlinked by its new name.
      await vfs.mkdir!('/silly/d', 0o755, opts());
      const f = await vfs.create!('/silly/d/f', 0o644, opts());
      await f.write!(0, Buffer.from('dee'), opts());
      await vfs.rename!('/silly/d', '/silly/e', opts());
      await vfs.unlink!('/silly/e/f', opts());
      expect(await text(f)).toBe('dee');
      expect(hidden('silly')).toHaveLength(2);
      expect(hidden('silly/e')).toHaveLength(1);
      for (const h of [a, b, f]) await h.close();
      expect(readdirSync(join(dir, 'silly')).sort()).toEqual(['b', 'e']);
      expect(readdirSync(join(dir, 'silly/e'))).toEqual([]);
    });

    // A Latin-1 "caf\xe9" on the server's disk: listed as "caf\udce9" (byteNames.ts), which
    // opens it, apart from "caf\xe8"; names and targets made here are the bytes they stand for.
    it('lists, opens and makes names and symlink targets that are not UTF-8, by their bytes', async () => {
      const at = (name: string): Buffer => Buffer.from(join(dir, 'bytes', name), 'latin1');
      mkdirSync(join(dir, 'bytes'));
      writeFileSync(at('caf\xe9'), 'e9');
      writeFileSync(at('caf\xe8'), 'e8');
      symlinkSync(Buffer.from('t\xe9l\xe9', 'latin1'), at('l\xe9'));
      expect([...(await collect(vfs, '/bytes')).keys()].sort()).toEqual(['caf\udce8', 'caf\udce9', 'l\udce9']);
      const h = await vfs.open('/bytes/caf\udce9', {}, opts());
      expect(Buffer.from(await h.read(0, 10, opts())).toString()).toBe('e9');
      await h.close();
      expect(await vfs.readlink('/bytes/l\udce9', opts())).toBe('t\udce9l\udce9');
      const made = await vfs.create!('/bytes/new\udcff', 0o644, opts());
      await made.write!(0, Buffer.from('ff'), opts());
      await made.close();
      expect(readFileSync(at('new\xff'), 'utf8')).toBe('ff');
      await vfs.symlink!('x\udce0', '/bytes/sl\udce0', opts());
      expect(readlinkSync(at('sl\xe0'), { encoding: 'buffer' })).toEqual(Buffer.from('x\xe0', 'latin1'));
      await vfs.rename!('/bytes/caf\udce8', '/bytes/caf\ufffd', opts());
      expect(readFileSync(Buffer.from(join(dir, 'bytes', 'caf\ufffd')), 'utf8')).toBe('e8');
      for (const n of ['caf\udce9', 'caf\ufffd', 'l\udce9', 'new\udcff', 'sl\udce0']) await vfs.unlink!(`/bytes/${n}`, opts());
      await vfs.rmdir!('/bytes', opts());
      expect(existsSync(join(dir, 'bytes'))).toBe(false);
    });

    it('reports file-system figures', async () => {
      const s = await vfs.statfs(opts());
      expect(s.blocks).toBeGreaterThan(0);
      expect(s.blocksAvail).toBeLessThanOrEqual(s.blocks);
    });
  });
}

const ganeshaSkip = missingGanesha();

exerciseAgainstDisk(
  'nfs-ganesha',
  async () => {
    const base = mkdtempSync(join(tmpdir(), 'berth-nfs-ganesha-'));
    const dir = join(base, 'export');
    mkdirSync(dir);
    const big = makeTree(dir);
    let g: Ganesha | undefined;
    try {
      g = await startGanesha(dir);
      // MOUNT's port is in the spec (--nfs-mount-port), as a user's mount would give it: no
      // portmapper, whose entry other ganesha users on this machine may change.
      const spec = GuestSpecSchema.parse({ kind: 'nfs', server: `/ip4/127.0.0.1/tcp/${g.nfsPort}`, export: g.exportPath, mountPort: g.mountPort });
      const vfs = await openGuest(spec, {});
      const gg = g;
      return { vfs, dir, big, teardown: async () => { await gg.stop(); rmSync(base, { recursive: true, force: true }); } };
    } catch (err) {
      await g?.stop();
      rmSync(base, { recursive: true, force: true });
      throw err;
    }
  },
  ganeshaSkip,
);

exerciseAgainstDisk(
  'our NFS server (local guest)',
  async () => {
    const base = mkdtempSync(join(tmpdir(), 'berth-nfs-loop-'));
    const dir = join(base, 'export');
    mkdirSync(dir);
    const big = makeTree(dir);
    const local = await openLocalGuest({ kind: 'local', path: dir, readOnly: false });
    const server = new NfsServer(local, { readOnly: false, auth: { rootSquash: false } }); // the test writes as root into root's folder
    const { port } = await server.listen(0);
    const vfs = await NfsGuest.open({ kind: 'nfs', server: `/ip4/127.0.0.1/tcp/${port}`, export: '/' });
    return {
      vfs,
      dir,
      big,
      teardown: async () => {
        await server.close();
        await local.close();
        rmSync(base, { recursive: true, force: true });
      },
    };
  },
  undefined,
);

describe('nfs guest linkSeparator (a server that writes symlink targets with another separator)', () => {
  it('translates the separator both ways', async () => {
    const base = mkdtempSync(join(tmpdir(), 'berth-nfs-linksep-'));
    const dir = join(base, 'export');
    mkdirSync(dir);
    symlinkSync('a\\b\\c.txt', join(dir, 'win-link'));
    const local = await openLocalGuest({ kind: 'local', path: dir, readOnly: false });
    const server = new NfsServer(local, { readOnly: false, auth: { rootSquash: false } });
    const { port } = await server.listen(0);
    const vfs = await NfsGuest.open({ kind: 'nfs', server: `/ip4/127.0.0.1/tcp/${port}`, export: '/', linkSeparator: '\\' });
    try {
      expect(await vfs.readlink('/win-link', opts())).toBe('a/b/c.txt');
      await vfs.symlink!('x/y.txt', '/made-link', opts());
      expect(readlinkSync(join(dir, 'made-link'))).toBe('x\\y.txt');
    } finally {
      await vfs.close();
      await server.close();
      await local.close();
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('FSINFO properties (what a client may try: hard links, settable times)', () => {
  const props = (p: number): string[] => Object.entries(FsfProps).filter(([, bit]) => p & bit).map(([name]) => name).sort();

  it('our host offers hard links and settable times on a writable export only, as ganesha does on its writable one', async () => {
    const base = mkdtempSync(join(tmpdir(), 'berth-nfs-fsinfo-'));
    const local = await openLocalGuest({ kind: 'local', path: base, readOnly: false });
    const servers = [new NfsServer(local, { readOnly: false, auth: { rootSquash: false } }), new NfsServer(local, { readOnly: true, auth: { rootSquash: false } })];
    let g: Ganesha | undefined;
    try {
      const got: string[][] = [];
      for (const server of servers) {
        const { port } = await server.listen(0);
        const client = new NfsClient({ host: '127.0.0.1', port, cred: { uid: 0, gid: 0 } });
        try {
          got.push(props((await client.fsinfo(await client.mount('/'))).properties));
        } finally {
          await client.close();
        }
      }
      expect(got).toEqual([
        ['CANSETTIME', 'HOMOGENEOUS', 'LINK', 'SYMLINK'],
        ['HOMOGENEOUS', 'SYMLINK'],
      ]);
      if (ganeshaSkip) return;
      g = await startGanesha(base);
      const client = new NfsClient({ host: '127.0.0.1', port: g.nfsPort, mountPort: g.mountPort, cred: { uid: 0, gid: 0 } });
      try {
        expect(props((await client.fsinfo(await client.mount(g.exportPath))).properties)).toEqual(got[0]);
      } finally {
        await client.close();
      }
    } finally {
      await g?.stop();
      for (const s of servers) await s.close();
      await local.close();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
