import { createRequire } from 'node:module';
import { nameFromBytes } from './byteNames.ts';

// Linux inotify through koffi (Node's fs.watch gives events on a later tick, too late for a
// cache that must be proven fresh before it answers). The descriptor is non-blocking and
// drained synchronously: fsnotify queues an event inside the system call that made the
// change, so after drain() every change whose call returned before it has been reported.
// Off Linux, or where koffi or libc cannot load, open() answers undefined.

/** Event bits (linux/inotify.h). */
export const IN = {
  ACCESS: 0x1,
  MODIFY: 0x2,
  ATTRIB: 0x4,
  CLOSE_WRITE: 0x8,
  MOVED_FROM: 0x40,
  MOVED_TO: 0x80,
  CREATE: 0x100,
  DELETE: 0x200,
  DELETE_SELF: 0x400,
  MOVE_SELF: 0x800,
  UNMOUNT: 0x2000,
  Q_OVERFLOW: 0x4000,
  IGNORED: 0x8000,
  ONLYDIR: 0x01000000,
  EXCL_UNLINK: 0x04000000,
  ISDIR: 0x40000000,
} as const;

/** inotify_init1 flags: IN_NONBLOCK (O_NONBLOCK) and IN_CLOEXEC (O_CLOEXEC) on Linux x86_64 and aarch64. */
const IN_NONBLOCK = 0o4000;
const IN_CLOEXEC = 0o2000000;
const EINTR = 4;
/** struct inotify_event before its name: wd, mask, cookie, len. */
const HEADER = 16;
/** The largest event: the header and a NAME_MAX name with its NUL. */
const MAX_EVENT = HEADER + 255 + 1;

/** Called once per event; `name` is the child's name, or undefined for the watched folder itself. */
export type InotifyListener = (wd: number, mask: number, name: string | undefined) => void;

interface Bound {
  init1: (flags: number) => number;
  addWatch: (fd: number, path: string, mask: number) => number;
  rmWatch: (fd: number, wd: number) => number;
  read: (fd: number, buf: Buffer, n: number) => number;
  close: (fd: number) => number;
  errno: () => number;
}

let bound: Bound | null | undefined;

function bind(): Bound | null {
  if (bound !== undefined) return bound;
  try {
    if (process.platform !== 'linux') throw new Error('inotify is Linux only');
    const koffi = createRequire(import.meta.url)('koffi');
    const lib = koffi.load('libc.so.6');
    bound = {
      init1: lib.func('int inotify_init1(int flags)'),
      addWatch: lib.func('int inotify_add_watch(int fd, const char *path, uint32_t mask)'),
      rmWatch: lib.func('int inotify_rm_watch(int fd, int wd)'),
      read: lib.func('long read(int fd, void *buf, size_t n)'),
      close: lib.func('int close(int fd)'),
      errno: () => koffi.errno() as number,
    };
  } catch {
    bound = null;
  }
  return bound;
}

/** Why a watch was not added: the watch limit (ENOSPC), no such folder, or another errno. */
export interface WatchRefused {
  errno: number;
}

/** One inotify instance (its descriptor owned by whoever opened it; close() when done). */
export class Inotify {
  /** Reused for every read: one buffer per instance, never handed out. */
  private readonly buf = Buffer.alloc(64 * 1024);
  private fd: number;

  private constructor(
    private readonly lib: Bound,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** A new instance, or undefined (off Linux, koffi missing, EMFILE: the per-user instance limit). */
  static open(): Inotify | undefined {
    const lib = bind();
    if (!lib) return undefined;
    const fd = Number(lib.init1(IN_NONBLOCK | IN_CLOEXEC));
    return fd < 0 ? undefined : new Inotify(lib, fd);
  }

  /** Watches the folder at `path` (followed: a /proc/self/fd link names the folder proven); its wd, or why not. */
  add(path: string, mask: number): number | WatchRefused {
    if (this.fd < 0) return { errno: 9 };
    const wd = Number(this.lib.addWatch(this.fd, path, mask));
    return wd < 0 ? { errno: this.lib.errno() } : wd;
  }

  /** Stops watching `wd` (the kernel then queues IN_IGNORED for it). */
  remove(wd: number): void {
    if (this.fd >= 0) this.lib.rmWatch(this.fd, wd);
  }

  /**
   * Reads every queued event, now, until the queue is empty, calling `fn` for each.
   * Returns how many events were read.
   */
  drain(fn: InotifyListener): number {
    let n = 0;
    const buf = this.buf;
    while (this.fd >= 0) {
      const got = Number(this.lib.read(this.fd, buf, buf.length));
      if (got <= 0) {
        if (got < 0 && this.lib.errno() === EINTR) continue;
        // EAGAIN: empty. Anything else (EBADF, EINVAL) cannot be read either; report nothing more.
        break;
      }
      let at = 0;
      while (at + HEADER <= got) {
        const wd = buf.readInt32LE(at);
        const mask = buf.readUInt32LE(at + 4);
        const len = buf.readUInt32LE(at + 12);
        let name: string | undefined;
        if (len > 0) {
          const end = buf.indexOf(0, at + HEADER);
          name = nameFromBytes(buf, at + HEADER, end < 0 || end > at + HEADER + len ? at + HEADER + len : end);
        }
        at += HEADER + len;
        n++;
        fn(wd, mask, name);
      }
      // A read takes every queued event that fits: with room left for the largest one, the
      // queue was empty when it returned, and no second read is needed to see EAGAIN.
      if (got <= buf.length - MAX_EVENT) break;
    }
    return n;
  }

  /** Closes the descriptor (every watch goes with it). */
  close(): void {
    if (this.fd >= 0) this.lib.close(this.fd);
    this.fd = -1;
  }
}

/** errno of a refused watch that means "the per-user watch limit" (ENOSPC). */
export const ENOSPC = 28;
