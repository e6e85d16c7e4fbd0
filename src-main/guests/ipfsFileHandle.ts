import { FsError } from '../vfs/FsError.ts';
import type { Attr, CallOpts, FileHandle } from '../vfs/types.ts';
import type { BlockCache, Leaf } from './ipfsBlockCache.ts';

// An open IPFS file, read a block at a time through the guest's BlockCache. Bytes are
// copied out of the cached blocks (whose memory the cache reuses) straight into the
// host's buffer (readInto: the FUSE hosts pool theirs) or into a new one (read). A reader
// that moves forward (FUSE's 128 KiB reads, several in flight and slightly out of order;
// an NFS server's 4 MiB chunks) gets the blocks ahead of it fetched while it reads; a
// random reader gets only the leaf each read needs. The blocks fetched ahead are this
// handle's: when it closes or jumps out of them, those nobody else needs are aborted.

/** Bytes fetched ahead of a sequential reader. */
export const READ_AHEAD = 8 * 1024 * 1024;
/** How far a read may start from where the last one ended and still count as sequential. */
const SEQUENTIAL_SLACK = 1024 * 1024;

/** A read-only handle on immutable content. */
export class IpfsFileHandle implements FileHandle {
  /** Where the last read ended. */
  private lastEnd = 0;
  private closed = false;
  /**
   * Optional: the file's attributes from what the handle holds (FileHandle.getattr), set by
   * a guest whose names can go while the file is open (mfs): content by CID never changes.
   */
  getattr?: (opts: CallOpts) => Promise<Attr>;

  constructor(
    private readonly cid: string,
    private readonly size: number,
    private readonly blocks: BlockCache,
    private readonly onClose: () => void = () => {},
    private readonly readAhead = READ_AHEAD,
  ) {}

  async read(position: number, length: number, opts: CallOpts): Promise<Uint8Array> {
    if (!Number.isSafeInteger(length) || length < 0) throw new FsError('InvalidItem', `read ${this.cid}: bad length ${length}`);
    this.checkPosition(position);
    if (position >= this.size || length === 0) return new Uint8Array(0);
    const out = Buffer.allocUnsafe(Math.min(length, this.size - position));
    await this.fill(out, position, opts);
    return out;
  }

  async readInto(buffer: Uint8Array, position: number, opts: CallOpts): Promise<number> {
    this.checkPosition(position);
    if (position >= this.size || buffer.length === 0) return 0;
    const n = Math.min(buffer.length, this.size - position);
    await this.fill(n === buffer.length ? buffer : buffer.subarray(0, n), position, opts);
    return n;
  }

  private checkPosition(position: number): void {
    if (this.closed) throw new FsError('Closed', `read ${this.cid}: the file was closed`);
    if (!Number.isSafeInteger(position) || position < 0) throw new FsError('InvalidItem', `read ${this.cid}: bad position ${position}`);
  }

  /**
   * Copies the file's bytes at `position` into all of `into` (already clipped to the file).
   * Each leaf is copied as soon as it is here: the cache may reuse its memory once the
   * caller awaits again (ipfsBlockCache.ts).
   */
  private async fill(into: Uint8Array, position: number, opts: CallOpts): Promise<void> {
    const end = position + into.length;
    const sequential = Math.abs(position - this.lastEnd) <= SEQUENTIAL_SLACK;
    // a jump out of the window fetched ahead drops it; one into it (parallel reads arriving
    // out of order, an NFS client's several 4 MiB reads) still wants it
    if (!sequential && (position > this.lastEnd + this.readAhead || end < this.lastEnd - this.readAhead)) this.blocks.release(this);
    if (end > this.lastEnd || !sequential) this.lastEnd = end;
    let written = 0;
    while (written < into.length) {
      const at = position + written;
      const got = this.blocks.leaf(this.cid, this.size, at, opts);
      const leaf = got instanceof Promise ? await got : got;
      const off = this.check(leaf, at);
      const n = Math.min(leaf.data.length - off, into.length - written);
      into.set(off === 0 && n === leaf.data.length ? leaf.data : leaf.data.subarray(off, off + n), written);
      written += n;
      // after the first leaf, so the root is known and the walk ahead costs no fetch of it;
      // from the rest of this read on, so its own leaves are asked for before those ahead
      // (the node client serves them in order: a read waited behind the whole 8 MiB);
      // only while this read is still where the reader is (a jump during the wait released
      // this place's prefetches, and a late read here must not ask for them again)
      if (written === n && sequential && this.readAhead > 0 && Math.abs(end - this.lastEnd) <= SEQUENTIAL_SLACK) {
        this.blocks.prefetch(this.cid, position + written, end + this.readAhead, this);
      }
    }
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
    this.blocks.release(this);
    this.onClose();
  }
}
