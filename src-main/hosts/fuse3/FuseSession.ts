import { constants } from 'node:os';
import { FsError } from '../../vfs/FsError.ts';
import { type LibFuse3, OP_SLOTS, type OpName } from './libfuse3.ts';

// One libfuse 3 low-level session, driven from the JavaScript thread. libuv polls the
// /dev/fuse descriptor like any socket; when it is readable, the requests waiting are read
// (non-blocking) and handed to fuse_session_process_buf right here, which calls the op
// handlers synchronously on this thread. Handlers answer whenever their vfs call settles
// (fuse_reply_* from this thread too), so no libfuse thread ever waits on JavaScript and no
// JavaScript ever runs off its thread (koffi forbids both).
//
// The poll callback comes from libuv outside any JavaScript frame, where promise jobs would
// not run until some unrelated callback; so it only schedules the reading in setImmediate,
// which runs in the same loop turn inside Node's own callback scope.

const EAGAIN = constants.errno.EAGAIN;
const EINTR = constants.errno.EINTR;
/** Requests handled per turn before other I/O gets its turn (the poll fires again). */
const BATCH = 64;
/** UV_READABLE. */
const UV_READABLE = 1;

/** An opaque fuse_req_t. */
export type Req = unknown;
/** The op handlers a session registers, by slot name. */
export type OpHandlers = Partial<Record<OpName, (...args: never[]) => void>>;

/** FUSE opcodes counted per session when BERTH_FUSE_STATS=1 (printed to stderr at teardown). */
const COUNT_OPS = process.env.BERTH_FUSE_STATS === '1';

/** libuv handles whose close has not been processed yet must outlive the call (kept here). */
const closing = new Set<Buffer>();

/** A mounted (or mounting) session; the owner calls mount() once and close() once. */
export class FuseSession {
  private se: unknown;
  private fbuf = Buffer.alloc(40);
  private poll: Buffer | undefined;
  private pollCb: unknown;
  private registered: unknown[] = [];
  private scheduled = false;
  /** Requests per FUSE opcode (only with BERTH_FUSE_STATS=1). */
  private readonly counts = new Map<number, number>();
  private closed = false;
  private settleEnded: (err?: Error) => void = () => {};
  /** Settles when the kernel ends the session (unmounted, aborted) or close() is called. */
  readonly ended: Promise<Error | undefined>;

  constructor(
    private readonly lib: LibFuse3,
    private readonly mountpoint: string,
    /** -o options for fuse_session_new (mount options only: libfuse 3 refuses others). */
    private readonly options: string[],
    ops: OpHandlers,
  ) {
    this.ended = new Promise((resolve) => {
      this.settleEnded = (err) => resolve(err);
    });
    const table = Buffer.alloc(OP_SLOTS.length * 8);
    OP_SLOTS.forEach((name, i) => {
      const fn = ops[name];
      if (!fn) return;
      const cb = lib.registerOp(name, fn);
      this.registered.push(cb);
      table.writeBigUInt64LE(BigInt(lib.koffi.address(cb)), i * 8);
    });
    const args = { argc: 3, argv: ['berth', '-o', options.join(',')], allocated: 0 };
    this.se = lib.sessionNew(args, table, table.length, null);
    if (!this.se) {
      this.unregister();
      throw new FsError('InvalidItem', `libfuse refused the options ${options.join(',')} (see the lines above from fuse)`);
    }
  }

  /** Whether replies may still be sent (false once the session is torn down: its requests are freed). */
  get alive(): boolean {
    return !this.closed;
  }

  /**
   * Mounts (root: mount(2); others: fusermount3) on a threadpool thread: a mount point below
   * a mount this process serves is looked up by the kernel through us, so this thread must
   * stay free to answer. Then starts reading requests.
   */
  async mount(): Promise<void> {
    const res = await new Promise<number>((resolve, reject) => {
      this.lib.sessionMount.async(this.se, this.mountpoint, (err: Error | null, r: number) => (err ? reject(err) : resolve(r)));
    });
    if (res !== 0) throw new FsError('IO', `fuse_session_mount failed (see the lines above from fuse)`);
    const fd = this.lib.sessionFd(this.se) as number;
    const handle = Buffer.alloc(this.lib.uvPollSize);
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
    for (let i = 0; i < BATCH && !this.closed; i++) {
      const r = this.lib.receiveBuf(this.se, this.fbuf) as number;
      if (r === -EAGAIN) return;
      if (r === -EINTR) continue;
      // Not fuse_session_exited per request: Berth never calls fuse_session_exit, and
      // libfuse does on ENODEV (then this read returns 0) and on an INIT it refuses (then
      // the kernel sends no more requests).
      if (r <= 0) {
        // 0: the kernel said ENODEV (unmounted or aborted); negative: a read error.
        this.finish(r < 0 ? new FsError('IO', `reading /dev/fuse failed (errno ${-r})`) : undefined);
        return;
      }
      if (COUNT_OPS) {
        // struct fuse_in_header: len, then the opcode.
        const op = this.lib.koffi.decode(this.lib.koffi.decode(this.fbuf, 16, 'void *'), 4, 'uint32_t') as number;
        this.counts.set(op, (this.counts.get(op) ?? 0) + 1);
      }
      this.lib.processBuf(this.se, this.fbuf);
    }
  };

  /**
   * Makes the kernel drop the cached attributes of node `ino` (not its pages: a negative
   * offset), so it asks before it trusts a size again. Safe inside a request handler: no
   * page lock is taken.
   */
  invalidateAttrs(ino: number): void {
    if (!this.closed) this.lib.notifyInvalInode(this.se, ino, -1, 0);
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
      this.lib.sessionDestroy(this.se);
      const mem = this.lib.koffi.decode(this.fbuf, 16, 'void *');
      if (mem) this.lib.free(mem);
      this.se = null;
    }
    if (this.pollCb) this.lib.koffi.unregister(this.pollCb);
    this.unregister();
    this.settleEnded(err);
  }

  private unregister(): void {
    for (const cb of this.registered) this.lib.koffi.unregister(cb);
    this.registered = [];
  }
}
