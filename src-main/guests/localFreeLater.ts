import { constants as C, lstatSync, openSync, statfsSync } from 'node:fs';
import { fsPath } from '../sys/byteNames.ts';
import { closeLater } from './localCloseLater.ts';
import { libc, type Ops, PLATFORM } from './localLibc.ts';

// Removals made on the calling thread (the guest's inline calls) whose inode is freed off it
// (localCloseLater.ts). Removing a node's last name frees its inode there and then, inside
// unlink(2), rmdir(2) or the rename(2) that replaces it: ext4 truncates it and, mounted with
// `discard`, waits for the disk. Measured here after an untar through the NFS host (every
// file synced by COMMIT): 90-190 µs per file in unlink, which held up the REMOVE's reply and
// every request queued behind it. nfs-ganesha does not pay it in its request path (its
// unlinkat took ~40 µs), and a Python loop showed that holding an O_PATH descriptor across
// the unlink makes it ~7 µs, the freeing moving to that descriptor's close.
//
// So a removal first opens the name O_PATH (no content opened, nothing followed), removes
// it, and closes the descriptor off this thread (closeLater), where the inode is freed. The
// name is opened by libc's openat on the folder's descriptor where it loads (localLibc.ts),
// else through the folder's /proc/self/fd link. The space comes back a moment after the
// removal answers, not within it; that is only done where it cannot matter: on a file system
// with at least FREE_MIN_BYTES available (statfs, kept per folder for a second), and with at
// most MAX_HELD descriptors waiting. Elsewhere the removal frees in place, as before, so a
// nearly full disk (a small tmpfs) gets its space back before the reply.

/** Linux's O_PATH (not in Node's constants). */
const O_PATH = 0o10000000;
/** Free space below which removals free in place. */
const FREE_MIN_BYTES = 1 << 30;
/** Descriptors waiting for their close at most; past it removals free in place. */
const MAX_HELD = 256;
/** How long a folder's free-space answer is kept. */
const ROOMY_MS = 1000;
/** Folders whose answer is kept at most (cleared past it). */
const MAX_FOLDERS = 1024;

/** A folder as FreeLater reaches it: its descriptor, its /proc/self/fd link and its host path. */
export interface HeldFolder {
  readonly fd: number;
  readonly ref: string;
  readonly lexical: string;
}

/** One guest's removals. */
export class FreeLater {
  private held = 0;
  private readonly roomy = new Map<string, { yes: boolean; until: number }>();

  /**
   * `minFree`: the free bytes a folder's file system needs for its removals to free later
   * (tests change it); `at`: libc's calls, or null for the paths through /proc alone.
   */
  constructor(
    private readonly minFree = FREE_MIN_BYTES,
    private readonly at: Ops | null = libc(),
  ) {}

  /** Descriptors whose close is still to come (tests, stats). */
  get waiting(): number {
    return this.held;
  }

  /**
   * Runs `remove()`, which removes `name` from `folder` (open as `fd`, linked at `ref`: a
   * /proc/self/fd/N path; the free-space answer is kept by `lexical`), with the node's inode
   * freed off this thread when that is safe (see above). `mayBeMissing`: nothing may have
   * that name (a rename's target).
   */
  remove(folder: HeldFolder, name: string, remove: () => void, mayBeMissing = false): void {
    const fd = this.held < MAX_HELD && this.hasRoom(folder.lexical, folder.ref) ? this.openHeld(folder, name, mayBeMissing) : undefined;
    if (fd === undefined) {
      remove();
      return;
    }
    this.held++;
    try {
      remove();
    } finally {
      closeLater(fd, () => this.held--);
    }
  }

  /** An O_PATH descriptor of `name` itself (a symlink is not followed), or undefined when there is none. */
  private openHeld(folder: HeldFolder, name: string, mayBeMissing: boolean): number | undefined {
    if (this.at) {
      // A failed openat costs no exception here: a missing name is simply not held.
      const [fd] = this.at.call('openat', [folder.fd, name, O_PATH | C.O_NOFOLLOW | PLATFORM!.O_CLOEXEC, 'uint32_t', 0], 0);
      return fd >= 0 ? fd : undefined;
    }
    const path = fsPath(`${folder.ref}/${name}`);
    // A rename's target is often a new name: an lstat that finds nothing costs far less than
    // the exception of an open that finds nothing (1 against 4 µs, measured).
    if (mayBeMissing && lstatSync(path, { throwIfNoEntry: false }) === undefined) return undefined;
    try {
      return openSync(path, O_PATH | C.O_NOFOLLOW);
    } catch {
      return undefined;
    }
  }

  private hasRoom(folder: string, folderRef: string): boolean {
    const t = Date.now();
    const kept = this.roomy.get(folder);
    if (kept && kept.until > t) return kept.yes;
    let yes = false;
    try {
      const s = statfsSync(folderRef);
      yes = s.bavail * s.bsize >= this.minFree;
    } catch {
      // unknown: free in place
    }
    if (this.roomy.size >= MAX_FOLDERS) this.roomy.clear();
    this.roomy.set(folder, { yes, until: t + ROOMY_MS });
    return yes;
  }
}
