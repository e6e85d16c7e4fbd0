import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { NfsGuestSchema } from '../../src-shared/mountSpec.ts';
import { MultiaddrError, parseMultiaddr } from '../../src-shared/multiaddr.ts';
import { FsError } from '../vfs/FsError.ts';
import type { Attr, CallOpts, DirEntry, FileHandle, OpenFlags, SetAttr, SpecialType, StatFs, Vfs } from '../vfs/types.ts';
import type { Fattr3 } from '../nfs/nfs3/attrs.ts';
import { Ftype3 } from '../nfs/nfs3/constants.ts';
import { NfsClient, type PlusEntry } from '../nfs/client/NfsClient.ts';
import { isStale, NfsFile } from '../nfs/client/NfsFile.ts';
import { flatten } from '../vfs/listing.ts';
import { PathHandles } from './nfsHandles.ts';
import { parentOf } from '../vfs/pathNames.ts';

// The NFS guest: an NFSv3 server's export as a Vfs. Calls go out pipelined on one
// connection (NfsClient), handles are looked up once per path and cached, and a handle
// the server calls stale (it restarted, or the node was replaced) is looked up again
// from the export root and the call retried once. A file open here whose name is removed
// (unlink, or a rename over it) is renamed to a hidden name instead and removed at its last
// close, as the kernel's NFS client does ("silly rename"): NFSv3 has no open state, so a
// server frees a removed file at once, and the open file's reads, writes and fstat would fail.

/** The nfs guest spec (src-shared/mountSpec.ts). */
export type NfsGuestSpec = z.infer<typeof NfsGuestSchema>;

/** Options the spec does not carry. */
export interface NfsGuestOptions {
  /** MOUNT's port, overriding the spec's mountPort; when neither is set the portmapper is asked. */
  mountPort?: number;
  /** Bounds mounting; default the spec's timeout or 30 s. */
  signal?: AbortSignal;
}

/** Handles cached by path. */
const MAX_CACHED_HANDLES = 50_000;
/** Largest READ/WRITE we issue even when the server allows more. */
const MAX_IO = 1024 * 1024;

function toAttr(a: Fattr3): Attr {
  const out: Attr = { type: a.type, mode: a.mode, size: a.size, blocks: a.blocks, nlink: a.nlink, uid: a.uid, gid: a.gid, ino: a.ino, mtime: a.mtime, atime: a.atime, ctime: a.ctime, atimeNs: a.atimeNs, mtimeNs: a.mtimeNs, ctimeNs: a.ctimeNs };
  if (a.rdev !== undefined) out.rdev = a.rdev;
  return out;
}

function split(path: string): { parent: string; name: string } {
  const i = path.lastIndexOf('/');
  const name = path.slice(i + 1);
  if (!name) throw new FsError('InvalidItem', `${path}: expected a path below the root`);
  return { parent: parentOf(path), name };
}

/** A file open through the guest: the name it is reached by now (a hidden one once removed while open). */
interface OpenName {
  path: string;
  /** Renamed away from its name by an unlink or a rename over it: removed at the last close. */
  hidden: boolean;
}

/** An NFSv3 export as a guest. */
export class NfsGuest implements Vfs {
  readonly readOnly = false;
  /**
   * NFSv3 has no extended attributes. Said once, the FUSE host answers ENOSYS and the kernel
   * stops asking `security.capability` before every write (9,780 of the ~41,000 requests
   * of an untar of 2,619 entries through `berth mount fuse nfs`).
   */
  readonly noXattrs = true;
  private readonly handles = new PathHandles(MAX_CACHED_HANDLES);
  /** Files open through this guest, by the path they are reached by (OpenName). */
  private readonly opened = new Map<string, Set<OpenName>>();
  private rsize = 128 * 1024;
  private wsize = 128 * 1024;

  private constructor(
    readonly name: string,
    private readonly client: NfsClient,
    private readonly exportPath: string,
    private readonly linkSeparator: string,
  ) {}

  /** Connects, mounts the export and reads the server's transfer sizes. */
  static async open(spec: NfsGuestSpec, opts: NfsGuestOptions = {}): Promise<NfsGuest> {
    const signal = opts.signal ?? AbortSignal.timeout(spec.timeoutMs ?? 30_000);
    let addr;
    try {
      addr = parseMultiaddr(spec.server);
    } catch (err) {
      throw new FsError('InvalidItem', err instanceof MultiaddrError ? err.message : String(err));
    }
    if (addr.kind !== 'tcp') throw new FsError('InvalidItem', `nfs server ${spec.server}: expected /ip4/<address>/tcp/<port>`);
    const client = new NfsClient({
      host: addr.host,
      port: addr.port,
      ...((opts.mountPort ?? spec.mountPort) !== undefined ? { mountPort: opts.mountPort ?? spec.mountPort } : {}),
      cred: { uid: spec.uid ?? process.getuid?.() ?? 0, gid: spec.gid ?? process.getgid?.() ?? 0, machine: 'berth' },
      timeoutMs: spec.timeoutMs ?? 60_000,
    });
    const exportPath = spec.export ?? '/';
    const guest = new NfsGuest(`nfs ${spec.server}${exportPath}`, client, exportPath, spec.linkSeparator || '/');
    try {
      const root = await client.mount(exportPath, signal);
      guest.handles.setRoot(root);
      const info = await client.fsinfo(root, signal);
      guest.rsize = Math.max(4096, Math.min(info.rtpref || info.rtmax, info.rtmax || MAX_IO, MAX_IO));
      guest.wsize = Math.max(4096, Math.min(info.wtpref || info.wtmax, info.wtmax || MAX_IO, MAX_IO));
    } catch (err) {
      await client.close();
      throw err instanceof FsError ? err : new FsError('IO', `cannot mount ${spec.server}${exportPath}: ${(err as Error).message}`, { cause: err });
    }
    return guest;
  }

  /** The RPC connection's reconnect count (health checks and tests). */
  get reconnects(): number {
    return this.client.rpc.reconnects;
  }

  /** The handle of a path, walking from the nearest cached ancestor. */
  private async resolve(path: string, signal: AbortSignal): Promise<Buffer> {
    const cached = this.handles.get(path);
    if (cached) return cached;
    const { parent, name } = split(path);
    const dir = await this.resolve(parent, signal);
    const { fh } = await this.client.lookup(dir, name, signal);
    this.handles.set(path, fh);
    return fh;
  }

  /** Drops every cached handle and mounts again (the server restarted and forgot them all). */
  private async remount(signal: AbortSignal): Promise<void> {
    this.handles.setRoot(await this.client.mount(this.exportPath, signal));
  }

  /** Runs `fn` on the handle of `path`; on a stale handle, looks the path up afresh and retries once. */
  private async on<T>(path: string, opts: CallOpts, fn: (fh: Buffer) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.resolve(path, opts.signal));
    } catch (err) {
      if (!isStale(err)) throw err;
      await this.remount(opts.signal);
      return fn(await this.resolve(path, opts.signal));
    }
  }

  async getattr(path: string, opts: CallOpts): Promise<Attr> {
    return toAttr(await this.on(path, opts, (fh) => this.client.getattr(fh, opts.signal)));
  }

  readdir(path: string, opts: CallOpts): AsyncIterable<DirEntry> {
    return flatten(this.readdirBatches(path, opts));
  }

  /** The listing a READDIRPLUS page at a time (vfs/listing.ts). */
  async *readdirBatches(path: string, opts: CallOpts): AsyncIterable<readonly DirEntry[]> {
    // The first page proves the handle fresh (a stale one is looked up again once, as `on`
    // does), rather than a GETATTR round trip before every listing.
    const start = async (): Promise<{ pages: AsyncIterator<PlusEntry[]>; first: IteratorResult<PlusEntry[]> }> => {
      const pages = this.client.readdirplusPages(await this.resolve(path, opts.signal), opts.signal)[Symbol.asyncIterator]();
      return { pages, first: await pages.next() };
    };
    let listing;
    try {
      listing = await start();
    } catch (err) {
      if (!isStale(err)) throw err;
      await this.remount(opts.signal);
      listing = await start();
    }
    const base = path === '/' ? '/' : `${path}/`;
    const rest = { [Symbol.asyncIterator]: () => listing.pages };
    const pages = (async function* () {
      if (!listing.first.done) yield listing.first.value;
      yield* rest;
    })();
    for await (const page of pages) {
      const out: DirEntry[] = [];
      for (const e of page) {
        if (e.name === '.' || e.name === '..') continue;
        const child = base + e.name;
        if (e.fh) this.handles.set(child, e.fh);
        e.attr ??= await this.client.getattr(e.fh ?? (await this.resolve(child, opts.signal)), opts.signal);
        // The decoded entry is the DirEntry (its extra fields are harmless): copies per entry showed in the GC.
        out.push(e as DirEntry);
      }
      yield out;
    }
  }


  private file(path: string, fh: Buffer): NfsFile {
    const name: OpenName = { path, hidden: false };
    const reopen = async (signal: AbortSignal): Promise<Buffer> => {
      await this.remount(signal);
      return this.resolve(name.path, signal);
    };
    this.opened.set(path, (this.opened.get(path) ?? new Set()).add(name));
    let closed = false;
    const onClose = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      const all = this.opened.get(name.path);
      all?.delete(name);
      if (all?.size) return;
      this.opened.delete(name.path);
      // The last close of a file removed while open: its hidden name goes now.
      if (name.hidden) {
        await this.inParent(name.path, { signal: AbortSignal.timeout(60_000) }, (dir, n) => this.client.remove(dir, n, undefined)).catch(() => {});
        this.handles.forget(name.path);
      }
    };
    return new NfsFile(this.client, fh, reopen, this.rsize, this.wsize, onClose, () => name.hidden);
  }

  /**
   * Renames the open file at `path` to a hidden name beside it (".berth-removed-<hex>"),
   * where it stays until its last close: what an unlink or a rename over it does instead.
   */
  private async hide(path: string, open: Set<OpenName>, opts: CallOpts): Promise<void> {
    const { parent } = split(path);
    const hidden = `${parent === '/' ? '' : parent}/.berth-removed-${randomBytes(6).toString('hex')}`;
    await this.renameOnServer(path, hidden, opts);
    for (const n of open) {
      n.path = hidden;
      n.hidden = true;
    }
    this.opened.delete(path);
    this.opened.set(hidden, open);
  }

  /** Open files' new names after a rename of them or of a folder above them (an unlink, and a reopen after a stale handle, go by them). */
  private moved(from: string, to: string): void {
    if (this.opened.size === 0) return;
    const prefix = `${from}/`;
    const moving = [...this.opened].filter(([p]) => p === from || p.startsWith(prefix));
    for (const [p] of moving) this.opened.delete(p);
    for (const [p, open] of moving) {
      const now = to + p.slice(from.length);
      for (const n of open) n.path = now;
      this.opened.set(now, open);
    }
  }

  async open(path: string, flags: OpenFlags, opts: CallOpts): Promise<FileHandle> {
    const fh = await this.on(path, opts, async (h) => {
      const a = await this.client.getattr(h, opts.signal);
      if (a.type === 'dir') throw new FsError('IsDir', `${path}: is a folder`);
      if (a.type !== 'file' || a.ftype !== 1) throw new FsError('InvalidOperation', `${path}: not a regular file`);
      if (flags.truncate && a.size !== 0) await this.client.setattr(h, { size: 0 }, opts.signal);
      return h;
    });
    return this.file(path, fh);
  }

  async readlink(path: string, opts: CallOpts): Promise<string> {
    const target = await this.on(path, opts, (fh) => this.client.readlink(fh, opts.signal));
    return this.linkSeparator === '/' ? target : target.split(this.linkSeparator).join('/');
  }

  async statfs(opts: CallOpts): Promise<StatFs> {
    const s = await this.on('/', opts, (fh) => this.client.fsstat(fh, opts.signal));
    const bs = 4096;
    return {
      blockSize: bs,
      blocks: Math.floor(s.tbytes / bs),
      blocksFree: Math.floor(s.fbytes / bs),
      blocksAvail: Math.floor(s.abytes / bs),
      files: s.tfiles,
      filesFree: s.ffiles,
      nameMax: 255,
    };
  }

  async getxattr(path: string, _name: string, opts: CallOpts): Promise<Uint8Array | undefined> {
    await this.getattr(path, opts); // NFSv3 has no extended attributes; the node must still exist
    return undefined;
  }

  async listxattr(path: string, opts: CallOpts): Promise<string[]> {
    await this.getattr(path, opts);
    return [];
  }

  /** Runs a directory operation on the parent of `path` (retried once on a stale parent). */
  private inParent<T>(path: string, opts: CallOpts, fn: (dir: Buffer, name: string) => Promise<T>): Promise<T> {
    const { parent, name } = split(path);
    return this.on(parent, opts, (dir) => fn(dir, name));
  }

  async create(path: string, mode: number, opts: CallOpts): Promise<FileHandle> {
    const made = await this.inParent(path, opts, (dir, name) => this.client.create(dir, name, mode & 0o7777, opts.signal));
    this.handles.forget(path);
    const fh = made?.fh ?? (await this.resolve(path, opts.signal));
    this.handles.set(path, fh);
    const f = this.file(path, fh);
    if (made?.attr) f.madeAttr = toAttr(made.attr);
    return f;
  }

  async mkdir(path: string, mode: number, opts: CallOpts): Promise<Attr | undefined> {
    const made = await this.inParent(path, opts, (dir, name) => this.client.mkdir(dir, name, mode & 0o7777, opts.signal));
    this.handles.forget(path);
    if (made) this.handles.set(path, made.fh);
    return made?.attr && toAttr(made.attr);
  }

  async symlink(target: string, path: string, opts: CallOpts): Promise<void> {
    const wire = this.linkSeparator === '/' ? target : target.split('/').join(this.linkSeparator);
    await this.inParent(path, opts, (dir, name) => this.client.symlink(dir, name, wire, opts.signal));
    this.handles.forget(path);
  }

  async link(target: string, path: string, opts: CallOpts): Promise<void> {
    const file = await this.resolve(target, opts.signal);
    await this.inParent(path, opts, (dir, name) => this.client.link(file, dir, name, opts.signal));
    this.handles.forget(path);
    this.handles.forget(target);
  }

  async mknod(path: string, type: SpecialType, mode: number, rdev: number, opts: CallOpts): Promise<void> {
    const ftype = { fifo: Ftype3.FIFO, socket: Ftype3.SOCK, char: Ftype3.CHR, block: Ftype3.BLK }[type];
    const dev = type === 'char' || type === 'block' ? { major: (rdev & 0xfff00) >>> 8, minor: (rdev & 0xff) | ((rdev >>> 12) & 0xfff00) } : undefined;
    await this.inParent(path, opts, (dir, name) => this.client.mknod(dir, name, ftype, mode & 0o7777, dev, opts.signal));
    this.handles.forget(path);
  }

  async unlink(path: string, opts: CallOpts): Promise<void> {
    const open = this.opened.get(path);
    if (open?.size) return this.hide(path, open, opts);
    await this.inParent(path, opts, (dir, name) => this.client.remove(dir, name, opts.signal));
    this.handles.forget(path);
  }

  async rmdir(path: string, opts: CallOpts): Promise<void> {
    await this.inParent(path, opts, (dir, name) => this.client.rmdir(dir, name, opts.signal));
    this.handles.forget(path);
  }

  async rename(from: string, to: string, opts: CallOpts): Promise<void> {
    // A file open at the target is hidden first: the rename would remove it.
    const replaced = from === to ? undefined : this.opened.get(to);
    if (replaced?.size) await this.hide(to, replaced, opts);
    await this.renameOnServer(from, to, opts);
    this.moved(from, to);
  }

  /** RENAME on the server, retried once after a stale handle, and the cached handles of both names forgotten. */
  private async renameOnServer(from: string, to: string, opts: CallOpts): Promise<void> {
    const a = split(from);
    const b = split(to);
    const run = async (): Promise<void> => {
      const [fromDir, toDir] = await Promise.all([this.resolve(a.parent, opts.signal), this.resolve(b.parent, opts.signal)]);
      await this.client.rename(fromDir, a.name, toDir, b.name, opts.signal);
    };
    try {
      await run();
    } catch (err) {
      if (!isStale(err)) throw err;
      await this.remount(opts.signal);
      await run();
    }
    this.handles.forget(from);
    this.handles.forget(to);
  }

  async setattr(path: string, attr: SetAttr, opts: CallOpts): Promise<Attr | undefined> {
    const after = await this.on(path, opts, (fh) => this.client.setattr(fh, attr, opts.signal));
    return after && toAttr(after);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Opens an nfs guest from its spec. */
export function openNfsGuest(spec: NfsGuestSpec): Promise<NfsGuest> {
  return NfsGuest.open(spec);
}
