import { fsPath, nameFromBytes } from '../sys/byteNames.ts';
import { closeSync, constants as C, existsSync, openSync, readlinkSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { FsError } from '../vfs/FsError.ts';
import { Lru } from '../vfs/cache/Lru.ts';
import { closeLater } from './localCloseLater.ts';
import { fromNode } from './localErrors.ts';

// Folders of the local guest, opened and proven to lie inside its root. On Linux a folder
// is an O_PATH descriptor whose /proc/self/fd link names where it really is: a call works
// on "/proc/self/fd/N/name", which acts like openat, so a symlink swapped in for a folder
// can never lead outside. Descriptors are kept (an LRU) and re-proven on every use by
// reading their link, so a folder renamed or removed since is noticed, and a busy tree
// costs one system call per operation instead of three (open, readlink, close). Where the
// guest's inotify watches vouch that nothing moved since the last proof (FolderWitness),
// a use costs none.

/** Linux's O_PATH: a descriptor naming a node without opening its content (not in Node's constants). */
const O_PATH = 0o10000000;
/** Whether /proc/self/fd can prove where a descriptor is. */
export const HAS_PROC_FD = process.platform === 'linux' && existsSync('/proc/self/fd');
/** Folder descriptors kept open per guest. */
const MAX_KEPT = 256;

/** A folder in use: `ref` names it for path-based calls; release() when done. */
export interface OpenDir {
  readonly ref: string;
  /** The folder's own path (root + guest path): what the inline policy judges. */
  readonly lexical: string;
  /** The folder's descriptor (O_PATH): the *at calls' dirfd, and its /proc link is `ref`. */
  readonly fd: number;
  /** Whether calls on nodes in it may block this thread (localInline.ts): as open() was asked. */
  readonly inline: boolean;
  release(): void;
}

/**
 * What can vouch that a kept folder is still where its last proof found it, without reading
 * its link again: the guest's inotify watches (localAttrCache.ts). A watch stays in place
 * only while neither its folder nor any folder above it up to the root has been renamed or
 * removed (each is reported to the watch of its parent, and the cache then drops the
 * watches below), so a folder proven while its watch was already in place is still there
 * while that watch is.
 */
export interface FolderWitness {
  /** A token for the folder at `parts` (guest path components), taken before a proof; undefined when nothing can vouch for it. */
  token(parts: readonly string[]): object | undefined;
  /** Whether the token's watch is still in place now (every queued event applied). */
  holds(token: object): boolean;
}

interface Kept {
  /** The descriptor, opened by fsp.open (a FileHandle) or by openSync (a number). */
  fh: fsp.FileHandle | number;
  ref: string;
  lexical: string;
  users: number;
  dropped: boolean;
  /** The witness's token taken before the last proof by link (undefined: none could vouch then). */
  vouched?: object;
}

/** The open folders of one guest; owned by it. */
export class LocalDirs {
  /** By lexical path, least recently used first (evicted by keep() past MAX_KEPT). */
  private readonly kept = new Lru<string, Kept>(Infinity);
  /** What spares a proof by link while it vouches (set by the guest when it has an attribute cache). */
  witness: FolderWitness | undefined;

  constructor(private readonly root: string) {}

  /** The host path of the folder at `parts`. */
  lexical(parts: readonly string[]): string {
    return parts.length ? `${this.root}/${parts.join('/')}` : this.root;
  }

  /**
   * Opens the folder at `parts` (guest path components) and proves it lies inside the root.
   * With `inline`, a folder not kept yet is opened by a blocking call (localInline.ts).
   */
  async open(parts: readonly string[], guestPath: string, inline = false): Promise<OpenDir> {
    if (inline) return this.openNow(parts, guestPath);
    const lexical = this.lexical(parts);
    const k = this.reuse(lexical, parts, false);
    if (k) return k;
    let fh: fsp.FileHandle | number;
    try {
      fh = await fsp.open(fsPath(lexical), O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
    } catch (err) {
      throw openError(err, guestPath);
    }
    return this.keep(fh, lexical, guestPath, parts, false);
  }

  /** open() by blocking calls only (inline folders, and the guest's synchronous face): `inline` is true. */
  openNow(parts: readonly string[], guestPath: string): OpenDir {
    const lexical = this.lexical(parts);
    const k = this.reuse(lexical, parts, true);
    if (k) return k;
    let fh: number;
    try {
      fh = openSync(fsPath(lexical), O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
    } catch (err) {
      throw openError(err, guestPath);
    }
    return this.keep(fh, lexical, guestPath, parts, true);
  }

  /** The kept folder at `lexical` when it is still there, in use; drops it when it moved. */
  private reuse(lexical: string, parts: readonly string[], inline: boolean): OpenDir | undefined {
    const k = this.kept.peek(lexical);
    if (k && ((k.vouched !== undefined && this.witness?.holds(k.vouched)) || this.prove(k, parts))) {
      this.kept.get(lexical); // marks it used
      return this.use(k, inline);
    }
    if (k) this.drop(k);
    return undefined;
  }

  /** Proves a freshly opened folder descriptor inside the root and keeps it. */
  private keep(fh: fsp.FileHandle | number, lexical: string, guestPath: string, parts: readonly string[], inline: boolean): OpenDir {
    const fresh: Kept = { fh, ref: `/proc/self/fd/${fdOf(fh)}`, lexical, users: 0, dropped: false };
    // An intermediate symlink (even one pointing back inside) shows up as a different path.
    if (!this.prove(fresh, parts)) {
      closeKept(fh);
      throw new FsError('NotDir', `${guestPath}: a component is a symlink or moved while in use`);
    }
    const raced = this.kept.peek(lexical);
    if (raced) this.drop(raced);
    this.kept.set(lexical, fresh);
    if (this.kept.size > MAX_KEPT) {
      for (const [, old] of this.kept.oldestFirst()) {
        if (this.kept.size <= MAX_KEPT) break;
        // The least recently used: almost always a folder still there, closed in place.
        if (old !== fresh) this.drop(old, true);
      }
    }
    return this.use(fresh, inline);
  }

  /**
   * Forgets the kept folder at `parts` (after rmdir). Not those under it: rmdir needs the
   * folder empty, so any kept there were removed or moved by others first and fail their
   * next proof (or go with the least recently used); a walk of every kept folder per RMDIR
   * cost ~70 µs in an `rm -rf` (measured in the NFS host, 256 kept).
   */
  forget(parts: readonly string[]): void {
    const own = this.kept.peek(this.lexical(parts));
    if (own) this.drop(own);
  }

  /** Forgets the kept folders at and under `parts` (after a rename: they now name other paths). */
  forgetTree(parts: readonly string[]): void {
    const lexical = this.lexical(parts);
    const own = this.kept.peek(lexical);
    if (own) this.drop(own);
    // They would fail their next proof anyway; dropping them frees their descriptors.
    // One pass, no copy (deleting while iterating a Map is safe), no string built per entry.
    const n = lexical.length;
    for (const [, k] of this.kept.oldestFirst()) if (k.lexical.length > n && k.lexical.charCodeAt(n) === 47 && k.lexical.startsWith(lexical)) this.drop(k);
  }

  /** Closes every kept descriptor (those in use close when released). */
  closeAll(): void {
    for (const [, k] of [...this.kept.oldestFirst()]) this.drop(k);
  }

  /**
   * Proves `k` by its link, with the witness's token taken first: while that token holds,
   * nothing has moved the folder since this proof (nor before it, since the watch was made).
   */
  private prove(k: Kept, parts: readonly string[]): boolean {
    const token = this.witness?.token(parts);
    if (!this.stillThere(k)) return false;
    k.vouched = token;
    return true;
  }

  /**
   * Whether the descriptor still names its lexical path. A sync readlink on purpose: it
   * reads a kernel name (d_path), never a disk or a FUSE mount, in a few microseconds (3 µs
   * for readlinkSync of /proc/self/fd/N on a 2-core VM); an async one would cost a
   * threadpool round trip per operation, the very thing kept avoids.
   */
  private stillThere(k: Kept): boolean {
    try {
      const link = readlinkSync(k.ref);
      // A name that is not UTF-8 reads as U+FFFD: then the link's bytes decide (sys/byteNames.ts).
      return link === k.lexical || (link.includes('\ufffd') && nameFromBytes(readlinkSync(k.ref, 'buffer')) === k.lexical);
    } catch {
      return false;
    }
  }

  /** `k` in use; one object shape for every folder (the /proc strategy passes it on as is: a copy with `inline` added cost a slow property definition per use). */
  private use(k: Kept, inline: boolean): OpenDir {
    k.users++;
    let released = false;
    return {
      ref: k.ref,
      lexical: k.lexical,
      fd: fdOf(k.fh),
      inline,
      release: () => {
        if (released) return;
        released = true;
        if (--k.users === 0 && k.dropped) closeKept(k.fh);
      },
    };
  }

  /**
   * Stops keeping `k`; closes it now when nobody uses it. `inPlace`: by a blocking close
   * when it was opened so, for a folder that is most likely still there (its close frees
   * nothing), sparing a threadpool round trip (`du` of a tree of 1,000 folders evicts ~750).
   */
  private drop(k: Kept, inPlace = false): void {
    if (this.kept.peek(k.lexical) === k) this.kept.delete(k.lexical);
    if (k.dropped) return;
    k.dropped = true;
    if (k.users > 0) return;
    if (inPlace && typeof k.fh === 'number') closeSync(k.fh);
    else closeKept(k.fh);
  }
}

/** A folder's open error as an FsError: O_NOFOLLOW on the last component answers ELOOP for a symlink. */
function openError(err: unknown, guestPath: string): FsError {
  if ((err as NodeJS.ErrnoException).code === 'ELOOP') return new FsError('NotDir', `${guestPath}: is a symlink, not a folder`, { cause: err });
  return fromNode(err, guestPath);
}

function fdOf(fh: fsp.FileHandle | number): number {
  return typeof fh === 'number' ? fh : fh.fd;
}

/**
 * Closes a kept descriptor off this thread (localCloseLater.ts). The last descriptor of a
 * folder removed since is what frees its inode: ext4 truncates it and (mounted with
 * `discard`) waits for the disk there, measured at ~0.3 ms per folder, which in place held
 * up the RMDIR's reply and every request after it during `rm -rf`.
 */
function closeKept(fh: fsp.FileHandle | number): void {
  if (typeof fh === 'number') closeLater(fh);
  else void fh.close().catch(() => {});
}
