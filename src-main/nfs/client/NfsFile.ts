import type { CallOpts, FileHandle } from '../../vfs/types.ts';
import { StableHow } from '../nfs3/constants.ts';
import type { NfsClient } from './NfsClient.ts';

// An open NFS file. NFSv3 is stateless, so "open" is just a handle; what this adds is
// throughput: large reads and writes are split into rsize/wsize calls that all go out
// at once, and sequential reads keep the next chunks already in flight (read-ahead).

/** Chunks fetched ahead of a sequential reader. */
const READ_AHEAD = 4;

/** Reopens the file's handle after the server called it stale. */
export type Reopen = (signal: AbortSignal) => Promise<Buffer>;

/** A FileHandle over NFS READ/WRITE/COMMIT/SETATTR. */
export class NfsFile implements FileHandle {
  private readonly ahead = new Map<number, Promise<Buffer>>();
  private nextSequential = -1;
  private dirty = false;

  constructor(
    private readonly client: NfsClient,
    private fh: Buffer,
    private readonly reopen: Reopen,
    private readonly rsize: number,
    private readonly wsize: number,
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

  private chunk(index: number, signal: AbortSignal): Promise<Buffer> {
    let p = this.ahead.get(index);
    if (!p) {
      p = this.withFh(signal, (fh) => this.client.read(fh, index * this.rsize, this.rsize, signal)).then((r) => r.data);
      p.catch(() => this.ahead.delete(index));
      this.ahead.set(index, p);
    }
    return p;
  }

  async read(position: number, length: number, opts: CallOpts): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    const first = Math.floor(position / this.rsize);
    const last = Math.floor((position + length - 1) / this.rsize);
    const sequential = position === this.nextSequential;
    // Read-ahead chunks run detached from this call's signal: they outlive it by design.
    const aheadSignal = AbortSignal.timeout(60_000);
    const parts = [];
    for (let i = first; i <= last; i++) parts.push(this.chunk(i, sequential || i > first ? aheadSignal : opts.signal));
    if (sequential) for (let i = last + 1; i <= last + READ_AHEAD; i++) void this.chunk(i, aheadSignal).catch(() => {});
    const bufs = await Promise.all(parts);
    for (const k of this.ahead.keys()) if (k < first || k > last + READ_AHEAD) this.ahead.delete(k);
    this.nextSequential = position + length;
    const out: Buffer[] = [];
    let need = length;
    for (let i = 0; i < bufs.length && need > 0; i++) {
      const b = bufs[i]!;
      const from = i === 0 ? position - first * this.rsize : 0;
      const piece = b.subarray(from, from + need);
      out.push(piece);
      need -= piece.length;
      if (b.length < this.rsize) break; // end of file
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  async write(position: number, data: Uint8Array, opts: CallOpts): Promise<number> {
    this.ahead.clear();
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
    this.ahead.clear();
    await this.withFh(opts.signal, (fh) => this.client.setattr(fh, { size }, opts.signal));
  }

  async flush(opts: CallOpts): Promise<void> {
    if (!this.dirty) return;
    await this.withFh(opts.signal, (fh) => this.client.commit(fh, opts.signal));
    this.dirty = false;
  }

  async close(): Promise<void> {
    this.ahead.clear();
    await this.flush({ signal: AbortSignal.timeout(60_000) });
  }
}

/** True when the server said a handle is stale or not its own (RFC 1813 §2.6). */
export function isStale(err: unknown): boolean {
  const status = (err as { status?: number } | null)?.status;
  return status === 70 || status === 10001;
}
