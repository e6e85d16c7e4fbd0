import { createRequire } from 'node:module';
import { constants } from 'node:os';
import type { NodeType } from '../vfs/types.ts';
import { typeOfMode } from '../vfs/modeType.ts';
import { joinNs } from '../vfs/times.ts';
import { nameFromBytes, osArgs } from '../sys/byteNames.ts';

// libc's *at calls for the local guest's openat walk (localAtPaths.ts), through koffi: Node's
// fs has no call relative to a folder descriptor. Every call here is blocking and made on
// the JavaScript thread (errno is read right after it, on the same thread). Constants and
// struct layouts differ between Linux and macOS: both tables are written out below. The
// Linux x86_64 one is exercised by the tests here; the aarch64 Linux and the macOS ones
// come from the system headers (asm-generic/stat.h, dirent.h; sys/stat.h, sys/dirent.h,
// sys/fcntl.h of the macOS SDK) and are unverified on those machines.

/** The constants the two platforms disagree on. */
export interface Platform {
  lib: string;
  /** Symbol suffix of the 64-bit-inode variants (macOS on x86_64 only). */
  inode64: string;
  O_CLOEXEC: number;
  AT_SYMLINK_NOFOLLOW: number;
  AT_REMOVEDIR: number;
  UTIME_NOW: number;
  UTIME_OMIT: number;
  /** C type of mode_t and dev_t. */
  modeT: string;
  devT: string;
  /** Offset of d_name in struct dirent. */
  direntName: number;
  /** The fchmodat2 system call's number (Linux 6.6+: a chmod that never follows a symlink, in one call); none on macOS. */
  fchmodat2?: number;
  /** Linux's l*xattr calls are bound, used on a folder descriptor's /proc link (localXattrs.ts); macOS's differ and are not. */
  xattrs?: true;
  /** struct stat: its size and the offset and width of each field used. */
  stat: StatLayout;
}

/** Where struct stat keeps each field; `w` is the byte width (2, 4 or 8). */
interface StatLayout {
  size: number;
  dev: [number, number];
  ino: [number, number];
  mode: [number, number];
  nlink: [number, number];
  uid: [number, number];
  gid: [number, number];
  rdev: [number, number];
  bytes: [number, number];
  /** st_blocks: 512-byte blocks allocated. */
  blocks: [number, number];
  /** Seconds at this offset, nanoseconds 8 bytes later (struct timespec). */
  atim: number;
  mtim: number;
  ctim: number;
}

/** Linux x86_64 (verified here: Debian 12, glibc 2.36). */
const LINUX_X64: StatLayout = { size: 144, dev: [0, 8], ino: [8, 8], nlink: [16, 8], mode: [24, 4], uid: [28, 4], gid: [32, 4], rdev: [40, 8], bytes: [48, 8], blocks: [64, 8], atim: 72, mtim: 88, ctim: 104 };
/** Linux aarch64 and the other asm-generic layouts (unverified here). */
const LINUX_GENERIC: StatLayout = { size: 128, dev: [0, 8], ino: [8, 8], mode: [16, 4], nlink: [20, 4], uid: [24, 4], gid: [28, 4], rdev: [32, 8], bytes: [48, 8], blocks: [64, 8], atim: 72, mtim: 88, ctim: 104 };
/** macOS, 64-bit inodes, arm64 and x86_64 alike (unverified here). */
const DARWIN_STAT: StatLayout = { size: 144, dev: [0, 4], mode: [4, 2], nlink: [6, 2], ino: [8, 8], uid: [16, 4], gid: [20, 4], rdev: [24, 4], atim: 32, mtim: 48, ctim: 64, bytes: [96, 8], blocks: [104, 8] };

/** Linux (glibc): fcntl.h, linux/stat.h. */
const LINUX: Omit<Platform, 'stat'> = {
  lib: 'libc.so.6',
  inode64: '',
  O_CLOEXEC: 0o2000000,
  AT_SYMLINK_NOFOLLOW: 0x100,
  AT_REMOVEDIR: 0x200,
  UTIME_NOW: (1 << 30) - 1,
  UTIME_OMIT: (1 << 30) - 2,
  modeT: 'uint32_t',
  devT: 'uint64_t',
  direntName: 19,
  // The same number on every architecture (added after the system call tables were unified).
  fchmodat2: 452,
  xattrs: true,
};

/** macOS: sys/fcntl.h, sys/stat.h (UTIME_NOW is -1 there, not Linux's value). */
const DARWIN: Platform = {
  lib: 'libSystem.B.dylib',
  inode64: process.arch === 'x64' ? '$INODE64' : '',
  O_CLOEXEC: 0x1000000,
  AT_SYMLINK_NOFOLLOW: 0x20,
  AT_REMOVEDIR: 0x80,
  UTIME_NOW: -1,
  UTIME_OMIT: -2,
  modeT: 'uint16_t',
  devT: 'int32_t',
  direntName: 21,
  stat: DARWIN_STAT,
};

/** This machine's table, or undefined where neither applies. */
export const PLATFORM: Platform | undefined =
  process.platform === 'darwin' ? DARWIN : process.platform === 'linux' ? { ...LINUX, stat: process.arch === 'x64' ? LINUX_X64 : LINUX_GENERIC } : undefined;

/** What one call answered: its return value, errno when that is negative, an out buffer. */
export type Answer = [ret: number, errno: number, out?: Uint8Array];

/** The ops both threads run (see bindOps). `null` in `args` stands for the out buffer. */
export interface Ops {
  call(name: CallName, args: unknown[], outSize: number): Answer;
  /** Whether `name` is bound here (renameat2 needs glibc 2.28; the xattr calls Linux). */
  has(name: CallName): boolean;
  /** Opens each of `parts` in turn from `rootFd` with `flags`; the fd, or -1, errno and the index that failed. */
  walk(rootFd: number, parts: readonly (string | Uint8Array)[], flags: number): [fd: number, errno: number];
  /**
   * The names in the folder open as `fd` (consumed), without "." and ".."; errno on failure.
   * A name that may not be UTF-8 comes as its bytes, for namesOf (this binder's source also
   * runs in a worker, apart from byteNames.ts).
   */
  names(fd: number): [names: (string | Uint8Array)[] | null, errno: number];
  close(fd: number): void;
}

/** The calls bound (their C prototypes are in bindOps). */
export type CallName =
  | 'openat' | 'fstatat' | 'mkdirat' | 'mknodat' | 'unlinkat' | 'renameat' | 'renameat2' | 'linkat' | 'symlinkat' | 'readlinkat' | 'fchownat' | 'fchmodat' | 'fchmodat2' | 'utimensat'
  | XattrCallName;

/** Linux's extended attribute calls on a path, never following its last component (localXattrs.ts). */
export type XattrCallName = 'lgetxattr' | 'lsetxattr' | 'llistxattr' | 'lremovexattr';

/**
 * Binds libc's *at calls through koffi. Self-contained on purpose: its source is also run
 * by the worker (localAtWorker.ts) that makes the calls which must not block this thread,
 * so it refers to nothing outside itself; errno is read on the thread that made the call.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function bindOps(koffi: any, P: Platform): Ops {
  const lib = koffi.load(P.lib);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const fns: Record<string, (...a: any[]) => unknown> = {
    openat: lib.func('int openat(int dirfd, const char *path, int flags, ...)'),
    fstatat: lib.func('fstatat' + P.inode64, 'int', ['int', 'const char *', 'void *', 'int']),
    mkdirat: lib.func('int mkdirat(int dirfd, const char *path, ' + P.modeT + ' mode)'),
    mknodat: lib.func('int mknodat(int dirfd, const char *path, ' + P.modeT + ' mode, ' + P.devT + ' dev)'),
    unlinkat: lib.func('int unlinkat(int dirfd, const char *path, int flags)'),
    renameat: lib.func('int renameat(int fromfd, const char *from, int tofd, const char *to)'),
    linkat: lib.func('int linkat(int fromfd, const char *from, int tofd, const char *to, int flags)'),
    symlinkat: lib.func('int symlinkat(const char *target, int dirfd, const char *path)'),
    readlinkat: lib.func('long readlinkat(int dirfd, const char *path, void *buf, size_t size)'),
    fchownat: lib.func('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)'),
    fchmodat: lib.func('int fchmodat(int dirfd, const char *path, ' + P.modeT + ' mode, int flags)'),
    utimensat: lib.func('int utimensat(int dirfd, const char *path, const void *times, int flags)'),
  };
  if (P.xattrs) {
    fns.lgetxattr = lib.func('long lgetxattr(const char *path, const char *name, void *value, size_t size)');
    fns.lsetxattr = lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)');
    fns.llistxattr = lib.func('long llistxattr(const char *path, void *list, size_t size)');
    fns.lremovexattr = lib.func('int lremovexattr(const char *path, const char *name)');
  }
  if (P.fchmodat2 !== undefined) {
    const syscall = lib.func('long syscall(long nr, ...)');
    const nr = P.fchmodat2;
    fns.fchmodat2 = (dirfd: number, path: string, mode: number, flags: number) => syscall(nr, 'int', dirfd, 'const char *', path, 'uint32_t', mode, 'int', flags);
  }
  // renameat2 (glibc 2.28+; not on macOS): RENAME_NOREPLACE and RENAME_EXCHANGE (localPaths.ts rename2).
  try {
    fns.renameat2 = lib.func('int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags)');
  } catch {
    // none here: a rename with flags answers EINVAL, and callers fall back
  }
  // Linux's getdents64 (glibc 2.30+): a folder's entries in one call per buffer, where
  // readdir(3) is one koffi call per entry; elsewhere (macOS) readdir.
  let getdents64: ((fd: number, buf: Buffer, n: number) => unknown) | undefined;
  try {
    getdents64 = lib.func('long getdents64(int fd, void *buf, size_t n)');
  } catch {
    getdents64 = undefined;
  }
  // One buffer per binding (per thread), reused by every listing: read out before names() returns.
  const dents = Buffer.alloc(getdents64 ? 32768 : 0);
  const fdopendir = lib.func('fdopendir' + P.inode64, 'void *', ['int']);
  const readdir = lib.func('readdir' + P.inode64, 'void *', ['void *']);
  const closedir = lib.func('int closedir(void *d)');
  const close = lib.func('int close(int fd)');
  return {
    has: (name) => fns[name] !== undefined,
    call(name, args, outSize) {
      const out = outSize > 0 ? Buffer.alloc(outSize) : undefined;
      const ret = Number(fns[name]!(...args.map((a) => (a === null ? out : a))));
      return [ret, ret < 0 ? (koffi.errno() as number) : 0, out];
    },
    walk(rootFd, parts, flags) {
      let fd = rootFd;
      for (const part of parts) {
        const next = Number(fns.openat!(fd, part, flags, 'uint32_t', 0));
        const errno = next < 0 ? (koffi.errno() as number) : 0;
        if (fd !== rootFd) close(fd);
        if (next < 0) return [-1, errno];
        fd = next;
      }
      return [fd, 0];
    },
    names(fd) {
      if (getdents64) {
        const out: (string | Uint8Array)[] = [];
        try {
          for (;;) {
            const n = Number(getdents64(fd, dents, dents.length));
            if (n < 0) return [null, koffi.errno() as number];
            if (n === 0) return [out, 0];
            // struct linux_dirent64: d_ino, d_off, d_reclen (u16 at 16), d_type, d_name (NUL-ended).
            for (let off = 0; off < n; ) {
              const reclen = dents.readUInt16LE(off + 16);
              // Never from a kernel; a misread layout must fail, not spin on this thread (EIO).
              if (reclen === 0) return [null, 5];
              const start = off + P.direntName;
              const nul = dents.indexOf(0, start);
              const end = nul < 0 || nul > off + reclen ? off + reclen : nul;
              // "." and "..": 46, and 46 46.
              if (!(dents[start] === 46 && (end === start + 1 || (end === start + 2 && dents[start + 1] === 46)))) {
                const name = dents.toString('utf8', start, end);
                // A byte that is not UTF-8 decodes to U+FFFD: such a name goes back as its bytes (namesOf).
                out.push(name.includes('\ufffd') ? Buffer.from(dents.subarray(start, end)) : name);
              }
              off += reclen;
            }
          }
        } finally {
          close(fd);
        }
      }
      const dir = fdopendir(fd);
      if (dir === null) {
        const errno = koffi.errno() as number;
        close(fd);
        return [null, errno];
      }
      const out: string[] = [];
      try {
        for (;;) {
          koffi.errno(0);
          const ent = readdir(dir);
          if (ent === null) {
            const errno = koffi.errno() as number;
            return errno === 0 ? [out, 0] : [null, errno];
          }
          const name = koffi.decode(ent, P.direntName, 'char', -1) as string;
          if (name !== '.' && name !== '..') out.push(name);
        }
      } finally {
        closedir(dir);
      }
    },
    close(fd) {
      close(fd);
    },
  };
}

let bound: Ops | null | undefined;

/**
 * `ops` taking names that carry bytes which are not UTF-8 (sys/byteNames.ts) as those bytes:
 * koffi would write a JavaScript string's lone surrogates as U+FFFD. inWorker does the same
 * for the worker's binding.
 */
function withRawNames(ops: Ops): Ops {
  const { call, walk } = ops;
  ops.call = (name, args, outSize) => call(name, osArgs(args) as unknown[], outSize);
  ops.walk = (rootFd, parts, flags) => walk(rootFd, osArgs(parts), flags);
  return ops;
}

/** The names an Ops.names answered, each that came as bytes made a name (sys/byteNames.ts). */
export function namesOf(list: (string | Uint8Array)[]): string[] {
  for (let i = 0; i < list.length; i++) {
    const n = list[i]!;
    if (typeof n !== 'string') list[i] = nameFromBytes(Buffer.from(n.buffer, n.byteOffset, n.length));
  }
  return list as string[];
}

/** The koffi module's path (the worker loads it by path: it has no module resolution of its own). */
export function koffiPath(): string {
  return createRequire(import.meta.url).resolve('koffi');
}

/** Binds libc once on this thread; null where koffi or libc cannot load (the walk is then unavailable). */
export function libc(): Ops | null {
  if (bound !== undefined) return bound;
  try {
    if (!PLATFORM) throw new Error('unsupported platform');
    bound = withRawNames(bindOps(createRequire(import.meta.url)('koffi'), PLATFORM));
  } catch {
    bound = null;
  }
  return bound;
}

/**
 * Binds more of libc on this thread, for the helpers that call it on open descriptors
 * (localTimes.ts, localFdCalls.ts): `bind` gets libc (PLATFORM.lib) and errno's reader.
 * Null where koffi or libc does not load, or `bind` throws (a symbol this libc lacks).
 */
export function bindLibc<T>(bind: (lib: { func: (...decl: unknown[]) => unknown }, errno: () => number) => T): T | null {
  try {
    if (!PLATFORM) throw new Error('unsupported platform');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const koffi = createRequire(import.meta.url)('koffi') as any;
    return bind(koffi.load(PLATFORM.lib), () => koffi.errno() as number);
  } catch {
    return null;
  }
}

/** An error shaped like Node's fs errors (code, errno, syscall), for localErrors.ts. */
export function errnoError(code: number, syscall: string): NodeJS.ErrnoException {
  const table = constants.errno as Record<string, number>;
  const e = new Error(`${syscall}: errno ${code}`) as NodeJS.ErrnoException;
  e.errno = -code;
  e.syscall = syscall;
  e.code = Object.keys(table).find((k) => table[k] === code) ?? 'EIO';
  return e;
}

/** A call that must succeed, on this thread: its answer, or its errno thrown as Node's fs would (code, syscall). */
export function callOrThrow(ops: Ops, name: CallName, args: unknown[], outSize = 0): Answer {
  const r = ops.call(name, args, outSize);
  if (r[0] < 0) throw errnoError(r[1], name);
  return r;
}

/** The longest symlink text readlinkat is asked for (Linux's PATH_MAX; macOS's is 1024). */
export const PATH_MAX = 4096;

/** A symlink's text from readlinkat's answer (its length and the out buffer). */
export function linkText([n, , out]: Answer): string {
  return nameFromBytes(Buffer.from(out!.buffer, out!.byteOffset, n));
}

/** One node's attributes as fstatat reports them (times exact, in ns). */
export interface RawStat {
  type: NodeType;
  /** st_mode whole (type bits included). */
  mode: number;
  dev: number;
  ino: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  /** st_blocks. */
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** 2^32, to join the two halves of a 64-bit field. */
const TWO_32 = 4_294_967_296;

function field(b: Buffer, [off, w]: [number, number]): number {
  // A 64-bit field as a double from its halves (exact below 2^53, as Node's Stats has it): no BigInt made.
  if (w === 8) return b.readUInt32LE(off) + b.readUInt32LE(off + 4) * TWO_32;
  if (w === 4) return b.readUInt32LE(off);
  return b.readUInt16LE(off);
}

/** A struct timespec's exact nanoseconds (tv_sec signed, 64-bit on every platform here). */
function ns(b: Buffer, off: number): bigint {
  return joinNs(b.readUInt32LE(off) + b.readInt32LE(off + 4) * TWO_32, b.readUInt32LE(off + 8));
}

/** The size of this platform's struct stat (fstatat's out buffer). */
export function statSize(): number {
  return PLATFORM!.stat.size;
}

/** A struct stat as fstatat filled it in. */
export function parseStat(u: Uint8Array): RawStat {
  const L = PLATFORM!.stat;
  const b = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  const mode = field(b, L.mode);
  return {
    type: typeOfMode(mode),
    mode,
    dev: field(b, L.dev),
    ino: field(b, L.ino),
    nlink: field(b, L.nlink),
    uid: field(b, L.uid),
    gid: field(b, L.gid),
    rdev: field(b, L.rdev),
    size: field(b, L.bytes),
    blocks: field(b, L.blocks),
    atimeNs: ns(b, L.atim),
    mtimeNs: ns(b, L.mtim),
    ctimeNs: ns(b, L.ctim),
  };
}

/** Whether fchmodat2 answered ENOSYS (a kernel before 6.6) once here: glibc's fchmodat is used from then on. */
let noFchmodat2 = false;

/**
 * chmod of `name` in the folder open as `dirFd`, never following a symlink (a symlink answers
 * EOPNOTSUPP): fchmodat2 where the kernel has it (one call), else glibc's fchmodat with
 * AT_SYMLINK_NOFOLLOW (an O_PATH open and a chmod through its /proc link, in C).
 */
export function fchmodatNoFollow(ops: Ops, dirFd: number, name: string, mode: number): Answer {
  const nofollow = PLATFORM!.AT_SYMLINK_NOFOLLOW;
  const { ENOSYS, EPERM } = constants.errno;
  if (!noFchmodat2 && PLATFORM!.fchmodat2 !== undefined) {
    const r = ops.call('fchmodat2', [dirFd, name, mode, nofollow], 0);
    // EPERM may also be a sandbox (seccomp) refusing a call it does not know: fchmodat then says.
    if (r[0] >= 0 || (r[1] !== ENOSYS && r[1] !== EPERM)) return r;
    if (r[1] === ENOSYS) noFchmodat2 = true;
  }
  return ops.call('fchmodat', [dirFd, name, mode, nofollow], 0);
}
