import { fsPath, nameFromBytes } from '../sys/byteNames.ts';
import { closeSync, constants as C, fchmodSync, fchownSync, fstatSync, linkSync, lstat, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmdirSync, type BigIntStats, symlinkSync, unlinkSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { constants } from 'node:os';
import { FsError, toFsError } from '../vfs/FsError.ts';
import type { Attr, DirEntry, FileHandle, SetAttr, SpecialType } from '../vfs/types.ts';
import { attrOfNs, attrOfRaw, attrOfRow, type OwnerShown } from './localAttrs.ts';
import { callAt, folderCalls } from './localAtWorker.ts';
import { type Answer, callOrThrow, type CallName, errnoError, libc, linkText, namesOf, type Ops, parseStat, PATH_MAX, PLATFORM, statSize } from './localLibc.ts';
import { LocalDirs, type OpenDir } from './localDirs.ts';
import { LocalFile } from './localFile.ts';
import { LocalFileSync } from './localFileSync.ts';
import { FreeLater } from './localFreeLater.ts';
import type { InlinePolicy } from './localInline.ts';
import { folderMode, lchownNew, lchownNewSync, needsChmod } from './localOwner.ts';
import type { DirRef, FolderOwner, LocalPaths, LocalPathsNow, NewOwner, PathsKind } from './localPaths.ts';
import { setattrAt, setattrAtSync, setattrInSync } from './localSetattr.ts';
import { chmodNoFollow, makeSpecial, mknodAt, symlinkAt } from './localSpecial.ts';
import { lstatBatch, STAT_FIELDS } from './localStatBatch.ts';

// The local guest's nodes reached by path through Node's fs, on Linux relative to a folder
// descriptor's /proc/self/fd link ("/proc/self/fd/N/name" acts like openat: localDirs.ts
// proves the descriptor inside the root). Inline folders (localInline.ts) are served by
// blocking calls on this thread, the rest through libuv's threadpool. Where libc's *at calls
// load (localLibc.ts), the inline calls pass the folder's descriptor and the name to them
// instead: the same lookup as through the link, without walking /proc/self/fd for each
// (bench/localAtCalls.ts, here: an lstat 3.4 µs against 6.7 µs through the link, a chmod 3.8
// µs against 10.5 µs, a rename 20 µs against 25 µs). mknod is mknodat on the descriptor
// (in the openat walk's worker when the folder is not inline).

/** Entries of one folder lstat-ed per listing step (bounds memory for huge folders; one worker batch). */
export const READDIR_BATCH = 1024;
/** open(2) flags of a new regular file: exclusive, never through a symlink, never blocking on a fifo. */
const CREATE_FLAGS = C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_NONBLOCK;
/** lstat calls kept in flight while listing. */
const LSTAT_WINDOW = 64;

/** The path of `name` in the folder `ref` names, for Node's fs: its bytes when the name is not UTF-8 (sys/byteNames.ts). */
function under(ref: string, name: string): string | Buffer {
  return fsPath(`${ref}/${name}`);
}

/** A folder of this strategy: `ref` names it for path-based calls. */
interface ProcDir extends DirRef, OpenDir {}

/**
 * lstat of every name in `dir` (undefined for a name that vanished), LSTAT_WINDOW at a
 * time. Callback lstat, not fs/promises: measured here, a promise per call cost ~2x the
 * main-thread CPU, and listing big folders is all lstat.
 */
function lstatAll(dir: string, names: readonly string[]): Promise<(BigIntStats | undefined)[]> {
  const out = new Array<BigIntStats | undefined>(names.length);
  if (names.length === 0) return Promise.resolve(out);
  return new Promise((resolve) => {
    let next = 0;
    let done = 0;
    const start = (): void => {
      const i = next++;
      lstat(under(dir, names[i]!), { bigint: true }, (err, st) => {
        out[i] = err ? undefined : st;
        if (++done === names.length) resolve(out);
        else if (next < names.length) start();
      });
    };
    for (let k = 0; k < LSTAT_WINDOW && next < names.length; k++) start();
  });
}

/** The /proc strategy (Linux). */
export class ProcPaths implements LocalPaths<ProcDir> {
  readonly kind: PathsKind = 'proc';
  /** Open folders of this guest (owned by this strategy). */
  private readonly dirs: LocalDirs;
  /** Inline removals, their inodes freed on the threadpool (localFreeLater.ts). */
  private readonly freeLater: FreeLater;

  /** `at`: libc's *at calls, or null where they do not load (the paths through /proc are used then; tests ask for that). */
  constructor(
    root: string,
    private readonly policy: InlinePolicy,
    private readonly shown: OwnerShown,
    private readonly at: Ops | null = libc(),
  ) {
    this.dirs = new LocalDirs(root);
    this.freeLater = new FreeLater(undefined, at);
    // Without libc (at: null) neither: renames with flags answer EINVAL, and no folder keeps xattrs.
    if (at) ({ rename2: this.rename2, xattr: this.xattr } = folderCalls<ProcDir>(at));
  }

  readonly rename2: LocalPaths<ProcDir>['rename2'];
  readonly xattr: LocalPaths<ProcDir>['xattr'];

  async dir(parts: readonly string[], guestPath: string, inline: boolean): Promise<ProcDir> {
    return this.dirs.open(parts, guestPath, inline);
  }

  /** The blocking forms (the guest's synchronous face): the same calls as the inline branches below. */
  readonly now: LocalPathsNow<ProcDir> = {
    dir: (parts, guestPath) => this.dirs.openNow(parts, guestPath),
    stat: (d, name) => {
      // The folder itself by its descriptor (fstat works on an O_PATH one).
      if (name === undefined) return attrOfNs(fstatSync(d.fd, { bigint: true }), this.shown);
      return this.lstatIn(d, name, false)!;
    },
    lookup: (d, name) => this.lstatIn(d, name, true),
    folderOwner: (d) => fstatSync(d.fd),
    create: (d, name, guestPath, mode, owner) => this.createInline(d, name, guestPath, mode, owner),
    mkdir: (d, name, mode, owner) => this.mkdirInline(d, name, mode, owner),
    unlink: (d, name) => this.freeLater.remove(d, name, () => this.unlinkIn(d, name, false)),
    rmdir: (d, name) => this.freeLater.remove(d, name, () => this.unlinkIn(d, name, true)),
    setattr: (d, name, guestPath, attr) => (this.at ? setattrInSync(this.at, d.fd, name, guestPath, attr) : setattrAtSync(under(d.ref, name), guestPath, attr)),
    // A name replaced by the rename is freed on the threadpool, as by unlink.
    rename: (from, fromName, to, toName) => this.freeLater.remove(to, toName, () => this.renameIn(from, fromName, to, toName), true),
    readlink: (d, name) => this.readlinkIn(d, name),
    list: (d, max) => {
      const names = this.namesIn(d);
      if (names.length > max) return undefined;
      names.sort();
      const out: DirEntry[] = [];
      for (const name of names) {
        // An entry that is itself a mount point of another kind is not lstat-ed on this thread.
        if (!this.policy.inline(`${d.lexical}/${name}`)) return undefined;
        // Exact nanoseconds, as a lookup gives: the kernel keeps a listing's attributes (READDIRPLUS).
        const attr = this.lstatIn(d, name, true);
        if (attr) out.push({ name, attr });
      }
      return out;
    },
    watchPath: (d) => d.ref,
    vouchBy: (witness) => {
      this.dirs.witness = witness;
    },
  };

  /**
   * The attributes of `name` in `d`, never followed, inline: by fstatat on the folder's
   * descriptor where libc loads, else through its link. Null when `missingOk` and nothing has
   * that name (ENOENT or ENOTDIR, as lstatSync's throwIfNoEntry).
   */
  private lstatIn(d: ProcDir, name: string, missingOk: boolean): Attr | null {
    if (!this.at) {
      const st = lstatSync(under(d.ref, name), { bigint: true, throwIfNoEntry: !missingOk });
      return st ? attrOfNs(st, this.shown) : null;
    }
    const [ret, errno, out] = this.at.call('fstatat', [d.fd, name, null, PLATFORM!.AT_SYMLINK_NOFOLLOW], statSize());
    if (ret >= 0) return attrOfRaw(parseStat(out!), this.shown);
    if (missingOk && (errno === constants.errno.ENOENT || errno === constants.errno.ENOTDIR)) return null;
    throw errnoError(errno, 'fstatat');
  }

  /**
   * The names in `d`, inline: where libc loads, by getdents64 on a descriptor opened from the
   * folder's own (localLibc.ts names; Node's readdirSync walks /proc/self/fd to the folder,
   * and libuv's scandir sorts what is sorted again here), else through its link.
   */
  private namesIn(d: ProcDir): string[] {
    // As bytes: Node would give U+FFFD for a name that is not UTF-8 (sys/byteNames.ts).
    if (!this.at) return readdirSync(d.ref, 'buffer').map((b) => nameFromBytes(b));
    const [fd] = callOrThrow(this.at, 'openat', [d.fd, '.', C.O_RDONLY | C.O_DIRECTORY | PLATFORM!.O_CLOEXEC, 'uint32_t', 0]);
    const [names, errno] = this.at.names(fd);
    if (!names) throw errnoError(errno, 'readdir');
    return namesOf(names);
  }

  /** open(2) of `name` in `d` (close-on-exec), inline: by openat on the folder's descriptor where libc loads, else through its link. */
  private openIn(d: ProcDir, name: string, flags: number, mode = 0): number {
    if (!this.at) return openSync(under(d.ref, name), flags, mode);
    return callOrThrow(this.at, 'openat', [d.fd, name, flags | PLATFORM!.O_CLOEXEC, 'uint32_t', mode])[0];
  }

  /** mkdir(2) of `name` in `d`, inline, as openIn. */
  private mkdirIn(d: ProcDir, name: string, mode: number): void {
    if (!this.at) return mkdirSync(under(d.ref, name), mode);
    callOrThrow(this.at, 'mkdirat', [d.fd, name, mode]);
  }

  /** unlink(2), or rmdir(2) when `folder`, of `name` in `d`, inline, as openIn. */
  private unlinkIn(d: ProcDir, name: string, folder: boolean): void {
    if (!this.at) return (folder ? rmdirSync : unlinkSync)(under(d.ref, name));
    callOrThrow(this.at, 'unlinkat', [d.fd, name, folder ? PLATFORM!.AT_REMOVEDIR : 0]);
  }

  /** rename(2) between two folders, inline, as openIn. */
  private renameIn(from: ProcDir, fromName: string, to: ProcDir, toName: string): void {
    if (!this.at) return renameSync(under(from.ref, fromName), under(to.ref, toName));
    callOrThrow(this.at, 'renameat', [from.fd, fromName, to.fd, toName]);
  }

  /** readlink(2) of `name` in `d`, inline, as openIn. */
  private readlinkIn(d: ProcDir, name: string): string {
    if (!this.at) return nameFromBytes(readlinkSync(under(d.ref, name), 'buffer'));
    return linkText(callOrThrow(this.at, 'readlinkat', [d.fd, name, null, PATH_MAX], PATH_MAX));
  }

  /** A *at call that must succeed, on this thread when `d` is inline, else in the openat walk's worker. Only where libc loads. */
  private atCall(d: { inline: boolean }, name: CallName, args: unknown[]): Promise<Answer> {
    return callAt(this.at!, d.inline, name, args);
  }

  forget(parts: readonly string[]): void {
    this.dirs.forget(parts);
  }

  forgetTree(parts: readonly string[]): void {
    this.dirs.forgetTree(parts);
  }

  close(): void {
    this.dirs.closeAll();
  }

  async stat(d: ProcDir, name: string | undefined): Promise<Attr> {
    if (d.inline) return this.now.stat(d, name);
    // The folder itself through its descriptor's link: stat follows that link, lstat would not.
    if (name === undefined) return attrOfNs(await fsp.stat(d.ref, { bigint: true }), this.shown);
    return attrOfNs(await fsp.lstat(under(d.ref, name), { bigint: true }), this.shown);
  }

  async folderOwner(d: ProcDir): Promise<FolderOwner> {
    return d.inline ? this.now.folderOwner(d) : fsp.stat(d.ref);
  }

  async *list(d: ProcDir, signal: AbortSignal): AsyncIterable<readonly DirEntry[]> {
    const names = d.inline ? this.namesIn(d) : (await fsp.readdir(d.ref, 'buffer')).map((b) => nameFromBytes(b));
    names.sort();
    if (d.inline) {
      for (let i = 0; i < names.length; i += READDIR_BATCH) {
        const out: DirEntry[] = [];
        for (const name of names.slice(i, i + READDIR_BATCH)) {
          // Each entry may itself be a mount point of another kind: judged one by one.
          if (!this.policy.inline(`${d.lexical}/${name}`)) {
            const st = await fsp.lstat(under(d.ref, name), { bigint: true }).catch(() => undefined);
            if (st) out.push({ name, attr: attrOfNs(st, this.shown) });
            continue;
          }
          const attr = this.lstatIn(d, name, true);
          if (attr) out.push({ name, attr });
        }
        yield out;
      }
      return;
    }
    for (let i = 0; i < names.length; i += READDIR_BATCH) {
      if (signal.aborted) throw toFsError(signal.reason);
      const batch = names.slice(i, i + READDIR_BATCH);
      const out: DirEntry[] = [];
      // An entry removed between readdir and lstat is simply not listed.
      const rows = await lstatBatch(d.ref, batch);
      if (rows) {
        for (let j = 0; j < batch.length; j++) if (rows[j * STAT_FIELDS]! >= 0) out.push({ name: batch[j]!, attr: attrOfRow(rows, j * STAT_FIELDS, this.shown) });
      } else {
        const stats = await lstatAll(d.ref, batch);
        for (let j = 0; j < batch.length; j++) {
          const st = stats[j];
          if (st) out.push({ name: batch[j]!, attr: attrOfNs(st, this.shown) });
        }
      }
      yield out;
    }
  }

  async open(d: ProcDir, name: string, guestPath: string, flags: number, canWrite: boolean): Promise<FileHandle> {
    if (d.inline) {
      const fd = this.openIn(d, name, flags | C.O_NOFOLLOW | C.O_NONBLOCK);
      try {
        regularOnly(fstatSync(fd), guestPath);
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      return new LocalFileSync(fd, guestPath, canWrite, this.shown);
    }
    const fh = await fsp.open(under(d.ref, name), flags | C.O_NOFOLLOW | C.O_NONBLOCK);
    try {
      regularOnly(await fh.stat(), guestPath);
    } catch (err) {
      await fh.close();
      throw err;
    }
    return new LocalFile(fh, guestPath, canWrite);
  }

  async create(d: ProcDir, name: string, guestPath: string, mode: number, owner: NewOwner): Promise<FileHandle> {
    if (d.inline) return this.createInline(d, name, guestPath, mode, owner);
    const p = under(d.ref, name);
    const fh = await fsp.open(p, CREATE_FLAGS, mode & 0o7777);
    try {
      if (owner) await fh.chown(owner.uid, owner.gid);
      if (needsChmod(mode, owner !== undefined)) await fh.chmod(mode & 0o7777);
    } catch (err) {
      await fh.close();
      await fsp.unlink(p).catch(() => {});
      throw err;
    }
    return new LocalFile(fh, guestPath, true);
  }

  /** create() by blocking calls (inline folders and the synchronous face). */
  private createInline(d: ProcDir, name: string, guestPath: string, mode: number, owner: NewOwner): FileHandle {
    const p = under(d.ref, name);
    const fd = this.openIn(d, name, CREATE_FLAGS, mode & 0o7777);
    try {
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      if (needsChmod(mode, owner !== undefined)) fchmodSync(fd, mode & 0o7777);
    } catch (err) {
      closeSync(fd);
      try {
        unlinkSync(p);
      } catch {
        // Gone already.
      }
      throw err;
    }
    return new LocalFileSync(fd, guestPath, true, this.shown);
  }

  async mkdir(d: ProcDir, name: string, mode: number, owner: NewOwner): Promise<void> {
    if (d.inline) return this.mkdirInline(d, name, mode, owner);
    const p = under(d.ref, name);
    await fsp.mkdir(p, mode & 0o7777);
    if (!owner && !needsChmod(mode, false)) return;
    // A folder cannot be opened O_NOFOLLOW|O_DIRECTORY and then be a symlink: safe to fix through it.
    const fh = await fsp.open(p, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    try {
      if (owner) await fh.chown(owner.uid, owner.gid);
      await fh.chmod(folderMode(mode, await fh.stat()));
    } finally {
      await fh.close();
    }
  }

  /** mkdir() by blocking calls (inline folders and the synchronous face). */
  private mkdirInline(d: ProcDir, name: string, mode: number, owner: NewOwner): void {
    this.mkdirIn(d, name, mode & 0o7777);
    if (!owner && !needsChmod(mode, false)) return;
    const fd = this.openIn(d, name, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    try {
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      fchmodSync(fd, folderMode(mode, fstatSync(fd)));
    } finally {
      closeSync(fd);
    }
  }

  async symlink(target: string, d: ProcDir, name: string, owner: NewOwner): Promise<void> {
    if (this.at) return symlinkAt((call, args) => this.atCall(d, call, args), target, d.fd, name, owner);
    const p = under(d.ref, name);
    if (d.inline) {
      symlinkSync(fsPath(target), p);
      lchownNewSync(p, owner);
      return;
    }
    await fsp.symlink(fsPath(target), p);
    await lchownNew(p, owner);
  }

  async mknod(d: ProcDir, name: string, type: SpecialType, mode: number, rdev: number, owner: NewOwner): Promise<void> {
    if (this.at) return mknodAt((call, args) => this.atCall(d, call, args), d.fd, name, type, mode, rdev, owner);
    await makeSpecial(d.fd, name, type, mode, rdev);
    await lchownNew(under(d.ref, name), owner);
    if (needsChmod(mode, owner !== undefined)) await chmodNoFollow(under(d.ref, name), mode & 0o7777);
  }

  async link(from: ProcDir, fromName: string, to: ProcDir, toName: string): Promise<void> {
    // link(2) does not follow a symlink named as its source: the new name is that symlink, still inside.
    if (this.at) await this.atCall({ inline: from.inline && to.inline }, 'linkat', [from.fd, fromName, to.fd, toName, 0]);
    else if (from.inline && to.inline) linkSync(under(from.ref, fromName), under(to.ref, toName));
    else await fsp.link(under(from.ref, fromName), under(to.ref, toName));
  }

  async rename(from: ProcDir, fromName: string, to: ProcDir, toName: string): Promise<void> {
    if (from.inline && to.inline) this.now.rename(from, fromName, to, toName);
    else await fsp.rename(under(from.ref, fromName), under(to.ref, toName));
  }

  async unlink(d: ProcDir, name: string): Promise<void> {
    if (d.inline) this.now.unlink(d, name);
    else await fsp.unlink(under(d.ref, name));
  }

  async rmdir(d: ProcDir, name: string): Promise<void> {
    if (d.inline) this.now.rmdir(d, name);
    else await fsp.rmdir(under(d.ref, name));
  }

  async readlink(d: ProcDir, name: string): Promise<string> {
    return d.inline ? this.now.readlink(d, name) : fsp.readlink(under(d.ref, name), 'buffer').then(nameFromBytes);
  }

  async setattr(d: ProcDir, name: string, guestPath: string, attr: SetAttr): Promise<void> {
    if (d.inline) this.now.setattr(d, name, guestPath, attr);
    else await setattrAt(under(d.ref, name), guestPath, attr);
  }
}

/** Refuses to hand out anything but a regular file (a folder, a fifo, a device). */
export function regularOnly(st: { isDirectory(): boolean; isFile(): boolean }, guestPath: string): void {
  if (st.isDirectory()) throw new FsError('IsDir', `${guestPath}: is a folder`);
  if (!st.isFile()) throw new FsError('InvalidOperation', `${guestPath}: not a regular file`);
}

