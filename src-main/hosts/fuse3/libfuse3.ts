import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { FsError } from '../../vfs/FsError.ts';

// What the FUSE host calls through koffi (an FFI with prebuilt binaries: no compiler at
// install): libfuse 3 to mount (mount(2) as root, fusermount3 otherwise), libuv's poll
// handle to hear /dev/fuse, read(2), and ioctl(2) to register backing files. The protocol
// itself is spoken in JavaScript (wire.ts, FuseSession.ts).

/** The koffi module's surface Berth uses (typed loosely: koffi's own .d.ts is wide). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Koffi = any;
/** A C function bound by koffi. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CFn = ((...args: any[]) => any) & { async: (...args: any[]) => void };

/** The libfuse 3 functions and libuv poll calls Berth uses. */
export interface LibFuse3 {
  koffi: Koffi;
  /** libfuse's version, e.g. 314 for 3.14. */
  version: number;
  sessionNew: CFn;
  sessionMount: CFn;
  sessionDestroy: CFn;
  sessionFd: CFn;
  /** libc's read(2) (errno by koffi.errno()). */
  read: CFn;
  /** libc's ioctl(2), variadic: (fd, request, 'void *', arg). */
  ioctl: CFn;
  uvDefaultLoop: CFn;
  uvPollInit: CFn;
  uvPollStart: CFn;
  uvPollStop: CFn;
  uvClose: CFn;
  uvPollSize: number;
  /** Registers the uv poll callback. */
  registerPoll(fn: (handle: unknown, status: number, events: number) => void): unknown;
}

let loaded: LibFuse3 | undefined;
let failure: FsError | undefined;

/** Loads libfuse3 and koffi once; throws an FsError saying what to install when either is missing. */
export function loadLibFuse3(): LibFuse3 {
  if (loaded) return loaded;
  if (failure) throw failure;
  try {
    if (process.platform !== 'linux') throw new Error(`the libfuse 3 host runs on Linux only (this is ${process.platform})`);
    // The kernel speaks FUSE in the machine's byte order; Berth writes little-endian.
    if (endianness() !== 'LE') throw new Error('the FUSE host runs on little-endian machines only');
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const lib = koffi.load('libfuse3.so.3');
    // Node (and Electron) export libuv to native addons: the process itself is the library.
    const self = koffi.load(null);
    const libc = koffi.load('libc.so.6');
    // Registered by name: fuse_session_new's prototype below takes it.
    koffi.struct('berth_fuse_args', { argc: 'int', argv: 'char **', allocated: 'int' });
    const pollCb = koffi.proto('void berth_uv_poll_cb(uintptr_t handle, int status, int events)');
    const f = (sig: string): CFn => lib.func(sig) as CFn;
    const u = (sig: string): CFn => self.func(sig) as CFn;
    const uvHandleSize = u('size_t uv_handle_size(int type)');
    loaded = {
      koffi,
      version: (f('int fuse_version()') as () => number)(),
      sessionNew: f('void *fuse_session_new(_Inout_ berth_fuse_args *args, const void *op, size_t op_size, void *userdata)'),
      sessionMount: f('int fuse_session_mount(void *se, const char *mountpoint)'),
      sessionDestroy: f('void fuse_session_destroy(void *se)'),
      sessionFd: f('int fuse_session_fd(void *se)'),
      read: libc.func('long read(int fd, void *buf, size_t count)') as CFn,
      ioctl: libc.func('int ioctl(int fd, unsigned long request, ...)') as CFn,
      uvDefaultLoop: u('void *uv_default_loop()'),
      uvPollInit: u('int uv_poll_init(void *loop, void *handle, int fd)'),
      uvPollStart: u('int uv_poll_start(void *handle, int events, berth_uv_poll_cb *cb)'),
      uvPollStop: u('int uv_poll_stop(void *handle)'),
      uvClose: u('void uv_close(void *handle, void *cb)'),
      // UV_POLL is 8 in libuv's uv_handle_type.
      uvPollSize: Number((uvHandleSize as (t: number) => number | bigint)(8)),
      registerPoll: (fn) => koffi.register(fn, koffi.pointer(pollCb)),
    };
    return loaded;
  } catch (err) {
    failure = new FsError('InvalidOperation', `libfuse 3 is not available: ${(err as Error).message} (install it: apt-get install fuse3)`, { cause: err });
    throw failure;
  }
}

/** Whether the libfuse 3 host can run here (loads it on first call). */
export function hasLibFuse3(): boolean {
  try {
    loadLibFuse3();
    return true;
  } catch {
    return false;
  }
}
