import { nameFromBytes } from '../../sys/byteNames.ts';
import { writeSync, writevSync } from 'node:fs';
import { availableParallelism, constants } from 'node:os';
import type { Attr, StatFs } from '../../vfs/types.ts';
import { FsError } from '../../vfs/FsError.ts';
import type { LibFuse3 } from './libfuse3.ts';
import { ReadSpin, spinMicros } from './ReadSpin.ts';
import {
  ATTR_OUT, ENTRY_OUT, GETATTR_FH, IN_HEADER, INIT, INIT2, INIT_OUT, type InitIn, type InitOut, MAJOR, MAX_MINOR, NOTIFY_INVAL_INODE, OP, OPEN_OUT,
  type OpenReply, OUT_HEADER, type OwnerOverride, readInitIn, readSetattrIn, readU64, type SetattrIn, STATFS_OUT, u64, type Validity, WRITE_IN,
  writeAttrOut, writeEntryOut, writeInitOut, writeOpenOut, writeOutHeader, writeStatfsOut,
} from './wire.ts';

// One FUSE session, spoken from the JavaScript thread. libfuse mounts (mount(2) as root,
// fusermount3 otherwise) and hands over /dev/fuse; from then on this reads the kernel's
// requests and writes the replies itself (wire.ts): one read(2) per request and one write
// per reply, no call into libfuse and no FFI callback per request. libuv polls the
// descriptor like any socket; when it is readable, the requests waiting are read
// (non-blocking) and handed to the op handlers right here. Handlers answer whenever their
// vfs call settles, from this thread too.
//
// The poll callback comes from libuv outside any JavaScript frame, where promise jobs would
// not run until some unrelated callback; so it only schedules the reading in setImmediate,
// which runs in the same loop turn inside Node's own callback scope.
//
// A program that makes one system call after another (rm -rf, du, tar) sends its next
// request a few microseconds after it got the last reply, and going back to libuv in between
// costs more than that: epoll_wait sleeps, the kernel wakes the thread, libuv calls the poll
// callback, setImmediate runs the reading. So while requests come back to back, the reading
// keeps trying for a while after a reply (ReadSpin.ts: 100 µs, BERTH_FUSE_SPIN_US) before it
// returns to libuv. Measured on a RAM-backed ext4 (five rounds, medians): du -s of
// /usr/share/doc 437 against 546 ms, rm -rf 1.30 against 1.89 s; bindfs 415 ms and 1.07 s.

const EAGAIN = constants.errno.EAGAIN;
const EINTR = constants.errno.EINTR;
const ENODEV = constants.errno.ENODEV;
const ENOSYS = constants.errno.ENOSYS;
const EIO = constants.errno.EIO;
const EPROTO = constants.errno.EPROTO;
/** Requests handled per turn before other I/O gets its turn (the poll fires again). */
const BATCH = 64;
/** UV_READABLE. */
const UV_READABLE = 1;
/** The largest WRITE the kernel may send (max_write), and pages per request for it. */
export const MAX_WRITE = 1 << 20;
const MAX_PAGES = MAX_WRITE / 4096;
/** A read of /dev/fuse must have room for the largest request: a full WRITE and its header. */
const IN_BUFFER = MAX_WRITE + 4096;
/** Slots of libfuse 3's struct fuse_lowlevel_ops (3.x): its table is handed over empty. */
const LIBFUSE_OP_SLOTS = 42;
/** FUSE_DEV_IOC_BACKING_OPEN (_IOW(229, 1, struct fuse_backing_map)) and FUSE_DEV_IOC_BACKING_CLOSE (_IOW(229, 2, uint32_t)). */
const BACKING_OPEN = 0x4010e501;
const BACKING_CLOSE = 0x4004e502;
/**
 * How deep the file systems under a backing file may stack: 2 lets backing files sit on
 * overlayfs (a container's root); the mount itself then cannot be a layer of another.
 */
const MAX_STACK_DEPTH = 2;

/** One request: who sent it, and the id its reply must carry. */
export interface Req {
  readonly unique: number;
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
}

/** The op handlers a session calls (each answers its request once, now or later, through the session's replies). */
export interface OpHandlers {
  /** The kernel's INIT arrived; its flags say what it can do. */
  init?(kernel: InitIn): void;
  lookup?(req: Req, parent: number, name: string): void;
  /** No reply. */
  forget?(ino: number, nlookup: number): void;
  /** `fh` when the caller names an open file (fstat), else undefined. */
  getattr?(req: Req, ino: number, fh: number | undefined): void;
  setattr?(req: Req, ino: number, set: SetattrIn): void;
  readlink?(req: Req, ino: number): void;
  mknod?(req: Req, parent: number, name: string, mode: number, rdev: number): void;
  mkdir?(req: Req, parent: number, name: string, mode: number): void;
  unlink?(req: Req, parent: number, name: string): void;
  rmdir?(req: Req, parent: number, name: string): void;
  symlink?(req: Req, target: string, parent: number, name: string): void;
  rename?(req: Req, parent: number, name: string, newparent: number, newname: string, flags: number): void;
  link?(req: Req, ino: number, newparent: number, newname: string): void;
  /** `flags`: open(2)'s. */
  open?(req: Req, ino: number, flags: number): void;
  read?(req: Req, ino: number, fh: number, off: number, size: number): void;
  /** `data` is the session's read buffer: valid only until this returns. */
  write?(req: Req, ino: number, fh: number, off: number, data: Buffer): void;
  release?(req: Req, ino: number, fh: number): void;
  fsync?(req: Req, ino: number, fh: number, datasync: boolean): void;
  opendir?(req: Req, ino: number): void;
  readdir?(req: Req, ino: number, fh: number, off: number, size: number): void;
  readdirplus?(req: Req, ino: number, fh: number, off: number, size: number): void;
  releasedir?(req: Req, ino: number, fh: number): void;
  statfs?(req: Req, ino: number): void;
  getxattr?(req: Req, ino: number, name: string, size: number): void;
  listxattr?(req: Req, ino: number, size: number): void;
  /** `value` is the session's read buffer: valid only until this returns; `flags`: XATTR_CREATE (1), XATTR_REPLACE (2). */
  setxattr?(req: Req, ino: number, name: string, value: Buffer, flags: number): void;
  removexattr?(req: Req, ino: number, name: string): void;
  create?(req: Req, parent: number, name: string, mode: number, flags: number): void;
  /** fallocate(2) on an open file: `mode` as the caller gave it. */
  fallocate?(req: Req, ino: number, fh: number, offset: number, length: number, mode: number): void;
  /** SEEK_DATA or SEEK_HOLE (the kernel answers the other whences itself). */
  lseek?(req: Req, ino: number, fh: number, offset: number, whence: number): void;
}

/** FUSE opcodes counted per session when BERTH_FUSE_STATS=1 (printed to stderr at teardown). */
const COUNT_OPS = process.env.BERTH_FUSE_STATS === '1';

/** libuv handles whose close has not been processed yet must outlive the call (kept here). */
const closing = new Set<Buffer>();

/**
 * The NUL-terminated string at `off` of `b` (before `end`), and where the next one starts.
 * Bytes that are not UTF-8 (a Latin-1 name from an old archive) are kept as they are
 * (sys/byteNames.ts): decoding would turn every such byte into U+FFFD, so that "caf\xe9"
 * and "caf\xe8" would make, open and overwrite one file. A guest that keeps names as text
 * refuses them (NotUtf8: EILSEQ).
 */
function cstring(b: Buffer, off: number, end: number): [string, number] {
  const z = b.indexOf(0, off);
  const stop = z < 0 || z > end ? end : z;
  return [nameFromBytes(b, off, stop), stop + 1];
}

/** A mounted (or mounting) session; the owner calls mount() once and close() once. */
export class FuseSession {
  private se: unknown;
  private fd = -1;
  private readonly inBuf = Buffer.allocUnsafe(IN_BUFFER);
  /** Replies without data are built here (the largest: CREATE's entry and open parts). */
  private readonly outBuf = Buffer.alloc(OUT_HEADER + ENTRY_OUT + OPEN_OUT + INIT_OUT);
  private readonly notifyBuf = Buffer.alloc(OUT_HEADER + 24);
  private poll: Buffer | undefined;
  private pollCb: unknown;
  private scheduled = false;
  /** Requests read that want a reply and have none yet. */
  private unanswered = 0;
  private readonly spin = new ReadSpin(spinMicros(process.env.BERTH_FUSE_SPIN_US, availableParallelism()) / 1000);
  /** Requests per FUSE opcode (only with BERTH_FUSE_STATS=1). */
  private readonly counts = new Map<number, number>();
  private closed = false;
  private initDone = false;
  private settleEnded: (err?: Error) => void = () => {};
  /** Settles when the kernel ends the session (unmounted, aborted) or close() is called. */
  readonly ended: Promise<Error | undefined>;
  /** The kernel's protocol minor version (known once INIT came). */
  minor = 0;
  private ops: OpHandlers = {};
  /** Whether opens may hand the kernel a backing file (asked for, and granted at INIT). */
  private passthrough = false;
  private readonly backingMap = Buffer.alloc(16);
  private readonly backingId = Buffer.alloc(4);

  constructor(
    private readonly lib: LibFuse3,
    private readonly mountpoint: string,
    /** -o options for fuse_session_new (mount options only: libfuse 3 refuses others). */
    private readonly options: string[],
    /**
     * Ask the kernel for passthrough (Linux 6.9+, CAP_SYS_ADMIN): an open file may then be
     * read and written by the kernel straight from a backing file this process opened.
     */
    private readonly wantPassthrough = false,
  ) {
    this.ended = new Promise((resolve) => {
      this.settleEnded = (err) => resolve(err);
    });
    // libfuse only mounts: its table of ops stays empty (it never sees a request).
    const table = Buffer.alloc(LIBFUSE_OP_SLOTS * 8);
    const args = { argc: 3, argv: ['berth', '-o', options.join(',')], allocated: 0 };
    this.se = lib.sessionNew(args, table, table.length, null);
    if (!this.se) throw new FsError('InvalidItem', `libfuse refused the options ${options.join(',')} (see the lines above from fuse)`);
  }

  /** Whether opens may be passed through to backing files (granted at INIT, not refused since). */
  get passthroughOn(): boolean {
    return this.passthrough;
  }

  /** Whether replies may still be sent (false once the session is torn down). */
  get alive(): boolean {
    return !this.closed;
  }

  /**
   * Mounts (root: mount(2); others: fusermount3) on a threadpool thread: a mount point below
   * a mount this process serves is looked up by the kernel through us, so this thread must
   * stay free to answer. Then starts reading requests, handed to `ops`.
   */
  async mount(ops: OpHandlers): Promise<void> {
    this.ops = ops;
    const res = await new Promise<number>((resolve, reject) => {
      this.lib.sessionMount.async(this.se, this.mountpoint, (err: Error | null, r: number) => (err ? reject(err) : resolve(r)));
    });
    if (res !== 0) throw new FsError('IO', `fuse_session_mount failed (see the lines above from fuse)`);
    const fd = this.lib.sessionFd(this.se) as number;
    this.fd = fd;
    const handle = Buffer.alloc(this.lib.uvPollSize);
    // uv_poll_init makes the descriptor non-blocking.
    if (this.lib.uvPollInit(this.lib.uvDefaultLoop(), handle, fd) !== 0) throw new FsError('IO', `cannot poll /dev/fuse (fd ${fd})`);
    this.poll = handle;
    this.pollCb = this.lib.registerPoll((_h, status) => {
      // libuv reports POLLERR as UV_EBADF and stops polling: /dev/fuse says so once the
      // connection is gone (unmounted). A read then tells ENODEV (the normal end) from a
      // real failure. Outside any JavaScript frame here: both run in setImmediate.
      if (status < 0) {
        return void setImmediate(() => {
          this.drain();
          this.finish(new FsError('IO', `polling /dev/fuse failed (${status})`));
        });
      }
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(this.drain);
    });
    this.lib.uvPollStart(handle, UV_READABLE, this.pollCb);
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    const b = this.inBuf;
    const spin = this.spin;
    spin.begin(performance.now());
    for (let i = 0; i < BATCH && !this.closed; i++) {
      const n = this.lib.read(this.fd, b, IN_BUFFER) as number;
      if (n < 0) {
        const e = this.lib.koffi.errno() as number;
        if (e === EAGAIN) {
          if (!spin.empty(performance.now(), i > 0 && this.unanswered === 0)) return;
          i--;
          continue;
        }
        if (e === EINTR) continue;
        // ENODEV: the kernel ended the connection (unmounted or aborted), the normal end.
        this.finish(e === ENODEV ? undefined : new FsError('IO', `reading /dev/fuse failed (errno ${e})`));
        return;
      }
      if (n < IN_HEADER) {
        this.finish(new FsError('IO', `short read from /dev/fuse (${n} bytes)`));
        return;
      }
      spin.got();
      this.dispatch(b, Math.min(n, b.readUInt32LE(0)));
    }
  };

  /** Hands one request (`len` bytes in `b`) to its handler; answers what no handler takes. */
  private dispatch(b: Buffer, len: number): void {
    const opcode = b.readUInt32LE(4);
    if (COUNT_OPS) this.counts.set(opcode, (this.counts.get(opcode) ?? 0) + 1);
    if (opcode !== OP.FORGET && opcode !== OP.BATCH_FORGET && opcode !== OP.INTERRUPT) this.unanswered++;
    const req: Req = { unique: readU64(b, 8), uid: b.readUInt32LE(24), gid: b.readUInt32LE(28), pid: b.readUInt32LE(32) };
    const ino = readU64(b, 16);
    // Extensions (security context, groups) sit at the end; none is asked for.
    const end = len - b.readUInt16LE(36) * 8;
    const at = IN_HEADER;
    const ops = this.ops;
    if (!this.initDone && opcode !== OP.INIT) return this.replyErr(req, EIO);
    try {
      switch (opcode) {
        case OP.INIT:
          return this.init(req, readInitIn(b, at, end - at));
        case OP.LOOKUP:
          if (!ops.lookup) break;
          return ops.lookup(req, ino, cstring(b, at, end)[0]);
        case OP.FORGET:
          return ops.forget?.(ino, readU64(b, at));
        case OP.BATCH_FORGET: {
          const count = b.readUInt32LE(at);
          for (let i = 0, p = at + 8; i < count && p + 16 <= end; i++, p += 16) ops.forget?.(readU64(b, p), readU64(b, p + 8));
          return;
        }
        case OP.GETATTR:
          if (!ops.getattr) break;
          return ops.getattr(req, ino, b.readUInt32LE(at) & GETATTR_FH ? readU64(b, at + 8) : undefined);
        case OP.SETATTR:
          if (!ops.setattr) break;
          return ops.setattr(req, ino, readSetattrIn(b, at));
        case OP.READLINK:
          if (!ops.readlink) break;
          return ops.readlink(req, ino);
        case OP.SYMLINK: {
          if (!ops.symlink) break;
          const [name, next] = cstring(b, at, end);
          return ops.symlink(req, cstring(b, next, end)[0], ino, name);
        }
        case OP.MKNOD:
          if (!ops.mknod) break;
          return ops.mknod(req, ino, cstring(b, at + 16, end)[0], b.readUInt32LE(at), b.readUInt32LE(at + 4));
        case OP.MKDIR:
          if (!ops.mkdir) break;
          return ops.mkdir(req, ino, cstring(b, at + 8, end)[0], b.readUInt32LE(at));
        case OP.UNLINK:
          if (!ops.unlink) break;
          return ops.unlink(req, ino, cstring(b, at, end)[0]);
        case OP.RMDIR:
          if (!ops.rmdir) break;
          return ops.rmdir(req, ino, cstring(b, at, end)[0]);
        case OP.RENAME:
        case OP.RENAME2: {
          if (!ops.rename) break;
          const two = opcode === OP.RENAME2;
          const [name, next] = cstring(b, at + (two ? 16 : 8), end);
          return ops.rename(req, ino, name, readU64(b, at), cstring(b, next, end)[0], two ? b.readUInt32LE(at + 8) : 0);
        }
        case OP.LINK:
          if (!ops.link) break;
          return ops.link(req, readU64(b, at), ino, cstring(b, at + 8, end)[0]);
        case OP.OPEN:
          if (!ops.open) break;
          return ops.open(req, ino, b.readUInt32LE(at));
        case OP.READ:
          if (!ops.read) break;
          return ops.read(req, ino, readU64(b, at), readU64(b, at + 8), b.readUInt32LE(at + 16));
        case OP.WRITE: {
          if (!ops.write) break;
          const size = b.readUInt32LE(at + 16);
          if (at + WRITE_IN + size > end) return this.replyErr(req, EPROTO);
          return ops.write(req, ino, readU64(b, at), readU64(b, at + 8), b.subarray(at + WRITE_IN, at + WRITE_IN + size));
        }
        case OP.RELEASE:
          if (!ops.release) return this.replyErr(req, 0);
          return ops.release(req, ino, readU64(b, at));
        case OP.FSYNC:
          if (!ops.fsync) break;
          return ops.fsync(req, ino, readU64(b, at), (b.readUInt32LE(at + 8) & 1) !== 0);
        case OP.OPENDIR:
          if (!ops.opendir) break;
          return ops.opendir(req, ino);
        case OP.READDIR:
          if (!ops.readdir) break;
          return ops.readdir(req, ino, readU64(b, at), readU64(b, at + 8), b.readUInt32LE(at + 16));
        case OP.READDIRPLUS:
          if (!ops.readdirplus) break;
          return ops.readdirplus(req, ino, readU64(b, at), readU64(b, at + 8), b.readUInt32LE(at + 16));
        case OP.RELEASEDIR:
          if (!ops.releasedir) return this.replyErr(req, 0);
          return ops.releasedir(req, ino, readU64(b, at));
        case OP.STATFS:
          if (!ops.statfs) break;
          return ops.statfs(req, ino);
        case OP.GETXATTR:
          if (!ops.getxattr) break;
          return ops.getxattr(req, ino, cstring(b, at + 8, end)[0], b.readUInt32LE(at));
        case OP.LISTXATTR:
          if (!ops.listxattr) break;
          return ops.listxattr(req, ino, b.readUInt32LE(at));
        case OP.SETXATTR: {
          // struct fuse_setxattr_in (size, flags: 8 bytes without FUSE_SETXATTR_EXT, never asked for), the name, the value.
          if (!ops.setxattr) break;
          const size = b.readUInt32LE(at);
          const [name, value] = cstring(b, at + 8, end);
          if (value + size > end) return this.replyErr(req, EPROTO);
          return ops.setxattr(req, ino, name, b.subarray(value, value + size), b.readUInt32LE(at + 4));
        }
        case OP.REMOVEXATTR:
          if (!ops.removexattr) break;
          return ops.removexattr(req, ino, cstring(b, at, end)[0]);
        case OP.CREATE:
          if (!ops.create) break;
          return ops.create(req, ino, cstring(b, at + 16, end)[0], b.readUInt32LE(at + 4), b.readUInt32LE(at));
        case OP.FALLOCATE:
          // struct fuse_fallocate_in: fh, offset, length, mode.
          if (!ops.fallocate) break;
          return ops.fallocate(req, ino, readU64(b, at), readU64(b, at + 8), readU64(b, at + 16), b.readUInt32LE(at + 24));
        case OP.LSEEK:
          // struct fuse_lseek_in: fh, offset, whence.
          if (!ops.lseek) break;
          return ops.lseek(req, ino, readU64(b, at), readU64(b, at + 8), b.readUInt32LE(at + 16));
        case OP.INTERRUPT:
          // Requests finish on their own (a guest call has its deadline): nothing to answer.
          return;
        case OP.DESTROY:
          return this.replyErr(req, 0);
      }
    } catch (err) {
      // A handler throws only before it replies: answer, or the caller waits in the kernel for good.
      console.error(`berth: FUSE request ${opcode} failed: ${(err as Error).message}`);
      return this.replyErr(req, EIO);
    }
    // No handler (FLUSH, ACCESS, SETXATTR, locks, …): ENOSYS, and the kernel stops sending most of them.
    this.replyErr(req, ENOSYS);
  }

  /** Answers the kernel's INIT: the version both speak and what this host asks for. */
  private init(req: Req, k: InitIn): void {
    if (k.major !== MAJOR || k.minor < 12) {
      console.error(`berth: the kernel speaks FUSE ${k.major}.${k.minor}; Berth needs 7.12 or later`);
      this.replyErr(req, EPROTO);
      return;
    }
    const want = INIT.ASYNC_READ | INIT.ATOMIC_O_TRUNC | INIT.BIG_WRITES | INIT.AUTO_INVAL_DATA | INIT.DO_READDIRPLUS | INIT.READDIRPLUS_AUTO | INIT.ASYNC_DIO | INIT.PARALLEL_DIROPS | INIT.MAX_PAGES;
    const flags = (k.flags & want) | (k.flags & INIT.INIT_EXT);
    // Passthrough: offered by the kernel (flags2, behind INIT_EXT), and only root may
    // register backing files (the kernel checks CAP_SYS_ADMIN; a refusal turns it off).
    this.passthrough = this.wantPassthrough && (k.flags2 & INIT2.PASSTHROUGH) !== 0 && process.geteuid?.() === 0;
    const out: InitOut = {
      minor: Math.min(k.minor, MAX_MINOR),
      maxReadahead: k.maxReadahead,
      flags,
      flags2: this.passthrough ? INIT2.PASSTHROUGH : 0,
      maxWrite: MAX_WRITE,
      maxPages: flags & INIT.MAX_PAGES ? MAX_PAGES : 0,
      maxStackDepth: this.passthrough ? MAX_STACK_DEPTH : 0,
    };
    this.minor = out.minor;
    this.ops.init?.(k);
    const b = this.outBuf;
    writeInitOut(b, OUT_HEADER, out);
    this.initDone = true;
    this.send(req, b, OUT_HEADER + INIT_OUT);
  }

  /** Writes the header for `req` and sends the first `len` bytes of `b`. */
  private send(req: Req, b: Buffer, len: number, error = 0): void {
    if (this.closed) return;
    this.unanswered--;
    writeOutHeader(b, len, -error, req.unique);
    try {
      writeSync(this.fd, b, 0, len);
    } catch (err) {
      this.sendFailed(err);
    }
  }

  /** ENOENT: the request was interrupted (and answered by the kernel); others mean the connection is gone. */
  private sendFailed(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENODEV' && code !== 'EBADF') console.error(`berth: writing a FUSE reply failed: ${(err as Error).message}`);
  }

  /** An error (or 0: done, nothing to say). */
  replyErr(req: Req, errno: number): void {
    this.send(req, this.outBuf, OUT_HEADER, errno);
  }

  /** A node found or made: its id, attributes and how long the kernel may keep both (id 0: a negative entry). */
  replyEntry(req: Req, nodeId: number, a: Attr | undefined, own: OwnerOverride, v: Validity): void {
    writeEntryOut(this.outBuf, OUT_HEADER, nodeId, a, own, v);
    this.send(req, this.outBuf, OUT_HEADER + ENTRY_OUT);
  }

  /** A file made and opened. */
  replyCreate(req: Req, nodeId: number, a: Attr, own: OwnerOverride, v: Validity, open: OpenReply): void {
    writeEntryOut(this.outBuf, OUT_HEADER, nodeId, a, own, v);
    writeOpenOut(this.outBuf, OUT_HEADER + ENTRY_OUT, open);
    this.send(req, this.outBuf, OUT_HEADER + ENTRY_OUT + OPEN_OUT);
  }

  replyAttr(req: Req, a: Attr, own: OwnerOverride, attrTimeoutS: number): void {
    writeAttrOut(this.outBuf, OUT_HEADER, a, own, attrTimeoutS);
    this.send(req, this.outBuf, OUT_HEADER + ATTR_OUT);
  }

  replyOpen(req: Req, open: OpenReply): void {
    writeOpenOut(this.outBuf, OUT_HEADER, open);
    this.send(req, this.outBuf, OUT_HEADER + OPEN_OUT);
  }

  /** Bytes written (struct fuse_write_out). */
  replyWrite(req: Req, count: number): void {
    this.replyCount(req, count);
  }

  replyStatfs(req: Req, s: StatFs): void {
    writeStatfsOut(this.outBuf, OUT_HEADER, s);
    this.send(req, this.outBuf, OUT_HEADER + STATFS_OUT);
  }

  /** Where a SEEK_DATA or SEEK_HOLE lands (struct fuse_lseek_out). */
  replyLseek(req: Req, offset: number): void {
    u64(this.outBuf, OUT_HEADER, offset);
    this.send(req, this.outBuf, OUT_HEADER + 8);
  }

  /** The size an extended attribute's value (or the list of names) would take. */
  replyXattrSize(req: Req, size: number): void {
    this.replyCount(req, size);
  }

  /** A count and 4 bytes of padding: struct fuse_write_out and fuse_getxattr_out alike. */
  private replyCount(req: Req, n: number): void {
    this.outBuf.writeUInt32LE(n >>> 0, OUT_HEADER);
    this.outBuf.writeUInt32LE(0, OUT_HEADER + 4);
    this.send(req, this.outBuf, OUT_HEADER + 8);
  }

  /** Data: the first `n` bytes of `data` (read, readdir pages, readlink, xattr values), sent from where they are. */
  replyData(req: Req, data: Uint8Array, n: number): void {
    if (this.closed) return;
    this.unanswered--;
    const h = this.outBuf;
    writeOutHeader(h, OUT_HEADER + n, 0, req.unique);
    try {
      writevSync(this.fd, [h.subarray(0, OUT_HEADER), n === data.length ? data : data.subarray(0, n)]);
    } catch (err) {
      this.sendFailed(err);
    }
  }

  /**
   * Registers `fd` (a file this process opened) as a backing file: its id goes in an open's
   * reply with FOPEN.PASSTHROUGH, and the kernel then reads and writes that open itself.
   * Undefined where that cannot be (no passthrough on this session, or the kernel refused
   * this file: a file system stacked too deep, say). A refusal of the rights turns
   * passthrough off for the session, with one line in the log.
   */
  backingOpen(fd: number): number | undefined {
    if (!this.passthrough || this.closed) return undefined;
    const m = this.backingMap;
    m.writeInt32LE(fd, 0);
    const id = this.lib.ioctl(this.fd, BACKING_OPEN, 'void *', m) as number;
    if (id > 0) return id;
    const e = this.lib.koffi.errno() as number;
    if (e === constants.errno.EPERM || e === constants.errno.EOPNOTSUPP || e === ENOSYS) {
      this.passthrough = false;
      console.error(`berth: FUSE passthrough at ${this.mountpoint} is off: the kernel refused a backing file (errno ${e}); files are read and written through Berth`);
    }
    return undefined;
  }

  /** Drops a backing file id once no open uses it (the kernel keeps what open files hold). */
  backingClose(id: number): void {
    if (this.closed) return;
    this.backingId.writeUInt32LE(id, 0);
    this.lib.ioctl(this.fd, BACKING_CLOSE, 'void *', this.backingId);
  }

  /**
   * Makes the kernel drop the cached attributes of node `ino` (not its pages: a negative
   * offset), so it asks before it trusts a size again. Safe inside a request handler: no
   * page lock is taken.
   */
  invalidateAttrs(ino: number): void {
    if (this.closed || !this.initDone) return;
    const b = this.notifyBuf;
    writeOutHeader(b, b.length, NOTIFY_INVAL_INODE, 0);
    u64(b, OUT_HEADER, ino);
    u64(b, OUT_HEADER + 8, -1);
    u64(b, OUT_HEADER + 16, 0);
    try {
      writeSync(this.fd, b, 0, b.length);
    } catch (err) {
      // ENOENT: the kernel no longer knows the node, nothing to drop.
      this.sendFailed(err);
    }
  }

  /** Stops serving: no request is read or answered afterwards; the descriptor is closed (a mount still there then answers ENOTCONN). */
  close(): void {
    this.finish();
  }

  private finish(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (COUNT_OPS) console.error(`berth: FUSE requests at ${this.mountpoint} by opcode: ${[...this.counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}:${v}`).join(' ')}`);
    if (this.poll) {
      this.lib.uvPollStop(this.poll);
      this.lib.uvClose(this.poll, null);
      const h = this.poll;
      closing.add(h);
      setTimeout(() => closing.delete(h), 1_000).unref();
    }
    if (this.se) {
      // Closes /dev/fuse too.
      this.lib.sessionDestroy(this.se);
      this.se = null;
      this.fd = -1;
    }
    if (this.pollCb) this.lib.koffi.unregister(this.pollCb);
    this.settleEnded(err);
  }
}
