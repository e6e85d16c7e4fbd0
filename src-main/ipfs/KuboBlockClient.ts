import { connect, type Socket } from 'node:net';
import { RpcError } from './kuboRpc.ts';

// `block/get` over plain HTTP/1.1 keep-alive sockets, for file content (issue 11). Reading a
// 256 MiB file as 1,024 blocks cost the FUSE process ~650 ms of CPU through node:http and
// more through fetch (undici's web streams), against ~150 ms here: every socket read there
// lands in a fresh buffer and walks a stream; here the kernel writes a body straight into
// the block's own buffer (net's `onread` with a buffer chosen per read) and heads into one
// reusable buffer per connection, so nothing else is allocated per read. It speaks only
// what a block answer needs: a status line, headers, a body framed by Content-Length
// (js-ipfs) or chunked (Kubo). Anything else (https, other commands) stays on fetch in
// kuboRpc.ts. Blocks it returns are NOT verified: the caller does that.

/** Bytes a block answer may have; more is an error (Kubo's own limit is 4 MiB). */
const MAX_BLOCK = 8 * 1024 * 1024;
/** Largest size hint taken as a chunked answer's first buffer (a 1 MiB raw leaf fits). */
const FIRST_BUFFER_MAX = 1024 * 1024 + 4096;
/** Bytes of a status line and headers, at most. */
const MAX_HEAD = 64 * 1024;
/** Bytes of an error answer kept for its message. */
const MAX_ERROR_BODY = 64 * 1024;
/** A connection idle this long is closed (js-ipfs closes them after 5 s; closing first avoids the race). */
const IDLE_MS = 4_000;
/** Heads and framing land here, one per connection (bodies are read in place). */
const READ_BUFFER = 64 * 1024;
/** Body bytes still expected before a read goes straight into the block. */
const DIRECT_MIN = 4096;

/** Tuning of a KuboBlockClient. */
export interface KuboBlockClientOptions {
  /** Requests in flight at once (one per connection; default 8). */
  maxConnections?: number;
}

interface Pending {
  path: string;
  sizeHint: number;
  alloc: (size: number) => Uint8Array;
  signal: AbortSignal;
  resolve: (b: Uint8Array) => void;
  reject: (e: unknown) => void;
  /** True once it was retried on a fresh connection (a reused one closed under it). */
  retried: boolean;
}

const EMPTY = new Uint8Array(0);
const allocFresh = (size: number): Uint8Array => Buffer.allocUnsafe(size);

/** How the body of the current answer is framed, and where the parser is in it. */
type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer';

/** A connection error with the system error as `cause`, as fetch reports it (nodeError reads cause.code). */
function connectionError(what: string, cause: unknown): Error {
  return new Error(what, { cause });
}

/** One keep-alive connection serving one request at a time. Owner: its KuboBlockClient. */
class Connection {
  private readonly socket: Socket;
  private readonly scratch = Buffer.allocUnsafe(READ_BUFFER);
  private job: Pending | undefined;
  /** The part of the body the current socket read writes into, when it reads in place. */
  private direct: Uint8Array | undefined;
  /** Bytes of the answer seen for the current job (0: the connection said nothing yet). */
  private seen = 0;
  private phase: Phase = 'head';
  private head: Buffer[] = [];
  private headLen = 0;
  private status = 0;
  private closeAfter = false;
  private body: Uint8Array = EMPTY;
  private bodyLen = 0;
  /** Bytes left of a Content-Length body or of the current chunk. */
  private left = 0;
  /** A chunk-size or trailer line being assembled across reads. */
  private line = '';
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => this.fail(this.job?.signal.reason ?? new DOMException('aborted', 'AbortError'), false);
  closed = false;
  /** True once it served a request: a close before any answer on it may be the server's idle close. */
  used = false;

  constructor(
    host: string,
    port: number,
    private readonly done: (c: Connection) => void,
    private readonly lost: (c: Connection, job: Pending | undefined, retryable: boolean) => void,
  ) {
    this.socket = connect({
      host,
      port,
      noDelay: true,
      onread: { buffer: () => this.target(), callback: (n: number, buf: Uint8Array) => this.onData(buf, n) },
    });
    this.socket.on('error', (err) => this.fail(connectionError(`block/get: ${err.message}`, err), this.used));
    this.socket.on('close', () => this.fail(connectionError('block/get: the node closed the connection', { code: 'ECONNRESET' }), this.used));
  }

  /** Sends one request; the answer settles `job`. */
  start(job: Pending, hostHeader: string): void {
    clearTimeout(this.idleTimer);
    this.socket.ref();
    this.job = job;
    this.seen = 0;
    this.phase = 'head';
    this.head = [];
    this.headLen = 0;
    this.line = '';
    job.signal.addEventListener('abort', this.onAbort, { once: true });
    this.socket.write(`POST ${job.path} HTTP/1.1\r\nHost: ${hostHeader}\r\nContent-Length: 0\r\n\r\n`);
  }

  /**
   * Where the next socket read goes (net asks after every read): straight into the block
   * while a body's bytes are expected, else the connection's scratch buffer.
   */
  private target(): Uint8Array {
    if (this.job && (this.phase === 'length' || this.phase === 'chunk-data') && this.left >= DIRECT_MIN) {
      this.reserve(this.bodyLen + this.left);
      this.direct = this.body.subarray(this.bodyLen, this.bodyLen + this.left);
      return this.direct;
    }
    this.direct = undefined;
    return this.scratch;
  }

  private onData(buf: Uint8Array, n: number): boolean {
    if (this.job && buf === this.direct) {
      // the kernel wrote these bytes in place (target())
      this.seen += n;
      this.bodyLen += n;
      this.left -= n;
      if (this.left === 0) {
        if (this.phase === 'length') this.finish();
        else this.phase = 'chunk-end';
      }
      return true;
    }
    if (!this.job) {
      // nothing was asked: a server that talks out of turn is not one to keep
      this.destroy();
      return false;
    }
    this.seen += n;
    try {
      this.parse(buf, 0, n);
    } catch (err) {
      this.fail(err, false);
    }
    return true;
  }

  private parse(buf: Uint8Array, at: number, end: number): void {
    while (at < end && this.job) {
      switch (this.phase) {
        case 'head':
          at = this.readHead(buf, at, end);
          break;
        case 'length': {
          const n = Math.min(this.left, end - at);
          this.append(buf, at, n);
          at += n;
          this.left -= n;
          if (this.left === 0) this.finish();
          break;
        }
        case 'chunk-size':
        case 'chunk-end':
        case 'trailer':
          at = this.readLine(buf, at, end);
          break;
        case 'chunk-data': {
          const n = Math.min(this.left, end - at);
          this.append(buf, at, n);
          at += n;
          this.left -= n;
          if (this.left === 0) this.phase = 'chunk-end';
          break;
        }
        default: {
          const never: never = this.phase;
          throw new Error(`block/get: parser in unknown phase ${String(never)}`);
        }
      }
    }
  }

  private readHead(buf: Uint8Array, at: number, end: number): number {
    const view = Buffer.from(buf.buffer, buf.byteOffset + at, end - at);
    if (this.head.length === 0) {
      // nearly always: the whole head in the answer's first read, found without a copy
      const stop = view.indexOf('\r\n\r\n', 0, 'latin1');
      if (stop >= 0) {
        this.startBody(view.toString('latin1', 0, stop));
        return at + stop + 4;
      }
    }
    // a head split across reads: keep its bytes (copied: the read buffer is reused)
    const prevLen = this.headLen;
    const take = Math.min(view.length, MAX_HEAD + 4 - prevLen);
    this.head.push(Buffer.from(view.subarray(0, take)));
    this.headLen += take;
    const all = Buffer.concat(this.head, this.headLen);
    this.head = [all];
    const stop = all.indexOf('\r\n\r\n', Math.max(0, prevLen - 3), 'latin1');
    if (stop < 0) {
      if (this.headLen > MAX_HEAD) throw new Error(`block/get: the answer's headers exceed ${MAX_HEAD} bytes`);
      return end;
    }
    this.head = [];
    this.startBody(all.toString('latin1', 0, stop));
    // what followed the head in this read is body
    return at + (stop + 4 - prevLen);
  }

  private startBody(headText: string): void {
    const lines = headText.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
    if (!m) throw new Error(`block/get: not an HTTP/1.x answer: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    this.status = Number(m[2]);
    this.closeAfter = m[1] === '0';
    let length = -1;
    let chunked = false;
    for (const l of lines.slice(1)) {
      const colon = l.indexOf(':');
      if (colon < 0) continue;
      const name = l.slice(0, colon).trim().toLowerCase();
      const value = l.slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = /chunked/i.test(value);
      else if (name === 'connection') this.closeAfter = /close/i.test(value) || (this.closeAfter && !/keep-alive/i.test(value));
    }
    const limit = this.status === 200 ? MAX_BLOCK : MAX_ERROR_BODY;
    this.bodyLen = 0;
    if (chunked) {
      // a leaf's hint is its size; an inner node's is its whole subtree's: then grow instead
      const hint = this.job!.sizeHint;
      this.body = this.status !== 200 ? new Uint8Array(4096) : this.job!.alloc(hint > 0 && hint <= FIRST_BUFFER_MAX ? hint : 64 * 1024);
      this.phase = 'chunk-size';
      return;
    }
    if (!Number.isSafeInteger(length) || length < 0) throw new Error('block/get: the answer has neither Content-Length nor chunked framing');
    if (length > limit) throw new Error(`block/get: an answer of ${length} bytes is larger than any block (${limit})`);
    this.body = this.status === 200 ? this.job!.alloc(length) : new Uint8Array(length);
    this.left = length;
    this.phase = 'length';
    if (length === 0) this.finish();
  }

  /** One CRLF-terminated line of chunked framing (a size, the CRLF after data, a trailer). */
  private readLine(buf: Uint8Array, at: number, end: number): number {
    let i = at;
    while (i < end && buf[i] !== 0x0a) i++;
    this.line += Buffer.from(buf.buffer, buf.byteOffset + at, i - at).toString('latin1');
    if (this.line.length > 1024) throw new Error('block/get: a chunked-framing line is too long');
    if (i === end) return end;
    const text = this.line.replace(/\r$/, '');
    this.line = '';
    switch (this.phase) {
      case 'chunk-size': {
        const size = parseInt(text.split(';', 1)[0]!.trim(), 16);
        if (!Number.isSafeInteger(size) || size < 0) throw new Error(`block/get: bad chunk size ${JSON.stringify(text.slice(0, 40))}`);
        if (size === 0) this.phase = 'trailer';
        else {
          this.left = size;
          this.phase = 'chunk-data';
        }
        break;
      }
      case 'chunk-end':
        if (text !== '') throw new Error('block/get: chunk data longer than its size');
        this.phase = 'chunk-size';
        break;
      case 'trailer':
        if (text === '') this.finish();
        break;
      default:
        throw new Error(`block/get: no line expected in phase ${this.phase}`);
    }
    return i + 1;
  }

  /** Makes room for `need` bytes of body (a chunked answer grows as it comes). */
  private reserve(need: number): void {
    if (need <= this.body.length) return;
    const limit = this.status === 200 ? MAX_BLOCK : MAX_ERROR_BODY;
    if (need > limit) throw new Error(`block/get: the answer is larger than any block (${limit} bytes)`);
    const size = Math.min(limit, Math.max(need, this.body.length * 2));
    const grown = this.status === 200 ? this.job!.alloc(size) : new Uint8Array(size);
    grown.set(this.body.subarray(0, this.bodyLen));
    this.body = grown;
  }

  private append(buf: Uint8Array, at: number, n: number): void {
    this.reserve(this.bodyLen + n);
    this.body.set(buf.subarray(at, at + n), this.bodyLen);
    this.bodyLen += n;
  }

  private finish(): void {
    const job = this.job!;
    this.job = undefined;
    job.signal.removeEventListener('abort', this.onAbort);
    const body = this.bodyLen === this.body.length ? this.body : this.body.subarray(0, this.bodyLen);
    this.body = EMPTY;
    this.used = true;
    if (this.status === 200) job.resolve(body);
    else job.reject(rpcErrorOf(this.status, body));
    if (this.closeAfter) this.destroy();
    else {
      this.socket.unref();
      this.idleTimer = setTimeout(() => this.destroy(), IDLE_MS).unref();
      this.done(this);
    }
  }

  /** Ends the current job with `err` and drops the connection. */
  private fail(err: unknown, reusedAndSilent: boolean): void {
    const job = this.job;
    if (this.closed && !job) return; // the socket's own close after we dropped it
    this.job = undefined;
    job?.signal.removeEventListener('abort', this.onAbort);
    const retryable = reusedAndSilent && this.seen === 0 && job !== undefined && !job.retried && !job.signal.aborted;
    if (job && !retryable) job.reject(err);
    this.teardown();
    this.lost(this, job, retryable);
  }

  private teardown(): void {
    clearTimeout(this.idleTimer);
    this.closed = true;
    this.socket.destroy();
  }

  /** Closes the connection (idle, or the client closing); a request on it fails. */
  destroy(): void {
    if (this.closed) return;
    if (this.job) return this.fail(connectionError('block/get: the connection was closed', { code: 'ECONNABORTED' }), false);
    this.teardown();
    this.lost(this, undefined, false);
  }
}

/** The RpcError of a non-200 answer (`{Message, Code}` as Kubo and js-ipfs send them). */
function rpcErrorOf(status: number, body: Uint8Array): RpcError {
  const text = Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8');
  try {
    const parsed = JSON.parse(text) as { Message?: string; Code?: number };
    return new RpcError(parsed.Message ?? text, status, typeof parsed.Code === 'number' ? parsed.Code : undefined);
  } catch {
    return new RpcError(text || `HTTP ${status}`, status);
  }
}

/** A pool of keep-alive connections fetching raw blocks from one node's RPC API. */
export class KuboBlockClient {
  private readonly host: string;
  private readonly port: number;
  private readonly hostHeader: string;
  private readonly prefix: string;
  private readonly max: number;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Pending[] = [];

  /** `url` is the API's base URL, http only (http://host:port). */
  constructor(url: string, opts: KuboBlockClientOptions = {}) {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new Error(`KuboBlockClient speaks plain http only, not ${u.protocol}`);
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    this.hostHeader = u.host;
    this.prefix = `${u.pathname.replace(/\/+$/, '')}/api/v0/block/get?arg=`;
    this.max = Math.max(1, opts.maxConnections ?? 8);
  }

  /**
   * The raw bytes of block `cid` (canonical text), in memory from `alloc` (default: fresh);
   * `sizeHint` sizes the first buffer of a chunked answer.
   */
  get(cid: string, signal: AbortSignal, sizeHint = 0, alloc: (size: number) => Uint8Array = allocFresh): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      this.queue.push({ path: `${this.prefix}${encodeURIComponent(cid)}`, sizeHint, alloc, signal, resolve, reject, retried: false });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const job = this.queue[0]!;
      if (job.signal.aborted) {
        this.queue.shift();
        job.reject(job.signal.reason);
        continue;
      }
      let c = this.idle.pop();
      while (c?.closed) c = this.idle.pop();
      if (!c) {
        if (this.all.size >= this.max) return;
        c = new Connection(this.host, this.port, (conn) => this.release(conn), (conn, lostJob, retry) => this.drop(conn, lostJob, retry));
        this.all.add(c);
      }
      this.queue.shift();
      c.start(job, this.hostHeader);
    }
  }

  private release(c: Connection): void {
    if (!c.closed) this.idle.push(c);
    this.pump();
  }

  private drop(c: Connection, job: Pending | undefined, retry: boolean): void {
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    if (job && retry) {
      job.retried = true;
      this.queue.unshift(job);
    }
    // a failed connect must not leave the queue waiting for a connection that never frees
    queueMicrotask(() => this.pump());
  }

  /** Closes every connection; requests in flight fail. */
  close(): void {
    for (const c of [...this.all]) c.destroy();
  }
}
