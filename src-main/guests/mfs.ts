import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, posix } from 'node:path';
import type { z } from 'zod';
import type { MfsGuestSchema } from '../../src-shared/mountSpec.ts';
import { connectNode, type NodeContext } from '../ipfs/discover.ts';
import type { IpfsNode, IpfsStat } from '../ipfs/IpfsNode.ts';
import type { MfsBackend } from '../ipfs/mfs/MfsBackend.ts';
import { hasRawBytes } from '../sys/byteNames.ts';
import { Lru } from '../vfs/cache/Lru.ts';
import { FsError, toFsError } from '../vfs/FsError.ts';
import type { Attr, CallOpts, DirEntry, FileHandle, HealthSource, OpenFlags, SetAttr, StatFs, Vfs } from '../vfs/types.ts';
import { BlockCache } from './ipfsBlockCache.ts';
import { IpfsFileHandle } from './ipfsFileHandle.ts';
import { CID_XATTR, inoOf } from './ipfsTree.ts';
import { FreshDirs } from './mfsFreshDirs.ts';
import { MfsPending } from './mfsPending.ts';
import { DEFAULT_FILE_MODE, OpenFile } from './mfsOpenFile.ts';
import { PutQueue } from './mfsPutQueue.ts';

// The mfs guest: a node's Mutable File System (below `path`), read-write, on Kubo's
// files API or the embedded node (MfsBackend). Names resolve to CIDs through the backend;
// content and folders are then read by CID like any IPFS content (blocks through a
// shared block cache, listings with attributes). Writes to a file go to a local cache file
// (mfsOpenFile.ts) and reach MFS whole on flush; namespace changes run one at a time
// (one lock per guest), so a flush or a rename never interleaves with another write.
// `user.ipfs.cid` is the content as of the last flush.

/** The mfs guest's spec. */
export type MfsGuestSpec = z.infer<typeof MfsGuestSchema>;

/** Where open files are buffered: $XDG_CACHE_HOME/berth/mfs, else ~/.cache/berth/mfs. */
export function mfsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'berth', 'mfs');
}

/** Longest name in bytes (NAME_MAX). */
const NAME_MAX = 255;

/** A name (or symlink text) with bytes that are not UTF-8, refused: UnixFS keeps names as text, and these would come back changed. */
function notText(name: string): FsError {
  return new FsError('NotUtf8', `${JSON.stringify(name)}: its bytes are not UTF-8, and MFS keeps names as UTF-8 text`);
}
/** The mode MFS folders show when their UnixFS node stores none (files: DEFAULT_FILE_MODE). */
const DEFAULT_DIR_MODE = 0o755;

/** The mfs guest. */
export class MfsGuest implements Vfs {
  readonly name: string;
  readonly readOnly = false;
  readonly health: HealthSource | undefined;
  private readonly backend: MfsBackend;
  private readonly root: string;
  private readonly uid: number;
  private readonly gid: number;
  private readonly mountedAt = Date.now();
  /** Node metadata by CID (immutable). */
  private readonly stats = new Lru<string, Promise<IpfsStat>>(20_000);
  private readonly blocks: BlockCache;
  /** Files not in MFS yet (open, or closed with their put under way), and the write lock (mfsPending.ts). */
  private readonly pending = new MfsPending(() => this.puts.hurry());
  /** File puts, batched (mfsPutQueue.ts). */
  private readonly puts: PutQueue;
  /** Folders made here and the names put in them since: negative lookups without the node (mfsFreshDirs.ts). */
  private readonly fresh = new FreshDirs();
  private seq = 0;
  private cacheDir: Promise<string> | undefined;
  private readonly readers = new Set<FileHandle>();

  constructor(
    readonly node: IpfsNode,
    spec: Omit<MfsGuestSpec, 'kind'>,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.root = posix.normalize(spec.path || '/');
    this.name = `mfs ${this.root}`;
    this.backend = node.mfs();
    this.health = node.health;
    this.uid = spec.uid ?? process.getuid?.() ?? 0;
    this.gid = spec.gid ?? process.getgid?.() ?? 0;
    this.blocks = new BlockCache((cid, sizeHint, signal, alloc) => this.node.block(cid, { signal, sizeHint, alloc }));
    this.puts = new PutQueue((items, o) => this.backend.putFiles(items, o), (fn) => this.pending.exclusive(fn));
  }

  private mfsPath(p: string): string {
    if (typeof p !== 'string' || !p.startsWith('/')) throw new FsError('InvalidItem', `expected an absolute guest path, got ${JSON.stringify(p)}`);
    // UnixFS names are text: no node has a name that is not UTF-8 (and the RPC could not carry one).
    if (hasRawBytes(p)) throw new FsError('NotExist', `${JSON.stringify(p)}: no such file (MFS names are UTF-8)`);
    return posix.join(this.root, p);
  }

  /**
   * The MFS path of a new name: refused when longer than 255 bytes, like every Linux file
   * system, or when its bytes are not UTF-8 (sys/byteNames.ts): UnixFS names are text.
   */
  private newPath(p: string): string {
    if (hasRawBytes(p)) throw notText(posix.basename(p));
    const mp = this.mfsPath(p);
    if (Buffer.byteLength(posix.basename(mp)) > NAME_MAX) throw new FsError('NameTooLong', `${posix.basename(mp).slice(0, 40)}…: names are at most ${NAME_MAX} bytes`);
    return mp;
  }

  private async stat(cid: string, opts: CallOpts): Promise<IpfsStat> {
    let p = this.stats.get(cid);
    if (!p) {
      p = this.node.stat(cid, opts);
      this.stats.set(cid, p);
      p.catch(() => this.stats.delete(cid));
    }
    return await p;
  }

  /** The node at an MFS path, or undefined when nothing is there. */
  private async lookup(mp: string, opts: CallOpts): Promise<IpfsStat | undefined> {
    try {
      return await this.stat(await this.backend.cidOf(mp, opts), opts);
    } catch (err) {
      if (err instanceof FsError && err.kind === 'NotExist') return undefined;
      throw err;
    }
  }

  private async need(mp: string, opts: CallOpts): Promise<IpfsStat> {
    const s = await this.lookup(mp, opts);
    if (!s) throw new FsError('NotExist', `${mp}: no such file or folder in MFS`);
    return s;
  }

  private attrOf(s: IpfsStat, mp: string): Attr {
    const mtime = s.mtimeMs ?? this.mountedAt;
    const base = { uid: this.uid, gid: this.gid, ino: mp === this.root ? 1 : inoOf(`mfs:${mp}`), mtime, atime: mtime, ctime: mtime, immutable: false };
    switch (s.type) {
      case 'dir':
        return { ...base, type: 'dir', mode: s.mode ?? DEFAULT_DIR_MODE, size: 0, nlink: 2 };
      case 'file':
        return { ...base, type: 'file', mode: s.mode ?? DEFAULT_FILE_MODE, size: s.size, nlink: 1 };
      case 'symlink':
        return { ...base, type: 'symlink', mode: 0o777, size: s.size, nlink: 1 };
      default: {
        const never: never = s.type;
        throw new FsError('InvalidItem', `unknown node type ${String(never)}`);
      }
    }
  }

  private openAttr(f: OpenFile, mp: string): Attr {
    return { type: 'file', mode: f.mode ?? DEFAULT_FILE_MODE, size: f.size, nlink: 1, uid: this.uid, gid: this.gid, ino: inoOf(`mfs:${mp}`), mtime: f.mtime, atime: f.mtime, ctime: f.mtime, immutable: false };
  }

  // ---- reading ----

  async getattr(path: string, opts: CallOpts): Promise<Attr> {
    const mp = this.mfsPath(path);
    // a file being written, or closed and waiting for its put: what it will be in MFS
    const f = this.pending.fileAt(mp);
    if (f && !f.orphaned) return this.openAttr(f, mp);
    if (this.fresh.absent(mp)) throw new FsError('NotExist', `${mp}: no such file or folder in MFS`);
    return this.attrOf(await this.need(mp, opts), mp);
  }

  async *readdir(path: string, opts: CallOpts): AsyncIterable<DirEntry> {
    const mp = this.mfsPath(path);
    // A closed file waiting for its put is in neither `writing` nor (yet) the folder node:
    // list the folder once those puts are in.
    await this.pending.settledIn(mp);
    // Files not in MFS now (open, or closed since and queued): one whose put lands while the
    // node lists the folder is missing from the listing taken, so it is listed from here.
    const pending = this.pending.files().filter(([p]) => posix.dirname(p) === mp);
    const dir = await this.need(mp, opts);
    if (dir.type !== 'dir') throw new FsError('NotDir', `${path} is not a folder`);
    const seen = new Set<string>();
    for await (const e of this.node.ls(dir.cid, opts)) {
      const child = posix.join(mp, e.name);
      seen.add(e.name);
      const f = this.pending.writing.get(child);
      yield { name: e.name, attr: f ? this.openAttr(f, child) : this.attrOf(e, child) };
    }
    // files created and not yet in MFS (open, or closed and waiting for their put)
    for (const [p, f] of [...pending, ...this.pending.files()]) {
      const name = posix.basename(p);
      if (posix.dirname(p) === mp && f.path === p && !seen.has(name) && !f.orphaned) {
        seen.add(name);
        yield { name, attr: this.openAttr(f, p) };
      }
    }
  }

  async open(path: string, flags: OpenFlags, opts: CallOpts): Promise<FileHandle> {
    const mp = this.mfsPath(path);
    let f = this.pending.writing.get(mp);
    if (!f) await this.pending.settled(mp);
    f = this.pending.writing.get(mp);
    if (f) {
      const h = f.handle(this.describe(mp));
      if (flags.truncate) await h.truncate!(0, opts);
      return h;
    }
    const s = await this.need(mp, opts);
    if (s.type === 'dir') throw new FsError('IsDir', `${path} is a folder`);
    if (!flags.write && !flags.truncate) {
      const h: IpfsFileHandle = new IpfsFileHandle(s.cid, s.size, this.blocks, () => this.readers.delete(h));
      this.readers.add(h);
      // Its bytes are the CID's whatever happens to the name: a reader keeps them (and its
      // fstat) after an unlink, as on a disk; no links once the name is known gone.
      const a = this.attrOf(s, mp);
      h.getattr = async () => ({ ...a, nlink: this.fresh.absent(mp) ? 0 : 1 });
      return h;
    }
    return (await this.openForWrite(mp, s, !flags.truncate, opts)).handle(this.describe(mp));
  }

  /** An open file's attributes from what it holds (its handle's getattr), numbered as the path it was opened by. */
  private describe(mp: string): (f: OpenFile) => Attr {
    return (f) => this.openAttr(f, mp);
  }

  /** Starts buffering `mp`: empty, or (`keep`) with the bytes of `current`, what MFS holds there now. */
  private async openForWrite(mp: string, current: IpfsStat | undefined, keep: boolean, opts: CallOpts): Promise<OpenFile> {
    const dir = await (this.cacheDir ??= (async () => {
      const base = mfsCacheDir(this.env);
      await mkdir(base, { recursive: true, mode: 0o700 });
      return await mkdtemp(join(base, 'm-'));
    })());
    const content = keep && current && current.size > 0 ? this.node.cat(current.cid, { signal: opts.signal }) : undefined;
    const f = await OpenFile.create(mp, dir, ++this.seq, (p, item, urgent) => this.puts.put(p, item, urgent), (done, finished) => this.forget(done, finished), content);
    f.isNew = current === undefined;
    // a rewrite keeps the mode the file had (git's 0444 objects stay 0444), and a stored
    // mtime moves on with each write instead of being dropped
    if (current?.mode !== undefined) f.mode = current.mode;
    if (current?.mtimeMs !== undefined) f.keepMtime = true;
    // a file that existed and was opened without O_TRUNC is only put once written
    if (current && keep) f.dirty = false;
    const raced = this.pending.writing.get(mp);
    if (raced) {
      // another open won meanwhile: use its buffer (one per path)
      void f.handle(this.describe(mp)).close();
      return raced;
    }
    this.pending.writing.set(mp, f);
    return f;
  }

  /** The last handle of `f` closed: its put is under way; nobody waits for a release, so a failure is said where the mount's output goes. */
  private forget(f: OpenFile, finished: Promise<void>): void {
    this.pending.closed(f, finished, (err) => console.error(`berth: ${this.name}: ${f.path} could not be saved to MFS: ${toFsError(err).message}`));
  }

  async readlink(path: string, opts: CallOpts): Promise<string> {
    const s = await this.need(this.mfsPath(path), opts);
    if (s.type !== 'symlink') throw new FsError('InvalidItem', `${path} is not a symlink`);
    return s.target ?? '';
  }

  async statfs(opts: CallOpts): Promise<StatFs> {
    const blockSize = 4096;
    const value: StatFs = { blockSize, blocks: 0, blocksFree: 0, blocksAvail: 0, files: 0, filesFree: 0, nameMax: 255 };
    try {
      const s = await this.node.repoStat({ signal: AbortSignal.any([opts.signal, AbortSignal.timeout(2000)]) });
      const free = s.storageMax > s.repoSize ? Math.floor((s.storageMax - s.repoSize) / blockSize) : 0;
      return { ...value, blocks: Math.ceil(Math.max(s.storageMax, s.repoSize) / blockSize), blocksFree: free, blocksAvail: free, files: s.numObjects, filesFree: 1_000_000 };
    } catch {
      return value;
    }
  }

  async getxattr(path: string, name: string, opts: CallOpts): Promise<Uint8Array | undefined> {
    if (name !== CID_XATTR) return undefined;
    const mp = this.mfsPath(path);
    // the CID of what is in MFS: pending bytes are flushed first, and for a folder the
    // puts of files closed below it (they are in the folder for everyone else too)
    await this.pending.writing.get(mp)?.flush(opts);
    await this.pending.settledBelow(mp);
    return new TextEncoder().encode(await this.backend.cidOf(mp, opts));
  }

  async listxattr(): Promise<string[]> {
    return [CID_XATTR];
  }

  // ---- writing ----

  async create(path: string, mode: number, opts: CallOpts): Promise<FileHandle> {
    const mp = this.newPath(path);
    // no parent check here: the host looked the parent up to get here, and the put on
    // close fails (and says so) if it went away meanwhile; one RPC less per new file
    let f = this.pending.writing.get(mp);
    if (!f) await this.pending.settled(mp);
    f = this.pending.writing.get(mp);
    if (!f) {
      f = await this.openForWrite(mp, undefined, false, opts);
      f.mode = mode & 0o7777;
      this.fresh.added(mp);
    }
    return f.handle(this.describe(mp));
  }

  async mkdir(path: string, mode: number, opts: CallOpts): Promise<void> {
    const mp = this.newPath(path);
    await this.pending.afterPuts([mp], [], async () => {
      await this.backend.mkdir(mp, opts);
      this.fresh.made(mp);
      if ((mode & 0o7777) !== DEFAULT_DIR_MODE) await this.backend.chmod(mp, mode & 0o7777, opts);
    });
  }

  async symlink(target: string, path: string, opts: CallOpts): Promise<void> {
    const mp = this.newPath(path);
    if (hasRawBytes(target)) throw notText(target);
    await this.pending.afterPuts([mp], [], async () => {
      if (this.pending.writing.has(mp)) throw new FsError('Exist', `${path} exists`);
      await this.backend.symlink(target, mp, opts);
      this.fresh.added(mp);
    });
  }

  async unlink(path: string, opts: CallOpts): Promise<void> {
    const mp = this.mfsPath(path);
    await this.pending.afterPuts([mp], [], async () => {
      const f = this.pending.writing.get(mp);
      const s = await this.lookup(mp, opts);
      if (s?.type === 'dir') throw new FsError('IsDir', `${path} is a folder`);
      if (!s && !f) throw new FsError('NotExist', `${path}: no such file`);
      if (f) {
        // still open: its bytes go nowhere now
        f.orphaned = true;
        this.pending.writing.delete(mp);
      }
      if (s) await this.backend.rm(mp, opts);
      this.fresh.removed(mp);
    });
  }

  async rmdir(path: string, opts: CallOpts): Promise<void> {
    const mp = this.mfsPath(path);
    if (mp === this.root) throw new FsError('InvalidOperation', 'the mount root cannot be removed');
    await this.pending.afterPuts([], [mp], async () => {
      const s = await this.need(mp, opts);
      if (s.type !== 'dir') throw new FsError('NotDir', `${path} is not a folder`);
      for await (const _ of this.node.ls(s.cid, opts)) throw new FsError('NotEmpty', `${path} is not empty`);
      for (const p of this.pending.writing.keys()) if (posix.dirname(p) === mp) throw new FsError('NotEmpty', `${path} is not empty`);
      await this.backend.rm(mp, opts);
      this.fresh.removed(mp);
    });
  }

  async rename(from: string, to: string, opts: CallOpts): Promise<void> {
    const src = this.mfsPath(from);
    const dst = this.newPath(to);
    if (src === dst) return;
    if (dst.startsWith(`${src}/`)) throw new FsError('InvalidItem', `cannot move ${from} into itself`);
    // a file written and not yet flushed gets into MFS first (its bytes move with it)
    const pending = this.pending.writing.get(src);
    if (pending) await pending.flush(opts);
    // Files closing at or below either name are not in MFS yet: a folder moved before its
    // child's put lands would leave the child behind, and a folder would count as empty
    // while a file in it waits for its put (a rename over it then lost the file).
    await this.pending.afterPuts([], [src, dst], async () => {
      const s = await this.need(src, opts);
      const d = await this.lookup(dst, opts);
      if (d) {
        if (d.type === 'dir' && s.type !== 'dir') throw new FsError('IsDir', `${to} is a folder`);
        if (d.type !== 'dir' && s.type === 'dir') throw new FsError('NotDir', `${to} is not a folder`);
        if (d.type === 'dir') for await (const _ of this.node.ls(d.cid, opts)) throw new FsError('NotEmpty', `${to} is not empty`);
        if (d.type === 'dir') for (const p of this.pending.writing.keys()) if (posix.dirname(p) === dst) throw new FsError('NotEmpty', `${to} is not empty`);
      }
      const replaced = this.pending.writing.get(dst);
      if (replaced) {
        replaced.orphaned = true;
        this.pending.writing.delete(dst);
      }
      await this.backend.mv(src, dst, opts);
      // what was known of either folder (a folder moved over an empty one) is stale now
      this.fresh.removed(src);
      this.fresh.removed(dst);
      this.fresh.added(dst);
      const moving = this.pending.writing.get(src);
      if (moving) {
        this.pending.writing.delete(src);
        moving.path = dst;
        this.pending.writing.set(dst, moving);
      }
    });
  }

  async setattr(path: string, attr: SetAttr, opts: CallOpts): Promise<void> {
    const mp = this.mfsPath(path);
    if (attr.size !== undefined) {
      const h = await this.open(path, { write: true }, opts);
      try {
        await h.truncate!(attr.size, opts);
      } finally {
        await h.close();
      }
    }
    if (attr.mode === undefined && attr.mtime === undefined) return;
    const mode = attr.mode === undefined ? undefined : attr.mode & 0o7777;
    // A file whose bytes are still to be put (written and open, or closed and queued):
    // the metadata goes in with them, no RPC now (tar sets mtime and mode on every file
    // it writes; cp -p and rsync set the mtime of theirs).
    const pending = this.pending.fileAt(mp);
    if (pending && !pending.orphaned && (pending.dirty || pending.queued)) {
      if (mode !== undefined) pending.mode = mode;
      if (attr.mtime !== undefined) {
        pending.mtime = attr.mtime;
        pending.keepMtime = true;
      }
      return;
    }
    // metadata lives in the UnixFS node: a put under way finishes first
    await this.pending.writing.get(mp)?.flush(opts);
    await this.pending.settled(mp);
    await this.pending.exclusive(async () => {
      const now = await this.need(mp, opts);
      // tar and cp -p set the mode a new file already has: no RPC for that
      if (mode !== undefined && mode !== (now.mode ?? (now.type === 'dir' ? DEFAULT_DIR_MODE : DEFAULT_FILE_MODE))) {
        await this.backend.chmod(mp, mode, opts);
        const open = this.pending.writing.get(mp);
        if (open) open.mode = mode;
      }
      if (attr.mtime !== undefined) {
        await this.backend.touch(mp, attr.mtime, opts);
        // a file kept open (the NFS server keeps handles) shows the time just set, and
        // its next put keeps storing one
        const open = this.pending.writing.get(mp);
        if (open) {
          open.mtime = attr.mtime;
          open.keepMtime = true;
        }
      }
    });
    // uid/gid: MFS stores no owners; every entry shows the mount's owner
  }

  async close(): Promise<void> {
    await Promise.all([...this.readers].map((h) => h.close()));
    // files still open when the host goes: their bytes are put before the guest closes
    await Promise.allSettled([...this.pending.writing.values()].map((f) => f.flush({ signal: AbortSignal.timeout(60_000) })));
    await this.pending.settledAll();
    this.blocks.clear();
    const dir = this.cacheDir ? await this.cacheDir.catch(() => undefined) : undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    await this.node.close();
  }
}

/** Opens an mfs guest on `node`. */
export function mfsGuestOn(node: IpfsNode, spec: Omit<MfsGuestSpec, 'kind'>, env?: NodeJS.ProcessEnv): Vfs {
  return new MfsGuest(node, spec, env);
}

/** Opens the mfs guest a spec describes. */
export async function openMfsGuest(spec: MfsGuestSpec, ctx: NodeContext = {}): Promise<Vfs> {
  // MFS folders change with every write: listings kept by CID would only pile up (issue 11)
  return new MfsGuest(await connectNode(spec.node, { ...ctx, listingCacheMaxBytes: 0 }), spec, ctx.env);
}
