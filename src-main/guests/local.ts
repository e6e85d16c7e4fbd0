import { constants as C, existsSync, lstat, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FsErrorKind } from '../../src-shared/errors.ts';
import type { LocalGuestSchema } from '../../src-shared/mountSpec.ts';
import { FsError, toFsError } from '../vfs/FsError.ts';
import type { Attr, CallOpts, DirEntry, FileHandle, NodeType, OpenFlags, SetAttr, StatFs, Vfs } from '../vfs/types.ts';
import type { z } from 'zod';
import { LocalFile } from './localFile.ts';

// A folder on this machine as a guest. The one promise it keeps: nothing reached through
// it lies outside the folder. Paths are checked component by component (no "..", ".",
// "/" or NUL), every call uses lstat semantics, and on Linux each call first opens the
// parent folder and proves through /proc/self/fd where that open landed, then works
// relative to that descriptor ("/proc/self/fd/N/name" acts like openat). A symlink swapped
// in for a folder between two calls can therefore never lead outside.

/** The local guest spec after schema defaults. */
export type LocalGuestSpec = z.infer<typeof LocalGuestSchema>;

/** The one table from Node's errno codes to error kinds; anything else is IO. */
const NODE_CODE_KIND: Record<string, FsErrorKind> = {
  ENOENT: 'NotExist',
  EEXIST: 'Exist',
  ENOTDIR: 'NotDir',
  EISDIR: 'IsDir',
  ENOTEMPTY: 'NotEmpty',
  EACCES: 'Permission',
  EPERM: 'Permission',
  EROFS: 'ReadOnly',
  ELOOP: 'Recursion',
  EINVAL: 'InvalidItem',
  ENAMETOOLONG: 'InvalidItem',
  EXDEV: 'InvalidOperation',
  ENOSYS: 'InvalidOperation',
  ENOTSUP: 'InvalidOperation',
  EOPNOTSUPP: 'InvalidOperation',
  EBADF: 'Closed',
  ETIMEDOUT: 'Timeout',
  ABORT_ERR: 'Timeout',
};

/** Converts a Node fs error into an FsError naming the guest path (never the host path). */
export function fromNode(err: unknown, path: string): FsError {
  if (err instanceof FsError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const kind = NODE_CODE_KIND[code] ?? 'IO';
  return new FsError(kind, `${path}: ${code || (err instanceof Error ? err.message : String(err))}`, { cause: err });
}

/** Linux's O_PATH: a descriptor naming a node without opening its content (not in Node's constants). */
const O_PATH = 0o10000000;
const HAS_PROC_FD = process.platform === 'linux' && existsSync('/proc/self/fd');
/** Entries of one folder lstat-ed per listing step (bounds memory for huge folders). */
const READDIR_BATCH = 256;
/** lstat calls kept in flight while listing. */
const LSTAT_WINDOW = 64;

/**
 * lstat of every name in `dir` (undefined for a name that vanished), LSTAT_WINDOW at a
 * time. Callback lstat, not fs/promises: measured here, a promise per call cost ~2x the
 * main-thread CPU, and listing big folders is all lstat.
 */
function lstatAll(dir: string, names: readonly string[]): Promise<(Stats | undefined)[]> {
  const out = new Array<Stats | undefined>(names.length);
  if (names.length === 0) return Promise.resolve(out);
  return new Promise((resolve) => {
    let next = 0;
    let done = 0;
    const start = (): void => {
      const i = next++;
      lstat(`${dir}/${names[i]}`, (err, st) => {
        out[i] = err ? undefined : st;
        if (++done === names.length) resolve(out);
        else if (next < names.length) start();
      });
    };
    for (let k = 0; k < LSTAT_WINDOW && next < names.length; k++) start();
  });
}

/** Splits a guest path into checked components; "/" is []. */
export function splitGuestPath(path: string): string[] {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new FsError('InvalidItem', `expected an absolute guest path, got ${JSON.stringify(String(path).slice(0, 100))}`);
  }
  if (path === '/') return [];
  const parts = path.slice(1).split('/');
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..' || p.includes('\0')) {
      throw new FsError('InvalidItem', `bad path component ${JSON.stringify(p)} in ${JSON.stringify(path.slice(0, 200))}`);
    }
  }
  return parts;
}

function nodeType(st: Stats): NodeType {
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  // Fifos, sockets and devices are shown as empty files that cannot be opened.
  return 'file';
}

/** A folder being listed or changed: `ref` names it for path-based calls; release() frees it. */
interface DirRef {
  ref: string;
  release(): Promise<void>;
}

/** Read-write (or read-only) view of one local folder. */
export class LocalGuest implements Vfs {
  readonly name: string;
  readonly readOnly: boolean;
  private closed = false;

  private constructor(
    /** The folder's real path (symlinks resolved once at open). */
    private readonly root: string,
    readOnly: boolean,
    private readonly uid: number | undefined,
    private readonly gid: number | undefined,
  ) {
    this.name = `local ${root}`;
    this.readOnly = readOnly;
  }

  /** Opens a folder; fails when it is missing or not a folder. */
  static async open(spec: LocalGuestSpec): Promise<LocalGuest> {
    let real: string;
    try {
      real = await fsp.realpath(spec.path);
    } catch (err) {
      throw fromNode(err, spec.path);
    }
    const st = await fsp.stat(real).catch((err: unknown) => {
      throw fromNode(err, spec.path);
    });
    if (!st.isDirectory()) throw new FsError('NotDir', `${spec.path} is not a folder`);
    return new LocalGuest(real, spec.readOnly ?? false, spec.uid, spec.gid);
  }

  private toAttr(st: Stats): Attr {
    return {
      type: nodeType(st),
      mode: st.mode & 0o7777,
      size: st.isFile() || st.isSymbolicLink() ? st.size : st.isDirectory() ? st.size : 0,
      nlink: st.nlink,
      uid: this.uid ?? st.uid,
      gid: this.gid ?? st.gid,
      ino: st.ino,
      mtime: st.mtimeMs,
      atime: st.atimeMs,
      ctime: st.ctimeMs,
    };
  }

  private check(opts: CallOpts): void {
    if (this.closed) throw new FsError('Closed', `${this.name} is closed`);
    if (opts.signal.aborted) throw toFsError(opts.signal.reason);
  }

  private writable(path: string): void {
    if (this.readOnly) throw new FsError('ReadOnly', `${path}: ${this.name} is read-only`);
  }

  /**
   * Opens the folder at `parts` and proves it lies inside the root. On Linux the returned
   * ref is the descriptor's /proc path, so later calls cannot be redirected by a rename.
   */
  private async dir(parts: string[], guestPath: string): Promise<DirRef> {
    const lexical = parts.length ? `${this.root}/${parts.join('/')}` : this.root;
    if (!HAS_PROC_FD) {
      // Without /proc, compare the real path: an intermediate symlink makes it differ.
      let real: string;
      try {
        real = await fsp.realpath(lexical);
      } catch (err) {
        throw fromNode(err, guestPath);
      }
      if (real !== lexical) throw new FsError('NotDir', `${guestPath}: a component is a symlink`);
      return { ref: lexical, release: async () => {} };
    }
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(lexical, O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // O_NOFOLLOW on the last component answers ELOOP for a symlink: it is not a folder.
      if (code === 'ELOOP') throw new FsError('NotDir', `${guestPath}: is a symlink, not a folder`, { cause: err });
      throw fromNode(err, guestPath);
    }
    const ref = `/proc/self/fd/${fh.fd}`;
    let where: string;
    try {
      where = await fsp.readlink(ref);
    } catch (err) {
      await fh.close();
      throw fromNode(err, guestPath);
    }
    // An intermediate symlink (even one pointing back inside) shows up as a different path.
    if (where !== lexical) {
      await fh.close();
      throw new FsError('NotDir', `${guestPath}: a component is a symlink or moved while in use`);
    }
    return { ref, release: () => fh.close() };
  }

  /** Runs fn with the parent folder of `path` and the last component's name. */
  private async inParent<T>(path: string, fn: (dir: string, name: string) => Promise<T>): Promise<T> {
    const parts = splitGuestPath(path);
    const name = parts.pop();
    if (name === undefined) throw new FsError('InvalidOperation', `${path}: not allowed on the root`);
    const d = await this.dir(parts, path);
    try {
      return await fn(d.ref, name);
    } catch (err) {
      throw fromNode(err, path);
    } finally {
      await d.release();
    }
  }

  async getattr(path: string, opts: CallOpts): Promise<Attr> {
    this.check(opts);
    if (path === '/') return this.toAttr(await fsp.lstat(this.root).catch((e: unknown) => Promise.reject(fromNode(e, path))));
    return this.inParent(path, async (dir, name) => this.toAttr(await fsp.lstat(`${dir}/${name}`)));
  }

  async *readdir(path: string, opts: CallOpts): AsyncIterable<DirEntry> {
    this.check(opts);
    const d = await this.dir(splitGuestPath(path), path);
    try {
      let names: string[];
      try {
        names = await fsp.readdir(d.ref);
      } catch (err) {
        throw fromNode(err, path);
      }
      names.sort();
      for (let i = 0; i < names.length; i += READDIR_BATCH) {
        if (opts.signal.aborted) throw toFsError(opts.signal.reason);
        const batch = names.slice(i, i + READDIR_BATCH);
        const stats = await lstatAll(d.ref, batch);
        for (let j = 0; j < batch.length; j++) {
          const st = stats[j];
          // An entry removed between readdir and lstat is simply not listed.
          if (st) yield { name: batch[j] as string, attr: this.toAttr(st) };
        }
      }
    } finally {
      await d.release();
    }
  }

  async open(path: string, flags: OpenFlags, opts: CallOpts): Promise<FileHandle> {
    this.check(opts);
    if (flags.write || flags.truncate) this.writable(path);
    let mode = flags.write ? C.O_RDWR : C.O_RDONLY;
    if (flags.truncate) mode |= C.O_TRUNC | (flags.write ? 0 : C.O_RDWR);
    return this.inParent(path, (dir, name) => this.openAt(`${dir}/${name}`, mode, 0, path));
  }

  /** Opens a regular file without following a final symlink or blocking on a fifo. */
  private async openAt(p: string, flags: number, mode: number, guestPath: string): Promise<FileHandle> {
    const fh = await fsp.open(p, flags | C.O_NOFOLLOW | C.O_NONBLOCK, mode);
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw new FsError('IsDir', `${guestPath}: is a folder`);
      if (!st.isFile()) throw new FsError('InvalidOperation', `${guestPath}: not a regular file`);
    } catch (err) {
      await fh.close();
      throw fromNode(err, guestPath);
    }
    return new LocalFile(fh, guestPath, !this.readOnly);
  }

  async readlink(path: string, opts: CallOpts): Promise<string> {
    this.check(opts);
    return this.inParent(path, (dir, name) => fsp.readlink(`${dir}/${name}`));
  }

  async statfs(opts: CallOpts): Promise<StatFs> {
    this.check(opts);
    const s = await fsp.statfs(this.root).catch((e: unknown) => Promise.reject(fromNode(e, '/')));
    return {
      blockSize: s.bsize,
      blocks: s.blocks,
      blocksFree: s.bfree,
      blocksAvail: s.bavail,
      files: s.files,
      filesFree: s.ffree,
      nameMax: 255,
    };
  }

  async getxattr(path: string, _name: string, opts: CallOpts): Promise<Uint8Array | undefined> {
    // Node has no xattr API; a local folder presents none (still proves the node exists).
    await this.getattr(path, opts);
    return undefined;
  }

  async listxattr(path: string, opts: CallOpts): Promise<string[]> {
    await this.getattr(path, opts);
    return [];
  }

  async create(path: string, mode: number, opts: CallOpts): Promise<FileHandle> {
    this.check(opts);
    this.writable(path);
    return this.inParent(path, (dir, name) =>
      this.openAt(`${dir}/${name}`, C.O_RDWR | C.O_CREAT | C.O_EXCL, mode & 0o7777, path),
    );
  }

  async mkdir(path: string, mode: number, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    await this.inParent(path, (dir, name) => fsp.mkdir(`${dir}/${name}`, mode & 0o7777));
  }

  async symlink(target: string, path: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    if (target.length === 0 || target.includes('\0')) throw new FsError('InvalidItem', `${path}: bad symlink target`);
    // The target is stored as given: it is only ever read back, never followed here.
    await this.inParent(path, (dir, name) => fsp.symlink(target, `${dir}/${name}`));
  }

  async unlink(path: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    await this.inParent(path, (dir, name) => fsp.unlink(`${dir}/${name}`));
  }

  async rmdir(path: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    await this.inParent(path, (dir, name) => fsp.rmdir(`${dir}/${name}`));
  }

  async rename(from: string, to: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(to);
    await this.inParent(from, (fromDir, fromName) =>
      this.inParent(to, (toDir, toName) => fsp.rename(`${fromDir}/${fromName}`, `${toDir}/${toName}`)),
    );
  }

  async setattr(path: string, attr: SetAttr, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    if (path === '/') throw new FsError('Permission', `/: the root's attributes are not changed through ${this.name}`);
    await this.inParent(path, async (dir, name) => {
      const p = `${dir}/${name}`;
      let fh: fsp.FileHandle | undefined;
      try {
        fh = await fsp.open(p, (attr.size !== undefined ? C.O_WRONLY : C.O_RDONLY) | C.O_NOFOLLOW | C.O_NONBLOCK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ELOOP') throw err;
      }
      if (!fh) {
        // A symlink: only owner and times can change (Linux symlinks have no mode or size).
        if (attr.size !== undefined) throw new FsError('InvalidItem', `${path}: cannot truncate a symlink`);
        if (attr.uid !== undefined || attr.gid !== undefined) await fsp.lchown(p, attr.uid ?? -1, attr.gid ?? -1);
        if (attr.atime !== undefined || attr.mtime !== undefined) {
          const st = await fsp.lstat(p);
          await fsp.lutimes(p, (attr.atime ?? st.atimeMs) / 1000, (attr.mtime ?? st.mtimeMs) / 1000);
        }
        return;
      }
      try {
        if (attr.mode !== undefined) await fh.chmod(attr.mode & 0o7777);
        if (attr.uid !== undefined || attr.gid !== undefined) await fh.chown(attr.uid ?? -1, attr.gid ?? -1);
        if (attr.size !== undefined) await fh.truncate(attr.size);
        if (attr.atime !== undefined || attr.mtime !== undefined) {
          const st = await fh.stat();
          await fh.utimes((attr.atime ?? st.atimeMs) / 1000, (attr.mtime ?? st.mtimeMs) / 1000);
        }
      } finally {
        await fh.close();
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Opens the local guest a spec describes. */
export function openLocalGuest(spec: LocalGuestSpec): Promise<LocalGuest> {
  return LocalGuest.open(spec);
}
