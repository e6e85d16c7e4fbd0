import type { Attr, CallOpts, FileHandle, SetAttr } from '../../vfs/types.ts';
import { StableHow } from '../nfs3/constants.ts';
import type { NfsClient } from './NfsClient.ts';

// An open NFS file. NFSv3 is stateless, so "open" is just a handle; what this adds is
// throughput: large reads and writes are split into rsize/wsize calls that all go out
// at once, and sequential reads keep the next chunks already in flight (read-ahead).

/** Chunks fetched ahead of a sequential reader. */
const READ_AHEAD = 4;

/** Reopens the file's handle after the server called it stale. */
export type Reopen = (signal: AbortSignal) => Promise<Buffer>;

/** One rsize-aligned chunk of the file, fetched by one READ. */
interface Chunk {
  data: Promise<Buffer>;
  /** Called when the reply memory may be reused (no view of it ever leaves this handle). */
  release?: () => void;
  /** readInto calls still copying from it. */
  users: number;
  dropped: boolean;
}

/** A FileHandle over NFS READ/WRITE/COMMIT/SETATTR. */
export class NfsFile implements FileHandle {
  /** FileHandle.madeAttr: set by the guest on a file it just made. */
  madeAttr?: Attr;
  private readonly ahead = new Map<number, Chunk>();
  private nextSequential = -1;
  /** Signal of read-aheads; aborted when the handle closes. */
  private readonly aheadAbort = new AbortController();
  private dirty = false;

  constructor(
    private readonly client: NfsClient,
    private fh: Buffer,
    private readonly reopen: Reopen,
    private readonly rsize: number,
    private readonly wsize: number,
    /** Called once the handle is closed (its last COMMIT done or failed). */
    private readonly onClose?: () => Promise<void>,
    /** Whether the file's one name now is a hidden one its guest gave it when it was removed while open (a "silly rename"). */
    private readonly hidden?: () => boolean,
  ) {}

  /** Runs a call with the current handle, once more with a fresh one when it was stale. */
  private async withFh<T>(signal: AbortSignal, fn: (fh: Buffer) => Promise<T>): Promise<T> {
    try {
      return await fn(this.fh);
    } catch (err) {
      if (!isStale(err)) throw err;
      this.fh = await this.reopen(signal);
      return fn(this.fh);
    }
  }

  private chunk(index: number, signal: AbortSignal): Chunk {
    let c = this.ahead.get(index);
    if (!c) {
      const chunk: Chunk = { data: Promise.resolve(Buffer.alloc(0)), users: 0, dropped: false };
      chunk.data = this.withFh(signal, (fh) => this.client.read(fh, index * this.rsize, this.rsize, signal)).then((r) => {
        chunk.release = r.release;
        if (chunk.dropped) this.settle(chunk);
        return r.data;
      });
      chunk.data.catch(() => {
        if (this.ahead.get(index) === chunk) this.ahead.delete(index);
      });
      this.ahead.set(index, chunk);
      c = chunk;
    }
    return c;
  }

  /** Forgets a chunk; its memory goes back once no copy from it is pending. */
  private drop(index: number): void {
    const c = this.ahead.get(index);
    if (!c) return;
    this.ahead.delete(index);
    c.dropped = true;
    this.settle(c);
  }

  private settle(c: Chunk): void {
    if (c.dropped && c.users === 0 && c.release) {
      const r = c.release;
      c.release = undefined;
      r();
    }
  }

  private dropAll(): void {
    for (const k of [...this.ahead.keys()]) this.drop(k);
  }

  /** The chunks covering [position, position+length), with read-ahead started for sequential readers. */
  private async chunksFor(position: number, length: number, signal: AbortSignal): Promise<{ first: number; chunks: Chunk[]; bufs: Buffer[] }> {
    const first = Math.floor(position / this.rsize);
    const last = Math.floor((position + length - 1) / this.rsize);
    const sequential = position === this.nextSequential;
    // Read-ahead chunks run detached from this call's signal: they outlive it by design.
    // The RPC client bounds every call with its own deadline; this one only ends at close.
    const aheadSignal = this.aheadAbort.signal;
    const chunks: Chunk[] = [];
    for (let i = first; i <= last; i++) chunks.push(this.chunk(i, sequential || i > first ? aheadSignal : signal));
    if (sequential) for (let i = last + 1; i <= last + READ_AHEAD; i++) void this.chunk(i, aheadSignal).data.catch(() => {});
    for (const c of chunks) c.users++;
    try {
      const bufs = await Promise.all(chunks.map((c) => c.data));
      return { first, chunks, bufs };
    } catch (err) {
      this.done(chunks);
      throw err;
    } finally {
      for (const k of [...this.ahead.keys()]) if (k < first || k > last + READ_AHEAD) this.drop(k);
      this.nextSequential = position + length;
    }
  }

  private done(chunks: Chunk[]): void {
    for (const c of chunks) {
      c.users--;
      this.settle(c);
    }
  }

  /**
   * Returns a copy: a view would pin its whole 1 MiB reply, which could then never go back
   * to the pool (one fresh reply buffer per READ). Measured here, the two cost the same CPU;
   * the copy keeps the client's memory bounded by the pool.
   */
  async read(position: number, length: number, opts: CallOpts): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    const out = Buffer.allocUnsafe(length);
    const n = await this.readInto(out, position, opts);
    return n === length ? out : out.subarray(0, n);
  }

  /** Copies into the caller's buffer, so the reply memory can serve the next READ. */
  async readInto(buffer: Uint8Array, position: number, opts: CallOpts): Promise<number> {
    if (buffer.length === 0) return 0;
    const { first, chunks, bufs } = await this.chunksFor(position, buffer.length, opts.signal);
    let got = 0;
    try {
      for (let i = 0; i < bufs.length && got < buffer.length; i++) {
        const b = bufs[i]!;
        const from = i === 0 ? position - first * this.rsize : 0;
        const piece = b.subarray(from, from + buffer.length - got);
        buffer.set(piece, got);
        got += piece.length;
        if (b.length < this.rsize) break; // end of file
      }
    } finally {
      this.done(chunks);
    }
    return got;
  }

  async write(position: number, data: Uint8Array, opts: CallOpts): Promise<number> {
    this.dropAll();
    this.nextSequential = -1;
    const calls = [];
    for (let off = 0; off < data.length; off += this.wsize) {
      const piece = data.subarray(off, Math.min(off + this.wsize, data.length));
      calls.push(this.withFh(opts.signal, (fh) => this.client.write(fh, position + off, piece, StableHow.UNSTABLE, opts.signal)));
    }
    const results = await Promise.all(calls);
    this.dirty = true;
    let n = 0;
    for (const r of results) n += r.count;
    return n;
  }

  async truncate(size: number, opts: CallOpts): Promise<void> {
    await this.setattr({ size }, opts);
  }

  /**
   * GETATTR of the file's own handle (FileHandle.getattr): a file unlinked while open too,
   * whose hidden name is not counted among its links (it has 0 once its last name the user
   * knew is gone, as fstat of a file unlinked while open says on a local disk).
   */
  async getattr(opts: CallOpts): Promise<Attr> {
    return this.asSeen(await this.withFh(opts.signal, (fh) => this.client.getattr(fh, opts.signal)));
  }

  /** `a` without the hidden name's link, while the file has one (see getattr). */
  private asSeen<A extends Attr | undefined>(a: A): A {
    return a && this.hidden?.() && a.nlink > 0 ? { ...a, nlink: a.nlink - 1 } : a;
  }

  /** SETATTR of the file's own handle (FileHandle.setattr). */
  async setattr(attr: SetAttr, opts: CallOpts): Promise<Attr | undefined> {
    if (attr.size !== undefined) this.dropAll();
    return this.asSeen(await this.withFh(opts.signal, (fh) => this.client.setattr(fh, attr, opts.signal)));
  }

  async flush(opts: CallOpts): Promise<void> {
    if (!this.dirty) return;
    await this.withFh(opts.signal, (fh) => this.client.commit(fh, opts.signal));
    this.dirty = false;
  }

  async close(): Promise<void> {
    this.dropAll();
    this.aheadAbort.abort(new Error('file handle closed'));
    try {
      await this.flush({ signal: AbortSignal.timeout(60_000) });
    } finally {
      await this.onClose?.();
    }
  }
}

/** True when the server said a handle is stale or not its own (RFC 1813 §2.6). */
export function isStale(err: unknown): boolean {
  const status = (err as { status?: number } | null)?.status;
  return status === 70 || status === 10001;
}
