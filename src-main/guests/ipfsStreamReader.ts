import { FsError, toFsError } from '../vfs/FsError.ts';
import type { CallOpts } from '../vfs/types.ts';

// One open file's sequential reader (PERF.md "Sequential reads must stream"): a single
// streaming `cat` from the read offset, pumped ahead of the reader into a window of
// chunks, from which each 128 KiB FUSE read (several in flight, in any order) is
// served without another round trip. Reads that fall outside the window return
// `undefined` and the caller serves them another way (ranged reads).

/** Opens a byte stream of the file from `offset` to its end. */
export type OpenStream = (offset: number, signal: AbortSignal) => AsyncIterable<Uint8Array>;

/** Tuning of a StreamReader. */
export interface StreamReaderOptions {
  /** Bytes pumped ahead of the furthest read (default 8 MiB). */
  readAhead?: number;
  /** Bytes kept behind the furthest read, for reads that arrive out of order (default 2 MiB). */
  keepBehind?: number;
}

interface Waiter {
  end: number;
  wake: () => void;
}

/** The streaming window of one handle. Owner: the file handle that created it. */
export class StreamReader {
  private readonly readAhead: number;
  private readonly keepBehind: number;
  /** Buffered chunks, contiguous, starting at `start`. */
  private chunks: Uint8Array[] = [];
  private start = 0;
  private end = 0;
  /** The furthest byte any read asked for; the pump stays `readAhead` beyond it. */
  private want = 0;
  private iter: AsyncIterator<Uint8Array> | undefined;
  private ctrl: AbortController | undefined;
  private pumping = false;
  private failure: FsError | undefined;
  private waiters: Waiter[] = [];
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly open: OpenStream,
    opts: StreamReaderOptions = {},
  ) {
    this.readAhead = opts.readAhead ?? 8 * 1024 * 1024;
    this.keepBehind = opts.keepBehind ?? 2 * 1024 * 1024;
  }

  /** True when a stream runs and `pos` is inside or just ahead of its window. */
  covers(pos: number): boolean {
    return this.iter !== undefined && pos >= this.start && pos <= this.end + this.readAhead;
  }

  /** Starts (or restarts) the stream at `pos`, dropping the old window. */
  restart(pos: number): void {
    this.stop();
    this.failure = undefined;
    this.chunks = [];
    this.start = this.end = this.want = pos;
    this.ctrl = new AbortController();
    this.iter = this.open(pos, this.ctrl.signal)[Symbol.asyncIterator]();
  }

  /**
   * Reads [pos, pos+len) from the window (len already clipped to the file size), or
   * returns undefined when the window cannot serve it.
   */
  async read(pos: number, len: number, opts: CallOpts): Promise<Uint8Array | undefined> {
    // Checked again after the await: another reader's trim() may run between ready()
    // settling and this line, and a range no longer held must not be sliced.
    if (!(await this.ready(pos, pos + len, opts)) || !this.holds(pos, pos + len)) return undefined;
    const out = this.slice(pos, pos + len);
    this.trim();
    return out;
  }

  /**
   * Like read, but copies straight into `into` (its length is the request, already
   * clipped): no buffer allocated per request (PERF.md: fresh buffers cost page faults).
   * Returns the bytes copied, or undefined when the window cannot serve it.
   */
  async readInto(into: Uint8Array, pos: number, opts: CallOpts): Promise<number | undefined> {
    if (!(await this.ready(pos, pos + into.length, opts)) || !this.holds(pos, pos + into.length)) return undefined;
    const n = this.copyOut(into, pos, pos + into.length);
    this.trim();
    return n;
  }

  /** Waits until [pos, endPos) is buffered; false when the window cannot serve it. */
  private async ready(pos: number, endPos: number, opts: CallOpts): Promise<boolean> {
    if (!this.covers(pos)) return false;
    if (endPos > this.want) this.want = endPos;
    // keep the stream flowing readAhead beyond the reader, not only when it runs dry
    this.pump();
    if (this.end < endPos) await this.waitFor(endPos, opts);
    // the window moved (trimmed, restarted or stopped) while we waited: not ours to serve
    return this.holds(pos, endPos);
  }

  /** True when the window holds [pos, endPos) (clipped to the file) right now. */
  private holds(pos: number, endPos: number): boolean {
    return pos >= this.start && this.end >= Math.min(endPos, this.size);
  }

  private waitFor(endPos: number, opts: CallOpts): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): boolean => {
        if (this.failure) {
          reject(this.failure);
          return true;
        }
        if (this.end >= endPos || this.end >= this.size || !this.iter) {
          resolve();
          return true;
        }
        return false;
      };
      if (check()) return;
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        // A read that waited its whole deadline means the stream is stuck: drop it so
        // the next read starts a fresh one (the node may be back by then).
        this.stop();
        reject(new FsError('Timeout', `read at ${endPos - 1}: ${opts.signal.reason instanceof Error ? opts.signal.reason.message : 'timed out'}`));
      };
      const waiter: Waiter = {
        end: endPos,
        wake: () => {
          if (check()) {
            opts.signal.removeEventListener('abort', onAbort);
            this.waiters = this.waiters.filter((w) => w !== waiter);
          }
        },
      };
      if (opts.signal.aborted) {
        onAbort();
        return;
      }
      opts.signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private wakeAll(): void {
    for (const w of [...this.waiters]) w.wake();
  }

  private pump(): void {
    if (this.pumping || !this.iter) return;
    this.pumping = true;
    const iter = this.iter;
    void (async () => {
      try {
        while (this.iter === iter && this.end < this.size && this.end < this.want + this.readAhead) {
          const { value, done } = await iter.next();
          if (this.iter !== iter) return;
          if (done) {
            if (this.end < this.size) throw new FsError('IO', `the node ended the stream at byte ${this.end} of ${this.size}`);
            break;
          }
          if (value.length === 0) continue;
          this.chunks.push(value);
          this.end += value.length;
          this.wakeAll();
        }
      } catch (err) {
        if (this.iter !== iter || this.closed) return;
        this.failure = toFsError(err);
        this.iter = undefined;
        this.ctrl?.abort();
        this.ctrl = undefined;
      } finally {
        if (this.iter === iter || this.iter === undefined) this.pumping = false;
        this.wakeAll();
      }
    })();
  }

  private slice(pos: number, endPos: number): Uint8Array {
    const stop = Math.min(endPos, this.end);
    if (stop <= pos) return new Uint8Array(0);
    let off = this.start;
    let i = 0;
    while (i < this.chunks.length && off + this.chunks[i]!.length <= pos) {
      off += this.chunks[i]!.length;
      i++;
    }
    const first = this.chunks[i]!;
    if (stop - off <= first.length) return first.subarray(pos - off, stop - off);
    const out = new Uint8Array(stop - pos);
    let written = 0;
    for (; i < this.chunks.length && written < out.length; i++) {
      const c = this.chunks[i]!;
      const from = Math.max(pos - off, 0);
      const n = Math.min(c.length - from, out.length - written);
      out.set(c.subarray(from, from + n), written);
      written += n;
      off += c.length;
    }
    return out;
  }

  /** Copies the buffered bytes of [pos, endPos) into `into`; returns how many. */
  private copyOut(into: Uint8Array, pos: number, endPos: number): number {
    const stop = Math.min(endPos, this.end);
    if (stop <= pos) return 0;
    let off = this.start;
    let i = 0;
    while (i < this.chunks.length && off + this.chunks[i]!.length <= pos) {
      off += this.chunks[i]!.length;
      i++;
    }
    let written = 0;
    const want = stop - pos;
    for (; i < this.chunks.length && written < want; i++) {
      const c = this.chunks[i]!;
      const from = Math.max(pos - off, 0);
      const n = Math.min(c.length - from, want - written);
      into.set(n === c.length ? c : c.subarray(from, from + n), written);
      written += n;
      off += c.length;
    }
    return written;
  }

  /** Drops chunks that lie wholly `keepBehind` before the furthest read. */
  private trim(): void {
    const keepFrom = this.want - this.keepBehind;
    while (this.chunks.length > 1 && this.start + this.chunks[0]!.length <= keepFrom) {
      this.start += this.chunks.shift()!.length;
    }
  }

  private stop(): void {
    this.iter = undefined;
    this.pumping = false;
    this.ctrl?.abort();
    this.ctrl = undefined;
  }

  /** Stops the stream; pending reads fail with Closed. */
  close(): void {
    this.closed = true;
    this.stop();
    this.failure = new FsError('Closed', 'the file was closed');
    this.wakeAll();
  }
}
