import { createRequire } from 'node:module';
import { constants } from 'node:os';

// Where a local file's data and holes lie: lseek(2)'s SEEK_DATA and SEEK_HOLE on its open
// descriptor, through koffi (Node has no lseek). The FUSE host answers the kernel's LSEEK
// with it, so `cp`, `tar --sparse`, `qemu-img` and others copy a sparse file through a mount
// as sparse (without it the kernel says the whole file is data). Where koffi or libc does
// not load, there is no answer and the host lets the kernel answer alone.

/** SEEK_DATA and SEEK_HOLE: Linux's 3 and 4, macOS's 4 and 3. */
const WHENCE = process.platform === 'darwin' ? { data: 4, hole: 3 } : { data: 3, hole: 4 };
const ENXIO = constants.errno.ENXIO;

type Lseek = (fd: number, offset: number, whence: number) => number | bigint;

let bound: { lseek: Lseek; errno: () => number } | null | undefined;

function bind(): typeof bound {
  if (bound !== undefined) return bound;
  try {
    if (process.platform !== 'linux' && process.platform !== 'darwin') throw new Error('unsupported');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const koffi = createRequire(import.meta.url)('koffi') as any;
    const libc = koffi.load(process.platform === 'darwin' ? 'libSystem.B.dylib' : 'libc.so.6');
    // off_t is 64 bits on both (glibc's lseek64 whatever the build's _FILE_OFFSET_BITS).
    const name = process.platform === 'darwin' ? 'lseek' : 'lseek64';
    bound = { lseek: libc.func(`int64_t ${name}(int fd, int64_t offset, int whence)`) as Lseek, errno: () => koffi.errno() as number };
  } catch {
    bound = null;
  }
  return bound;
}

/** Whether seekIn can answer here. */
export function canSeekDataHole(): boolean {
  return bind() != null;
}

/**
 * Where the next data (`data`) or hole (`hole`) at or after `offset` begins in the file
 * open as `fd` (its end counts as a hole); null where there is none (ENXIO: `offset` at or
 * past the end, or only a hole after it). Other failures throw errors shaped like Node's
 * (code and errno) naming `what`. Moves the descriptor's offset, which no caller here uses
 * (every read and write gives its position).
 */
export function seekIn(fd: number, offset: number, what: 'data' | 'hole', name: string): number | null {
  const b = bind()!;
  const at = Number(b.lseek(fd, offset, WHENCE[what]));
  if (at >= 0) return at;
  const errno = b.errno();
  if (errno === ENXIO) return null;
  const table = constants.errno as Record<string, number>;
  const e = new Error(`lseek ${name}: errno ${errno}`) as NodeJS.ErrnoException;
  e.errno = -errno;
  e.code = Object.keys(table).find((k) => table[k] === errno) ?? 'EIO';
  throw e;
}
