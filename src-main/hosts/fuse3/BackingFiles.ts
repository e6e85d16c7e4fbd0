import { fstatSync } from 'node:fs';
import type { FileHandle } from '../../vfs/types.ts';
import { FOPEN, type OpenReply } from './wire.ts';

// Which opens of one mount the kernel passes through to a backing file (Linux 6.9+, as
// root), and which are served here. While one open of a node is passed through, the kernel
// wants every other open of it passed through to the same backing file, and none while the
// node has opens served here (its page cache in use): a wrong answer fails the caller's
// open() with EIO. So a node has at most one backing file, registered at its first open,
// shared by its opens and dropped at the last release, and a node with opens served here
// gets no passthrough open until they are released. A release reaches us after the kernel
// let go, so these counts are never below the kernel's.

/** Registers and drops backing files (FuseSession.backingOpen/backingClose). */
export interface BackingRegistry {
  /** The id of a backing file for `fd`, or undefined where the kernel takes none. */
  open(fd: number): number | undefined;
  close(id: number): void;
}

/** A node's backing file: its id, which file it is, and how many opens use it. */
interface Backing {
  id: number;
  dev: number;
  ino: number;
  opens: number;
}

/** The passthrough bookkeeping of one mount (owned by its ops). */
export class BackingFiles {
  /** Node -> its backing file while opens of it are passed through. */
  private readonly byNode = new Map<number, Backing>();
  /** Node -> opens of it served here. */
  private readonly served = new Map<number, number>();
  /** Handles of passthrough opens. */
  private readonly passed = new Set<number>();

  /** `registry`: undefined where the mount did not ask for passthrough (every open is served here). */
  constructor(private readonly registry: BackingRegistry | undefined) {}

  /**
   * Keeps an open file of node `ino` (`keep` gives its handle) and says how the kernel is to
   * use it: passed through to its backing file where it can be, else served here. Undefined
   * (the file closed, nothing kept) when the open must fail with ESTALE: the node's file was
   * replaced in the backing folder while other opens pass through to the old one. The kernel
   * then looks the name up again and opens once more, and that lookup gives the new file a
   * node of its own (NodeTable.remember). The ops' open makes that check first for every
   * open (`opKit.sameFile`); this one also compares the device.
   */
  open(h: FileHandle, ino: number, keep: () => number): OpenReply | undefined {
    const b = this.registry && this.backingFor(h, ino);
    if (b === 'stale') {
      void h.close().catch(() => {});
      return undefined;
    }
    const fh = keep();
    if (!b) {
      this.served.set(ino, (this.served.get(ino) ?? 0) + 1);
      return { fh };
    }
    b.opens++;
    this.passed.add(fh);
    return { fh, flags: FOPEN.PASSTHROUGH, backingId: b.id };
  }

  /** The open `fh` of node `ino` was released. */
  released(ino: number, fh: number): void {
    if (this.passed.delete(fh)) {
      const b = this.byNode.get(ino);
      if (b && --b.opens === 0) {
        this.byNode.delete(ino);
        this.registry?.close(b.id);
      }
      return;
    }
    const n = (this.served.get(ino) ?? 1) - 1;
    if (n > 0) this.served.set(ino, n);
    else this.served.delete(ino);
  }

  /** The backing file an open of node `ino` through `h` shares; undefined: serve it here; 'stale': neither can be. */
  private backingFor(h: FileHandle, ino: number): Backing | 'stale' | undefined {
    const b = this.byNode.get(ino);
    const fd = h.now?.fd?.();
    if (b) {
      if (fd === undefined) return b;
      const st = fstatSync(fd);
      return st.ino === b.ino && st.dev === b.dev ? b : 'stale';
    }
    if (fd === undefined || this.served.has(ino)) return undefined;
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const id = this.registry!.open(fd);
    if (id === undefined) return undefined;
    const fresh = { id, dev: st.dev, ino: st.ino, opens: 0 };
    this.byNode.set(ino, fresh);
    return fresh;
  }
}
