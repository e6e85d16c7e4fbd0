import { close, constants as C, lstatSync, openSync, statfsSync } from 'node:fs';

// Removals made on the calling thread (the guest's inline calls) whose inode is freed on the
// threadpool. Removing a node's last name frees its inode there and then, inside unlink(2),
// rmdir(2) or the rename(2) that replaces it: ext4 truncates it and, mounted with `discard`,
// waits for the disk. Measured here after an untar through the NFS host (every file synced
// by COMMIT): 90-190 µs per file in unlink, which held up the REMOVE's reply and every
// request queued behind it. nfs-ganesha does not pay it in its request path (its unlinkat
// took ~40 µs), and a Python loop showed that holding an O_PATH descriptor across the
// unlink makes it ~7 µs, the freeing moving to that descriptor's close.
//
// So a removal first opens the name O_PATH (no content opened, nothing followed), removes it,
// and closes the descriptor on the threadpool, where the inode is freed. The space comes back
// a moment after the removal answers, not within it; that is only done where it cannot
// matter: on a file system with at least FREE_MIN_BYTES available (statfs, kept per folder for
// a second), and with at most MAX_HELD descriptors waiting. Elsewhere the removal frees in
// place, as before, so a nearly full disk (a small tmpfs) gets its space back before the
// reply.

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

/** One guest's removals. */
export class FreeLater {
  private held = 0;
  private readonly roomy = new Map<string, { yes: boolean; until: number }>();

  /** `minFree`: the free bytes a folder's file system needs for its removals to free later (tests change it). */
  constructor(private readonly minFree = FREE_MIN_BYTES) {}

  /** Descriptors whose close is still to come (tests, stats). */
  get waiting(): number {
    return this.held;
  }

  /**
   * Runs `remove(path)` for `name` in `folder` (path: `folder.ref`/name, a /proc/self/fd/N
   * path; the free-space answer is kept by `folder.lexical`) with the node's inode freed off
   * this thread when that is safe (see above). `mayBeMissing`: nothing may have that name (a
   * rename's target).
   */
  remove(folder: { readonly lexical: string; readonly ref: string }, name: string, remove: (path: string) => void, mayBeMissing = false): void {
    const path = `${folder.ref}/${name}`;
    // A rename's target is often a new name: an lstat that finds nothing costs far less than
    // the exception of an open that finds nothing (1 against 4 µs, measured). Asked last:
    // only when the descriptor would be held.
    const hold = this.held < MAX_HELD && this.hasRoom(folder.lexical, folder.ref) && (!mayBeMissing || lstatSync(path, { throwIfNoEntry: false }) !== undefined);
    const fd = hold ? openHeld(path) : undefined;
    if (fd === undefined) {
      remove(path);
      return;
    }
    this.held++;
    try {
      remove(path);
    } finally {
      close(fd, () => this.held--);
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

/** An O_PATH descriptor of the node at `path` itself (a symlink is not followed), or undefined when there is none. */
function openHeld(path: string): number | undefined {
  try {
    return openSync(path, O_PATH | C.O_NOFOLLOW);
  } catch {
    return undefined;
  }
}
