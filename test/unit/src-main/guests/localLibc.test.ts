import { closeSync, constants as C, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrOfNs, attrOfRaw } from '../../../../src-main/guests/localAttrs.ts';
import { setattrInSync } from '../../../../src-main/guests/localSetattr.ts';
import { type Answer, fchmodatNoFollow, libc, namesOf, type Ops, parseStat, PLATFORM, statSize } from '../../../../src-main/guests/localLibc.ts';
import { nameToBytes } from '../../../../src-main/sys/byteNames.ts';

// libc's *at calls as the local guest's inline calls use them on a folder's O_PATH
// descriptor (localProcPaths.ts): struct stat read as Node reads it, and a chmod that never
// follows a symlink, with or without the kernel's fchmodat2 (which the tests here, on
// Linux 6.6+, have).

const O_PATH = 0o10000000;
const { EOPNOTSUPP, ENOSYS } = constants.errno;
const ops = libc();
const dir = mkdtempSync(join(tmpdir(), 'berth-libc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(process.platform === 'linux' && ops !== null)('libc *at calls on a folder descriptor (Linux)', () => {
  /** Runs `fn` with the test folder open O_PATH, as the guest holds its folders. */
  const inFolder = (fn: (fd: number) => void): void => {
    const fd = openSync(dir, O_PATH | C.O_DIRECTORY);
    try {
      fn(fd);
    } finally {
      closeSync(fd);
    }
  };
  const shown = { uid: undefined, gid: undefined };

  it('reads a struct stat as Node does: sizes past 4 GiB, nanosecond times, every field', () => {
    const f = join(dir, 'big');
    writeFileSync(f, 'x');
    truncateSync(f, 5 * 2 ** 30 + 123);
    utimesSync(f, 1_700_000_000.123456, 1_600_000_000.987654);
    inFolder((fd) => {
      const [ret, errno, out] = ops!.call('fstatat', [fd, 'big', null, PLATFORM!.AT_SYMLINK_NOFOLLOW], statSize());
      expect([ret, errno]).toEqual([0, 0]);
      expect(attrOfRaw(parseStat(out!), shown)).toEqual(attrOfNs(lstatSync(f, { bigint: true }), shown));
    });
  });

  it('changes the mode of a name in the folder, and never that of a symlink target', () => {
    const f = join(dir, 'f');
    writeFileSync(f, 'x', { mode: 0o644 });
    symlinkSync('f', join(dir, 'l'));
    inFolder((fd) => {
      expect(fchmodatNoFollow(ops!, fd, 'f', 0o600)[0]).toBe(0);
      expect(lstatSync(f).mode & 0o7777).toBe(0o600);
      const [ret, errno] = fchmodatNoFollow(ops!, fd, 'l', 0o777);
      expect(ret).toBeLessThan(0);
      expect(errno).toBe(EOPNOTSUPP);
      expect(lstatSync(f).mode & 0o7777).toBe(0o600);
    });
  });

  it('sets a mode by name in one call, and passes over a symlink (its mode is not its own)', () => {
    const f = join(dir, 'h');
    writeFileSync(f, 'x', { mode: 0o644 });
    symlinkSync('h', join(dir, 'hl'));
    const asked: string[] = [];
    const counted: Ops = { ...ops!, call: (name, args, outSize) => (asked.push(name), ops!.call(name, args, outSize)) };
    inFolder((fd) => {
      setattrInSync(counted, fd, 'h', '/h', { mode: 0o600 });
      expect(lstatSync(f).mode & 0o7777).toBe(0o600);
      // No lstat first: one fchmodat2 (and glibc's fchmodat after it on a kernel before 6.6).
      expect(asked).not.toContain('fstatat');
      setattrInSync(counted, fd, 'hl', '/hl', { mode: 0o777 });
      expect(lstatSync(f).mode & 0o7777).toBe(0o600);
      expect(() => setattrInSync(counted, fd, 'none', '/none', { mode: 0o600 })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    });
  });

  it('falls back to fchmodat where the kernel has no fchmodat2, and remembers it', () => {
    const f = join(dir, 'g');
    writeFileSync(f, 'x', { mode: 0o644 });
    const asked: string[] = [];
    const oldKernel: Ops = {
      ...ops!,
      call: (name, args, outSize): Answer => {
        asked.push(name);
        return name === 'fchmodat2' ? [-1, ENOSYS] : ops!.call(name, args, outSize);
      },
    };
    inFolder((fd) => {
      expect(fchmodatNoFollow(oldKernel, fd, 'g', 0o640)[0]).toBe(0);
      expect(lstatSync(f).mode & 0o7777).toBe(0o640);
      expect(fchmodatNoFollow(oldKernel, fd, 'g', 0o604)[0]).toBe(0);
      expect(lstatSync(f).mode & 0o7777).toBe(0o604);
      expect(asked).toEqual(['fchmodat2', 'fchmodat', 'fchmodat']);
    });
  });

  it("lists a folder's names by their bytes, past one buffer of entries, without . and ..", () => {
    const d = join(dir, 'many');
    mkdirSync(d);
    // 400 names of ~200 bytes: ~85 KiB of entries, more than one read of them.
    const names = ['a', '.hidden', '..x', '...', 'é-ünïcødé ☂', 'n'.repeat(255), ...Array.from({ length: 400 }, (_, i) => `${i}-${'long'.repeat(50)}`)];
    for (const n of names) writeFileSync(join(d, n), '');
    mkdirSync(join(d, 'sub'));
    symlinkSync('a', join(d, 'link'));
    // A name that is not UTF-8 comes as its bytes, and namesOf keeps them (sys/byteNames.ts).
    writeFileSync(Buffer.from([...Buffer.from(d + '/bad-'), 0xff]), '');
    const fd = openSync(d, C.O_RDONLY | C.O_DIRECTORY);
    const [listed, errno] = ops!.names(fd);
    expect(errno).toBe(0);
    expect(listed).toContainEqual(Buffer.from('bad-\xff', 'latin1'));
    const got = namesOf(listed!);
    expect(got.map((n) => nameToBytes(n).toString('latin1')).sort()).toEqual(readdirSync(d, 'buffer').map((b) => b.toString('latin1')).sort());
    expect(got).toHaveLength(names.length + 3);
    expect(got).toContain('bad-\udcff');
    // The descriptor was consumed.
    expect(() => fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('answers the errno of a descriptor that is not a folder, and closes it', () => {
    writeFileSync(join(dir, 'plain'), 'x');
    const fd = openSync(join(dir, 'plain'), C.O_RDONLY);
    const [got, errno] = ops!.names(fd);
    expect(got).toBeNull();
    expect(errno).toBe(constants.errno.ENOTDIR);
    expect(() => fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
