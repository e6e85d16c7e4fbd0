import { connect, type Socket } from 'node:net';
import { XdrError } from '../xdr/XdrError.ts';
import { XdrReader } from '../xdr/XdrReader.ts';
import { XdrWriter } from '../xdr/XdrWriter.ts';
import { AcceptStat, decodeReplyBody, REPLY, writeCallHeader } from '../rpc/messages.ts';
import { DEFAULT_MAX_RECORD, frameRecord } from '../rpc/RecordDecoder.ts';
import { RecordReceiver } from '../rpc/RecordReceiver.ts';
import { BufferPool } from '../rpc/BufferPool.ts';
import { listenAbort, unlistenAbort } from '../../vfs/abortFanOut.ts';
import { DeadlineQueue, type Timed } from '../../vfs/DeadlineQueue.ts';

// An ONC RPC v2 client over TCP (RFC 5531). Many calls share one connection: each gets
// a fresh xid and waits in a map until the reply with that xid arrives (§9: the xid is
// how replies find their calls), so calls never queue behind each other. When the
// connection drops, every call without a reply is sent again on a new connection.

/** An RPC-level failure: the server did not run the procedure. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    message: string,
    readonly acceptStat?: number,
  ) {
    super(message);
  }
}

/** AUTH_SYS credentials sent with every call. */
export interface RpcCredentials {
  uid: number;
  gid: number;
  gids?: number[];
  machine?: string;
}

/** Options of an RPC client. */
export interface RpcClientOptions {
  host: string;
  port: number;
  /** AUTH_SYS credentials; AUTH_NONE when absent. */
  cred?: RpcCredentials;
  /** Calls on the wire at once; further calls wait for a slot. */
  maxInFlight?: number;
  /** Largest reply accepted. */
  maxRecord?: number;
  /** Default deadline of a call that brings no signal of its own. */
  timeoutMs?: number;
}

/** A call awaiting its reply: in the xid map, on the deadline queue and listening to the caller's signal. */
class Pending implements Timed {
  at = 0;
  settled = false;
  /** The connection this call was last written to, so a retry never sends it twice on one. */
  sentOn?: Socket;
  resolve!: (r: XdrReader) => void;
  reject!: (e: Error) => void;
  readonly reply: Promise<XdrReader>;

  constructor(
    readonly xid: number,
    readonly chunks: Buffer[],
    private readonly client: RpcClient,
    readonly signal: AbortSignal | undefined,
  ) {
    this.reply = new Promise<XdrReader>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The deadline passed (DeadlineQueue). */
  expire(): void {
    this.client.forget(this, new DOMException(`RPC call timed out after ${this.client.timeoutMs} ms`, 'TimeoutError'));
  }

  /** The caller's signal aborted (an EventTarget listener object: no closure per call). */
  handleEvent(): void {
    const r: unknown = this.signal?.reason;
    this.client.forget(this, r instanceof Error ? r : new Error(String(r)));
  }
}

/** Replies this large (READ data) are received into pooled buffers. */
const POOLED_MIN = 256 * 1024;
/** The pool's buffer size: a 1 MiB READ plus its headers. */
const POOLED_MAX = 1024 * 1024 + 4096;

const ACCEPT_NAMES = ['SUCCESS', 'PROG_UNAVAIL', 'PROG_MISMATCH', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'SYSTEM_ERR'];

/** A pipelined RPC client on one TCP connection that reconnects on its own. */
export class RpcClient {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: (() => void)[] = [];
  private inFlight = 0;
  private xid = (Math.random() * 0xffff_ffff) >>> 0;
  private closed = false;
  private failures = 0;
  private readonly maxInFlight: number;

  /** Deadlines of calls in flight: one timer for all of them (a timer per call cost more than the call). */
  private readonly deadlines: DeadlineQueue;

  constructor(private readonly opts: RpcClientOptions) {
    this.maxInFlight = opts.maxInFlight ?? 64;
    this.deadlines = new DeadlineQueue(opts.timeoutMs ?? 60_000);
  }

  /** Reconnections so far (tests and health checks read it). */
  reconnects = 0;

  /** Buffers for large replies (READ data); callers hand them back with release(). */
  private readonly pool = new BufferPool(POOLED_MAX);

  /** Hands back the memory of a reply the caller has finished with (see NfsFile). */
  release(view: Uint8Array): void {
    this.pool.giveBack(view);
  }

  /**
   * Calls prog/vers/proc with the arguments `args` writes; resolves with a reader at
   * the results. Rejects with RpcError when the server refuses the call.
   */
  async call(prog: number, vers: number, proc: number, args: (w: XdrWriter) => void, signal?: AbortSignal): Promise<XdrReader> {
    if (this.closed) throw new RpcError('the RPC client is closed');
    signal?.throwIfAborted();
    if (this.inFlight >= this.maxInFlight) await this.slot(signal);
    this.inFlight++;
    try {
      const xid = (this.xid = (this.xid + 1) >>> 0);
      const w = new XdrWriter(256);
      writeCallHeader(w, xid, prog, vers, proc, this.opts.cred);
      args(w);
      const p = new Pending(xid, frameRecord(w.chunksOut()), this, signal);
      this.pending.set(xid, p);
      this.deadlines.add(p);
      if (signal) listenAbort(signal, p);
      void this.send(xid);
      return await p.reply;
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  /** The default deadline of a call, in milliseconds. */
  get timeoutMs(): number {
    return this.deadlines.ms;
  }

  /** Ends a call without its reply (deadline, abort); a late reply is then ignored. */
  forget(p: Pending, err: Error): void {
    if (this.pending.get(p.xid) === p) this.pending.delete(p.xid);
    this.finish(p);
    p.reject(err);
  }

  private finish(p: Pending): void {
    this.deadlines.settle(p);
    if (p.signal) unlistenAbort(p.signal, p);
  }

  /** Closes the connection; calls in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [xid, p] of this.pending) {
      this.pending.delete(xid);
      this.finish(p);
      p.reject(new RpcError('the RPC client was closed'));
    }
    this.socket?.destroy();
  }

  /** Waits for a free slot (maxInFlight); an abort of `signal` meanwhile rejects and gives up the place. */
  private slot(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const go = (): void => {
        if (signal) unlistenAbort(signal, stop);
        resolve();
      };
      const stop = {
        handleEvent: (): void => {
          const i = this.waiting.indexOf(go);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason)));
        },
      };
      if (signal) listenAbort(signal, stop);
      this.waiting.push(go);
    });
  }

  private async send(xid: number): Promise<void> {
    let socket: Socket;
    try {
      socket = await this.connection();
    } catch {
      return; // the reconnect loop resends every pending call once a connection is up
    }
    const p = this.pending.get(xid);
    if (!p || socket.destroyed || p.sentOn === socket) return;
    p.sentOn = socket;
    socket.cork();
    for (const c of p.chunks) socket.write(c);
    socket.uncork();
  }

  private connection(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const receiver = new RecordReceiver(
        this.opts.maxRecord ?? DEFAULT_MAX_RECORD,
        (r) => this.onRecord(r),
        (len) => (len >= POOLED_MIN && len <= POOLED_MAX ? this.pool.take().subarray(0, len) : Buffer.allocUnsafe(len)),
      );
      // The socket reads straight into reply buffers (see RecordReceiver): no copy, no per-read allocation.
      const socket: Socket = connect({
        host: this.opts.host,
        port: this.opts.port,
        noDelay: true,
        onread: {
          buffer: () => receiver.nextBuffer(),
          callback: (n: number) => {
            try {
              receiver.received(n);
            } catch {
              socket.destroy();
              return false;
            }
            return true;
          },
        },
      });
      socket.once('connect', () => {
        this.failures = 0;
        this.socket = socket;
        resolve(socket);
      });
      socket.on('error', (err) => reject(err));
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
        reject(new RpcError(`connection to ${this.opts.host}:${this.opts.port} closed`));
        this.retryPending();
      });
    });
  }

  /** After a drop, resends every unanswered call on a new connection, backing off while the server is away. */
  private retryPending(): void {
    if (this.closed || this.pending.size === 0) return;
    const delay = Math.min(2_000, 50 * 2 ** this.failures++);
    setTimeout(() => {
      if (this.closed || this.pending.size === 0) return;
      this.connection().then(
        (socket) => {
          this.reconnects++;
          socket.cork();
          for (const p of this.pending.values()) {
            if (p.sentOn === socket) continue;
            p.sentOn = socket;
            for (const c of p.chunks) socket.write(c);
          }
          socket.uncork();
        },
        () => {}, // 'close' fires for the failed attempt and schedules the next one
      );
    }, delay).unref();
  }

  private onRecord(record: Buffer): void {
    if (record.length < 8) return;
    const xid = record.readUInt32BE(0);
    const p = this.pending.get(xid);
    if (!p || record.readUInt32BE(4) !== REPLY) return; // a reply to a call we gave up on
    this.pending.delete(xid);
    this.finish(p);
    const r = new XdrReader(record.subarray(8));
    try {
      const h = decodeReplyBody(xid, r);
      if (!h.accepted) p.reject(new RpcError(`RPC call denied (reject_stat ${h.reject}, detail ${h.detail})`));
      else if (h.stat !== AcceptStat.SUCCESS) {
        const extra = h.mismatch ? ` (server has versions ${h.mismatch.low}-${h.mismatch.high})` : '';
        p.reject(new RpcError(`RPC call not run: ${ACCEPT_NAMES[h.stat] ?? h.stat}${extra}`, h.stat));
      } else p.resolve(r);
    } catch (err) {
      p.reject(err instanceof XdrError ? new RpcError(`malformed RPC reply: ${err.message}`) : (err as Error));
    }
  }
}
