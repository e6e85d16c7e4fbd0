import { FsError } from '../vfs/FsError.ts';
import type { CallOpts, FileHandle } from '../vfs/types.ts';
import type { BlockCache, Leaf } from './ipfsBlockCache.ts';

// An open IPFS file, read a block at a time through the guest's BlockCache. A read inside
// one block is answered with a view of it (no copy: the host copies it once, into the
// kernel's buffer), so the handle has no readInto. A reader that moves forward (FUSE's 128
// KiB reads, several in flight and slightly out of order; an NFS server's 4 MiB chunks)
// gets the blocks ahead of it fetched while it reads; a random reader gets only the leaf
// each read needs.

/** Bytes fetched ahead of a sequential reader. */
export const READ_AHEAD = 8 * 1024 * 1024;
/** How far a read may start from where the last one ended and still count as sequential. */
const SEQUENTIAL_SLACK = 1024 * 1024;

/** A read-only handle on immutable content. */
export class IpfsFileHandle implements FileHandle {
  /** Where the last read ended. */
  private lastEnd = 0;
  private closed = false;

  constructor(
    private readonly cid: string,
    private readonly size: number,
    private readonly blocks: BlockCache,
    private readonly onClose: () => void = () => {},
    private readonly readAhead = READ_AHEAD,
  ) {}

  async read(position: number, length: number, opts: CallOpts): Promise<Uint8Array> {
    if (this.closed) throw new FsError('Closed', `read ${this.cid}: the file was closed`);
    if (!Number.isSafeInteger(position) || position < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new FsError('InvalidItem', `read ${this.cid}: bad position ${position} or length ${length}`);
    }
    if (position >= this.size || length === 0) return new Uint8Array(0);
    const end = Math.min(position + length, this.size);
    const sequential = Math.abs(position - this.lastEnd) <= SEQUENTIAL_SLACK;
    if (end > this.lastEnd || !sequential) this.lastEnd = end;
    const got = this.blocks.leaf(this.cid, this.size, position, opts);
    const first = got instanceof Promise ? await got : got;
    // after the first leaf, so the root is known and the walk ahead costs no fetch of it
    if (sequential && this.readAhead > 0) this.blocks.prefetch(this.cid, end, end + this.readAhead);
    const off = this.check(first, position);
    if (first.start + first.data.length >= end) return first.data.subarray(off, off + (end - position));
    // spans leaves: one buffer for the whole read
    const out = new Uint8Array(end - position);
    let written = first.data.length - off;
    out.set(off === 0 ? first.data : first.data.subarray(off), 0);
    while (written < out.length) {
      const at = position + written;
      const next = this.blocks.leaf(this.cid, this.size, at, opts);
      const leaf = next instanceof Promise ? await next : next;
      const o = this.check(leaf, at);
      const n = Math.min(leaf.data.length - o, out.length - written);
      out.set(leaf.data.subarray(o, o + n), written);
      written += n;
    }
    return out;
  }

  /** The offset of `pos` in `leaf`; IO when the DAG did not hold it (a malformed file). */
  private check(leaf: Leaf, pos: number): number {
    const off = pos - leaf.start;
    if (off < 0 || off >= leaf.data.length) throw new FsError('IO', `read ${this.cid}: malformed file: no block holds byte ${pos} of ${this.size}`);
    return off;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}
