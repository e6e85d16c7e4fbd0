import { FsError } from '../vfs/FsError.ts';
import type { CallOpts, FileHandle } from '../vfs/types.ts';
import { CHUNK_SIZE, type ChunkCache } from './ipfsChunkCache.ts';
import { type OpenStream, StreamReader } from './ipfsStreamReader.ts';

// An open IPFS file. Sequential readers (a read at 0, or right where the last one
// ended) are served by one streaming `cat` with read-ahead; everything else, and
// files of one chunk, by the guest's shared chunk cache.

/** A read-only handle on immutable content. */
export class IpfsFileHandle implements FileHandle {
  private readonly stream: StreamReader | undefined;
  /** Where the last read ended; a read starting here is sequential. */
  private lastEnd = -1;
  private closed = false;

  constructor(
    private readonly cid: string,
    private readonly size: number,
    private readonly cache: ChunkCache,
    openStream: OpenStream,
    private readonly onClose: () => void = () => {},
  ) {
    this.stream = size > CHUNK_SIZE ? new StreamReader(size, openStream) : undefined;
  }

  async read(position: number, length: number, opts: CallOpts): Promise<Uint8Array> {
    if (this.closed) throw new FsError('Closed', `read ${this.cid}: the file was closed`);
    if (!Number.isSafeInteger(position) || position < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new FsError('InvalidItem', `read ${this.cid}: bad position ${position} or length ${length}`);
    }
    if (position >= this.size || length === 0) return new Uint8Array(0);
    const len = Math.min(length, this.size - position);
    const s = this.stream;
    if (s) {
      if (!s.covers(position) && (position === 0 || position === this.lastEnd)) s.restart(position);
      this.lastEnd = position + len;
      const got = await s.read(position, len, opts);
      if (got) return got;
    }
    return await this.cache.read(this.cid, this.size, position, len, opts);
  }

  async readInto(buffer: Uint8Array, position: number, opts: CallOpts): Promise<number> {
    if (this.closed) throw new FsError('Closed', `read ${this.cid}: the file was closed`);
    if (!Number.isSafeInteger(position) || position < 0) throw new FsError('InvalidItem', `read ${this.cid}: bad position ${position}`);
    if (position >= this.size || buffer.length === 0) return 0;
    const len = Math.min(buffer.length, this.size - position);
    const s = this.stream;
    if (s) {
      if (!s.covers(position) && (position === 0 || position === this.lastEnd)) s.restart(position);
      this.lastEnd = position + len;
      const n = await s.readInto(len === buffer.length ? buffer : buffer.subarray(0, len), position, opts);
      if (n !== undefined) return n;
    }
    const data = await this.cache.read(this.cid, this.size, position, len, opts);
    buffer.set(data);
    return data.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream?.close();
    this.onClose();
  }
}
