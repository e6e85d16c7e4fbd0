import { createRequire } from 'node:module';

// A reply's bytes written straight to a connection's socket, bypassing Node's stream: the
// head with send(2) and a file's bytes with sendfile(2), which hands the page cache's pages
// to the socket with no copy through this process (measured for a 1 MiB NFS READ of a local
// file: pread + writev copied every byte twice and cost ~60 % of the host's CPU). Linux only
// (macOS's sendfile has another signature and is not used); every call is non-blocking on
// the socket and made on the JavaScript thread, errno read right after it. The caller must
// make sure nothing is queued in the socket's own stream first, or bytes would reorder.

/** send(2) flags: more follows (no segment for the head alone), never block, no SIGPIPE. */
const MSG_MORE_NOWAIT = 0x8000 | 0x40 | 0x4000;
/** send(2) flags: never block, no SIGPIPE. */
const MSG_NOWAIT = 0x40 | 0x4000;
/** errno values that mean "the socket buffer is full": the rest goes through the stream. */
const EAGAIN = 11;
const EINTR = 4;

interface Calls {
  send: (fd: number, buf: Buffer, len: number, flags: number) => number;
  sendfile: (out: number, inFd: number, offset: BigInt64Array, count: number) => number;
  errno: () => number;
}

let bound: Calls | null | undefined;

function calls(): Calls | null {
  if (bound !== undefined) return bound;
  bound = null;
  if (process.platform !== 'linux') return bound;
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const koffi = createRequire(import.meta.url)('koffi') as any;
    const lib = koffi.load('libc.so.6');
    bound = {
      send: lib.func('long send(int fd, const void *buf, size_t len, int flags)'),
      sendfile: lib.func('long sendfile(int out_fd, int in_fd, void *offset, size_t count)'),
      errno: () => koffi.errno() as number,
    };
  } catch {
    bound = null; // no koffi or no libc here: replies go through the stream
  }
  return bound;
}

/** Whether bytes can be sent straight to a socket here (Linux, koffi loaded). */
export function canSendDirect(): boolean {
  return calls() !== null;
}

/** How far a direct send got: bytes taken by the kernel, or `failed` when the socket is broken. */
export type Sent = number | 'failed';

/**
 * Writes as much of `buf` to socket `fd` as the kernel takes now (with `more`, MSG_MORE: the
 * file's bytes follow in the same segments); 'failed' on any error other than a full buffer.
 */
export function sendHead(fd: number, buf: Buffer, more = true): Sent {
  const c = calls()!;
  for (;;) {
    const n = c.send(fd, buf, buf.length, more ? MSG_MORE_NOWAIT : MSG_NOWAIT);
    if (n >= 0) return n;
    const e = c.errno();
    if (e === EINTR) continue;
    return e === EAGAIN ? 0 : 'failed';
  }
}

/**
 * Sends up to `count` bytes of file `inFd` from `offset` to socket `fd`, until the socket
 * buffer is full, the file ends (it shrank since it was measured) or all are sent: the
 * bytes sent, or 'failed' when the socket or the file failed.
 */
export function sendFileRange(fd: number, inFd: number, offset: number, count: number): Sent {
  const c = calls()!;
  const off = new BigInt64Array(1);
  let done = 0;
  while (done < count) {
    off[0] = BigInt(offset + done); // set each time: not relying on koffi copying the kernel's update back
    const n = c.sendfile(fd, inFd, off, count - done);
    if (n > 0) {
      done += n;
      continue;
    }
    if (n === 0) break; // end of file
    const e = c.errno();
    if (e === EINTR) continue;
    if (e === EAGAIN) break;
    return 'failed';
  }
  return done;
}
