import type { SetAttr } from '../vfs/types.ts';
import { splitNs } from '../vfs/times.ts';
import { bindLibc, errnoError } from './localLibc.ts';
import { osPath } from '../sys/byteNames.ts';

// Times of a local node set with utimensat(2) itself, through koffi: Node's utimes takes
// double seconds (~1 µs at today's dates) and has no UTIME_OMIT / UTIME_NOW, so `touch -m`
// through a mount had to read the other time back and re-set it, and nanoseconds were
// lost (issue 9). Used for inline calls (localInline.ts); elsewhere, and where koffi or libc
// cannot load, callers keep Node's lutimes.

/** utimensat's special tv_nsec values (Linux's; macOS's sys/stat.h has -1 and -2). */
const UTIME_NOW = process.platform === 'darwin' ? -1 : (1 << 30) - 1;
const UTIME_OMIT = process.platform === 'darwin' ? -2 : (1 << 30) - 2;
/** AT_FDCWD and AT_SYMLINK_NOFOLLOW per platform. */
const AT = process.platform === 'darwin' ? { cwd: -2, nofollow: 0x20 } : { cwd: -100, nofollow: 0x100 };

type Utimensat = (dirfd: number, path: string | Buffer, times: Buffer, flags: number) => number;
type Futimens = (fd: number, times: Buffer) => number;

let bound: { utimensat: Utimensat; futimens: Futimens; errno: () => number } | null | undefined;

function bind(): typeof bound {
  // Once: null (nothing binds here) is kept too.
  if (bound === undefined) bound = bindLibc((libc, errno) => ({
    utimensat: libc.func('int utimensat(int dirfd, const char *path, const void *times, int flags)') as Utimensat,
    // glibc's utimensat refuses a null path (EINVAL): futimens is its form for a descriptor.
    futimens: libc.func('int futimens(int fd, const void *times)') as Futimens,
    errno,
  }));
  return bound;
}

/** Whether exact times can be set here. */
export function hasUtimensat(): boolean {
  return bind() != null;
}

/** struct timespec[2] for the times in `attr`: exact ns when given, NOW or OMIT otherwise. */
export function timespecs(attr: SetAttr): Buffer {
  const b = Buffer.alloc(32);
  const put = (off: number, ms: number | undefined, ns: bigint | undefined): void => {
    if (ms === undefined) {
      b.writeBigInt64LE(0n, off);
      b.writeBigInt64LE(BigInt(UTIME_OMIT), off + 8);
      return;
    }
    if (attr.timesNow) {
      b.writeBigInt64LE(BigInt(UTIME_NOW), off + 8);
      return;
    }
    const [s, n] = splitNs(ns ?? BigInt(Math.round(ms * 1000)) * 1000n);
    b.writeBigInt64LE(s, off);
    b.writeBigInt64LE(n, off + 8);
  };
  put(0, attr.atime, attr.atimeNs);
  put(16, attr.mtime, attr.mtimeNs);
  return b;
}

/** Sets the times of `attr` on the open file `fd` (futimens), inline; `what` names it in errors. */
export function setTimesFdSync(fd: number, attr: SetAttr, what: string): void {
  const b = bind()!;
  if (b.futimens(fd, timespecs(attr)) !== 0) throw errnoError(b.errno(), `futimens ${what}`);
}

/** Sets the times of `attr` on `p` without following a symlink, inline. */
export function setTimesSync(p: string | Buffer, attr: SetAttr): void {
  const b = bind()!;
  if (b.utimensat(AT.cwd, osPath(p), timespecs(attr), AT.nofollow) !== 0) throw errnoError(b.errno(), `utimensat ${p}`);
}
