import { lstatSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalGuest } from '../../src-main/guests/local.ts';
import type { PathsKind } from '../../src-main/guests/localPaths.ts';
import type { DirEntry } from '../../src-main/vfs/types.ts';

const o = () => ({ signal: AbortSignal.timeout(10_000) });

async function list(g: LocalGuest, path: string): Promise<DirEntry[]> {
  const out: DirEntry[] = [];
  for await (const e of g.readdir(path, o())) out.push(e);
  return out;
}

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as { kind?: string }).kind ?? `not an FsError: ${String(err)}`;
  }
}

// Both ways of staying inside the root run here: the /proc proof (Linux's default) and the
// openat walk (macOS's default), chosen explicitly so neither depends on BERTH_LOCAL_PATHS,
// each with its calls inline and off this thread (threadpool, or the walk's worker). The
// /proc proof also runs without libc's *at calls, as where koffi or libc does not load.
const KINDS: Array<[PathsKind, boolean, boolean]> = [
  ['proc', true, true],
  ['proc', false, true],
  ['proc', true, false],
  ['openat', true, true],
  ['openat', false, true],
];
const ROOT = process.getuid?.() === 0;

describe.each(KINDS)('local guest (%s, inline %s, libc %s)', (kind, inline, libc) => {
  let base: string;
  let root: string;
  let outside: string;
  let rw: LocalGuest;
  let ro: LocalGuest;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-local-'));
    root = join(base, 'root');
    outside = join(base, 'outside');
    mkdirSync(join(root, 'dir/sub'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'top secret');
    writeFileSync(join(root, 'hello.txt'), 'hello world\n');
    writeFileSync(join(root, 'dir/empty'), '');
    writeFileSync(join(root, 'dir/spaced näme'), 'x');
    symlinkSync('hello.txt', join(root, 'rel-link'));
    symlinkSync(join(outside, 'secret'), join(root, 'abs-out'));
    symlinkSync(outside, join(root, 'dir-out'));
    symlinkSync('../outside', join(root, 'dotdot-out'));
    symlinkSync('dir', join(root, 'dir-in'));
    rw = await LocalGuest.open({ kind: 'local', path: root, readOnly: false, xattrs: true }, { paths: kind, inline, libc });
    ro = await LocalGuest.open({ kind: 'local', path: root, readOnly: true, xattrs: true }, { paths: kind, inline, libc });
    expect(rw.pathsKind).toBe(kind);
  });
  afterAll(async () => {
    await rw.close();
    await ro.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('stats, lists and reads like the folder itself', async () => {
    const a = await rw.getattr('/hello.txt', o());
    expect(a).toMatchObject({ type: 'file', size: 12 });
    expect((await rw.getattr('/', o())).type).toBe('dir');
    expect((await rw.getattr('/rel-link', o())).type).toBe('symlink');
    const names = (await list(rw, '/')).map((e) => `${e.name}:${e.attr.type}`);
    expect(names).toEqual([
      'abs-out:symlink', 'dir:dir', 'dir-in:symlink', 'dir-out:symlink', 'dotdot-out:symlink', 'hello.txt:file', 'rel-link:symlink',
    ]);
    expect((await list(rw, '/dir')).map((e) => e.name)).toEqual(['empty', 'spaced näme', 'sub']);
    const fh = await rw.open('/hello.txt', {}, o());
    expect(Buffer.from(await fh.read(6, 100, o())).toString()).toBe('world\n');
    expect((await fh.read(100, 10, o())).length).toBe(0);
    await fh.close();
    expect(await rw.readlink('/abs-out', o())).toBe(join(outside, 'secret'));
    expect(await rw.readlink('/dotdot-out', o())).toBe('../outside');
    const s = await rw.statfs(o());
    expect(s.blocks).toBeGreaterThan(0);
  });

  it('never reaches outside the folder', async () => {
    expect(await kindOf(rw.getattr('/../outside/secret', o()))).toBe('InvalidItem');
    expect(await kindOf(rw.getattr('/dir/../hello.txt', o()))).toBe('InvalidItem');
    expect(await kindOf(rw.getattr('dir', o()))).toBe('InvalidItem');
    // Through a symlink to a folder outside: refused as "not a folder", nothing read.
    expect(await kindOf(rw.getattr('/dir-out/secret', o()))).toBe('NotDir');
    expect(await kindOf(rw.open('/dir-out/secret', {}, o()))).toBe('NotDir');
    expect(await kindOf(list(rw, '/dir-out'))).toBe('NotDir');
    expect(await kindOf(list(rw, '/dotdot-out'))).toBe('NotDir');
    // Even a symlink pointing inside is not traversed: the client follows links itself.
    expect(await kindOf(rw.getattr('/dir-in/empty', o()))).toBe('NotDir');
    // Opening a symlink to a file outside does not follow it.
    expect(await kindOf(rw.open('/abs-out', {}, o()))).toBe('Recursion');
    expect(await kindOf(rw.create('/dir-out/new', 0o644, o()))).toBe('NotDir');
    expect(existsSync(join(outside, 'new'))).toBe(false);
    expect(await kindOf(rw.setattr('/abs-out', { size: 0 }, o()))).toBe('InvalidItem');
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('top secret');
  });

  it('maps errors to kinds', async () => {
    expect(await kindOf(rw.getattr('/nope', o()))).toBe('NotExist');
    expect(await kindOf(rw.getattr('/hello.txt/x', o()))).toBe('NotDir');
    expect(await kindOf(list(rw, '/hello.txt'))).toBe('NotDir');
    expect(await kindOf(rw.open('/dir', {}, o()))).toBe('IsDir');
    expect(await kindOf(rw.mkdir('/dir', 0o755, o()))).toBe('Exist');
    expect(await kindOf(rw.rmdir('/dir', o()))).toBe('NotEmpty');
    expect(await kindOf(rw.rmdir('/hello.txt', o()))).toBe('NotDir');
    expect(await kindOf(rw.unlink('/dir', o()))).toBe('IsDir');
    const ac = new AbortController();
    ac.abort();
    expect(await kindOf(rw.getattr('/', { signal: ac.signal }))).toBe('Timeout');
  });

  it('writes when read-write', async () => {
    const fh = await rw.create('/new.bin', 0o640, o());
    expect(await fh.write!(0, Buffer.from('abcdef'), o())).toBe(6);
    await fh.write!(3, Buffer.from('XY'), o());
    await fh.flush!(o());
    await fh.close();
    expect(readFileSync(join(root, 'new.bin'), 'utf8')).toBe('abcXYf');
    expect((await rw.getattr('/new.bin', o())).mode).toBe(0o640);
    await rw.setattr('/new.bin', { size: 2, mode: 0o600, mtime: 1_000_000_000_000 }, o());
    const a = await rw.getattr('/new.bin', o());
    expect(a).toMatchObject({ size: 2, mode: 0o600, mtime: 1_000_000_000_000 });
    await rw.mkdir('/d2', 0o755, o());
    await rw.rename('/new.bin', '/d2/moved.bin', o());
    await rw.symlink('moved.bin', '/d2/ln', o());
    expect(await rw.readlink('/d2/ln', o())).toBe('moved.bin');
    await rw.unlink('/d2/ln', o());
    await rw.unlink('/d2/moved.bin', o());
    await rw.rmdir('/d2', o());
    expect(existsSync(join(root, 'd2'))).toBe(false);
    const t = await rw.open('/dir/empty', { write: true }, o());
    await t.write!(0, Buffer.from('z'), o());
    await t.truncate!(0, o());
    await t.close();
  });

  // Names from an old Latin-1 archive: each reached by its own bytes (sys/byteNames.ts), in a
  // folder whose own name is not UTF-8 (its proof by link, the openat walk), in a listing
  // big enough for the stat batch (which then lstats through the threadpool).
  it('lists, reads, makes, renames and removes names that are not UTF-8 by their bytes', async () => {
    const disk = (rel: string): Buffer => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(rel, 'latin1')]);
    mkdirSync(disk('latin\xe9'));
    writeFileSync(disk('latin\xe9/caf\xe9'), 'e9');
    writeFileSync(disk('latin\xe9/caf\xe8'), 'e8');
    for (let i = 0; i < 40; i++) writeFileSync(join(root, `latin-many-${i}`), '');
    const dir = '/latin\udce9';
    expect((await list(rw, dir)).map((e) => `${e.name}:${e.attr.size}`)).toEqual(['caf\udce8:2', 'caf\udce9:2']);
    expect((await rw.getattr(`${dir}/caf\udce9`, o())).type).toBe('file');
    const h = await rw.open(`${dir}/caf\udce8`, {}, o());
    expect(Buffer.from(await h.read(0, 10, o())).toString()).toBe('e8');
    await h.close();
    const made = await rw.create(`${dir}/new\udcff`, 0o644, o());
    await made.write!(0, Buffer.from('made'), o());
    await made.close();
    expect(readFileSync(disk('latin\xe9/new\xff'), 'utf8')).toBe('made');
    await rw.mkdir(`${dir}/sub\udcfe`, 0o755, o());
    await rw.symlink('caf\udce9', `${dir}/sub\udcfe/ln\udce9`, o());
    expect(await rw.readlink(`${dir}/sub\udcfe/ln\udce9`, o())).toBe('caf\udce9');
    // A fifo too (without libc made by running mknod: its argument goes as the bytes).
    await rw.mknod(`${dir}/fifo\udcfd`, 'fifo', 0o640, 0, o());
    expect(lstatSync(disk('latin\xe9/fifo\xfd')).isFIFO()).toBe(true);
    await rw.rename(`${dir}/caf\udce8`, `${dir}/sub\udcfe/ren\udce4`, o());
    expect(readFileSync(disk('latin\xe9/sub\xfe/ren\xe4'), 'utf8')).toBe('e8');
    const top = (await list(rw, '/')).map((e) => e.name);
    expect(top).toContain('latin\udce9');
    expect(top.filter((n) => n.startsWith('latin-many-'))).toHaveLength(40);
    await rw.unlink(`${dir}/sub\udcfe/ln\udce9`, o());
    await rw.unlink(`${dir}/sub\udcfe/ren\udce4`, o());
    await rw.rmdir(`${dir}/sub\udcfe`, o());
    expect(existsSync(disk('latin\xe9/sub\xfe'))).toBe(false);
    rmSync(disk('latin\xe9'), { recursive: true });
    for (let i = 0; i < 40; i++) rmSync(join(root, `latin-many-${i}`));
  });

  it('renames with noreplace and exchange (renameat2), never through a symlink', async () => {
    if (!libc) {
      expect(await kindOf(rw.rename2('/hello.txt', '/x', 'noreplace', o()))).toBe('InvalidItem');
      return;
    }
    writeFileSync(join(root, 'r2-a'), 'A');
    writeFileSync(join(root, 'r2-b'), 'B');
    expect(await kindOf(rw.rename2('/r2-a', '/r2-b', 'noreplace', o()))).toBe('Exist');
    await rw.rename2('/r2-a', '/r2-c', 'noreplace', o());
    await rw.rename2('/r2-c', '/r2-b', 'exchange', o());
    expect([readFileSync(join(root, 'r2-c'), 'utf8'), readFileSync(join(root, 'r2-b'), 'utf8')]).toEqual(['B', 'A']);
    // A symlink named is swapped itself, not what it points to outside.
    await rw.rename2('/r2-c', '/abs-out', 'exchange', o());
    expect(readFileSync(join(root, 'abs-out'), 'utf8')).toBe('B');
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('top secret');
    await rw.rename2('/r2-c', '/abs-out', 'exchange', o());
    expect(await kindOf(rw.rename2('/r2-b', '/nope', 'exchange', o()))).toBe('NotExist');
    expect(await kindOf(ro.rename2('/r2-b', '/r2-d', 'noreplace', o()))).toBe('ReadOnly');
    for (const n of ['r2-b', 'r2-c']) rmSync(join(root, n));
  });

  it('keeps user extended attributes of files, folders and the root, never through a symlink', async () => {
    const v = (s: string): Buffer => Buffer.from(s);
    const text = async (p: string, name: string): Promise<string | undefined> => {
      const got = await rw.getxattr(p, name, o());
      return got && Buffer.from(got).toString();
    };
    if (!libc) {
      // Without libc's calls there are none, and none can be set.
      expect(rw.noXattrs).toBe(true);
      expect(await kindOf(rw.setxattr('/hello.txt', 'user.a', v('1'), undefined, o()))).toBe('InvalidOperation');
      return;
    }
    expect(rw.noXattrs).toBe(false);
    // Only when asked for (LocalGuestSchema.xattrs): each write through FUSE then costs a round trip.
    const plain = await LocalGuest.open({ kind: 'local', path: root, readOnly: false }, { paths: kind, inline, libc });
    expect(plain.noXattrs).toBe(true);
    expect(await kindOf(plain.setxattr('/hello.txt', 'user.a', v('1'), undefined, o()))).toBe('InvalidOperation');
    await plain.close();
    await rw.setxattr('/hello.txt', 'user.a', v('1'), 'create', o());
    expect(await kindOf(rw.setxattr('/hello.txt', 'user.a', v('2'), 'create', o()))).toBe('Exist');
    await rw.setxattr('/hello.txt', 'user.a', v('2'), 'replace', o());
    expect(await kindOf(rw.setxattr('/hello.txt', 'user.b', v('2'), 'replace', o()))).toBe('NoAttribute');
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256));
    await rw.setxattr('/dir/spaced näme', 'user.bin', bytes, undefined, o());
    expect(Buffer.from((await rw.getxattr('/dir/spaced näme', 'user.bin', o()))!).equals(bytes)).toBe(true);
    await rw.setxattr('/', 'user.top', v('root'), undefined, o());
    expect(await text('/', 'user.top')).toBe('root');
    expect(await text('/hello.txt', 'user.a')).toBe('2');
    expect(await text('/hello.txt', 'user.missing')).toBeUndefined();
    expect(await rw.listxattr('/hello.txt', o())).toEqual(['user.a']);
    expect(await rw.listxattr('/dir', o())).toEqual([]);
    // An attribute name that is not UTF-8 is kept by its bytes, as file names are (sys/byteNames.ts).
    await rw.setxattr('/dir', 'user.caf\udce9', v('e9'), undefined, o());
    expect(await rw.listxattr('/dir', o())).toEqual(['user.caf\udce9']);
    expect(await text('/dir', 'user.caf\udce9')).toBe('e9');
    expect(await text('/dir', 'user.caf\udce8')).toBeUndefined();
    expect(execFileSync('getfattr', ['--absolute-names', '-d', join(root, 'dir')]).includes(Buffer.from('user.caf\xe9="e9"', 'latin1'))).toBe(true);
    await rw.removexattr('/dir', 'user.caf\udce9', o());
    // A symlink holds no user attributes (EPERM), and the file it names, inside or out, is left alone.
    expect(await kindOf(rw.setxattr('/rel-link', 'user.a', v('via link'), undefined, o()))).toBe('NotPermitted');
    expect(await kindOf(rw.setxattr('/abs-out', 'user.a', v('via link'), undefined, o()))).toBe('NotPermitted');
    expect(await text('/hello.txt', 'user.a')).toBe('2');
    expect(await text('/rel-link', 'user.a')).toBeUndefined();
    // Other namespaces belong to the machine: never set, never shown.
    expect(await kindOf(rw.setxattr('/hello.txt', 'trusted.a', v('1'), undefined, o()))).toBe('NotPermitted');
    expect(await text('/hello.txt', 'trusted.a')).toBeUndefined();
    expect(await kindOf(ro.setxattr('/hello.txt', 'user.a', v('1'), undefined, o()))).toBe('ReadOnly');
    expect(await kindOf(rw.getxattr('/nope', 'user.a', o()))).toBe('NotExist');
    await rw.removexattr('/hello.txt', 'user.a', o());
    expect(await kindOf(rw.removexattr('/hello.txt', 'user.a', o()))).toBe('NoAttribute');
    await rw.removexattr('/dir/spaced näme', 'user.bin', o());
    await rw.removexattr('/', 'user.top', o());
    expect(await rw.listxattr('/', o())).toEqual([]);
  });

  it('makes hard links, fifos, sockets and (as root) devices with the mode asked', async () => {
    await rw.link('/hello.txt', '/dir/hard', o());
    expect(readFileSync(join(root, 'dir/hard'), 'utf8')).toBe('hello world\n');
    expect((await rw.getattr('/hello.txt', o())).nlink).toBe(2);
    // A symlink named as the source is linked itself, not what it points to (outside).
    await rw.link('/abs-out', '/dir/hard-ln', o());
    expect(await rw.readlink('/dir/hard-ln', o())).toBe(join(outside, 'secret'));
    expect(await kindOf(rw.link('/hello.txt', '/dir/hard', o()))).toBe('Exist');

    // 0666 asks for bits this process's umask (022) would take away.
    await rw.mknod('/dir/fifo', 'fifo', 0o666, 0, o());
    const f = lstatSync(join(root, 'dir/fifo'));
    expect({ fifo: f.isFIFO(), mode: f.mode & 0o7777 }).toEqual({ fifo: true, mode: 0o666 });
    expect(await kindOf(rw.mknod('/dir/fifo', 'fifo', 0o600, 0, o()))).toBe('Exist');
    if (libc) {
      await rw.mknod('/dir/sock', 'socket', 0o600, 0, o());
      const k = lstatSync(join(root, 'dir/sock'));
      expect({ socket: k.isSocket(), mode: k.mode & 0o7777 }).toEqual({ socket: true, mode: 0o600 });
    } else {
      // coreutils' mknod, the fallback for fifos and devices, makes no sockets: EPERM, as mknod(2) where a type cannot be held.
      expect(await kindOf(rw.mknod('/dir/sock', 'socket', 0o600, 0, o()))).toBe('NotPermitted');
    }
    if (ROOT) {
      // /dev/null's numbers, 1 and 3, as FUSE and NFS pass them (major << 8 | minor).
      await rw.mknod('/dir/null', 'char', 0o620, (1 << 8) | 3, o());
      const a = await rw.getattr('/dir/null', o());
      expect({ type: a.type, mode: a.mode, rdev: a.rdev }).toEqual({ type: 'char', mode: 0o620, rdev: (1 << 8) | 3 });
      expect(lstatSync(join(root, 'dir/null')).rdev).toBe(lstatSync('/dev/null').rdev);
      await rw.unlink('/dir/null', o());
    }
    for (const name of ['hard', 'hard-ln', 'fifo', ...(libc ? ['sock'] : [])]) await rw.unlink(`/dir/${name}`, o());
    expect((await rw.getattr('/hello.txt', o())).nlink).toBe(1);
    expect(existsSync(join(root, 'dir/fifo'))).toBe(false);
  });

  it('refuses every change when read-only', async () => {
    expect(ro.readOnly).toBe(true);
    expect(await kindOf(ro.create('/x', 0o644, o()))).toBe('ReadOnly');
    expect(await kindOf(ro.mkdir('/x', 0o755, o()))).toBe('ReadOnly');
    expect(await kindOf(ro.unlink('/hello.txt', o()))).toBe('ReadOnly');
    expect(await kindOf(ro.rename('/hello.txt', '/y', o()))).toBe('ReadOnly');
    expect(await kindOf(ro.setattr('/hello.txt', { mode: 0o777 }, o()))).toBe('ReadOnly');
    expect(await kindOf(ro.open('/hello.txt', { write: true }, o()))).toBe('ReadOnly');
    const fh = await ro.open('/hello.txt', {}, o());
    expect(await kindOf(fh.write!(0, Buffer.from('no'), o()))).toBe('ReadOnly');
    await fh.close();
    expect(readFileSync(join(root, 'hello.txt'), 'utf8')).toBe('hello world\n');
  });

  it('read and readInto return the right bytes for sequential, backward and random reads', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 12345);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 11)) & 0xff;
    writeFileSync(join(root, 'pattern.bin'), data);
    const h = await ro.open('/pattern.bin', {}, o());
    try {
      const kept: Array<[number, Uint8Array]> = [];
      // Sequential 128 KiB reads (FUSE's shape), several in flight, through both calls.
      for (let pos = 0; pos < data.length; pos += 4 * 131072) {
        const batch = [0, 1, 2, 3].map(async (k) => {
          const at = pos + k * 131072;
          if (k % 2) {
            const b = Buffer.alloc(131072);
            const n = await h.readInto!(b, at, o());
            expect(b.subarray(0, n).equals(data.subarray(at, at + 131072))).toBe(true);
          } else {
            const got = await h.read(at, 131072, o());
            kept.push([at, got]);
          }
        });
        await Promise.all(batch);
      }
      // Views handed out by read() must not change when later reads reuse buffers.
      for (const [at, got] of kept) expect(Buffer.from(got).equals(data.subarray(at, at + 131072))).toBe(true);
      let seed = 42;
      const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
      for (let i = 0; i < 200; i++) {
        const at = rnd(data.length + 10);
        const len = 1 + rnd(1.5 * 1024 * 1024);
        const b = Buffer.alloc(len);
        const n = i % 2 ? await h.readInto!(b, at, o()) : Buffer.from(await h.read(at, len, o())).copy(b);
        expect({ i, at, len, ok: b.subarray(0, n).equals(data.subarray(at, at + len)) }).toEqual({ i, at, len, ok: true });
      }
    } finally {
      await h.close();
    }
  });

  it('fails to open a missing folder or a file', async () => {
    expect(await kindOf(LocalGuest.open({ kind: 'local', path: join(base, 'missing'), readOnly: false }))).toBe('NotExist');
    expect(await kindOf(LocalGuest.open({ kind: 'local', path: join(root, 'hello.txt'), readOnly: false }))).toBe('NotDir');
  });
});
