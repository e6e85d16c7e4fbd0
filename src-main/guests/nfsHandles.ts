import { parentOf } from '../vfs/pathNames.ts';

// The NFS guest's file handles by path (nfs.ts). A path is kept only under its kept parent,
// and each kept folder knows its kept children, so forgetting a path and everything under
// it (after a create, remove or rename there) costs what it forgets, not a scan of every
// path kept: an untar through `berth mount fuse nfs` forgets a path per entry it makes,
// with thousands kept.

interface Node {
  fh: Buffer;
  /** The paths of its kept children, when it has any. */
  kids?: Set<string>;
}

/** The folder holding `path` ("/" for a child of the root); undefined for the root itself. */
function folderAbove(path: string): string | undefined {
  return path === '/' ? undefined : parentOf(path);
}

/** File handles by guest path, the root always among them once set. */
export class PathHandles {
  private readonly byPath = new Map<string, Node>();

  /** `max`: paths kept, past which everything but the root is dropped (and looked up again on use). */
  constructor(private readonly max: number) {}

  get size(): number {
    return this.byPath.size;
  }

  get(path: string): Buffer | undefined {
    return this.byPath.get(path)?.fh;
  }

  /** Sets the root's handle; every other path is dropped (a new mount of the export). */
  setRoot(fh: Buffer): void {
    this.byPath.clear();
    this.byPath.set('/', { fh });
  }

  /**
   * Keeps `fh` for `path`, when its parent is kept (else nothing: a path kept under a
   * forgotten parent could outlive a rename of it). A new handle for a kept path drops what
   * was kept under the old one.
   */
  set(path: string, fh: Buffer): void {
    const up = folderAbove(path);
    if (up === undefined) {
      const root = this.byPath.get('/');
      if (root && root.fh.equals(fh)) return;
      return this.setRoot(fh);
    }
    const had = this.byPath.get(path);
    if (had) {
      if (had.fh.equals(fh)) return;
      this.forget(path);
    }
    if (this.byPath.size >= this.max) {
      const root = this.byPath.get('/');
      if (root) this.setRoot(root.fh);
      else this.byPath.clear();
    }
    const parent = this.byPath.get(up);
    if (!parent) return;
    (parent.kids ??= new Set()).add(path);
    this.byPath.set(path, { fh });
  }

  /** Drops `path` and every path kept under it (for the root: everything under it, the root stays). */
  forget(path: string): void {
    const node = this.byPath.get(path);
    if (!node) return;
    this.dropKids(node);
    const up = folderAbove(path);
    if (up === undefined) return;
    this.byPath.delete(path);
    const parent = this.byPath.get(up);
    parent?.kids?.delete(path);
  }

  /** Drops every path kept under `node`, depth first. */
  private dropKids(node: Node): void {
    if (!node.kids) return;
    for (const k of node.kids) {
      const child = this.byPath.get(k);
      if (child) this.dropKids(child);
      this.byPath.delete(k);
    }
    node.kids = undefined;
  }
}
