import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kindOf } from './suite.ts';

// The writable half of the conformance suite (issue 9): the same changes made directly on
// a guest, through FUSE as root and as another user, and through our NFS host must end the
// same way a local file system ends them. Errors are compared by kind.

/** What a stat tells the suite (times in nanoseconds since the epoch). */
export interface WStat {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** 512-byte blocks the node holds (st_blocks). */
  blocks: number;
  nlink: number;
  atimeNs: bigint;
  mtimeNs: bigint;
}

/** A time to set: [seconds, nanoseconds], or utimensat's UTIME_NOW / UTIME_OMIT. */
export type TimeArg = [number, number] | 'now' | 'omit';

/** The operations the suite makes; paths are "/"-rooted inside the tree under test. */
export interface TreeWriter {
  mkdir(p: string, mode: number): Promise<void>;
  create(p: string, mode: number, text?: string): Promise<void>;
  append(p: string, text: string): Promise<void>;
  read(p: string): Promise<Buffer>;
  stat(p: string): Promise<WStat>;
  chmod(p: string, mode: number): Promise<void>;
  chown(p: string, uid: number, gid: number): Promise<void>;
  truncate(p: string, size: number): Promise<void>;
  utimes(p: string, atime: TimeArg, mtime: TimeArg): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  link(target: string, p: string): Promise<void>;
  unlink(p: string): Promise<void>;
  rmdir(p: string): Promise<void>;
  mkfifo(p: string, mode: number): Promise<void>;
  symlink(target: string, p: string): Promise<void>;
  readlink(p: string): Promise<string>;
  /** The names in the folder `p`, sorted; a name's bytes that are not UTF-8 as sys/byteNames.ts keeps them. */
  list(p: string): Promise<string[]>;
  /**
   * Makes the unix socket `p` as bind(2) does (mode 0777 under umask 0). Where a process
   * binds it, it also listens, a client connects by the name and sends "ping", and what
   * comes back is returned; a guest called directly only makes the node (undefined).
   */
  bindSocket(p: string): Promise<string | undefined>;
  /** Extended attributes (text values), as setfattr and getfattr see them. */
  setxattr(p: string, name: string, value: string): Promise<void>;
  /** The value of `name`, or undefined where the node has none. */
  getxattr(p: string, name: string): Promise<string | undefined>;
  /** The node's user.* attribute names, sorted. */
  listxattr(p: string): Promise<string[]>;
  removexattr(p: string, name: string): Promise<void>;
  writeBig(p: string, bytes: number): Promise<void>;
  /** Opens `p` for reading and writing, or (`readOnly`) for reading only. */
  fdOpen(p: string, readOnly?: boolean): Promise<number>;
  fdWrite(fd: number, pos: number, data: Uint8Array): Promise<void>;
  fdRead(fd: number, pos: number, len: number): Promise<Buffer>;
  fdTruncate(fd: number, size: number): Promise<void>;
  fdClose(fd: number): Promise<void>;
  close(): Promise<void>;
}

/** What a way in can promise, so each case asserts what holds there. */
export interface WritableCaps {
  /** Who the operations run as. */
  who: { uid: number; gid: number };
  /** New nodes are owned by `who`. */
  ownsAsCaller: boolean;
  /** Someone checks permissions for `who` (a host: the kernel for FUSE, the NFS server); a guest called directly trusts its caller. */
  enforces: boolean;
  /** Times survive a round trip to within this many nanoseconds (Node's fs sets times as double seconds: ~1-2 µs; fuse-native carries ms). */
  timePrecisionNs: number;
  /**
   * A utimensat that changes one time and omits the other reaches the guest (false
   * through fuse-native: libfuse 2's high-level layer drops such a call, see README).
   */
  singleTimes: boolean;
  /**
   * What the guest can hold at all (absent = everything, like a local folder): an MFS
   * folder has no owners, hard links, fifos or atime, no size limits of its own, and no
   * backing folder to change underneath; sockets go with fifos, and are refused (EPERM)
   * where `sockets` is false; `xattrs`: user.* extended attributes (NFSv3 has none);
   * `byteNames`: names and symlink targets that are not UTF-8, kept as their bytes (UnixFS
   * keeps text: refused there, NotUtf8).
   */
  features?: Partial<Record<'links' | 'fifos' | 'sockets' | 'xattrs' | 'limits' | 'atime' | 'backing' | 'byteNames', boolean>>;
}

/** A writable tree under test. */
export interface WritableUnderTest {
  w: TreeWriter;
  caps: WritableCaps;
  close(): Promise<void>;
}

/**
 * Makes the tree to test from its backing folder, which already holds: /rootfile (root,
 * 0644), /sticky (1777) with /sticky/rootfile (root, 0666), /small (a 1 MiB tmpfs: ENOSPC,
 * EXDEV) and /area (0777: where the cases work).
 */
export type WritableFactory = (folder: string) => Promise<WritableUnderTest>;

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return kindOf(err);
  }
}

/** Deterministic bytes. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Registers the writable conformance suite for one way in. `folder` is prepared by the caller (see WritableFactory). */
export function writableConformance(name: string, make: WritableFactory, opts: { skip?: string; folder: () => string }): void {
  describe.skipIf(opts.skip)(`writable conformance: ${name}`, () => {
    let under: WritableUnderTest | undefined;
    let w: TreeWriter;
    let caps: WritableCaps;
    let folder: string;
    const A = '/area';
    const has = (f: keyof NonNullable<WritableCaps['features']>): boolean => caps.features?.[f] !== false;

    beforeAll(async () => {
      folder = opts.folder();
      under = await make(folder);
      w = under.w;
      caps = under.caps;
    });
    afterAll(async () => {
      await under?.w.close();
      await under?.close();
    });

    it('creates with exactly the mode asked, whatever the server umask', async () => {
      await w.mkdir(`${A}/d777`, 0o777);
      await w.create(`${A}/f660`, 0o660);
      await w.create(`${A}/f620`, 0o620);
      await w.mkdir(`${A}/d1770`, 0o1770);
      expect((await w.stat(`${A}/d777`)).mode).toBe(0o777);
      expect((await w.stat(`${A}/f660`)).mode).toBe(0o660);
      expect((await w.stat(`${A}/f620`)).mode).toBe(0o620);
      expect((await w.stat(`${A}/d1770`)).mode).toBe(0o1770);
      if (caps.ownsAsCaller) {
        // set-id bits survive on a file the caller owns
        await w.create(`${A}/suid`, 0o4755);
        expect((await w.stat(`${A}/suid`)).mode).toBe(0o4755);
      }
    });

    it('new files and folders belong to the caller, who can append to and chmod them', async () => {
      if (!caps.ownsAsCaller) return;
      await w.create(`${A}/mine`, 0o644, 'one\n');
      await w.mkdir(`${A}/mydir`, 0o755);
      for (const p of [`${A}/mine`, `${A}/mydir`]) expect({ p, ...pick(await w.stat(p)) }).toEqual({ p, ...caps.who });
      await w.append(`${A}/mine`, 'two\n');
      await w.chmod(`${A}/mine`, 0o600);
      expect((await w.stat(`${A}/mine`)).mode).toBe(0o600);
      expect((await w.read(`${A}/mine`)).toString()).toBe('one\ntwo\n');
      await w.create(`${A}/mydir/inner`, 0o640);
      expect(pick(await w.stat(`${A}/mydir/inner`))).toEqual(caps.who);
    });

    it('a non-owner may not chmod, chown or remove from a sticky folder', async () => {
      if (caps.who.uid === 0 || !caps.enforces) return; // root may; a guest called directly leaves checks to its host
      expect(await failure(w.chmod('/rootfile', 0o666))).toBe('NotPermitted');
      expect(await failure(w.chown('/rootfile', caps.who.uid, caps.who.gid))).toBe('NotPermitted');
      expect(await failure(w.unlink('/sticky/rootfile'))).toBe('NotPermitted');
      expect(await failure(w.rename('/sticky/rootfile', '/sticky/taken'))).toBe('NotPermitted');
      expect(await failure(w.unlink('/rootfile'))).toBe('Permission');
      expect((await w.stat('/sticky/rootfile')).type).toBe('file');
      // but its own entry in the sticky folder it may remove
      await w.create('/sticky/own', 0o600);
      await w.unlink('/sticky/own');
    });

    it('utimensat: distinct atime and mtime, sub-second parts, UTIME_OMIT and UTIME_NOW', async () => {
      const p = `${A}/times`;
      await w.create(p, 0o644, 'x');
      await w.utimes(p, [1_000_000_000, 500_000_000], [1_500_000_000, 125_000_000]);
      const near = (got: bigint, want: bigint): boolean => Number(got > want ? got - want : want - got) < caps.timePrecisionNs;
      let st = await w.stat(p);
      if (!has('atime')) {
        // no atime stored: the mtime alone must come back
        expect(near(st.mtimeNs, 1_500_000_000_125_000_000n)).toBe(true);
        return;
      }
      expect({ a: near(st.atimeNs, 1_000_000_000_500_000_000n), m: near(st.mtimeNs, 1_500_000_000_125_000_000n) }).toEqual({ a: true, m: true });
      // whole milliseconds come back exact where times are milliseconds (issue 9: 100 ms read back as 99)
      if (caps.timePrecisionNs >= 1_000_000) expect({ a: st.atimeNs, m: st.mtimeNs }).toEqual({ a: 1_000_000_000_500_000_000n, m: 1_500_000_000_125_000_000n });
      if (!caps.singleTimes) return;
      const atime = st.atimeNs;
      // nanoseconds, to the precision this way in carries
      await w.utimes(p, 'omit', [1_600_000_000, 123_456_789]);
      st = await w.stat(p);
      // omitted: unchanged (to the precision of this way in: Node's fs rewrites the other time as double seconds)
      expect(near(st.atimeNs, atime)).toBe(true);
      expect(near(st.mtimeNs, 1_600_000_000_123_456_789n)).toBe(true);
      // mtime now, atime omitted
      const before = BigInt(Date.now() - 5_000) * 1_000_000n;
      await w.utimes(p, 'omit', 'now');
      st = await w.stat(p);
      expect(st.mtimeNs > before).toBe(true);
      expect(near(st.atimeNs, atime)).toBe(true);
      // atime now, mtime omitted
      const m = st.mtimeNs;
      await w.utimes(p, 'now', 'omit');
      st = await w.stat(p);
      expect(st.atimeNs > before).toBe(true);
      expect(near(st.mtimeNs, m)).toBe(true);
    });

    it('renames over files and folders, and fails the way rename(2) does', async () => {
      await w.create(`${A}/r1`, 0o644, 'first');
      await w.create(`${A}/r2`, 0o644, 'second');
      await w.rename(`${A}/r1`, `${A}/r2`);
      expect((await w.read(`${A}/r2`)).toString()).toBe('first');
      expect(await failure(w.stat(`${A}/r1`))).toBe('NotExist');
      await w.mkdir(`${A}/rd1`, 0o755);
      await w.mkdir(`${A}/rd2`, 0o755);
      await w.create(`${A}/rd1/child`, 0o644);
      await w.rename(`${A}/rd1`, `${A}/rd2`); // over an empty folder
      expect((await w.stat(`${A}/rd2/child`)).type).toBe('file');
      await w.mkdir(`${A}/rd3`, 0o755);
      expect(await failure(w.rename(`${A}/rd3`, `${A}/rd2`))).toBe('NotEmpty');
      expect(await failure(w.rename(`${A}/r2`, `${A}/rd3`))).toBe('IsDir');
      expect(await failure(w.rename(`${A}/rd3`, `${A}/r2`))).toBe('NotDir');
      expect(await failure(w.rename(`${A}/nope`, `${A}/r9`))).toBe('NotExist');
    });

    // A Latin-1 "caf\xe9" from an old archive is a name as good as "café": the suite spells
    // its bytes as sys/byteNames.ts keeps them ("caf\udce9"); each way in turns them back
    // into those bytes (a path Buffer for the OS, the bytes on the NFS wire).
    it('keeps names and symlink targets that are not UTF-8 as their bytes: "caf\\xe9" apart from "caf\\xe8"', async () => {
      const [e9, e8, dir, link] = [`${A}/caf\udce9`, `${A}/caf\udce8`, `${A}/d\udcfe`, `${A}/l\udce9`];
      if (!has('byteNames')) {
        // NFSv3 has no EILSEQ: its host answers NFS3ERR_INVAL.
        const refused = ['NotUtf8', 'InvalidItem'];
        expect(refused).toContain(await failure(w.create(e9, 0o644, 'e9')));
        expect(refused).toContain(await failure(w.mkdir(dir, 0o755)));
        expect(refused).toContain(await failure(w.symlink('caf\udce9', `${A}/plain`)));
        expect((await w.list(A)).filter((n) => n.startsWith('caf') || n.startsWith('d\udcfe'))).toEqual([]);
        return;
      }
      await w.create(e9, 0o644, 'e9');
      await w.create(e8, 0o644, 'e8');
      await w.mkdir(dir, 0o755);
      await w.create(`${dir}/in\udcff`, 0o600, 'deep');
      await w.symlink('caf\udce9', link);
      expect((await w.read(e9)).toString()).toBe('e9');
      expect((await w.read(e8)).toString()).toBe('e8');
      expect((await w.read(`${dir}/in\udcff`)).toString()).toBe('deep');
      expect(await w.readlink(link)).toBe('caf\udce9');
      expect(await w.list(dir)).toEqual(['in\udcff']);
      await w.rename(e8, `${A}/ren\udce4`);
      expect((await w.list(A)).filter((n) => /^(caf|ren|l)[\udc80-\udcff]/.test(n))).toEqual(['caf\udce9', 'l\udce9', 'ren\udce4']);
      if (has('backing')) {
        const disk = (s: string): Buffer => Buffer.from(s, 'latin1');
        const names = readdirSync(join(folder, 'area'), 'buffer');
        for (const n of ['caf\xe9', 'ren\xe4', 'd\xfe', 'l\xe9']) expect(names.some((b) => b.equals(disk(n))), n).toBe(true);
        expect(readFileSync(Buffer.concat([Buffer.from(`${folder}/area/`), disk('caf\xe9')]), 'utf8')).toBe('e9');
        expect(readlinkSync(Buffer.concat([Buffer.from(`${folder}/area/`), disk('l\xe9')]), 'buffer').equals(disk('caf\xe9'))).toBe(true);
      }
      await w.unlink(`${dir}/in\udcff`);
      await w.rmdir(dir);
      expect(await failure(w.stat(dir))).toBe('NotExist');
    });

    it('hard links share content and count, unlink drops the count, folders cannot be linked', async () => {
      if (!has('links')) return;
      await w.create(`${A}/l1`, 0o644, 'shared');
      await w.link(`${A}/l1`, `${A}/l2`);
      expect((await w.stat(`${A}/l1`)).nlink).toBe(2);
      expect((await w.stat(`${A}/l2`)).nlink).toBe(2);
      await w.append(`${A}/l2`, '+more');
      expect((await w.read(`${A}/l1`)).toString()).toBe('shared+more');
      await w.unlink(`${A}/l1`);
      expect((await w.stat(`${A}/l2`)).nlink).toBe(1);
      await w.mkdir(`${A}/ld`, 0o755);
      expect(await failure(w.link(`${A}/ld`, `${A}/ld2`))).toBe('NotPermitted');
      expect(await failure(w.link(`${A}/l2`, `${A}/ld`))).toBe('Exist');
    });

    it('makes fifos with their mode', async () => {
      if (!has('fifos')) return;
      await w.mkfifo(`${A}/fifo`, 0o640);
      const st = await w.stat(`${A}/fifo`);
      expect({ type: st.type, mode: st.mode }).toEqual({ type: 'fifo', mode: 0o640 });
      await w.unlink(`${A}/fifo`);
    });

    it('makes unix sockets where a process binds one, reached by their name', async () => {
      if (!has('fifos')) return;
      if (!has('sockets')) {
        expect(await failure(w.bindSocket(`${A}/sock`))).toBe('NotPermitted');
        return;
      }
      const echo = await w.bindSocket(`${A}/sock`);
      const st = await w.stat(`${A}/sock`);
      expect({ type: st.type, mode: st.mode }).toEqual({ type: 'socket', mode: 0o777 });
      if (caps.ownsAsCaller) expect({ uid: st.uid, gid: st.gid }).toEqual(caps.who);
      if (echo !== undefined) expect(echo).toBe('ping');
      await w.unlink(`${A}/sock`);
      expect(await failure(w.stat(`${A}/sock`))).toBe('NotExist');
    });

    it('keeps user extended attributes: set, read, listed, replaced, removed, refused to others', async () => {
      if (!has('xattrs')) return;
      await w.create(`${A}/xa`, 0o644, 'x');
      await w.setxattr(`${A}/xa`, 'user.color', 'blue');
      expect(await w.getxattr(`${A}/xa`, 'user.color')).toBe('blue');
      await w.setxattr(`${A}/xa`, 'user.color', 'green');
      await w.setxattr(`${A}/xa`, 'user.shape', 'round');
      expect(await w.listxattr(`${A}/xa`)).toEqual(['user.color', 'user.shape']);
      expect(await w.getxattr(`${A}/xa`, 'user.color')).toBe('green');
      await w.removexattr(`${A}/xa`, 'user.color');
      expect(await w.getxattr(`${A}/xa`, 'user.color')).toBeUndefined();
      expect(await failure(w.removexattr(`${A}/xa`, 'user.color'))).toBe('NoAttribute');
      // On the disk, as set through this way in (getfattr on the backing folder, no mount between).
      if (has('backing')) {
        const onDisk = execFileSync('getfattr', ['--absolute-names', '-d', join(folder, A, 'xa')], { encoding: 'utf8' });
        expect(onDisk.split('\n').filter((l) => l.startsWith('user.'))).toEqual(['user.shape="round"']);
      }
      // Folders hold them too, and only user.* names are kept.
      await w.mkdir(`${A}/xd`, 0o755);
      await w.setxattr(`${A}/xd`, 'user.tag', 'folder');
      expect(await w.getxattr(`${A}/xd`, 'user.tag')).toBe('folder');
      expect(await failure(w.setxattr(`${A}/xa`, 'trusted.secret', '1'))).not.toBe('no error');
      // Another's file, 0644: its attributes are read by anyone, changed only by its owner (or root).
      expect(await w.getxattr('/rootfile', 'user.none')).toBeUndefined();
      if (caps.enforces && caps.who.uid !== 0) expect(await failure(w.setxattr('/rootfile', 'user.mine', '1'))).toBe('Permission');
      await w.unlink(`${A}/xa`);
      await w.rmdir(`${A}/xd`);
    });

    it('a file unlinked while open keeps its bytes for its descriptor, and is gone by its name', async () => {
      const p = `${A}/held`;
      await w.create(p, 0o644, 'data');
      const fd = await w.fdOpen(p);
      const reader = await w.fdOpen(p, true);
      await w.unlink(p);
      expect(await failure(w.stat(p))).toBe('NotExist');
      await w.fdWrite(fd, 4, Buffer.from('more'));
      expect((await w.fdRead(fd, 0, 20)).toString()).toBe('datamore');
      // A reader opened before the unlink reads on too (what it sees of the writes after
      // it opened is the guest's: MFS readers hold the bytes they opened).
      expect((await w.fdRead(reader, 0, 4)).toString()).toBe('data');
      await w.fdClose(reader);
      await w.fdClose(fd);
      expect(await failure(w.stat(p))).toBe('NotExist');
      // A new file at the name is another file.
      await w.create(p, 0o644, 'new');
      expect((await w.read(p)).toString()).toBe('new');
      await w.unlink(p);
    });

    it('reports ENOSPC, ENAMETOOLONG, EXDEV and EFBIG as themselves', async () => {
      if (!has('limits')) {
        // a name longer than 255 bytes is refused everywhere
        expect(await failure(w.create(`${A}/${'n'.repeat(256)}`, 0o644))).toBe('NameTooLong');
        return;
      }
      expect(await failure(w.writeBig('/small/big', 2 * 1024 * 1024))).toBe('NoSpace');
      expect(await failure(w.create(`${A}/${'n'.repeat(256)}`, 0o644))).toBe('NameTooLong');
      await w.create(`${A}/crossing`, 0o644, 'x');
      expect(await failure(w.rename(`${A}/crossing`, '/small/crossing'))).toBe('CrossDevice');
      expect(await failure(w.truncate(`${A}/crossing`, 2 ** 50))).toBe('TooBig');
    });

    it('truncates up (zeros) and down', async () => {
      await w.create(`${A}/t`, 0o644, '0123456789');
      await w.truncate(`${A}/t`, 4);
      expect((await w.read(`${A}/t`)).toString()).toBe('0123');
      await w.truncate(`${A}/t`, 8);
      expect(await w.read(`${A}/t`)).toEqual(Buffer.from('0123\0\0\0\0'));
      expect((await w.stat(`${A}/t`)).size).toBe(8);
    });

    it('counts the blocks a file holds on its disk, as the backing folder does: a sparse file fewer than its size (du)', async () => {
      if (!has('backing')) return;
      const p = `${A}/sparse`;
      await w.create(p, 0o644, 'x');
      await w.truncate(p, 64 * 1024 * 1024);
      const s = await w.stat(p);
      expect(s.size).toBe(64 * 1024 * 1024);
      // One block of the disk (4 KiB on ext4 and tmpfs), not the 131,072 its size would take.
      expect(s.blocks).toBe(lstatSync(join(folder, p)).blocks);
      expect(s.blocks).toBeLessThan(1024);
      await w.create(`${A}/tiny`, 0o644, 'x');
      expect((await w.stat(`${A}/tiny`)).blocks).toBe(lstatSync(join(folder, `${A}/tiny`)).blocks);
    });

    it('sees a change made in the backing folder at once: never an old size with new bytes', async () => {
      if (!has('backing')) return;
      const p = `${A}/changing`;
      await w.create(p, 0o666, 'version1-');
      expect((await w.read(p)).toString()).toBe('version1-');
      writeFileSync(join(folder, p), 'version2-longer');
      expect((await w.read(p)).toString()).toBe('version2-longer');
      expect((await w.stat(p)).size).toBe(15);
    });

    it('random reads, writes and truncates match a local copy', async () => {
      const p = `${A}/random`;
      await w.create(p, 0o644);
      const fd = await w.fdOpen(p);
      const rnd = prng(9);
      let copy = Buffer.alloc(0);
      try {
        for (let i = 0; i < 300; i++) {
          const r = rnd();
          const pos = Math.floor(rnd() * 300_000);
          if (r < 0.45) {
            const data = Buffer.alloc(1 + Math.floor(rnd() * 40_000), i & 0xff);
            await w.fdWrite(fd, pos, data);
            if (copy.length < pos + data.length) copy = Buffer.concat([copy, Buffer.alloc(pos + data.length - copy.length)]);
            data.copy(copy, pos);
          } else if (r < 0.85) {
            const len = 1 + Math.floor(rnd() * 70_000);
            const got = await w.fdRead(fd, pos, len);
            expect({ i, ok: got.equals(copy.subarray(pos, pos + len)) }).toEqual({ i, ok: true });
          } else {
            const size = Math.floor(rnd() * 250_000);
            await w.fdTruncate(fd, size);
            copy = size <= copy.length ? copy.subarray(0, size) : Buffer.concat([copy, Buffer.alloc(size - copy.length)]);
          }
        }
      } finally {
        await w.fdClose(fd);
      }
      if (has('backing')) expect(readFileSync(join(folder, p)).equals(copy)).toBe(true);
      expect((await w.read(p)).equals(copy)).toBe(true);
    });
  });
}

function pick(s: WStat): { uid: number; gid: number } {
  return { uid: s.uid, gid: s.gid };
}
