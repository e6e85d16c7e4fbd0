import type { FileHandle, Vfs } from '../../vfs/types.ts';
import { BufferPool } from '../rpc/BufferPool.ts';

/** Bytes read for a READ; `release` (when set) returns a pooled buffer once the reply is sent. */
export interface ReadResult {
  data: Uint8Array;
  release?: () => void;
}

// NFSv3 has no open/close (RFC 1813 §1.2: stateless), but guests read and write
// through handles. This cache keeps one guest handle per file across READ/WRITE calls
// and closes it after a short idle time, so a sequential read opens the file once.

/** One range read ahead of a sequential reader. */
interface Ahead {
  offset: number;
  count: number;
  data: Promise<ReadResult>;
}

/** Ranges kept in flight ahead of a sequential reader (absorbs threadpool and scheduling delays). */
const READ_AHEAD = 3;

interface Entry {
  handle: Promise<FileHandle>;
  /** Signal of read-aheads (they outlive the READ that started them); aborted on eviction. */
  aheadAbort: AbortController;
  /** The next sequential READs, fetched while the client handles the current one; in offset order. */
  ahead: Ahead[];
  /** Where the last READ ended: a READ starting here is sequential. */
  lastEnd: number;
  write: boolean;
  refs: number;
  lastUsed: number;
  evicted: boolean;
}

/** Idle time after which a handle is closed. */
const IDLE_MS = 5_000;
/** Handles kept open at once. */
const MAX_OPEN = 128;

/** Open guest handles by path; owned by one NFS server. */
export class OpenFileCache {
  private readonly entries = new Map<string, Entry>();
  private readonly timer: NodeJS.Timeout;
  private readonly pool: BufferPool;

  constructor(
    private readonly vfs: Vfs,
    maxIo: number,
  ) {
    this.pool = new BufferPool(maxIo);
    this.timer = setInterval(() => this.sweep(Date.now() - IDLE_MS), 1_000);
    this.timer.unref();
  }

  /** Runs `fn` with an open handle for `path` (a writable one when `write`). */
  async use<T>(path: string, write: boolean, signal: AbortSignal, fn: (h: FileHandle) => Promise<T>): Promise<T> {
    let e = this.entries.get(path);
    if (!e || (write && !e.write)) {
      if (e) this.evict(path, e);
      const entry: Entry = { handle: this.vfs.open(path, { write }, { signal }), write, refs: 0, lastUsed: Date.now(), evicted: false, lastEnd: -1, ahead: [], aheadAbort: new AbortController() };
      this.entries.set(path, entry);
      // A failed open must not stay cached.
      entry.handle.catch(() => {
        if (this.entries.get(path) === entry) this.entries.delete(path);
      });
      e = entry;
      if (this.entries.size > MAX_OPEN) this.sweep(Infinity, MAX_OPEN);
    }
    e.refs++;
    if (write) dropAhead(e.ahead.splice(0));
    try {
      return await fn(await e.handle);
    } finally {
      e.refs--;
      e.lastUsed = Date.now();
      if (e.evicted && e.refs === 0) void this.closeEntry(e);
    }
  }

  /**
   * Reads for READ (RFC 1813 §3.3.6). Clients such as libnfs's nfs-cp keep one READ in
   * flight, so the server overlaps: when a READ continues the previous one, the next
   * range is read from the guest while this reply travels, and is usually ready when
   * the client asks for it. READ_AHEAD ranges per file bound the memory used.
   */
  read(path: string, offset: number, count: number, signal: AbortSignal): Promise<ReadResult> {
    return this.use(path, false, signal, async (h) => {
      const e = this.entries.get(path);
      const queue = e?.ahead ?? [];
      const i = queue.findIndex((a) => a.offset === offset && a.count >= count);
      // Ranges before the one asked for will not be asked for again; later ones stay.
      const dropped = i < 0 ? queue.splice(0) : queue.splice(0, i + 1);
      const hit = i < 0 ? undefined : dropped.pop();
      dropAhead(dropped);
      let result: ReadResult;
      if (hit) {
        result = await hit.data.catch(() => this.readOnce(h, offset, count, signal));
        if (result.data.length > count) result = { ...result, data: result.data.subarray(0, count) };
      } else result = await this.readOnce(h, offset, count, signal);
      if (e && !e.write && !e.evicted && (hit || offset === e.lastEnd) && result.data.length === count) {
        let next = queue.length ? queue[queue.length - 1]!.offset + queue[queue.length - 1]!.count : offset + count;
        while (queue.length < READ_AHEAD) {
          // The guest wrapper bounds each read with its own deadline; no timer per read-ahead here.
          const p = this.readOnce(h, next, count, e.aheadAbort.signal);
          p.catch(() => {}); // a failed read-ahead is retried by the READ that needs it
          queue.push({ offset: next, count, data: p });
          next += count;
        }
      }
      if (e) e.lastEnd = offset + result.data.length;
      return result;
    });
  }

  /** One guest read, into a pooled buffer when the guest can fill one. */
  private async readOnce(h: FileHandle, offset: number, count: number, signal: AbortSignal): Promise<ReadResult> {
    if (!h.readInto || count > this.pool.size) return { data: await h.read(offset, count, { signal }) };
    const buf = this.pool.take();
    // On failure the buffer is not returned: a timed-out guest read may still write into it.
    const n = await h.readInto(buf.subarray(0, count), offset, { signal });
    let released = false;
    return {
      data: buf.subarray(0, n),
      release: () => {
        if (released) return;
        released = true;
        this.pool.give(buf);
      },
    };
  }

  /** The open writable handle of `path`, if any (COMMIT flushes it). */
  writer(path: string): Promise<FileHandle> | undefined {
    const e = this.entries.get(path);
    return e?.write ? e.handle : undefined;
  }

  /** Closes handles of `path` and everything under it (after remove or rename). */
  invalidate(path: string): void {
    for (const [p, e] of this.entries) if (p === path || p.startsWith(path + '/')) this.evict(p, e);
  }

  /** Closes every handle; the cache stays usable. */
  async closeAll(): Promise<void> {
    const all = [...this.entries];
    for (const [p, e] of all) this.evict(p, e);
    clearInterval(this.timer);
    await Promise.all(all.map(([, e]) => e.handle.then((h) => h.close()).catch(() => {})));
  }

  private sweep(before: number, keep = 0): void {
    const victims = [...this.entries].filter(([, e]) => e.refs === 0 && e.lastUsed < before);
    victims.sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    const n = keep ? Math.max(0, this.entries.size - keep) : victims.length;
    for (const [p, e] of victims.slice(0, n)) this.evict(p, e);
  }

  private evict(path: string, e: Entry): void {
    if (this.entries.get(path) === e) this.entries.delete(path);
    e.evicted = true;
    dropAhead(e.ahead.splice(0));
    e.aheadAbort.abort(new Error('file handle closed'));
    if (e.refs === 0) void this.closeEntry(e);
  }

  private async closeEntry(e: Entry): Promise<void> {
    try {
      const h = await e.handle;
      await h.flush?.({ signal: AbortSignal.timeout(30_000) });
      await h.close();
    } catch {
      // the handle failed to open or the guest is gone: nothing left to release
    }
  }
}

/** Forgets read-aheads, returning their buffers to the pool once their reads settle. */
function dropAhead(ranges: Ahead[]): void {
  for (const a of ranges) a.data.then((r) => r.release?.(), () => {});
}
