import type { Attr, CallOpts, FileHandle, FileHandleNow, Vfs } from '../../vfs/types.ts';
import { Lru } from '../../vfs/cache/Lru.ts';
import { BufferPool } from '../rpc/BufferPool.ts';
import { CHUNK_BYTES, type ChunkBudget, ReadAhead, type ReadResult } from './ReadAhead.ts';

export type { ReadResult } from './ReadAhead.ts';

// NFSv3 has no open/close (RFC 1813 §1.2: stateless), but guests read and write
// through handles. This cache keeps one guest handle per file across READ/WRITE calls
// and closes it after a short idle time, so a sequential read opens the file once.

interface Entry {
  handle: Promise<FileHandle>;
  /** The handle once open (synchronous READ/WRITE use it: procedures/write.ts). */
  ready?: FileHandle;
  /** Signal of read-aheads (they outlive the READ that started them); aborted on eviction. Made with the first read-ahead. */
  aheadAbort?: AbortController;
  /** Chunks read ahead of a sequential reader (ReadAhead.ts); made by the first READ. */
  readAhead?: ReadAhead;
  write: boolean;
  /**
   * Writes made through it (counted): closing flushes only when some came after the last
   * successful flush (a COMMIT). A COMMIT flushes what
   * the client wrote; flushing again at close doubled the fdatasyncs of an untar, and each
   * one stalls the disk's journal for every other call.
   */
  writes: number;
  /** `writes` as it was when the last successful flush started. */
  flushed: number;
  refs: number;
  lastUsed: number;
  evicted: boolean;
}

/** Chunk buffers (CHUNK_BYTES each) all read-aheads of one server may hold at once. */
const MAX_CHUNKS = 24;
/** Free chunk buffers kept for reuse. */
const FREE_CHUNKS = 4;

/** Idle time after which a handle is closed. */
const IDLE_MS = 5_000;
/** Handles kept open at once. */
const MAX_OPEN = 128;

/** Open guest handles by path; owned by one NFS server. */
export class OpenFileCache {
  /** By path, least recently used first (touch() marks one used), so eviction takes from the front. */
  private readonly entries = new Lru<string, Entry>(Infinity);
  private readonly timer: NodeJS.Timeout;
  private readonly pool: BufferPool;
  private readonly chunks: ChunkBudget = { pool: new BufferPool(CHUNK_BYTES, FREE_CHUNKS), live: 0, max: MAX_CHUNKS };

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
    let e = this.entries.peek(path);
    if (!e || (write && !e.write)) {
      if (e) this.evict(path, e);
      const entry: Entry = { handle: this.vfs.open(path, { write }, { signal }), write, writes: 0, flushed: 0, refs: 0, lastUsed: Date.now(), evicted: false };
      this.entries.set(path, entry);
      // A failed open must not stay cached.
      entry.handle.then(
        (h) => (entry.ready = h),
        () => {
          if (this.entries.peek(path) === entry) this.entries.delete(path);
        },
      );
      e = entry;
      if (this.entries.size > MAX_OPEN) this.sweep(Infinity, MAX_OPEN);
    }
    e.refs++;
    if (write) {
      e.writes++;
      e.readAhead?.clear();
    }
    try {
      return await fn(await e.handle);
    } finally {
      e.refs--;
      this.touch(path, e);
      if (e.evicted && e.refs === 0) void this.closeEntry(e);
    }
  }

  /**
   * Reads for READ (RFC 1813 §3.3.6). Clients such as libnfs's nfs-cp keep one READ in
   * flight, so a sequential reader is served from chunks read ahead (ReadAhead.ts) while
   * the client handles the previous reply; anything else is one guest read.
   *
   * `check` (the caller's access check) gets the file's attributes before any bytes are
   * handed out: read afresh before a lone READ, and for a stream, read with each chunk, so
   * a streaming reader costs one getattr per chunk rather than one per READ (at most as
   * old as the chunk's bytes: 1 s).
   */
  async read(path: string, offset: number, count: number, opts: CallOpts, check?: (a: Attr) => void): Promise<ReadResult> {
    this.dropIfGone(path);
    const streaming = this.entries.peek(path)?.readAhead?.follows(offset, count) === true;
    if (check && !streaming) check(await this.vfs.getattr(path, opts));
    return this.use(path, false, opts.signal, async (h) => {
      const e = this.entries.peek(path);
      // A file with a descriptor here is sent with sendfile from now on (fileNow): no read-ahead.
      if (e && !e.write && !e.evicted && count <= CHUNK_BYTES && !h.now?.fd) {
        e.readAhead ??= new ReadAhead(
          (buf, at, s) => readChunk(h, buf, at, s),
          this.chunks,
          (e.aheadAbort ??= new AbortController()).signal,
          // A guest that answers getattr inline does so: a threadpool lstat per chunk cost a hop and its wake-ups.
          check ? (s) => this.vfs.now?.getattr(path) ?? this.vfs.getattr(path, { signal: s }) : undefined,
        );
        const got = await e.readAhead.take(offset, count);
        if (got) {
          if (check && streaming) {
            try {
              check(got.attr ?? (await this.vfs.getattr(path, opts)));
            } catch (err) {
              got.release?.();
              throw err;
            }
          }
          return got;
        }
      }
      if (check && streaming) check(await this.vfs.getattr(path, opts));
      return this.readOnce(h, offset, count, opts.signal);
    });
  }

  /**
   * A sequential READ's bytes when they are in memory already (ReadAhead.takeNow), with the
   * read-ahead to prefetch() once the reply is written; undefined when read() must serve it.
   * The caller checks access against the result's attributes, as read() does for a stream.
   */
  readNow(path: string, offset: number, count: number): { got: ReadResult; ahead: ReadAhead } | undefined {
    const e = this.entries.peek(path);
    if (!e || e.write || e.evicted || !e.readAhead || count > CHUNK_BYTES) return undefined;
    const got = e.readAhead.takeNow(offset, count);
    if (!got) return undefined;
    this.touch(path, e);
    return { got, ahead: e.readAhead };
  }

  /**
   * The open handle of `path` when its bytes can be sent from its descriptor (a local
   * file: FileHandleNow.fd) and its attributes read inline, for a READ answered with
   * sendfile (procedures/read.ts); undefined when read() must serve it (not open yet).
   */
  fileNow(path: string): { now: FileHandleNow; fd: number } | undefined {
    const e = this.entries.peek(path);
    const now = e?.ready?.now;
    if (!e || e.evicted || !now?.fd || !now.stat) return undefined;
    let fd: number;
    try {
      fd = now.fd();
    } catch {
      return undefined; // closed under us: read() reopens and says why if it cannot
    }
    this.touch(path, e);
    return { now, fd };
  }

  /**
   * The open handle of `path` when the guest proves it is the file the path names now
   * (FileHandleNow.named: no system call), so its attributes can be read and set by
   * descriptor; undefined otherwise.
   */
  namedNow(path: string): FileHandleNow | undefined {
    const e = this.entries.peek(path);
    const now = e?.ready?.now;
    if (!e || e.evicted || !now?.named?.()) return undefined;
    this.touch(path, e);
    return now;
  }

  /**
   * Closes the open descriptor of `path` when its file is no longer in the folder (fstat
   * says no links: replaced by a rename, as editors save, or removed outside Berth), so the
   * next READ opens whatever the path names now. Only for read-only handles read through
   * their descriptor (fileNow): nothing is lost by closing them.
   */
  dropIfGone(path: string, attr?: Attr): boolean {
    const e = this.entries.peek(path);
    const now = e?.ready?.now;
    if (!e || e.evicted || e.write || !now?.fd || !now.stat) return false;
    let links: number;
    try {
      links = (attr ?? now.stat()).nlink;
    } catch {
      links = 0; // a descriptor that cannot be read is as good as gone
    }
    if (links > 0) return false;
    this.evict(path, e);
    return true;
  }

  /** `count` bytes at `offset` read inline from `now` into a pooled buffer (fewer at end of file). */
  readPooledNow(now: FileHandleNow, offset: number, count: number): ReadResult {
    if (count > this.pool.size) {
      const b = Buffer.allocUnsafe(count);
      return { data: b.subarray(0, now.readInto(b, offset)) };
    }
    const buf = this.pool.take();
    let n: number;
    try {
      n = now.readInto(buf.subarray(0, count), offset);
    } catch (err) {
      this.pool.give(buf);
      throw err;
    }
    return this.pooled(buf, n);
  }

  /**
   * Keeps a handle just opened for writing (a CREATE's) as the writable handle of `path`,
   * so the WRITEs that follow a create need no open of their own.
   */
  adopt(path: string, h: FileHandle): void {
    const old = this.entries.peek(path);
    if (old) this.evict(path, old);
    this.entries.set(path, { handle: Promise.resolve(h), ready: h, write: true, writes: 0, flushed: 0, refs: 0, lastUsed: Date.now(), evicted: false });
    if (this.entries.size > MAX_OPEN) this.sweep(Infinity, MAX_OPEN);
  }

  /**
   * The open writable handle of `path` when it can write synchronously (FileHandleNow);
   * undefined when WRITE must go the async way (no such handle yet, or only a reader).
   */
  writerNow(path: string): FileHandleNow | undefined {
    const e = this.entries.peek(path);
    if (!e || !e.write || e.evicted || !e.ready?.now) return undefined;
    this.touch(path, e);
    e.writes++;
    return e.ready.now;
  }

  /** The first `n` bytes of a pooled buffer as a read's result; release() gives the buffer back once. */
  private pooled(buf: Buffer, n: number): ReadResult {
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

  /** One guest read, into a pooled buffer when the guest can fill one. */
  private async readOnce(h: FileHandle, offset: number, count: number, signal: AbortSignal): Promise<ReadResult> {
    if (!h.readInto || count > this.pool.size) return { data: await h.read(offset, count, { signal }) };
    const buf = this.pool.take();
    // On failure the buffer is not returned: a timed-out guest read may still write into it.
    const n = await h.readInto(buf.subarray(0, count), offset, { signal });
    return this.pooled(buf, n);
  }

  /** Flushes the open writable handle of `path`, if any (COMMIT). */
  async flush(path: string, opts: CallOpts): Promise<void> {
    const e = this.entries.peek(path);
    if (!e?.write) return;
    const upTo = e.writes; // a write landing while the flush runs is not covered by it
    const h = await e.handle;
    await h.flush?.(opts);
    e.flushed = Math.max(e.flushed, upTo);
  }

  /**
   * Closes the handle of the file `path`, if one is open (before REMOVE, or a truncate). A
   * file has nothing under it, so no other entry is looked at: this runs per REMOVE of an
   * `rm -rf`, and walking up to MAX_OPEN entries there cost ~12 µs of the host's ~100 µs per
   * REMOVE, measured right after an untar had filled this cache.
   */
  invalidate(path: string): void {
    const e = this.entries.peek(path);
    if (e) this.evict(path, e);
  }

  /** Closes handles of `path` and everything under it (before a rename of a file or a folder). */
  invalidateTree(path: string): void {
    const n = path.length;
    for (const [p, e] of this.entries.oldestFirst()) if (p.startsWith(path) && (p.length === n || p.charCodeAt(n) === 47)) this.evict(p, e);
  }

  /** Closes every handle; the cache stays usable. */
  async closeAll(): Promise<void> {
    const all = [...this.entries.oldestFirst()];
    for (const [p, e] of all) this.evict(p, e);
    clearInterval(this.timer);
    await Promise.all(all.map(([, e]) => e.handle.then((h) => h.close()).catch(() => {})));
  }

  /** Marks `e` (the entry of `path`) just used: last in the order of use. */
  private touch(path: string, e: Entry): void {
    e.lastUsed = Date.now();
    if (this.entries.peek(path) !== e) return; // evicted meanwhile
    this.entries.get(path);
  }

  /**
   * Closes handles idle since before `before`, least recently used first, or with `keep`
   * as many as it takes to leave `keep`. Entries in use are passed over. The entries are in
   * order of use, so this stops at the first entry used since: no scan of the rest, no
   * sort (a copy, filter and sort of all 128 per CREATE had cost 125 µs of each one).
   */
  private sweep(before: number, keep = 0): void {
    let over = keep ? this.entries.size - keep : Infinity;
    for (const [p, e] of this.entries.oldestFirst()) {
      if (over <= 0 || e.lastUsed >= before) break;
      if (e.refs > 0) continue;
      this.evict(p, e);
      over--;
    }
  }

  private evict(path: string, e: Entry): void {
    if (this.entries.peek(path) === e) this.entries.delete(path);
    e.evicted = true;
    e.readAhead?.clear();
    e.aheadAbort?.abort(new Error('file handle closed'));
    if (e.refs === 0) void this.closeEntry(e);
  }

  private async closeEntry(e: Entry): Promise<void> {
    try {
      const h = await e.handle;
      if (e.writes > e.flushed) await h.flush?.({ signal: AbortSignal.timeout(30_000) });
      await h.close();
    } catch {
      // the handle failed to open or the guest is gone: nothing left to release
    }
  }
}

/**
 * Fills a chunk buffer from the guest: inline when the handle has a synchronous face (the
 * local guest's async readInto blocks on the same pread anyway, and its deadline wrapper
 * cost an AbortController, a timer entry and promise steps per chunk), else straight into
 * it when the guest can.
 */
function readChunk(h: FileHandle, buf: Buffer, at: number, signal: AbortSignal): Promise<number> | number {
  if (h.now) return h.now.readInto(buf, at);
  return readChunkAsync(h, buf, at, signal);
}

async function readChunkAsync(h: FileHandle, buf: Buffer, at: number, signal: AbortSignal): Promise<number> {
  if (h.readInto) return await h.readInto(buf, at, { signal });
  const data = await h.read(at, buf.length, { signal });
  buf.set(data.length > buf.length ? data.subarray(0, buf.length) : data);
  return Math.min(data.length, buf.length);
}
