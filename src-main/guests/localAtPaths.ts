import { close as closeCb, closeSync, constants as C, fchmod, fchmodSync, fchown, fchownSync, fdatasync, fstat, fstatSync, ftruncate, openSync, read, type Stats, write } from 'node:fs';
import { promisify } from 'node:util';
import { FsError, toFsError } from '../vfs/FsError.ts';
import type { Attr, DirEntry, FileHandle, SetAttr, SpecialType } from '../vfs/types.ts';
import { attrOfNs, attrOfRaw, type OwnerShown } from './localAttrs.ts';
import { callAt, folderCalls, inWorker } from './localAtWorker.ts';
import { type Answer, type CallName, errnoError, libc, linkText, namesOf, PATH_MAX, type Ops, parseStat, PLATFORM, type RawStat, statSize } from './localLibc.ts';
import { type FileIo, LocalFile } from './localFile.ts';
import { LocalFileSync } from './localFileSync.ts';
import type { InlinePolicy } from './localInline.ts';
import { folderMode, needsChmod } from './localOwner.ts';
import type { DirRef, FolderOwner, LocalPaths, NewOwner } from './localPaths.ts';
import { READDIR_BATCH, regularOnly } from './localProcPaths.ts';
import { mknodAt, symlinkAt } from './localSpecial.ts';
import { timespecs } from './localTimes.ts';

// The local guest's nodes reached without /proc: every call walks from the root's
// descriptor to the parent folder, one component at a time, with
// openat(O_DIRECTORY|O_NOFOLLOW), so no symlink is ever followed on the way (a symlink
// swapped in for a folder answers ELOOP, "not a folder"), and then acts on the last name
// with the matching *at call, which does not follow it either (fstatat and fchownat with
// AT_SYMLINK_NOFOLLOW, openat O_NOFOLLOW, unlinkat, renameat, linkat without
// AT_SYMLINK_FOLLOW...). The default on macOS; BERTH_LOCAL_PATHS=openat selects it on Linux,
// where the tests run it. Calls on inline folders (localInline.ts) are made on this thread,
// the others in a worker thread (localAtWorker.ts). Nothing is kept between calls: a walk
// costs one openat per component. What this walk cannot stop: a folder moved out of the
// root (by someone with write access outside it) while a call is between two components;
// Linux's openat2 RESOLVE_BENEATH would, macOS has no equivalent.

/** A folder reached by the walk: `fd` is open (O_RDONLY|O_DIRECTORY) until release(). */
interface AtDir extends DirRef {
  readonly fd: number;
}

/** The flags every walk step and every folder opened here carry. */
function walkFlags(): number {
  return C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW | PLATFORM!.O_CLOEXEC;
}

/** Whether this machine can run the walk (koffi and libc's *at calls load). */
export function hasOpenat(): boolean {
  return libc() !== null;
}

const fstatP = promisify(fstat);
const fchownP = promisify(fchown);
const fchmodP = promisify(fchmod);
const closeP = promisify(closeCb);

/** A raw descriptor as LocalFile's FileIo, through libuv's threadpool. */
function fdIo(fd: number): FileIo {
  return {
    read: (buf, offset, length, position) => new Promise((res, rej) => read(fd, buf, offset, length, position, (e, n) => (e ? rej(e) : res({ bytesRead: n })))),
    write: (data, offset, length, position) => new Promise((res, rej) => write(fd, data, offset, length, position, (e, n) => (e ? rej(e) : res({ bytesWritten: n })))),
    truncate: (len) => promisify(ftruncate)(fd, len),
    datasync: () => promisify(fdatasync)(fd),
    close: () => closeP(fd),
  };
}

/** The openat walk (see above). */
export class AtPaths implements LocalPaths<AtDir> {
  readonly kind = 'openat' as const;
  private readonly ops: Ops;
  /** The root's descriptor, opened once: every walk starts here. */
  private readonly rootFd: number;
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly policy: InlinePolicy,
    private readonly shown: OwnerShown,
  ) {
    const ops = libc();
    if (!ops) throw new FsError('InvalidOperation', 'the openat walk needs koffi and libc, which could not be loaded');
    this.ops = ops;
    this.rootFd = openSync(root, C.O_RDONLY | C.O_DIRECTORY);
    ({ rename2: this.rename2, xattr: this.xattr } = folderCalls<AtDir>(ops));
  }

  readonly rename2: LocalPaths<AtDir>['rename2'];
  readonly xattr: LocalPaths<AtDir>['xattr'];

  /** One op of bindOps: on this thread when inline, else in the worker. */
  private run<K extends keyof Ops>(inline: boolean, op: K, ...args: Parameters<Ops[K]>): Promise<ReturnType<Ops[K]>> | ReturnType<Ops[K]> {
    if (!inline) return inWorker(op, ...args);
    return (this.ops[op] as (...a: unknown[]) => ReturnType<Ops[K]>)(...args);
  }

  /** A *at call; throws its errno like Node's fs would (code, syscall). */
  private call(d: { inline: boolean }, name: CallName, args: unknown[], outSize = 0): Promise<Answer> {
    return callAt(this.ops, d.inline, name, args, outSize);
  }

  async dir(parts: readonly string[], guestPath: string, inline: boolean): Promise<AtDir> {
    const lexical = parts.length ? `${this.root}/${parts.join('/')}` : this.root;
    if (parts.length === 0) return { fd: this.rootFd, lexical, inline, release: () => {} };
    const [fd, errno] = await this.run(inline, 'walk', this.rootFd, parts, walkFlags());
    if (fd < 0) {
      const err = errnoError(errno, 'openat');
      // O_NOFOLLOW answers ELOOP for a symlink: it is not a folder here.
      if (err.code === 'ELOOP') throw new FsError('NotDir', `${guestPath}: a component is a symlink, not a folder`, { cause: err });
      throw err;
    }
    let released = false;
    return {
      fd,
      lexical,
      inline,
      release: () => {
        if (released) return;
        released = true;
        // close(2) of a folder descriptor does not wait on the disk.
        this.ops.close(fd);
      },
    };
  }

  forget(): void {
    // Nothing kept: every call walks afresh.
  }

  forgetTree(): void {
    // Nothing kept.
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.rootFd);
  }

  private async lstat(d: { fd: number; inline: boolean }, name: string): Promise<RawStat> {
    return parseStat((await this.call(d, 'fstatat', [d.fd, name, null, PLATFORM!.AT_SYMLINK_NOFOLLOW], statSize()))[2]!);
  }

  private async fstat(d: { inline: boolean }, fd: number): Promise<Stats> {
    return d.inline ? fstatSync(fd) : fstatP(fd);
  }

  async stat(d: AtDir, name: string | undefined): Promise<Attr> {
    if (name === undefined) return attrOfNs(d.inline ? fstatSync(d.fd, { bigint: true }) : await promisify(fstat)(d.fd, { bigint: true }), this.shown);
    return attrOfRaw(await this.lstat(d, name), this.shown);
  }

  async folderOwner(d: AtDir): Promise<FolderOwner> {
    return this.fstat(d, d.fd);
  }

  async *list(d: AtDir, signal: AbortSignal): AsyncIterable<readonly DirEntry[]> {
    // A second descriptor of the same folder: fdopendir takes the one it is given.
    const [dup] = await this.call(d, 'openat', [d.fd, '.', walkFlags(), 'uint32_t', 0]);
    const [listed, errno] = await this.run(d.inline, 'names', dup);
    if (!listed) throw errnoError(errno, 'readdir');
    const names = namesOf(listed).sort();
    for (let i = 0; i < names.length; i += READDIR_BATCH) {
      if (signal.aborted) throw toFsError(signal.reason);
      const out: DirEntry[] = [];
      for (const name of names.slice(i, i + READDIR_BATCH)) {
        // Each entry may itself be a mount point of another kind (or one this process
        // serves): judged one by one. Removed between readdir and fstatat: not listed.
        const inline = d.inline && this.policy.inline(`${d.lexical}/${name}`);
        const s = await this.lstat({ fd: d.fd, inline }, name).catch(() => undefined);
        if (s) out.push({ name, attr: attrOfRaw(s, this.shown) });
      }
      yield out;
    }
  }

  /** openat of a node that must be a regular file, never following a symlink, never blocking on a fifo. */
  private async openFile(d: AtDir, name: string, guestPath: string, flags: number, mode: number): Promise<number> {
    const [fd] = await this.call(d, 'openat', [d.fd, name, flags | C.O_NOFOLLOW | C.O_NONBLOCK | PLATFORM!.O_CLOEXEC, 'uint32_t', mode]);
    try {
      regularOnly(await this.fstat(d, fd), guestPath);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return fd;
  }

  private handle(d: AtDir, fd: number, guestPath: string, canWrite: boolean): FileHandle {
    return d.inline ? new LocalFileSync(fd, guestPath, canWrite, this.shown) : new LocalFile(fdIo(fd), guestPath, canWrite);
  }

  async open(d: AtDir, name: string, guestPath: string, flags: number, canWrite: boolean): Promise<FileHandle> {
    return this.handle(d, await this.openFile(d, name, guestPath, flags, 0), guestPath, canWrite);
  }

  async create(d: AtDir, name: string, guestPath: string, mode: number, owner: NewOwner): Promise<FileHandle> {
    const fd = await this.openFile(d, name, guestPath, C.O_RDWR | C.O_CREAT | C.O_EXCL, mode & 0o7777);
    try {
      if (owner) await (d.inline ? fchownSync(fd, owner.uid, owner.gid) : fchownP(fd, owner.uid, owner.gid));
      if (needsChmod(mode, owner !== undefined)) await (d.inline ? fchmodSync(fd, mode & 0o7777) : fchmodP(fd, mode & 0o7777));
    } catch (err) {
      closeSync(fd);
      await this.call(d, 'unlinkat', [d.fd, name, 0]).catch(() => {});
      throw err;
    }
    return this.handle(d, fd, guestPath, true);
  }

  async mkdir(d: AtDir, name: string, mode: number, owner: NewOwner): Promise<void> {
    await this.call(d, 'mkdirat', [d.fd, name, mode & 0o7777]);
    if (!owner && !needsChmod(mode, false)) return;
    // Opened O_NOFOLLOW|O_DIRECTORY: if it was swapped for a symlink meanwhile, this fails.
    const [fd] = await this.call(d, 'openat', [d.fd, name, walkFlags(), 'uint32_t', 0]);
    try {
      if (owner) await (d.inline ? fchownSync(fd, owner.uid, owner.gid) : fchownP(fd, owner.uid, owner.gid));
      const m = folderMode(mode, await this.fstat(d, fd));
      await (d.inline ? fchmodSync(fd, m) : fchmodP(fd, m));
    } finally {
      closeSync(fd);
    }
  }

  async symlink(target: string, d: AtDir, name: string, owner: NewOwner): Promise<void> {
    await symlinkAt((call, args) => this.call(d, call, args), target, d.fd, name, owner);
  }

  async mknod(d: AtDir, name: string, type: SpecialType, mode: number, rdev: number, owner: NewOwner): Promise<void> {
    await mknodAt((call, args) => this.call(d, call, args), d.fd, name, type, mode, rdev, owner);
  }

  async link(from: AtDir, fromName: string, to: AtDir, toName: string): Promise<void> {
    // No AT_SYMLINK_FOLLOW: a symlink named as the source is linked itself, still inside.
    await this.call({ inline: from.inline && to.inline }, 'linkat', [from.fd, fromName, to.fd, toName, 0]);
  }

  async rename(from: AtDir, fromName: string, to: AtDir, toName: string): Promise<void> {
    await this.call({ inline: from.inline && to.inline }, 'renameat', [from.fd, fromName, to.fd, toName]);
  }

  async unlink(d: AtDir, name: string): Promise<void> {
    await this.call(d, 'unlinkat', [d.fd, name, 0]);
  }

  async rmdir(d: AtDir, name: string): Promise<void> {
    await this.call(d, 'unlinkat', [d.fd, name, PLATFORM!.AT_REMOVEDIR]);
  }

  async readlink(d: AtDir, name: string): Promise<string> {
    return linkText(await this.call(d, 'readlinkat', [d.fd, name, null, PATH_MAX], PATH_MAX));
  }

  /** SETATTR in the order localSetattr.ts explains: owner, mode, size, times. */
  async setattr(d: AtDir, name: string, guestPath: string, attr: SetAttr): Promise<void> {
    const nofollow = PLATFORM!.AT_SYMLINK_NOFOLLOW;
    const st = await this.lstat(d, name);
    if (attr.size !== undefined) {
      if (st.type === 'dir') throw new FsError('IsDir', `${guestPath}: a folder has no size to set`);
      if (st.type !== 'file') throw new FsError('InvalidItem', `${guestPath}: only regular files can be truncated`);
    }
    if (attr.uid !== undefined || attr.gid !== undefined) await this.call(d, 'fchownat', [d.fd, name, attr.uid ?? 0xffffffff, attr.gid ?? 0xffffffff, nofollow]);
    // A symlink's mode is not its own (Linux): ignored, as chmod -h does.
    if (attr.mode !== undefined && st.type !== 'symlink') await this.call(d, 'fchmodat', [d.fd, name, attr.mode & 0o7777, nofollow]);
    if (attr.size !== undefined) {
      const fd = await this.openFile(d, name, guestPath, C.O_WRONLY, 0);
      try {
        await fdIo(fd).truncate(attr.size);
      } finally {
        closeSync(fd);
      }
    }
    if (attr.atime !== undefined || attr.mtime !== undefined) await this.call(d, 'utimensat', [d.fd, name, timespecs(attr), nofollow]);
  }
}
