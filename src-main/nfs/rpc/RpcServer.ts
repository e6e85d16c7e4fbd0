import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { XdrError } from '../xdr/XdrError.ts';
import { XdrReader } from '../xdr/XdrReader.ts';
import { XdrWriter } from '../xdr/XdrWriter.ts';
import {
  AcceptStat,
  type CredCache,
  AUTH_NONE,
  AUTH_SYS,
  AuthStat,
  CALL,
  decodeCallBody,
  writeAcceptedHeader,
  writeDenied,
  writeProgMismatch,
  type CallHeader,
  type Credentials,
  MSG_ACCEPTED,
  REPLY,
} from './messages.ts';
import { DEFAULT_MAX_RECORD } from './RecordDecoder.ts';
import { RpcAuthError } from './RpcAuthError.ts';
import { RpcStats } from './RpcStats.ts';
import { RpcConnection, runAll } from './RpcConnection.ts';

// An ONC RPC v2 server over TCP (RFC 5531). Calls on one connection run concurrently
// and each reply is written as soon as its call finishes, tagged with its xid (§9),
// so a slow call never holds up the ones behind it. In-flight calls per connection are
// bounded: past the bound the socket stops being read (TCP backpressure).

/** One call as a procedure sees it. */
export interface RpcCall {
  readonly header: CallHeader;
  /** Positioned at the procedure's arguments. */
  readonly args: XdrReader;
  /** Already holds the accepted-reply header; the procedure appends its results. */
  readonly reply: XdrWriter;
  /** "ip:port" of the client. */
  readonly remote: string;
  /** Aborted when the connection closes or the server stops. */
  readonly signal: AbortSignal;
  /**
   * Who the call acts as, set by a program that checks credentials (the NFS program);
   * shaped like the vfs Caller so a call can be passed to a guest as its CallOpts.
   */
  readonly caller?: { uid: number; gid: number; groups?: readonly number[] };
  /**
   * Runs `fn` once the reply's bytes are handed to the kernel, or dropped: a procedure
   * that put a pooled buffer in the reply gets it back here, never earlier.
   */
  onSent(fn: () => void): void;
}

/** A reply ready to write (the whole record, its mark included), and what to run once it is written. */
export interface Reply {
  chunks: Buffer[];
  sent: (() => void)[];
}

/** Fills in a synchronous reply's record mark (its length, last fragment): the reply. */
function markRecord(reply: FastReply): FastReply {
  let n = -4;
  for (const c of reply.chunks) n += c.length;
  if (reply.file) n += reply.file.length + reply.file.pad;
  reply.chunks[0]!.writeUInt32BE((0x8000_0000 | n) >>> 0, 0);
  return reply;
}

/** A reply writer whose first 4 bytes hold the record mark, filled by recordOut(). */
function replyWriter(initial: number): XdrWriter {
  return new XdrWriter(initial).uint32(0);
}

/** A procedure: decode args → validate → call → encode results. Throw XdrError for bad args. */
export type Procedure = (call: RpcCall) => Promise<void> | void;

/**
 * A call offered to a program's synchronous path: the record as it came, read no further
 * than the credentials. Only what the connection already knows is decoded for it.
 */
export interface FastCall {
  readonly xid: number;
  /** The credentials, decoded when first seen on this connection (the same object since). */
  readonly cred: Credentials;
  /** "ip:port" of the client. */
  readonly remote: string;
  /** The whole record; the procedure's arguments start at `at`. */
  readonly record: Buffer;
  readonly at: number;
  /** Aborted when the connection closes (for a reply given later: see FastProcedure). */
  readonly signal: AbortSignal;
  /** Whether a reply may be given later: false while the connection has as many calls in flight as the server allows. */
  readonly mayDefer: boolean;
}

/**
 * A reply's body taken from an open file: `length` bytes at `offset` of descriptor `fd`,
 * then `pad` zero bytes (XDR). Sent with sendfile(2) when the socket has nothing queued;
 * whatever the socket did not take goes through its stream, read by `read`.
 */
export interface FileBody {
  fd: number;
  offset: number;
  length: number;
  pad: number;
  /**
   * Reads `length` bytes at `offset` of the file (inline); fewer only when the file shrank
   * since the reply's head was written, which closes the connection (the client retries).
   */
  read(offset: number, length: number): { data: Buffer; release?: () => void };
}

/** A reply made synchronously: the record's chunks, the first from acceptedReply(). */
export interface FastReply {
  chunks: Buffer[];
  /** The rest of the record, from a file (after `chunks`). */
  file?: FileBody;
  /** Runs once the bytes are handed to the kernel (or dropped): returns pooled buffers. */
  sent?: () => void;
  /** Runs right after the reply is written: work that must not delay it (read-ahead). */
  after?: () => void;
}

/**
 * A procedure's synchronous path: the reply when the call can be answered from memory
 * right now, or undefined to run the call as usual (any doubt, any error: the procedure
 * itself decides and reports). It must check everything the procedure checks. A call
 * that only waits on one system call off this thread (COMMIT's fdatasync) may decide
 * everything now and give its reply later, as a promise: it never rejects (an error is
 * the procedure's own reply), and it is in flight, as a call run the usual way is.
 */
export type FastProcedure = (call: FastCall) => FastReply | Promise<FastReply> | undefined;

/** One program version: its procedures indexed by procedure number (the dispatch table). */
export interface RpcProgram {
  readonly prog: number;
  readonly vers: number;
  readonly procedures: readonly (Procedure | undefined)[];
  /** Synchronous paths of some procedures, tried first (see FastProcedure). */
  readonly fast?: readonly (FastProcedure | undefined)[];
}

/** Bytes of an accepted reply's header, record mark included (§9: xid … accept_stat). */
export const ACCEPTED_HEAD = 28;

/**
 * A buffer holding a successful accepted reply's header for `xid` (record mark left for the
 * server to fill), with `results` more bytes for the procedure to write from ACCEPTED_HEAD.
 */
export function acceptedReply(xid: number, results: number): Buffer {
  const b = Buffer.allocUnsafe(ACCEPTED_HEAD + results);
  b.writeUInt32BE(0, 0);
  b.writeUInt32BE(xid >>> 0, 4);
  b.writeUInt32BE(REPLY, 8);
  b.writeUInt32BE(MSG_ACCEPTED, 12);
  b.writeUInt32BE(AUTH_NONE, 16);
  b.writeUInt32BE(0, 20);
  b.writeUInt32BE(AcceptStat.SUCCESS, 24);
  return b;
}

/** Options for an RpcServer. */
export interface RpcServerOptions {
  /** Every program/version served; there is no other registry. */
  programs: readonly RpcProgram[];
  /** Largest record accepted; a larger one closes the connection. */
  maxRecord?: number;
  /** Calls run at once per connection. */
  maxInFlight?: number;
  /** Decides on each accepted connection (the client allow-list); false closes it at once. */
  allow?: (remoteAddress: string) => boolean;
  /** Told about connection-level failures (bad framing, refused clients); never throws. */
  onError?: (err: Error, remote: string) => void;
  /**
   * Runs before any reply is written: what a reply may rely on is made lasting first (the
   * NFS server's handle journal). Must not throw.
   */
  beforeReply?: () => void;
}

/** Serves RPC programs on a TCP port. */
export class RpcServer {
  private readonly server: Server;
  private readonly programs = new Map<number, Map<number, RpcProgram>>();
  private readonly connections = new Set<RpcConnection>();
  private readonly opts: Required<Omit<RpcServerOptions, 'allow' | 'onError' | 'beforeReply'>> & RpcServerOptions;
  /** RpcServerOptions.beforeReply. */
  readonly beforeReply: (() => void) | undefined;
  /** Per-procedure counts and time when BERTH_RPC_STATS names a file (RpcStats.ts). */
  readonly stats = RpcStats.fromEnv();

  constructor(opts: RpcServerOptions) {
    this.opts = { maxRecord: DEFAULT_MAX_RECORD, maxInFlight: 32, ...opts };
    this.beforeReply = opts.beforeReply;
    for (const p of opts.programs) {
      let byVers = this.programs.get(p.prog);
      if (!byVers) this.programs.set(p.prog, (byVers = new Map()));
      byVers.set(p.vers, p);
    }
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** Starts listening; resolves with the bound address. */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, aborts calls in flight and closes every connection. */
  async close(): Promise<void> {
    this.stats?.dump();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.connections) c.destroy();
    await closed;
  }

  /** Live connection count (tests use it to check cleanup). */
  get connectionCount(): number {
    return this.connections.size;
  }

  private accept(socket: Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    if (this.opts.allow && !this.opts.allow(socket.remoteAddress ?? '')) {
      this.opts.onError?.(new Error(`client ${remote} is not in the allow-list`), remote);
      socket.destroy();
      return;
    }
    const conn = new RpcConnection(socket, remote, this);
    this.connections.add(conn);
    socket.once('close', () => this.connections.delete(conn));
  }

  /**
   * Answers a record from its program's synchronous path when it has one for the call and
   * the call's credentials are the ones this connection last sent (decoded then); returns
   * the reply, or undefined when the record must go the usual way.
   */
  tryFast(record: Buffer, remote: string, creds: { last?: CredCache }, signal: AbortSignal, mayDefer: boolean): FastReply | Promise<FastReply> | undefined {
    const last = creds.last;
    // xid, CALL, rpcvers, prog, vers, proc, cred flavor, cred length: 32 bytes.
    if (!last || record.length < 40 || record.readUInt32BE(4) !== CALL || record.readUInt32BE(8) !== 2) return undefined;
    const program = this.programs.get(record.readUInt32BE(12))?.get(record.readUInt32BE(16));
    const fast = program?.fast?.[record.readUInt32BE(20)];
    if (!fast) return undefined;
    const len = record.readUInt32BE(28);
    const verfAt = 32 + ((len + 3) & ~3);
    const flavor = record.readUInt32BE(24);
    if (flavor !== last.flavor || (flavor !== AUTH_SYS && flavor !== AUTH_NONE) || len !== last.body.length || verfAt + 8 > record.length) return undefined;
    if (record.compare(last.body, 0, len, 32, 32 + len) !== 0) return undefined;
    const verfLen = record.readUInt32BE(verfAt + 4);
    const at = verfAt + 8 + ((verfLen + 3) & ~3);
    if (verfLen > 400 || at > record.length) return undefined;
    const reply = fast({ xid: record.readUInt32BE(0), cred: last.cred, remote, record, at, signal, mayDefer });
    if (reply instanceof Promise) return reply.then(markRecord);
    return reply && markRecord(reply);
  }

  /** Runs one record and returns the reply, or undefined when the connection must close. */
  async handle(record: Buffer, remote: string, signal: AbortSignal, creds?: { last?: CredCache }): Promise<Reply | undefined> {
    if (record.length < 8) return undefined; // no room for xid + msg_type: cannot even reply
    const xid = record.readUInt32BE(0);
    if (record.readUInt32BE(4) !== CALL) return undefined; // a server only takes calls
    const r = new XdrReader(record.subarray(8));
    let header: CallHeader;
    try {
      header = decodeCallBody(xid, r, creds);
    } catch (err) {
      if (!(err instanceof XdrError)) throw err;
      return this.simple(xid, AcceptStat.GARBAGE_ARGS);
    }
    if (header.rpcvers !== 2) {
      const w = replyWriter(32);
      writeDenied(w, xid, { rpcMismatch: true });
      return { chunks: w.recordOut(), sent: [] };
    }
    if (header.cred.flavor !== AUTH_NONE && header.cred.flavor !== AUTH_SYS) {
      const w = replyWriter(32);
      writeDenied(w, xid, { authStat: AuthStat.AUTH_BADCRED });
      return { chunks: w.recordOut(), sent: [] };
    }
    const byVers = this.programs.get(header.prog);
    if (!byVers) return this.simple(xid, AcceptStat.PROG_UNAVAIL);
    const program = byVers.get(header.vers);
    if (!program) {
      const versions = [...byVers.keys()];
      const w = replyWriter(32);
      writeProgMismatch(w, xid, Math.min(...versions), Math.max(...versions));
      return { chunks: w.recordOut(), sent: [] };
    }
    const proc = program.procedures[header.proc];
    if (!proc) return this.simple(xid, AcceptStat.PROC_UNAVAIL);
    const reply = replyWriter(256);
    writeAcceptedHeader(reply, xid, AcceptStat.SUCCESS);
    const sent: (() => void)[] = [];
    try {
      await proc({ header, args: r, reply, remote, signal, onSent: (fn) => sent.push(fn) });
    } catch (err) {
      runAll(sent); // the reply is replaced: nothing of it will be written
      if (err instanceof XdrError) return this.simple(xid, AcceptStat.GARBAGE_ARGS);
      if (err instanceof RpcAuthError) {
        this.opts.onError?.(err, remote);
        const w = replyWriter(32);
        writeDenied(w, xid, { authStat: err.authStat });
        return { chunks: w.recordOut(), sent: [] };
      }
      this.opts.onError?.(err instanceof Error ? err : new Error(String(err)), remote);
      return this.simple(xid, AcceptStat.SYSTEM_ERR);
    }
    return { chunks: reply.recordOut(), sent };
  }

  private simple(xid: number, stat: AcceptStat): Reply {
    const w = replyWriter(32);
    writeAcceptedHeader(w, xid, stat);
    return { chunks: w.recordOut(), sent: [] };
  }

  /** Limits for connections. */
  get limits(): { maxRecord: number; maxInFlight: number } {
    return { maxRecord: this.opts.maxRecord, maxInFlight: this.opts.maxInFlight };
  }

  /** Reports a connection-level failure. */
  report(err: Error, remote: string): void {
    try {
      this.opts.onError?.(err, remote);
    } catch {
      // a reporter must never take the server down
    }
  }
}
