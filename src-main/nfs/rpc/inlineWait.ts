import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { isMainThread } from 'node:worker_threads';

// Waiting for a connection's next call on the spot, instead of in the event loop. A client
// such as a FUSE NFS client sends one call, waits for its reply, and sends the next a few
// hundred µs later; each call that comes back through the loop pays epoll, libuv's read,
// Node's stream and its 'data' event before any NFS work. So a connection that has answered
// all its calls at once may wait in poll(2) for its next bytes, on its own socket and on the
// event loop's own descriptor (libuv's epoll set), and read them with recv(2):
// - anything else that needs the loop (another connection or mount, a finished threadpool
//   job, a worker's message, a signal) makes the loop's descriptor readable: the wait ends;
// - a stay is not begun while the loop has something to run at once (a setImmediate, a
//   closing handle: uv_backend_timeout 0), and ends before the loop's next timer is due;
// - one stay lasts at most STAY_MS, so what it cannot see (promise callbacks and timers set
//   during the stay) waits no longer than that.
// Only on Linux, on the main thread of plain Node (the daemon, `berth mount --foreground`):
// in Electron the main thread also runs the app's windows, which must never wait on a socket.
// BERTH_NFS_INLINE=0 turns it off (every call then comes through the loop).

/** Longest stay on the spot before the loop gets its turn, in ms. */
const STAY_MS = 5;
const POLLIN = 0x1;
const MSG_DONTWAIT = 0x40;

interface Calls {
  poll: (fds: Int32Array, n: number, timeout: number) => number;
  recv: (fd: number, buf: Buffer, len: number, flags: number) => number;
  updateTime: (loop: unknown) => void;
  backendTimeout: (loop: unknown) => number;
  loop: unknown;
  backendFd: number;
  /** Where a wait's bytes are read into (copied out: the decoder keeps what it is given). */
  inbox: Buffer;
}

let bound: Calls | null | undefined;

function calls(): Calls | null {
  if (bound !== undefined) return bound;
  bound = null;
  // Little-endian only: struct pollfd's events and revents are read as halves of one Int32 below.
  if (process.platform !== 'linux' || endianness() !== 'LE' || !isMainThread || process.versions.electron || process.env.BERTH_NFS_INLINE === '0') return bound;
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const koffi = createRequire(import.meta.url)('koffi') as any;
    const libc = koffi.load('libc.so.6');
    // Node exports libuv to native addons: the process itself is the library.
    const self = koffi.load(null);
    const loop: unknown = self.func('void *uv_default_loop()')();
    const backendFd = (self.func('int uv_backend_fd(const void *loop)') as (l: unknown) => number)(loop);
    if (!(backendFd >= 0)) return bound;
    bound = {
      poll: libc.func('int poll(_Inout_ void *fds, unsigned long n, int timeout)'),
      recv: libc.func('long recv(int fd, _Out_ void *buf, size_t len, int flags)'),
      updateTime: self.func('void uv_update_time(void *loop)'),
      backendTimeout: self.func('int uv_backend_timeout(const void *loop)'),
      loop,
      backendFd,
      inbox: Buffer.allocUnsafe(256 * 1024),
    };
  } catch {
    bound = null; // no koffi, or a runtime that does not export libuv: calls come through the loop
  }
  return bound;
}

/** Whether a connection may wait for its next call on the spot here. */
export function canWaitInline(): boolean {
  return calls() !== null;
}

/** struct pollfd ×2: the connection, then the loop's epoll descriptor (events in the low half of the second int). */
const fds = new Int32Array(4);

/** One stay on the spot, begun when a connection has answered its calls; next() waits for its next bytes. */
export class InlineStay {
  private readonly c: Calls;
  /** performance.now() past which the loop gets its turn (STAY_MS, or sooner for a timer due). */
  private readonly until: number;

  constructor() {
    const c = (this.c = calls()!);
    c.updateTime(c.loop);
    // Ms to the loop's next timer: 0 when it has something to run at once (no stay), < 0 when none.
    const timer = c.backendTimeout(c.loop);
    this.until = performance.now() + (timer < 0 ? STAY_MS : Math.min(timer, STAY_MS));
  }

  /**
   * Waits for socket `fd`'s next bytes while nothing else needs the event loop: the bytes
   * (a copy), or undefined when the loop must have its turn (something else is ready, a
   * timer is due, the stay is over, the socket has nothing or failed: the loop then sees
   * its end or error itself).
   */
  next(fd: number): Buffer | undefined {
    const left = this.until - performance.now();
    if (!(left > 0)) return undefined;
    const c = this.c;
    fds[0] = fd;
    fds[1] = POLLIN;
    fds[2] = c.backendFd;
    fds[3] = POLLIN;
    if (c.poll(fds, 2, Math.ceil(left)) <= 0) return undefined;
    // Only POLLIN on the socket: an error or hang-up alone is the loop's to see.
    if (((fds[1]! >>> 16) & POLLIN) === 0) return undefined;
    const n = c.recv(fd, c.inbox, c.inbox.length, MSG_DONTWAIT);
    return n > 0 ? Buffer.from(c.inbox.subarray(0, n)) : undefined;
  }
}
