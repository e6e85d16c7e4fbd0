import { FsError } from '../vfs/FsError.ts';
import type { CallOpts, FileHandle } from '../vfs/types.ts';
import { fromNode } from './localErrors.ts';

// An open regular file of the local guest. FUSE asks for 128 KiB at a time, and each
// request that reaches the disk costs a hop to libuv's threadpool and back, which is most
// of the cost on a busy machine. Sequential readers therefore get 1 MiB chunks read ahead
// (one hop per 8 requests, the next chunks already on their way); random reads go straight
// to pread. Chunk buffers are reused while only readInto copies out of them: a fresh
// 1 MiB buffer per chunk costs more in page faults than the copy.

/** What a LocalFile needs of an open file (a fs/promises FileHandle, or localAtPaths' raw descriptor). */
export interface FileIo {
  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(data: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  truncate(len: number): Promise<void>;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

/** Bytes per read-ahead chunk. */
const CHUNK = 1 << 20;
/** Chunks read ahead of the one being read. */
const AHEAD = 2;

/** One read-ahead chunk: its bytes, and whether read() handed out a view of them. */
interface Chunk {
  buf: Buffer;
  /** Bytes valid in buf (fewer than CHUNK only at end of file). */
  n: number;
  /** A view was returned by read(): the buffer may live on with the caller, never reuse it. */
  lent: boolean;
}

/** One open local file. */
export class LocalFile implements FileHandle {
  private closed = false;
  /** Read-ahead chunks by index; owned by this handle, dropped on any write. */
  private readonly chunks = new Map<number, Promise<Chunk>>();
  /** Chunk buffers free for reuse (owned by this handle). */
  private readonly spare: Buffer[] = [];
  /** Where the last read ended: a read starting near it is sequential. */
  private lastEnd = -1;

  constructor(
    private readonly fh: FileIo,
    private readonly path: string,
    private readonly canWrite: boolean,
  ) {}

  private live(): void {
    if (this.closed) throw new FsError('Closed', `${this.path}: file handle is closed`);
  }

  /** Fills `buf` from `position` with pread; returns the bytes read (fewer only at end of file). */
  private async preadInto(buf: Uint8Array, position: number): Promise<number> {
    let got = 0;
    try {
      while (got < buf.length) {
        const { bytesRead } = await this.fh.read(buf, got, buf.length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (err) {
      throw fromNode(err, this.path);
    }
    return got;
  }

  private chunk(i: number): Promise<Chunk> {
    let c = this.chunks.get(i);
    if (!c) {
      const buf = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK);
      c = this.preadInto(buf, i * CHUNK).then((n) => ({ buf, n, lent: false }));
      // A failed chunk is not kept: the next read tries the disk again.
      c.catch(() => this.chunks.delete(i));
      this.chunks.set(i, c);
    }
    return c;
  }

  /** Drops chunks outside the reader's window; their buffers are reused once settled. */
  private evict(first: number, last: number): void {
    for (const [k, c] of this.chunks) {
      // Two behind: the kernel's reads arrive slightly out of order.
      if (k >= first - 2 && k <= last + AHEAD) continue;
      this.chunks.delete(k);
      // Settled callbacks run after every read already waiting on this chunk has copied.
      c.then((ch) => {
        if (!ch.lent && !this.closed && this.spare.length < AHEAD + 4) this.spare.push(ch.buf);
      }, () => {});
    }
  }

  /** Whether a read at `position` continues the last one (and updates the tracking). */
  private sequential(position: number, length: number): boolean {
    const seq = (this.lastEnd >= 0 && Math.abs(position - this.lastEnd) <= 2 * CHUNK) || position === 0;
    this.lastEnd = position + length;
    return seq && length <= CHUNK;
  }

  /**
   * Serves [position, position+length) from chunks, calling `take` with each piece right
   * after its chunk arrived (a chunk may be reused once the next one is awaited).
   */
  private async fromChunks(position: number, length: number, take: (ch: Chunk, from: number, to: number, at: number) => void): Promise<number> {
    const first = Math.floor(position / CHUNK);
    const last = Math.floor((position + length - 1) / CHUNK);
    this.evict(first, last);
    for (let k = 1; k <= AHEAD; k++) void this.chunk(last + k).catch(() => {});
    let done = 0;
    for (let i = first; i <= last; i++) {
      const ch = await this.chunk(i);
      const from = Math.max(position + done - i * CHUNK, 0);
      const to = Math.min(position + length - i * CHUNK, ch.n);
      if (to <= from) break;
      take(ch, from, to, done);
      done += to - from;
      if (ch.n < CHUNK) break;
    }
    return done;
  }

  async read(position: number, length: number, _opts: CallOpts): Promise<Uint8Array> {
    this.live();
    if (!this.sequential(position, length)) {
      const buf = Buffer.allocUnsafe(length);
      const n = await this.preadInto(buf, position);
      return n === length ? buf : buf.subarray(0, n);
    }
    const parts: Buffer[] = [];
    await this.fromChunks(position, length, (ch, from, to) => {
      ch.lent = true;
      parts.push(ch.buf.subarray(from, to));
    });
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  /** Reads into the caller's buffer (FUSE and NFS hosts reuse theirs); sequential reads come from the chunks. */
  async readInto(buffer: Uint8Array, position: number, _opts: CallOpts): Promise<number> {
    this.live();
    // A read of a whole chunk or more (the NFS host's 1 MiB READs) gains nothing from the
    // chunks: pread straight into the caller's buffer saves a copy per read. The caller
    // reads ahead itself.
    if (!this.sequential(position, buffer.length) || (buffer.length >= CHUNK && !this.chunks.has(Math.floor(position / CHUNK)))) {
      return this.preadInto(buffer, position);
    }
    return this.fromChunks(position, buffer.length, (ch, from, to, at) => {
      buffer.set(ch.buf.subarray(from, to), at);
    });
  }

  async write(position: number, data: Uint8Array, _opts: CallOpts): Promise<number> {
    this.live();
    if (!this.canWrite) throw new FsError('ReadOnly', `${this.path}: read-only`);
    this.chunks.clear();
    try {
      const { bytesWritten } = await this.fh.write(data, 0, data.length, position);
      return bytesWritten;
    } catch (err) {
      throw fromNode(err, this.path);
    }
  }

  async truncate(size: number, _opts: CallOpts): Promise<void> {
    this.live();
    if (!this.canWrite) throw new FsError('ReadOnly', `${this.path}: read-only`);
    this.chunks.clear();
    await this.fh.truncate(size).catch((e: unknown) => Promise.reject(fromNode(e, this.path)));
  }

  /** Makes written bytes durable (fsync); reads need nothing. */
  async flush(_opts: CallOpts): Promise<void> {
    this.live();
    if (!this.canWrite) return;
    await this.fh.datasync().catch((e: unknown) => Promise.reject(fromNode(e, this.path)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.chunks.clear();
    this.spare.length = 0;
    await this.fh.close();
  }
}
