import pMap from 'p-map';
import type { IpfsLsEntry, IpfsNode, IpfsStat } from '../ipfs/IpfsNode.ts';
import { Lru } from '../vfs/cache/Lru.ts';
import { FsError } from '../vfs/FsError.ts';
import { flatten } from '../vfs/listing.ts';
import type { Attr, CallOpts, DirEntry, FileHandle, HealthSource, OpenFlags, StatFs, Vfs } from '../vfs/types.ts';
import { BlockCache } from './ipfsBlockCache.ts';
import { IpfsFileHandle } from './ipfsFileHandle.ts';
import { type Loc, presentLink, targetLoc } from './ipfsLinks.ts';

// The read-only core the ipfs, ipns, pinfs and keyfs guests share: walking UnixFS
// paths (one block per node, never a file's content), symlinks (ipfsLinks.ts),
// attributes, listings and reads. Each guest only says what its top level is
// (an IpfsTop): a fixed root, or a virtual folder whose entries are content roots.

/** The name of the extended attribute carrying an entry's CID. */
export const CID_XATTR = 'user.ipfs.cid';
/** Symlink hops before Recursion (like Linux's MAXSYMLINKS). */
export const MAX_SYMLINK_HOPS = 40;

/** One entry of a virtual top-level folder; `cid` null shows an empty folder. */
export interface TopEntry {
  name: string;
  cid: string | null;
}

/** What a guest's top level is. */
export type IpfsTop =
  | {
      kind: 'fixed';
      /** The root CID (may change over time for IPNS). */
      root(opts: CallOpts): Promise<string>;
    }
  | {
      kind: 'virtual';
      /** The listing of the mount root. */
      list(opts: CallOpts): Promise<TopEntry[]>;
      /** The content root a top-level name stands for; NotExist when none. */
      lookup(name: string, opts: CallOpts): Promise<string | null>;
      /**
       * True when list() and lookup() answer the same forever (the /ipfs namespace: an
       * empty listing, a name is its CID). The top level is then immutable like the
       * content below it, so the FUSE host caches the whole mount (it decides from the
       * root's Attr.immutable).
       */
      unchanging?: boolean;
    };

/** How the guest presents itself. */
export interface IpfsTreeOptions {
  name: string;
  top: IpfsTop;
  /** The namespace the mount's root is, for rewriting absolute links (ipfs guest without root). */
  namespace?: 'ipfs' | 'ipns';
  /** True when bytes under a path never change (ipfs, pinfs); false for ipns/keyfs. */
  immutable: boolean;
  uid?: number;
  gid?: number;
}

/** A path resolved to something the guest can describe. */
type Resolved =
  | { kind: 'top' }
  | { kind: 'empty'; name: string }
  | { kind: 'node'; stat: IpfsStat; loc: Loc };

interface Hops {
  n: number;
}

/** Hash of a string to a positive integer below 2^53 (FNV-1a, two 32-bit lanes). */
export function inoOf(key: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  // 21 bits of h2 above 32 of h1; ino 0 and 1 are not produced (1 is the mount root)
  return ((h2 & 0x1fffff) * 0x1_0000_0000 + h1 + 2) % Number.MAX_SAFE_INTEGER;
}

/** The shared IPFS guest core. */
export class IpfsTree implements Vfs {
  readonly name: string;
  readonly readOnly = true;
  /** The node's reachability (absent for the embedded node, which cannot go away). */
  readonly health: HealthSource | undefined;
  private readonly top: IpfsTop;
  private readonly uid: number;
  private readonly gid: number;
  /** When the mount was made: mtime of nodes without UnixFS mtime, stable for the mount's life. */
  private readonly mountedAt = Date.now();
  /** Node metadata by CID; immutable, so never expires. */
  private readonly stats = new Lru<string, Promise<IpfsStat>>(20_000);
  /** Children of HAMT folders by `${dirCid}/${name}`, learnt from listings and lookups. */
  private readonly children = new Lru<string, string>(100_000);
  private readonly blocks: BlockCache;
  private statfsCache: { at: number; value: StatFs } | undefined;
  /** Open file handles, closed with the guest. */
  private readonly handles = new Set<IpfsFileHandle>();

  constructor(
    readonly node: IpfsNode,
    private readonly opts: IpfsTreeOptions,
  ) {
    this.name = opts.name;
    this.health = node.health;
    this.top = opts.top;
    this.uid = opts.uid ?? process.getuid?.() ?? 0;
    this.gid = opts.gid ?? process.getgid?.() ?? 0;
    this.blocks = new BlockCache((cid, sizeHint, signal, alloc) => this.node.block(cid, { signal, sizeHint, alloc }));
  }

  // ---- resolution ----

  private async stat(cid: string, opts: CallOpts): Promise<IpfsStat> {
    const hit = this.stats.get(cid);
    if (hit) {
      try {
        return await hit;
      } catch (err) {
        // a shared fetch runs under its first caller's deadline: when that one ran out
        // and ours did not, ask again under ours
        if (err instanceof FsError && err.kind === 'Timeout' && !opts.signal.aborted) return await this.stat(cid, opts);
        throw err;
      }
    }
    const p = this.node.stat(cid, opts);
    this.stats.set(cid, p);
    try {
      return await p;
    } catch (err) {
      if (this.stats.get(cid) === p) this.stats.delete(cid);
      throw err;
    }
  }

  private async child(dir: IpfsStat, name: string, opts: CallOpts): Promise<IpfsStat> {
    if (dir.links) {
      const cid = dir.links.get(name);
      if (cid === undefined) throw new FsError('NotExist', `no entry ${JSON.stringify(name)} in ${dir.cid}`);
      return await this.stat(cid, opts);
    }
    const key = `${dir.cid}/${name}`;
    const known = this.children.get(key);
    if (known) return await this.stat(known, opts);
    const s = await this.node.resolve(`/ipfs/${dir.cid}/${name}`, opts);
    this.children.set(key, s.cid);
    return s;
  }

  private static split(path: string): string[] {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new FsError('InvalidItem', `expected an absolute guest path, got ${JSON.stringify(path)}`);
    return path.split('/').filter((s) => s !== '');
  }

  /** Resolves a mount path; the last symlink is followed when `followLast` or when the mount shows it as its target. */
  private async resolveMount(segs: string[], followLast: boolean, hops: Hops, opts: CallOpts): Promise<Resolved> {
    if (this.top.kind === 'virtual') {
      if (segs.length === 0) return { kind: 'top' };
      const head = segs[0]!;
      const cid = await this.top.lookup(head, opts);
      if (cid === null) {
        if (segs.length === 1) return { kind: 'empty', name: head };
        throw new FsError('NotExist', `${JSON.stringify(head)} holds nothing yet`);
      }
      return await this.walk(await this.stat(cid, opts), { space: 'mount', segs: [head] }, segs.slice(1), followLast, hops, opts);
    }
    const root = await this.top.root(opts);
    return await this.walk(await this.stat(root, opts), { space: 'mount', segs: [] }, segs, followLast, hops, opts);
  }

  private async resolveLoc(loc: Loc, hops: Hops, opts: CallOpts): Promise<Resolved> {
    switch (loc.space) {
      case 'mount':
        return await this.resolveMount(loc.segs, true, hops, opts);
      case 'ipfs':
        return await this.walk(await this.stat(loc.segs[0]!, opts), { space: 'ipfs', segs: [loc.segs[0]!] }, loc.segs.slice(1), true, hops, opts);
      case 'ipns': {
        const path = await this.node.nameResolve(`/ipns/${loc.segs[0]!}`, opts);
        const root = await this.node.resolve(path, opts);
        return await this.walk(root, { space: 'ipns', segs: [loc.segs[0]!] }, loc.segs.slice(1), true, hops, opts);
      }
      default: {
        const never: never = loc.space;
        throw new FsError('InvalidItem', `unknown space ${String(never)}`);
      }
    }
  }

  private async follow(stat: IpfsStat, loc: Loc, hops: Hops, opts: CallOpts): Promise<Resolved> {
    if (++hops.n > MAX_SYMLINK_HOPS) {
      throw new FsError('Recursion', `more than ${MAX_SYMLINK_HOPS} symlinks while resolving /${loc.segs.join('/')}`);
    }
    return await this.resolveLoc(targetLoc(loc, stat.target ?? ''), hops, opts);
  }

  private async walk(start: IpfsStat, startLoc: Loc, rest: string[], followLast: boolean, hops: Hops, opts: CallOpts): Promise<Resolved> {
    let cur: Resolved = { kind: 'node', stat: start, loc: startLoc };
    for (const seg of rest) {
      if (cur.kind === 'node' && cur.stat.type === 'symlink') cur = await this.follow(cur.stat, cur.loc, hops, opts);
      if (cur.kind === 'top') {
        cur = await this.resolveMount([seg], false, hops, opts);
        continue;
      }
      if (cur.kind === 'empty') throw new FsError('NotExist', `no entry ${JSON.stringify(seg)}`);
      if (cur.stat.type !== 'dir') throw new FsError('NotDir', `${cur.stat.cid} is not a folder`);
      const child = await this.child(cur.stat, seg, opts);
      cur = { kind: 'node', stat: child, loc: { space: cur.loc.space, segs: [...cur.loc.segs, seg] } };
    }
    if (cur.kind === 'node' && cur.stat.type === 'symlink') {
      const shown = presentLink(cur.loc, cur.stat.target ?? '', this.opts.namespace);
      if (followLast || shown.kind === 'follow') return await this.follow(cur.stat, cur.loc, hops, opts);
    }
    return cur;
  }

  private async lookupPath(path: string, followLast: boolean, opts: CallOpts): Promise<Resolved> {
    return await this.resolveMount(IpfsTree.split(path), followLast, { n: 0 }, opts);
  }

  // ---- attributes ----

  private attrOf(stat: IpfsStat, loc: Loc): Attr {
    const mtime = stat.mtimeMs ?? this.mountedAt;
    const ino = inoOf(stat.cid);
    const immutable = this.opts.immutable;
    // Literals of one shape, not a spread of a shared base: this runs once per listed
    // entry, and the spread was the costliest step of a 5,000-entry listing (issue 11).
    switch (stat.type) {
      case 'dir':
        return { type: 'dir', mode: stat.mode !== undefined ? stat.mode & 0o555 : 0o555, size: 0, nlink: 2, uid: this.uid, gid: this.gid, ino, mtime, atime: mtime, ctime: mtime, immutable };
      case 'file':
        return { type: 'file', mode: stat.mode !== undefined ? stat.mode & 0o555 : 0o444, size: stat.size, nlink: 1, uid: this.uid, gid: this.gid, ino, mtime, atime: mtime, ctime: mtime, immutable };
      case 'symlink': {
        const shown = presentLink(loc, stat.target ?? '', this.opts.namespace);
        const size = shown.kind === 'keep' ? new TextEncoder().encode(shown.text).length : stat.size;
        return { type: 'symlink', mode: 0o777, size, nlink: 1, uid: this.uid, gid: this.gid, ino, mtime, atime: mtime, ctime: mtime, immutable };
      }
      default: {
        const never: never = stat.type;
        throw new FsError('InvalidItem', `unknown node type ${String(never)}`);
      }
    }
  }

  private virtualDirAttr(key: string): Attr {
    const t = this.mountedAt;
    const immutable = this.opts.immutable && this.top.kind === 'virtual' && this.top.unchanging === true;
    return { type: 'dir', mode: 0o555, size: 0, nlink: 2, uid: this.uid, gid: this.gid, ino: key === '' ? 1 : inoOf(`virtual:${key}`), mtime: t, atime: t, ctime: t, immutable };
  }

  private describe(r: Resolved): Attr {
    switch (r.kind) {
      case 'top':
        return this.virtualDirAttr('');
      case 'empty':
        return this.virtualDirAttr(r.name);
      case 'node':
        return this.attrOf(r.stat, r.loc);
      default: {
        const never: never = r;
        throw new FsError('InvalidItem', `unknown resolution ${JSON.stringify(never)}`);
      }
    }
  }

  // ---- Vfs ----

  async getattr(path: string, opts: CallOpts): Promise<Attr> {
    return this.describe(await this.lookupPath(path, false, opts));
  }

  readdir(path: string, opts: CallOpts): AsyncIterable<DirEntry> {
    return flatten(this.readdirBatches(path, opts));
  }

  /**
   * The listing in batches of up to 256 (one step each through the layers above, not one
   * per entry): files and folders are described from the node's listing alone; only
   * symlinks cost a call, to present or follow them.
   */
  async *readdirBatches(path: string, opts: CallOpts): AsyncIterable<readonly DirEntry[]> {
    const r = await this.lookupPath(path, true, opts);
    if (r.kind === 'empty') return;
    if (r.kind === 'top') {
      if (this.top.kind !== 'virtual') return;
      const entries = await this.top.list(opts);
      const attrs = await pMap(entries, async (e) => {
        if (e.cid === null) return this.virtualDirAttr(e.name);
        try {
          return this.describe(await this.resolveMount([e.name], false, { n: 0 }, opts));
        } catch (err) {
          if (err instanceof FsError && err.kind === 'NotExist') return undefined;
          throw err;
        }
      }, { concurrency: 8 });
      const out: DirEntry[] = [];
      for (let i = 0; i < entries.length; i++) {
        const attr = attrs[i];
        if (attr) out.push({ name: entries[i]!.name, attr });
      }
      if (out.length > 0) yield out;
      return;
    }
    if (r.stat.type !== 'dir') throw new FsError('NotDir', `${path} is not a folder`);
    const dir = r.stat;
    let batch: IpfsLsEntry[] = [];
    let links = 0;
    for await (const e of this.node.ls(dir.cid, opts)) {
      if (dir.sharded) this.children.set(`${dir.cid}/${e.name}`, e.cid);
      batch.push(e);
      if (e.type === 'symlink') links++;
      if (batch.length >= 256) {
        yield links === 0 ? batch.map((e) => ({ name: e.name, attr: this.attrOf(e, r.loc) })) : await this.describeBatch(batch, r.loc, opts);
        batch = [];
        links = 0;
      }
    }
    if (batch.length > 0) yield links === 0 ? batch.map((e) => ({ name: e.name, attr: this.attrOf(e, r.loc) })) : await this.describeBatch(batch, r.loc, opts);
  }

  /** Entries of a listed batch that holds symlinks: each symlink presented or followed. */
  private async describeBatch(batch: IpfsLsEntry[], dirLoc: Loc, opts: CallOpts): Promise<DirEntry[]> {
    const attrs = await pMap(batch, async (e) => {
      if (e.type !== 'symlink') return this.attrOf(e, dirLoc);
      const loc: Loc = { space: dirLoc.space, segs: [...dirLoc.segs, e.name] };
      const link = await this.stat(e.cid, opts);
      const shown = presentLink(loc, link.target ?? '', this.opts.namespace);
      if (shown.kind === 'follow') {
        try {
          return this.describe(await this.follow(link, loc, { n: 0 }, opts));
        } catch (err) {
          if (!(err instanceof FsError) || err.kind === 'IO' || err.kind === 'Timeout') throw err;
        }
      }
      return this.attrOf(link, loc);
    }, { concurrency: 8 });
    return batch.map((e, i) => ({ name: e.name, attr: attrs[i]! }));
  }

  async open(path: string, flags: OpenFlags, opts: CallOpts): Promise<FileHandle> {
    if (flags.write || flags.truncate) throw new FsError('ReadOnly', `${this.name} is read-only`);
    const r = await this.lookupPath(path, true, opts);
    if (r.kind !== 'node' || r.stat.type === 'dir') throw new FsError('IsDir', `${path} is a folder`);
    const { cid, size } = r.stat;
    const handle = new IpfsFileHandle(cid, size, this.blocks, () => this.handles.delete(handle));
    this.handles.add(handle);
    return handle;
  }

  async readlink(path: string, opts: CallOpts): Promise<string> {
    const r = await this.lookupPath(path, false, opts);
    if (r.kind !== 'node' || r.stat.type !== 'symlink') throw new FsError('InvalidItem', `${path} is not a symlink`);
    const shown = presentLink(r.loc, r.stat.target ?? '', this.opts.namespace);
    switch (shown.kind) {
      case 'keep':
        return shown.text;
      case 'refuse':
        throw shown.error;
      case 'follow':
        throw new FsError('InvalidItem', `${path} is shown as its target, not as a symlink`);
      default: {
        const never: never = shown;
        throw new FsError('InvalidItem', `unknown link presentation ${JSON.stringify(never)}`);
      }
    }
  }

  async statfs(opts: CallOpts): Promise<StatFs> {
    const now = Date.now();
    if (this.statfsCache && now - this.statfsCache.at < 30_000) return this.statfsCache.value;
    const blockSize = 4096;
    let value: StatFs = { blockSize, blocks: 0, blocksFree: 0, blocksAvail: 0, files: 0, filesFree: 0, nameMax: 255 };
    // statfs is asked often (df, file managers) and repo stat walks the repo on some
    // nodes: bound it tightly and answer zeros rather than wait
    const quick = AbortSignal.any([opts.signal, AbortSignal.timeout(2000)]);
    try {
      const s = await this.node.repoStat({ signal: quick });
      value = { ...value, blocks: Math.ceil(s.repoSize / blockSize), files: s.numObjects };
    } catch {
      // zeros: honest about not knowing
    }
    this.statfsCache = { at: now, value };
    return value;
  }

  async getxattr(path: string, name: string, opts: CallOpts): Promise<Uint8Array | undefined> {
    if (name !== CID_XATTR) return undefined;
    const r = await this.lookupPath(path, false, opts);
    return r.kind === 'node' ? new TextEncoder().encode(r.stat.cid) : undefined;
  }

  async listxattr(path: string, opts: CallOpts): Promise<string[]> {
    const r = await this.lookupPath(path, false, opts);
    return r.kind === 'node' ? [CID_XATTR] : [];
  }

  async close(): Promise<void> {
    // a host that goes away without closing its files must not leave their streams open
    await Promise.all([...this.handles].map((h) => h.close()));
    this.blocks.clear();
    this.stats.clear();
    await this.node.close();
  }
}
