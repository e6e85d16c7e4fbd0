import { open, type FileHandle as NodeFileHandle, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PutItem } from '../ipfs/mfs/MfsBackend.ts';
import { FsError, toFsError } from '../vfs/FsError.ts';
import type { Attr, CallOpts, FileHandle, SetAttr } from '../vfs/types.ts';

// Write-back for one MFS file that is open for writing: every write goes to a local cache
// file (so cp, editors and git run at local speed), and the whole file is put into MFS
// on flush: on close and fsync, and after a short idle time while it stays open. Every
// handle of the path shares one OpenFile, so concurrent writers are serialised by it
// (the js-ipfs peer loses writes to one file otherwise) and readers of the path see the
// latest bytes. The put is one step in MFS (MfsBackend.putFiles), so a crash leaves the
// last flushed version there, never half of a new one. A mode or mtime set while the
// file is dirty or waiting to be put travels with its bytes (one put, no chmod/touch after
// it: tar sets both on every file it writes). The last close hands the file to the
// guest's put queue and returns: the kernel does not wait for a FUSE release, and a
// release waiting for its put held one of libfuse's ten worker threads meanwhile.

/** Flush after this long without writes while the file stays open. */
export const IDLE_FLUSH_MS = 2000;

/**
 * Puts a file into MFS (the guest's put queue): `item` is asked for when its batch starts,
 * so metadata set while it waited goes in with it. Resolves with the CID.
 */
export type PutFile = (path: string, item: () => PutItem | undefined, urgent: boolean) => Promise<string | undefined>;

/** The mode MFS shows for a file that stores none. */
export const DEFAULT_FILE_MODE = 0o644;

/** One MFS path open for writing. Owner: the MfsGuest's table of open files. */
export class OpenFile {
  /** Where the file is in MFS (updated when it is renamed while open). */
  path: string;
  size = 0;
  mtime = Date.now();
  /** Bytes not yet in MFS. */
  dirty = false;
  /** Removed or replaced while open: its bytes are never put anywhere. */
  orphaned = false;
  /** The mode the file keeps in MFS (set at create, or the one it had); undefined = the default. */
  mode: number | undefined;
  /**
   * True when `mtime` is stored with the bytes: it was set explicitly, or the file had a
   * stored mtime (which a rewrite must move on, not drop: the attribute would fall back
   * to the mount's start time).
   */
  keepMtime = false;
  /** True until a put of this file succeeded, when nothing was at its path as far as the guest knew. */
  isNew = false;
  /** True while a flush of this file waits in the put queue (its item not taken yet). */
  queued = false;
  private refs = 0;
  /** Flushes run one after another. */
  private flushing: Promise<void> = Promise.resolve();
  private idle: NodeJS.Timeout | undefined;
  /** Why a background flush failed, reported by the next flush or close. */
  private failed: FsError | undefined;

  private constructor(
    path: string,
    readonly cacheFile: string,
    private readonly fh: NodeFileHandle,
    private readonly put: PutFile,
    private readonly onLast: (f: OpenFile, finished: Promise<void>) => void,
  ) {
    this.path = path;
  }

  /**
   * Opens the cache file of `path`: empty (a new or truncated file, `dirty` so it is put
   * even when nothing is written), or filled from `content` (the current bytes).
   */
  static async create(path: string, cacheDir: string, seq: number, put: PutFile, onLast: (f: OpenFile, finished: Promise<void>) => void, content?: AsyncIterable<Uint8Array>): Promise<OpenFile> {
    const file = join(cacheDir, `w${seq}`);
    const fh = await open(file, 'w+', 0o600);
    const f = new OpenFile(path, file, fh, put, onLast);
    if (content) {
      for await (const chunk of content) {
        await fh.write(chunk, 0, chunk.length, f.size);
        f.size += chunk.length;
      }
    } else f.dirty = true;
    return f;
  }

  /**
   * A handle on this file; each must be closed. `describe` gives the file's attributes from
   * what it holds (FileHandle.getattr: what a host answers for it once its name is gone).
   */
  handle(describe: (f: OpenFile) => Attr): FileHandle {
    this.refs++;
    let closed = false;
    const live = (): void => {
      if (closed) throw new FsError('Closed', `${this.path}: the file was closed`);
    };
    /** The file as its descriptors see it: no links once removed while open. */
    const seen = (): Attr => ({ ...describe(this), nlink: this.orphaned ? 0 : 1 });
    return {
      read: async (position, length) => {
        live();
        return await this.read(position, length);
      },
      write: async (position, data) => {
        live();
        return await this.write(position, data);
      },
      truncate: async (size) => {
        live();
        await this.truncate(size);
      },
      flush: async (opts) => {
        live();
        await this.flush(opts);
      },
      // The open file itself, by name or not (unlinked while open: its bytes and attributes
      // stay with its descriptors, as on a disk, and go nowhere at the last close).
      getattr: async () => {
        live();
        return seen();
      },
      setattr: async (attr) => {
        live();
        await this.setattr(attr);
        return seen();
      },
      close: async () => {
        if (closed) return;
        closed = true;
        await this.release();
      },
    };
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    if (position >= this.size || length <= 0) return new Uint8Array(0);
    const n = Math.min(length, this.size - position);
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await this.fh.read(buf, 0, n, position);
    return buf.subarray(0, bytesRead);
  }

  async write(position: number, data: Uint8Array): Promise<number> {
    if (!Number.isSafeInteger(position) || position < 0) throw new FsError('InvalidItem', `write ${this.path}: bad position ${position}`);
    const { bytesWritten } = await this.fh.write(data, 0, data.length, position);
    this.size = Math.max(this.size, position + bytesWritten);
    this.touched();
    return bytesWritten;
  }

  async truncate(size: number): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 0) throw new FsError('InvalidItem', `truncate ${this.path}: bad size ${size}`);
    await this.fh.truncate(size);
    this.size = size;
    this.touched();
  }

  /**
   * Size, mode and mtime set on the open file (owners: MFS keeps none). A file still named
   * puts them with its bytes at the next flush; an orphaned one keeps them until it closes.
   */
  private async setattr(attr: SetAttr): Promise<void> {
    if (attr.size !== undefined) await this.truncate(attr.size);
    if (attr.mode !== undefined) this.mode = attr.mode & 0o7777;
    if (attr.mtime !== undefined) {
      this.mtime = attr.mtime;
      this.keepMtime = true;
    }
    if (attr.mode !== undefined || attr.mtime !== undefined) this.changed();
  }

  /** Bytes changed now: the mtime moves on, and a flush follows. */
  private touched(): void {
    this.mtime = Date.now();
    this.changed();
  }

  /** Something to put: flushed after IDLE_FLUSH_MS without another change. */
  private changed(): void {
    this.dirty = true;
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      this.flush(undefined, false).catch((err: unknown) => (this.failed = toFsError(err)));
    }, IDLE_FLUSH_MS);
    this.idle.unref();
  }

  /** What a put of this file stores: its bytes (the cache file), mode and mtime. */
  private item(): PutItem {
    const item: PutItem = { path: this.path, localFile: this.cacheFile, isNew: this.isNew };
    if (this.mode !== undefined && this.mode !== DEFAULT_FILE_MODE) item.mode = this.mode;
    if (this.keepMtime) item.mtimeMs = this.mtime;
    return item;
  }

  /**
   * Puts the file into MFS when it has unsaved bytes; one flush at a time. The cache file
   * is not synced first: the node reads it back through the page cache, and after a crash
   * nothing reads it at all.
   */
  flush(_opts?: CallOpts, urgent = true): Promise<void> {
    const next = this.flushing.then(async () => {
      clearTimeout(this.idle);
      if (this.failed) {
        const f = this.failed;
        this.failed = undefined;
        this.dirty = true;
        if (!this.orphaned) throw f;
      }
      if (!this.dirty || this.orphaned) return;
      this.dirty = false;
      this.queued = true;
      try {
        await this.put(
          this.path,
          () => {
            this.queued = false;
            // removed or replaced while it waited: its bytes go nowhere
            return this.orphaned ? undefined : this.item();
          },
          urgent,
        );
        this.isNew = false;
      } catch (err) {
        this.dirty = true;
        throw err;
      } finally {
        this.queued = false;
      }
    });
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async release(): Promise<void> {
    if (--this.refs > 0) {
      // flushed in the background; a failure is reported by the next flush or close
      this.flush(undefined, false).catch((err: unknown) => (this.failed = toFsError(err)));
      return;
    }
    // the last handle: the guest forgets this file at once and waits for `finished`
    // before it opens the path again, so nobody gets a handle on a closing file
    const finished = (async () => {
      try {
        await this.flush(undefined, false);
      } finally {
        clearTimeout(this.idle);
        await this.fh.close().catch(() => undefined);
        await rm(this.cacheFile, { force: true });
      }
    })();
    this.onLast(this, finished);
  }
}
