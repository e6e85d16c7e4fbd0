import { closeSync, fchmodSync, fchownSync, fdatasync, fstatSync, ftruncateSync, futimesSync, readSync, writeSync } from 'node:fs';
import { FsError } from '../vfs/FsError.ts';
import type { Attr, CallOpts, FileHandle, FileHandleNow, SetAttr } from '../vfs/types.ts';
import { attrOfNs, type OwnerShown } from './localAttrs.ts';
import { fromNode } from './localErrors.ts';
import { canFallocate, canSeekDataHole, fallocateIn, seekIn } from './localFdCalls.ts';
import { hasUtimensat, setTimesFdSync } from './localTimes.ts';

// An open local file on a local disk, read and written by blocking calls on the JavaScript
// thread (localInline.ts says when that is safe). No read-ahead of its own: the kernel's
// page cache and readahead already make a pread of cached bytes a memcpy. Its calls are
// also offered as blocking ones (FileHandle.now), with fstat and fchown/fchmod/futimens, so
// a host answers what `tar x` does to every file it writes by descriptor, with no path to
// resolve and no promise.

/** One open local file served inline. */
export class LocalFileSync implements FileHandle {
  private closed = false;

  /**
   * The same reads and writes without a promise (FileHandleNow): every call here is inline
   * already. A read-only guest's handle has no setattr (it could change nothing), so the
   * metadata cache passes it on unwatched; a writable guest's is watched, and the watch
   * passes the descriptor (fd) on too: the NFS host sends a READ's bytes from it with sendfile.
   */
  readonly now: FileHandleNow;

  constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly canWrite: boolean,
    /** Owner shown instead of the file's (the spec's uid/gid). */
    private readonly shown: OwnerShown = { uid: undefined, gid: undefined },
  ) {
    this.now = {
      readInto: (buffer, position) => {
        this.live();
        return this.preadInto(buffer, position);
      },
      write: (position, data) => {
        this.live();
        this.writable();
        return this.pwriteAll(position, data);
      },
      stat: () => this.statNow(),
      fd: () => {
        this.live();
        return this.fd;
      },
      ...(canWrite ? { setattr: (attr: SetAttr) => this.setattrNow(attr) } : {}),
      ...(canSeekDataHole() ? { seek: (offset: number, what: 'data' | 'hole') => this.seekNow(offset, what) } : {}),
      ...(canWrite && canFallocate() ? { fallocate: (mode: number, offset: number, length: number) => this.fallocateNow(mode, offset, length) } : {}),
      named: () => !this.closed && this.proof !== undefined && this.proof(),
    };
  }

  /** What proves the path still names this file (FileHandleNow.named); none: it is never said. */
  private proof: (() => boolean) | undefined;

  /** Sets what proves the file's path still names it (the guest's inotify watch of its folder). */
  provenBy(proof: () => boolean): void {
    this.proof = proof;
  }

  private fallocateNow(mode: number, offset: number, length: number): void {
    this.live();
    this.writable();
    try {
      fallocateIn(this.fd, mode, offset, length, this.path);
    } catch (err) {
      throw fromNode(err, this.path);
    }
  }

  private seekNow(offset: number, what: 'data' | 'hole'): number | null {
    this.live();
    try {
      return seekIn(this.fd, offset, what, this.path);
    } catch (err) {
      throw fromNode(err, this.path);
    }
  }

  private statNow(): Attr {
    this.live();
    try {
      return attrOfNs(fstatSync(this.fd, { bigint: true }), this.shown);
    } catch (err) {
      throw fromNode(err, this.path);
    }
  }

  /** As setattrAtSync (localSetattr.ts) does by path: owner, then mode (chown clears set-id bits), size, times last (truncate moves mtime). */
  private setattrNow(attr: SetAttr): void {
    this.live();
    // canWrite is the guest's: a read-only guest changes nothing, even by descriptor.
    this.writable();
    try {
      if (attr.uid !== undefined || attr.gid !== undefined) fchownSync(this.fd, attr.uid ?? -1, attr.gid ?? -1);
      if (attr.mode !== undefined) fchmodSync(this.fd, attr.mode & 0o7777);
      if (attr.size !== undefined) ftruncateSync(this.fd, attr.size);
      if (attr.atime !== undefined || attr.mtime !== undefined) {
        if (hasUtimensat()) setTimesFdSync(this.fd, attr, this.path);
        else {
          const st = fstatSync(this.fd);
          futimesSync(this.fd, (attr.atime ?? st.atimeMs) / 1000, (attr.mtime ?? st.mtimeMs) / 1000);
        }
      }
    } catch (err) {
      throw fromNode(err, this.path);
    }
  }

  private live(): void {
    if (this.closed) throw new FsError('Closed', `${this.path}: file handle is closed`);
  }

  private writable(): void {
    if (!this.canWrite) throw new FsError('ReadOnly', `${this.path}: read-only`);
  }

  private preadInto(buf: Uint8Array, position: number): number {
    let got = 0;
    try {
      while (got < buf.length) {
        const n = readSync(this.fd, buf, got, buf.length - got, position + got);
        if (n === 0) break;
        got += n;
      }
    } catch (err) {
      throw fromNode(err, this.path);
    }
    return got;
  }

  async read(position: number, length: number, _opts: CallOpts): Promise<Uint8Array> {
    this.live();
    const buf = Buffer.allocUnsafe(length);
    const n = this.preadInto(buf, position);
    return n === length ? buf : buf.subarray(0, n);
  }

  async readInto(buffer: Uint8Array, position: number, _opts: CallOpts): Promise<number> {
    this.live();
    return this.preadInto(buffer, position);
  }

  async write(position: number, data: Uint8Array, _opts: CallOpts): Promise<number> {
    this.live();
    this.writable();
    return this.pwriteAll(position, data);
  }

  private pwriteAll(position: number, data: Uint8Array): number {
    try {
      let done = 0;
      while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, position + done);
      return done;
    } catch (err) {
      throw fromNode(err, this.path);
    }
  }

  async truncate(size: number, _opts: CallOpts): Promise<void> {
    this.live();
    this.writable();
    try {
      ftruncateSync(this.fd, size);
    } catch (err) {
      throw fromNode(err, this.path);
    }
  }

  /** fdatasync may wait on the disk for long: the one call kept off this thread. */
  async flush(_opts: CallOpts): Promise<void> {
    this.live();
    if (!this.canWrite) return;
    await new Promise<void>((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(fromNode(err, this.path)) : resolve())));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch (err) {
      throw fromNode(err, this.path);
    }
  }
}
