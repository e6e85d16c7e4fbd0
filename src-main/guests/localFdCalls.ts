import { constants } from 'node:os';
import { bindLibc, errnoError } from './localLibc.ts';

// Calls on a local file's open descriptor that Node lacks, through koffi:
// - lseek(2)'s SEEK_DATA and SEEK_HOLE: where its data and holes lie. The FUSE host answers
//   the kernel's LSEEK with it, so `cp`, `tar --sparse`, `qemu-img` and others copy a sparse
//   file through a mount as sparse (without it the kernel says the whole file is data);
// - fallocate(2): room reserved, holes punched, ranges zeroed (`fallocate`, databases and
//   VM images; without it `fallocate` through a mount failed with EOPNOTSUPP).
// Where koffi or libc does not load, there is no answer and the host lets the kernel answer
// alone (EOPNOTSUPP for fallocate).

/** SEEK_DATA and SEEK_HOLE: Linux's 3 and 4, macOS's 4 and 3. */
const WHENCE = process.platform === 'darwin' ? { data: 4, hole: 3 } : { data: 3, hole: 4 };
const ENXIO = constants.errno.ENXIO;

type Lseek = (fd: number, offset: number, whence: number) => number | bigint;
type Fallocate = (fd: number, mode: number, offset: number, length: number) => number;

let bound: { lseek: Lseek; fallocate: Fallocate | undefined; errno: () => number } | null | undefined;

function bind(): typeof bound {
  // off_t is 64 bits on both (glibc's lseek64 and fallocate64 whatever _FILE_OFFSET_BITS); macOS has no fallocate.
  // Once: null (nothing binds here) is kept too.
  if (bound === undefined) bound = bindLibc((libc, errno) => ({
    lseek: libc.func(`int64_t ${process.platform === 'darwin' ? 'lseek' : 'lseek64'}(int fd, int64_t offset, int whence)`) as Lseek,
    fallocate: process.platform === 'linux' ? (libc.func('int fallocate64(int fd, int mode, int64_t offset, int64_t len)') as Fallocate) : undefined,
    errno,
  }));
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
  throw errnoError(errno, `lseek ${name}`);
}

/** Whether fallocateIn can answer here (Linux). */
export function canFallocate(): boolean {
  return bind()?.fallocate !== undefined;
}

/**
 * fallocate(2) of the file open as `fd`: `mode` as the caller gave it (0 reserves room and
 * may grow the file; FALLOC_FL_KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE, ...). Failures throw
 * errors shaped like Node's naming `name` (EOPNOTSUPP where the disk cannot).
 */
export function fallocateIn(fd: number, mode: number, offset: number, length: number, name: string): void {
  const b = bind()!;
  if (b.fallocate!(fd, mode, offset, length) < 0) throw errnoError(b.errno(), `fallocate ${name}`);
}
