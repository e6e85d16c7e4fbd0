import { createRequire } from 'node:module';
import { arch } from 'node:process';
import { FsError } from '../../vfs/FsError.ts';

// libfuse 3's low-level API and libuv's poll handle, called through koffi (an FFI with
// prebuilt binaries: no compiler at install). Only what the FUSE host needs is declared;
// structs cross as Buffers laid out here by hand, per the C headers of libfuse 3.2+
// (struct fuse_file_info gained `padding2` before 3.2, so `fh` sits at 16 on every 3.x
// a distribution ships) and of glibc's struct stat on x86-64 and arm64.

/** The koffi module's surface Berth uses (typed loosely: koffi's own .d.ts is wide). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Koffi = any;
/** A C function bound by koffi. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CFn = ((...args: any[]) => any) & { async: (...args: any[]) => void };

/** Offsets inside glibc's struct stat (LP64). */
interface StatLayout {
  size: number;
  ino: number;
  nlink: number;
  nlinkBytes: 4 | 8;
  mode: number;
  uid: number;
  gid: number;
  rdev: number;
  fsize: number;
  blksize: number;
  blocks: number;
  atim: number;
  mtim: number;
  ctim: number;
}

const STAT_X64: StatLayout = { size: 144, ino: 8, nlink: 16, nlinkBytes: 8, mode: 24, uid: 28, gid: 32, rdev: 40, fsize: 48, blksize: 56, blocks: 64, atim: 72, mtim: 88, ctim: 104 };
/** The generic layout (arm64, riscv64, loongarch64). */
const STAT_GENERIC: StatLayout = { size: 128, ino: 8, nlink: 20, nlinkBytes: 4, mode: 16, uid: 24, gid: 28, rdev: 32, fsize: 48, blksize: 56, blocks: 64, atim: 72, mtim: 88, ctim: 104 };

/** The struct stat layout of this machine, or undefined where Berth does not know it. */
export const STAT: StatLayout | undefined = arch === 'x64' ? STAT_X64 : arch === 'arm64' || arch === 'riscv64' || arch === 'loong64' ? STAT_GENERIC : undefined;

/** struct fuse_file_info: where its fields sit. */
export const FI = { flags: 0, bits: 4, fh: 16, size: 40 } as const;
/** Bits of fuse_file_info's bitfield word (little-endian bit order). */
export const FI_BIT = { writepage: 1 << 0, directIo: 1 << 1, keepCache: 1 << 2, flush: 1 << 3, nonseekable: 1 << 4, cacheReaddir: 1 << 6, noflush: 1 << 7 } as const;
/** struct fuse_conn_info field offsets (all unsigned). */
export const CONN = { protoMinor: 4, maxWrite: 8, maxRead: 12, maxReadahead: 16, capable: 20, want: 24, maxBackground: 28, congestionThreshold: 32, timeGran: 36 } as const;
/** FUSE_CAP_* of fuse_common.h. */
export const CAP = {
  asyncRead: 1 << 0,
  atomicOTrunc: 1 << 3,
  dontMask: 1 << 6,
  spliceWrite: 1 << 7,
  spliceMove: 1 << 8,
  spliceRead: 1 << 9,
  autoInvalData: 1 << 12,
  readdirplus: 1 << 13,
  readdirplusAuto: 1 << 14,
  asyncDio: 1 << 15,
  writebackCache: 1 << 16,
  parallelDirops: 1 << 18,
  handleKillpriv: 1 << 20,
  cacheSymlinks: 1 << 23,
  noOpendirSupport: 1 << 24,
  explicitInvalData: 1 << 25,
} as const;
/** FUSE_SET_ATTR_* of fuse_lowlevel.h. */
export const SET = { mode: 1 << 0, uid: 1 << 1, gid: 1 << 2, size: 1 << 3, atime: 1 << 4, mtime: 1 << 5, atimeNow: 1 << 7, mtimeNow: 1 << 8, ctime: 1 << 10 } as const;

/** The slots of struct fuse_lowlevel_ops (libfuse 3.x order), by name. */
export const OP_SLOTS = [
  'init', 'destroy', 'lookup', 'forget', 'getattr', 'setattr', 'readlink', 'mknod', 'mkdir', 'unlink', 'rmdir', 'symlink', 'rename', 'link',
  'open', 'read', 'write', 'flush', 'release', 'fsync', 'opendir', 'readdir', 'releasedir', 'fsyncdir', 'statfs', 'setxattr', 'getxattr',
  'listxattr', 'removexattr', 'access', 'create', 'getlk', 'setlk', 'bmap', 'ioctl', 'poll', 'write_buf', 'retrieve_reply', 'forget_multi',
  'flock', 'fallocate', 'readdirplus',
] as const;
/** One op slot's name. */
export type OpName = (typeof OP_SLOTS)[number];

/** The C prototypes of the ops Berth registers (void return: replies go through fuse_reply_*). */
const OP_PROTOS: Partial<Record<OpName, string>> = {
  init: 'void berth_init(void *userdata, void *conn)',
  destroy: 'void berth_destroy(void *userdata)',
  lookup: 'void berth_lookup(uintptr_t req, uint64_t parent, const char *name)',
  forget: 'void berth_forget(uintptr_t req, uint64_t ino, uint64_t nlookup)',
  getattr: 'void berth_getattr(uintptr_t req, uint64_t ino, void *fi)',
  setattr: 'void berth_setattr(uintptr_t req, uint64_t ino, void *attr, int to_set, void *fi)',
  readlink: 'void berth_readlink(uintptr_t req, uint64_t ino)',
  mknod: 'void berth_mknod(uintptr_t req, uint64_t parent, const char *name, uint32_t mode, uint64_t rdev)',
  mkdir: 'void berth_mkdir(uintptr_t req, uint64_t parent, const char *name, uint32_t mode)',
  unlink: 'void berth_unlink(uintptr_t req, uint64_t parent, const char *name)',
  rmdir: 'void berth_rmdir(uintptr_t req, uint64_t parent, const char *name)',
  symlink: 'void berth_symlink(uintptr_t req, const char *link, uint64_t parent, const char *name)',
  rename: 'void berth_rename(uintptr_t req, uint64_t parent, const char *name, uint64_t newparent, const char *newname, uint32_t flags)',
  link: 'void berth_link(uintptr_t req, uint64_t ino, uint64_t newparent, const char *newname)',
  open: 'void berth_open(uintptr_t req, uint64_t ino, void *fi)',
  read: 'void berth_read(uintptr_t req, uint64_t ino, size_t size, int64_t off, void *fi)',
  write: 'void berth_write(uintptr_t req, uint64_t ino, void *buf, size_t size, int64_t off, void *fi)',
  flush: 'void berth_flush(uintptr_t req, uint64_t ino, void *fi)',
  release: 'void berth_release(uintptr_t req, uint64_t ino, void *fi)',
  fsync: 'void berth_fsync(uintptr_t req, uint64_t ino, int datasync, void *fi)',
  opendir: 'void berth_opendir(uintptr_t req, uint64_t ino, void *fi)',
  readdir: 'void berth_readdir(uintptr_t req, uint64_t ino, size_t size, int64_t off, void *fi)',
  releasedir: 'void berth_releasedir(uintptr_t req, uint64_t ino, void *fi)',
  statfs: 'void berth_statfs(uintptr_t req, uint64_t ino)',
  getxattr: 'void berth_getxattr(uintptr_t req, uint64_t ino, const char *name, size_t size)',
  listxattr: 'void berth_listxattr(uintptr_t req, uint64_t ino, size_t size)',
  access: 'void berth_access(uintptr_t req, uint64_t ino, int mask)',
  create: 'void berth_create(uintptr_t req, uint64_t parent, const char *name, uint32_t mode, void *fi)',
  forget_multi: 'void berth_forget_multi(uintptr_t req, size_t count, void *forgets)',
  readdirplus: 'void berth_readdirplus(uintptr_t req, uint64_t ino, size_t size, int64_t off, void *fi)',
};

/** The libfuse 3 functions and libuv poll calls Berth uses. */
export interface LibFuse3 {
  koffi: Koffi;
  /** libfuse's version, e.g. 314 for 3.14. */
  version: number;
  sessionNew: CFn;
  sessionMount: CFn;
  sessionUnmount: CFn;
  sessionDestroy: CFn;
  sessionFd: CFn;
  receiveBuf: CFn;
  processBuf: CFn;
  reqCtx: CFn;
  replyErr: CFn;
  replyNone: CFn;
  replyEntry: CFn;
  replyCreate: CFn;
  replyAttr: CFn;
  replyReadlink: CFn;
  replyOpen: CFn;
  replyWrite: CFn;
  replyBuf: CFn;
  replyStatfs: CFn;
  replyXattr: CFn;
  notifyInvalEntry: CFn;
  notifyInvalInode: CFn;
  free: CFn;
  uvDefaultLoop: CFn;
  uvPollInit: CFn;
  uvPollStart: CFn;
  uvPollStop: CFn;
  uvClose: CFn;
  uvPollSize: number;
  /** Registers one op handler; the returned value goes in the ops table (koffi.address of it). */
  registerOp(name: OpName, fn: (...args: never[]) => void): unknown;
  /** Registers the uv poll callback. */
  registerPoll(fn: (handle: unknown, status: number, events: number) => void): unknown;
  /** The struct fuse_ctx of a request. */
  ctxType: unknown;
  argsType: unknown;
}

let loaded: LibFuse3 | undefined;
let failure: FsError | undefined;

/** Loads libfuse3 and koffi once; throws an FsError saying what to install when either is missing. */
export function loadLibFuse3(): LibFuse3 {
  if (loaded) return loaded;
  if (failure) throw failure;
  try {
    if (process.platform !== 'linux') throw new Error(`the libfuse 3 host runs on Linux only (this is ${process.platform})`);
    if (!STAT) throw new Error(`struct stat of ${arch} is not known to Berth`);
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const lib = koffi.load('libfuse3.so.3');
    // Node (and Electron) export libuv to native addons: the process itself is the library.
    const self = koffi.load(null);
    const argsType = koffi.struct('berth_fuse_args', { argc: 'int', argv: 'char **', allocated: 'int' });
    const ctxType = koffi.struct('berth_fuse_ctx', { uid: 'uint32_t', gid: 'uint32_t', pid: 'int32_t', umask: 'uint32_t' });
    const pollCb = koffi.proto('void berth_uv_poll_cb(uintptr_t handle, int status, int events)');
    const protos = new Map<string, unknown>();
    for (const [name, proto] of Object.entries(OP_PROTOS)) protos.set(name, koffi.proto(proto));
    const f = (sig: string): CFn => lib.func(sig) as CFn;
    const u = (sig: string): CFn => self.func(sig) as CFn;
    const uvHandleSize = u('size_t uv_handle_size(int type)');
    loaded = {
      koffi,
      version: (f('int fuse_version()') as () => number)(),
      sessionNew: f('void *fuse_session_new(_Inout_ berth_fuse_args *args, const void *op, size_t op_size, void *userdata)'),
      sessionMount: f('int fuse_session_mount(void *se, const char *mountpoint)'),
      sessionUnmount: f('void fuse_session_unmount(void *se)'),
      sessionDestroy: f('void fuse_session_destroy(void *se)'),
      sessionFd: f('int fuse_session_fd(void *se)'),
      receiveBuf: f('int fuse_session_receive_buf(void *se, void *buf)'),
      processBuf: f('void fuse_session_process_buf(void *se, const void *buf)'),
      reqCtx: f('berth_fuse_ctx *fuse_req_ctx(uintptr_t req)'),
      replyErr: f('int fuse_reply_err(uintptr_t req, int err)'),
      replyNone: f('void fuse_reply_none(uintptr_t req)'),
      replyEntry: f('int fuse_reply_entry(uintptr_t req, const void *e)'),
      replyCreate: f('int fuse_reply_create(uintptr_t req, const void *e, const void *fi)'),
      replyAttr: f('int fuse_reply_attr(uintptr_t req, const void *attr, double timeout)'),
      replyReadlink: f('int fuse_reply_readlink(uintptr_t req, const char *link)'),
      replyOpen: f('int fuse_reply_open(uintptr_t req, const void *fi)'),
      replyWrite: f('int fuse_reply_write(uintptr_t req, size_t count)'),
      replyBuf: f('int fuse_reply_buf(uintptr_t req, const void *buf, size_t size)'),
      replyStatfs: f('int fuse_reply_statfs(uintptr_t req, const void *stbuf)'),
      replyXattr: f('int fuse_reply_xattr(uintptr_t req, size_t count)'),
      notifyInvalInode: f('int fuse_lowlevel_notify_inval_inode(void *se, uint64_t ino, int64_t off, int64_t len)'),
      notifyInvalEntry: f('int fuse_lowlevel_notify_inval_entry(void *se, uint64_t parent, const char *name, size_t namelen)'),
      free: koffi.load('libc.so.6').func('void free(void *ptr)') as CFn,
      uvDefaultLoop: u('void *uv_default_loop()'),
      uvPollInit: u('int uv_poll_init(void *loop, void *handle, int fd)'),
      uvPollStart: u('int uv_poll_start(void *handle, int events, berth_uv_poll_cb *cb)'),
      uvPollStop: u('int uv_poll_stop(void *handle)'),
      uvClose: u('void uv_close(void *handle, void *cb)'),
      // UV_POLL is 8 in libuv's uv_handle_type.
      uvPollSize: Number((uvHandleSize as (t: number) => number | bigint)(8)),
      registerOp: (name, fn) => {
        const proto = protos.get(name);
        if (!proto) throw new Error(`no prototype for op ${name}`);
        return koffi.register(fn, koffi.pointer(proto));
      },
      registerPoll: (fn) => koffi.register(fn, koffi.pointer(pollCb)),
      ctxType,
      argsType,
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
