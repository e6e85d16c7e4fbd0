// The kernel names nodes by number (the low-level API's fuse_ino_t) and the vfs by path:
// this table maps one to the other for one mount. A node lives from the first LOOKUP (or
// READDIRPLUS entry, or create) that hands its number to the kernel until the kernel
// FORGETs as many lookups as it was given. Numbers are never reused, so a stale number
// can never name another file. Renames move a node and everything under it.
//
// A node is one file, not one name: it keeps the inode number of the file it was handed
// out for. When the name comes to name another file (replaced in the backing folder, where
// editors save by rename), the next entry handed out for it is a new node. The kernel then
// keeps the two apart, their attributes and their page caches, and the old node stays valid
// for the files still open on it.

/** The root's node id (FUSE_ROOT_ID). */
export const ROOT_ID = 1;

/** One node the kernel knows. */
export interface FuseNode {
  readonly id: number;
  path: string;
  /** Lookups handed to the kernel and not yet forgotten. */
  lookups: number;
  /** The inode number of the file it was handed out for; 0 where the guest gives none. */
  ino: number;
}

/** The node table of one mount (owned by its session). */
export class NodeTable {
  private readonly byId = new Map<number, FuseNode>();
  private readonly byPath = new Map<string, FuseNode>();
  private next = ROOT_ID + 1;

  constructor() {
    const root: FuseNode = { id: ROOT_ID, path: '/', lookups: 1, ino: 0 };
    this.byId.set(ROOT_ID, root);
    this.byPath.set('/', root);
  }

  /** How many nodes the kernel holds (tests, diagnostics). */
  get size(): number {
    return this.byId.size;
  }

  /** The node with this id, or undefined when the kernel names one it forgot (a bug) or never had. */
  get(id: number): FuseNode | undefined {
    return this.byId.get(id);
  }

  /** The path of the child `name` of the node `parent`. */
  static child(parent: FuseNode, name: string): string {
    return parent.path === '/' ? `/${name}` : `${parent.path}/${name}`;
  }

  /** Whether node `n` is the file `ino` (as far as either number says: 0 says nothing). */
  static holds(n: FuseNode, ino: number): boolean {
    return n.ino === ino || n.ino === 0 || ino === 0;
  }

  /**
   * The node of the file `ino` at `path`, made if new (or if the node there was another
   * file's), with one more lookup counted: call once per reply that hands it to the kernel.
   */
  remember(path: string, ino: number): FuseNode {
    let n = this.byPath.get(path);
    if (n && !NodeTable.holds(n, ino)) {
      this.byPath.delete(path);
      n = undefined;
    }
    if (!n) {
      n = { id: this.next++, path, lookups: 0, ino };
      this.byId.set(n.id, n);
      this.byPath.set(path, n);
    } else if (n.ino === 0) {
      n.ino = ino;
    }
    n.lookups++;
    return n;
  }

  /** The kernel dropped `count` lookups of node `id`; a node at zero is gone. */
  forget(id: number, count: number): void {
    if (id === ROOT_ID) return;
    const n = this.byId.get(id);
    if (!n) return;
    n.lookups -= count;
    if (n.lookups > 0) return;
    this.byId.delete(id);
    if (this.byPath.get(n.path) === n) this.byPath.delete(n.path);
  }

  /** The node at `path` no longer has that name (unlink, rmdir): its number stays valid for open files. */
  unlinked(path: string): void {
    const n = this.byPath.get(path);
    if (n && n.id !== ROOT_ID) this.byPath.delete(path);
  }

  /** `from` was renamed to `to`: the node and every node below it take their new paths. */
  renamed(from: string, to: string): void {
    this.unlinked(to);
    const n = this.byPath.get(from);
    if (!n) return;
    const prefix = `${from}/`;
    // Children of a renamed folder: rare and bounded by what the kernel holds.
    const moved: FuseNode[] = [n];
    if (n.path !== '/') {
      for (const [p, c] of this.byPath) if (p.startsWith(prefix)) moved.push(c);
    }
    for (const c of moved) this.byPath.delete(c.path);
    for (const c of moved) {
      c.path = to + c.path.slice(from.length);
      this.byPath.set(c.path, c);
    }
  }
}
