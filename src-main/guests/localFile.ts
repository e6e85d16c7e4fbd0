import type * as fsp from 'node:fs/promises';
import { FsError } from '../vfs/FsError.ts';
import type { CallOpts, FileHandle } from '../vfs/types.ts';
import { fromNode } from './local.ts';

// An open regular file of the local guest. FUSE asks for 128 KiB at a time, and each
// request that reaches the disk costs a hop to libuv's threadpool and back, which is most
// of the cost on a busy machine. Sequential readers therefore get 1 MiB chunks read ahead
// (one hop per 8 requests, the next chunks already on their way); random reads go straight
// to pread.

/** Bytes per read-ahead chunk. */
const CHUNK = 1 << 20;
/** Chunks read ahead of the one being read. */
const AHEAD = 2;

/** One open local file. */
export class LocalFile implements FileHandle {
  private closed = false;
  /** Read-ahead chunks by index; owned by this handle, dropped on any write. */
  private readonly chunks = new Map<number, Promise<Buffer>>();
  /** Where the last read ended: a read starting near it is sequential. */
  private lastEnd = -1;

  constructor(
    private readonly fh: fsp.FileHandle,
    private readonly path: string,
    private readonly canWrite: boolean,
  ) {}

  private live(): void {
    if (this.closed) throw new FsError('Closed', `${this.path}: file handle is closed`);
  }

  /** Reads up to `length` bytes at `position` with pread (short only at end of file). */
  private async pread(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    try {
      while (got < length) {
        const { bytesRead } = await this.fh.read(buf, got, length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (err) {
      throw fromNode(err, this.path);
    }
    return got === length ? buf : buf.subarray(0, got);
  }

  private chunk(i: number): Promise<Buffer> {
    let c = this.chunks.get(i);
    if (!c) {
      c = this.pread(i * CHUNK, CHUNK);
      // A failed chunk is not kept: the next read tries the disk again.
      c.catch(() => this.chunks.delete(i));
      this.chunks.set(i, c);
    }
    return c;
  }

  async read(position: number, length: number, _opts: CallOpts): Promise<Uint8Array> {
    this.live();
    const sequential = this.lastEnd >= 0 && Math.abs(position - this.lastEnd) <= 2 * CHUNK;
    this.lastEnd = position + length;
    if (!sequential || length > CHUNK) {
      // The first read of a file is read ahead only when it starts at 0 (cat, cp, sha256sum).
      if (position !== 0 || length > CHUNK) return this.pread(position, length);
    }
    const first = Math.floor(position / CHUNK);
    const last = Math.floor((position + length - 1) / CHUNK);
    // Keep two chunks behind (the kernel's reads arrive slightly out of order) and AHEAD ahead.
    for (const k of this.chunks.keys()) if (k < first - 2 || k > last + AHEAD) this.chunks.delete(k);
    const parts: Buffer[] = [];
    for (let i = first; i <= last; i++) parts.push(await this.chunk(i));
    // Start the next chunk now, so it is ready when the reader gets there.
    for (let k = 1; k <= AHEAD; k++) void this.chunk(last + k).catch(() => {});
    const base = first * CHUNK;
    const all = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    return all.subarray(Math.min(position - base, all.length), Math.min(position - base + length, all.length));
  }

  /** Reads into the caller's buffer with pread (the NFS host reuses its READ buffers). */
  async readInto(buffer: Uint8Array, position: number, _opts: CallOpts): Promise<number> {
    this.live();
    let got = 0;
    try {
      while (got < buffer.length) {
        const { bytesRead } = await this.fh.read(buffer, got, buffer.length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (err) {
      throw fromNode(err, this.path);
    }
    return got;
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
    await this.fh.close();
  }
}
