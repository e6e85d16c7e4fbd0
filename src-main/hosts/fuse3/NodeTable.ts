import { parentOf } from '../../vfs/pathNames.ts';
import type { Attr } from '../../vfs/types.ts';

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
//
// Several nodes can be one file: its hard links, each found by its own name. The kernel
// keeps each node's attributes apart, so when a link is made or dropped, the table names
// the other nodes of that file (otherNodes), whose cached link counts the session then drops.

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
  /** Set once a node was made (or moved) below its path: only such a node's rename looks for nodes to move along. */
  folder?: true;
  /**
   * Set once the node lost its name (unlinked, removed, renamed over, or replaced in the
   * backing folder): `path` names something else now, or nothing, and only the node's open
   * files reach its file (fstat, fchmod, ftruncate after an unlink, as on any file system).
   */
  detached?: true;
  /**
   * A folder removed through the mount: what fstat shows to a process still in it (its
   * cwd), as a disk shows it: its last attributes with no links and nothing in it.
   */
  removed?: Attr;
}

/** The node table of one mount (owned by its session). */
export class NodeTable {
  private readonly byId = new Map<number, FuseNode>();
  private readonly byPath = new Map<string, FuseNode>();
  /** The nodes of each file (by its nonzero inode number): one node, or several (hard links, a replaced name). */
  private readonly byIno = new Map<number, FuseNode | FuseNode[]>();
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
    let folder: true | undefined;
    if (n && !NodeTable.holds(n, ino)) {
      // Nodes below the name stay where they were: the new node moves them on a rename.
      folder = n.folder;
      this.unlinked(path);
      n = undefined;
    }
    if (!n) {
      n = { id: this.next++, path, lookups: 0, ino: 0 };
      if (folder) n.folder = folder;
      this.byId.set(n.id, n);
      this.byPath.set(path, n);
      this.markAbove(path);
    }
    if (n.ino === 0 && ino !== 0) {
      n.ino = ino;
      this.addIno(n);
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
    if (n.ino !== 0) this.dropIno(n);
  }

  /** The other nodes the kernel holds for the file of node `n` (its hard links): empty when none or unknown. */
  otherNodes(n: FuseNode): readonly FuseNode[] {
    const all = n.ino === 0 ? undefined : this.byIno.get(n.ino);
    if (all === undefined || all === n) return [];
    return Array.isArray(all) ? all.filter((o) => o !== n) : [all];
  }

  /**
   * The node at `path` no longer has that name (unlink, rmdir): its number stays valid for
   * open files. Returns that node, if the table had one there.
   */
  unlinked(path: string): FuseNode | undefined {
    const n = this.byPath.get(path);
    if (!n || n.id === ROOT_ID) return undefined;
    this.byPath.delete(path);
    n.detached = true;
    return n;
  }

  /**
   * `from` was renamed to `to`: the node and every node below it take their new paths.
   * Returns the node `to` named before (replaced), if the table had one there.
   */
  renamed(from: string, to: string): FuseNode | undefined {
    const replaced = this.unlinked(to);
    const n = this.byPath.get(from);
    if (!n) return replaced;
    const prefix = `${from}/`;
    // Nodes below a renamed folder: a walk of every node, so only for a node that had any
    // made below it (never a file's: an rsync renames each file it writes).
    const moved: FuseNode[] = [n];
    if (n.folder && n.path !== '/') {
      for (const [p, c] of this.byPath) if (p.startsWith(prefix)) moved.push(c);
    }
    for (const c of moved) this.byPath.delete(c.path);
    for (const c of moved) {
      c.path = to + c.path.slice(from.length);
      this.byPath.set(c.path, c);
    }
    this.markAbove(to);
    return replaced;
  }

  /** `a` and `b` swapped names (RENAME_EXCHANGE): each node at or under one now lies at or under the other. */
  exchanged(a: string, b: string): void {
    const moved: [FuseNode, string][] = [];
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const n = this.byPath.get(from);
      if (!n) continue;
      moved.push([n, to]);
      const prefix = `${from}/`;
      if (n.folder && n.path !== '/') for (const [p, c] of this.byPath) if (p.startsWith(prefix)) moved.push([c, to + p.slice(from.length)]);
    }
    for (const [n] of moved) this.byPath.delete(n.path);
    for (const [n, p] of moved) {
      n.path = p;
      this.byPath.set(p, n);
    }
    this.markAbove(a);
    this.markAbove(b);
  }

  /** Marks the nearest node above `path` as having nodes below it (FuseNode.folder). */
  private markAbove(path: string): void {
    for (let p = path; p !== '/'; ) {
      p = parentOf(p);
      const up = this.byPath.get(p);
      if (up) {
        up.folder = true;
        return;
      }
    }
  }

  private addIno(n: FuseNode): void {
    const all = this.byIno.get(n.ino);
    if (all === undefined) this.byIno.set(n.ino, n);
    else if (Array.isArray(all)) all.push(n);
    else this.byIno.set(n.ino, [all, n]);
  }

  private dropIno(n: FuseNode): void {
    const all = this.byIno.get(n.ino);
    if (all === n) this.byIno.delete(n.ino);
    else if (Array.isArray(all)) {
      const rest = all.filter((o) => o !== n);
      this.byIno.set(n.ino, rest.length === 1 ? rest[0]! : rest);
    }
  }
}
