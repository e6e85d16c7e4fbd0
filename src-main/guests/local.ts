import { closeSync, constants as C, fchmodSync, fchownSync, fstatSync, linkSync, lstat, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmdirSync, statSync, type Stats, symlinkSync, unlinkSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { LocalGuestSchema } from '../../src-shared/mountSpec.ts';
import { FsError, toFsError } from '../vfs/FsError.ts';
import type { Attr, CallOpts, DirEntry, FileHandle, OpenFlags, SetAttr, SpecialType, StatFs, Vfs } from '../vfs/types.ts';
import type { z } from 'zod';
import { type DirRef, LocalDirs } from './localDirs.ts';
import { attrOf, attrOfNs, attrOfRow, type OwnerShown } from './localAttrs.ts';
import { fromNode } from './localErrors.ts';
import { LocalFile } from './localFile.ts';
import { LocalFileSync } from './localFileSync.ts';
import { InlinePolicy } from './localInline.ts';
import { lstatBatch, STAT_FIELDS } from './localStatBatch.ts';
import { flatten } from '../vfs/listing.ts';
import { CAN_CHOWN, folderMode, lchownNew, lchownNewSync, needsChmod, ownerFor } from './localOwner.ts';
import { chmodNoFollow, makeSpecial } from './localSpecial.ts';
import { setattrAt, setattrAtSync } from './localSetattr.ts';

// A folder on this machine as a guest. The one promise it keeps: nothing reached through
// it lies outside the folder. Paths are checked component by component (no "..", ".",
// "/" or NUL), every call uses lstat semantics, and on Linux each call works relative to
// the parent folder's descriptor, proven to lie inside (localDirs.ts), so a symlink
// swapped in for a folder between two calls can never lead outside. Nodes are created with
// exactly the mode asked and, when Berth runs as root, owned by the caller (localOwner.ts).
// On a local disk, calls are made inline, by blocking system calls on this thread
// (localInline.ts says when that is safe and why it is worth it).

/** The local guest spec after schema defaults. */
export type LocalGuestSpec = z.infer<typeof LocalGuestSchema>;

export { fromNode } from './localErrors.ts';

/** Longest name of one path component (Linux NAME_MAX). */
const NAME_MAX = 255;
/** Entries of one folder lstat-ed per listing step (bounds memory for huge folders; one worker batch). */
const READDIR_BATCH = 1024;
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

/** Read-write (or read-only) view of one local folder. */
export class LocalGuest implements Vfs {
  readonly name: string;
  readonly readOnly: boolean;
  /** Not cached by default: the folder changes under Berth (issue 9: old sizes beside new bytes), and lstat is cheap. */
  readonly cacheExpiryMs = 0;
  /** Node has no xattr API: a local folder presents none. */
  readonly noXattrs = true;
  private closed = false;
  /** Open folders of this guest (owned by it). */
  private readonly dirs: LocalDirs;
  /** When calls may block this thread (owned by this guest). */
  private readonly policy: InlinePolicy;
  /** The owner shown instead of each file's (the spec's uid/gid). */
  private readonly shown: OwnerShown;

  private constructor(
    /** The folder's real path (symlinks resolved once at open). */
    private readonly root: string,
    readOnly: boolean,
    private readonly uid: number | undefined,
    private readonly gid: number | undefined,
  ) {
    this.name = `local ${root}`;
    this.readOnly = readOnly;
    this.dirs = new LocalDirs(root);
    this.policy = new InlinePolicy(root);
    this.shown = { uid, gid };
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
    const g = new LocalGuest(real, spec.readOnly ?? false, spec.uid, spec.gid);
    await g.policy.refresh();
    return g;
  }

  private check(opts: CallOpts): void {
    if (this.closed) throw new FsError('Closed', `${this.name} is closed`);
    if (opts.signal.aborted) throw toFsError(opts.signal.reason);
  }

  private writable(path: string): void {
    if (this.readOnly) throw new FsError('ReadOnly', `${path}: ${this.name} is read-only`);
  }

  /** Opens the folder at `parts` and proves it lies inside the root (localDirs.ts). */
  private dir(parts: string[], guestPath: string, inline = false): Promise<DirRef> {
    return this.dirs.open(parts, guestPath, inline);
  }

  /**
   * Runs fn with the parent folder of `path`, the last component's name, and whether calls
   * on that node may be made inline (localInline.ts).
   */
  private async inParent<T>(path: string, fn: (dir: string, name: string, d: DirRef, inline: boolean) => Promise<T> | T): Promise<T> {
    const parts = splitGuestPath(path);
    const name = parts.pop();
    if (name === undefined) throw new FsError('InvalidOperation', `${path}: not allowed on the root`);
    // Longer names fail in the kernel too; saying so here keeps the kind exact (ENAMETOOLONG).
    if (Buffer.byteLength(name) > NAME_MAX) throw new FsError('NameTooLong', `${path}: a name is longer than ${NAME_MAX} bytes`);
    const inline = this.policy.inline(`${this.dirs.lexical(parts)}/${name}`);
    const d = await this.dir(parts, path, inline);
    try {
      return await fn(d.ref, name, d, inline);
    } catch (err) {
      throw fromNode(err, path);
    } finally {
      d.release();
    }
  }

  /** The parent folder's attributes when a new node must take its owner from them. */
  private async parentForOwner(dir: string, opts: CallOpts, inline = false): Promise<Stats | undefined> {
    if (!CAN_CHOWN || !opts.caller) return undefined;
    return inline ? statSync(dir) : fsp.stat(dir);
  }

  async getattr(path: string, opts: CallOpts): Promise<Attr> {
    this.check(opts);
    if (path === '/') return attrOfNs(await fsp.lstat(this.root, { bigint: true }).catch((e: unknown) => Promise.reject(fromNode(e, path))), this.shown);
    return this.inParent(path, async (dir, name, _d, inline) => attrOfNs(inline ? lstatSync(`${dir}/${name}`, { bigint: true }) : await fsp.lstat(`${dir}/${name}`, { bigint: true }), this.shown));
  }

  readdir(path: string, opts: CallOpts): AsyncIterable<DirEntry> {
    return flatten(this.readdirBatches(path, opts));
  }

  /** The listing a lstat batch at a time (sorted names; one worker batch each, localStatBatch.ts). */
  async *readdirBatches(path: string, opts: CallOpts): AsyncIterable<readonly DirEntry[]> {
    this.check(opts);
    const parts = splitGuestPath(path);
    const inline = this.policy.inline(this.dirs.lexical(parts));
    const d = await this.dir(parts, path, inline);
    try {
      let names: string[];
      try {
        names = inline ? readdirSync(d.ref) : await fsp.readdir(d.ref);
      } catch (err) {
        throw fromNode(err, path);
      }
      names.sort();
      if (inline) {
        for (let i = 0; i < names.length; i += READDIR_BATCH) {
          const out: DirEntry[] = [];
          for (const name of names.slice(i, i + READDIR_BATCH)) {
            // Each entry may itself be a mount point of another kind: judged one by one.
            if (!this.policy.inline(`${d.lexical}/${name}`)) {
              const st = await fsp.lstat(`${d.ref}/${name}`).catch(() => undefined);
              if (st) out.push({ name, attr: attrOf(st, this.shown) });
              continue;
            }
            const st = lstatSync(`${d.ref}/${name}`, { throwIfNoEntry: false });
            if (st) out.push({ name, attr: attrOf(st, this.shown) });
          }
          yield out;
        }
        return;
      }
      for (let i = 0; i < names.length; i += READDIR_BATCH) {
        if (opts.signal.aborted) throw toFsError(opts.signal.reason);
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
            if (st) out.push({ name: batch[j]!, attr: attrOf(st, this.shown) });
          }
        }
        yield out;
      }
    } finally {
      d.release();
    }
  }


  async open(path: string, flags: OpenFlags, opts: CallOpts): Promise<FileHandle> {
    this.check(opts);
    if (flags.write || flags.truncate) this.writable(path);
    let mode = flags.write ? C.O_RDWR : C.O_RDONLY;
    if (flags.truncate) mode |= C.O_TRUNC | (flags.write ? 0 : C.O_RDWR);
    return this.inParent(path, (dir, name, _d, inline) => (inline ? this.openAtSync(`${dir}/${name}`, mode, path) : this.openAt(`${dir}/${name}`, mode, 0, path)));
  }

  /** openAt, inline. */
  private openAtSync(p: string, flags: number, guestPath: string): FileHandle {
    const fd = openSync(p, flags | C.O_NOFOLLOW | C.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw new FsError('IsDir', `${guestPath}: is a folder`);
      if (!st.isFile()) throw new FsError('InvalidOperation', `${guestPath}: not a regular file`);
    } catch (err) {
      closeSync(fd);
      throw fromNode(err, guestPath);
    }
    return new LocalFileSync(fd, guestPath, !this.readOnly);
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
    return this.inParent(path, (dir, name, _d, inline) => (inline ? readlinkSync(`${dir}/${name}`) : fsp.readlink(`${dir}/${name}`)));
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
      nameMax: NAME_MAX,
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
    return this.inParent(path, async (dir, name, _d, inline) => {
      const parent = await this.parentForOwner(dir, opts, inline);
      if (inline) return this.createSync(`${dir}/${name}`, path, mode, ownerFor(opts.caller, parent));
      const fh = await fsp.open(`${dir}/${name}`, C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_NONBLOCK, mode & 0o7777);
      try {
        const owner = ownerFor(opts.caller, parent);
        if (owner) await fh.chown(owner.uid, owner.gid);
        if (needsChmod(mode, owner !== undefined)) await fh.chmod(mode & 0o7777);
      } catch (err) {
        await fh.close();
        await fsp.unlink(`${dir}/${name}`).catch(() => {});
        throw err;
      }
      return new LocalFile(fh, path, true);
    });
  }

  /** create, inline. */
  private createSync(p: string, guestPath: string, mode: number, owner: { uid: number; gid: number } | undefined): FileHandle {
    const fd = openSync(p, C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_NONBLOCK, mode & 0o7777);
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
    return new LocalFileSync(fd, guestPath, true);
  }

  async mkdir(path: string, mode: number, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    await this.inParent(path, async (dir, name, _d, inline) => {
      const parent = await this.parentForOwner(dir, opts, inline);
      const p = `${dir}/${name}`;
      const owner = ownerFor(opts.caller, parent);
      if (inline) {
        mkdirSync(p, mode & 0o7777);
        if (!owner && !needsChmod(mode, false)) return;
        const fd = openSync(p, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
        try {
          if (owner) fchownSync(fd, owner.uid, owner.gid);
          fchmodSync(fd, folderMode(mode, fstatSync(fd)));
        } finally {
          closeSync(fd);
        }
        return;
      }
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
    });
  }

  async symlink(target: string, path: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    if (target.length === 0 || target.includes('\0')) throw new FsError('InvalidItem', `${path}: bad symlink target`);
    if (Buffer.byteLength(target) >= 4096) throw new FsError('NameTooLong', `${path}: symlink target longer than 4095 bytes`);
    // The target is stored as given: it is only ever read back, never followed here.
    await this.inParent(path, async (dir, name, _d, inline) => {
      const parent = await this.parentForOwner(dir, opts, inline);
      if (inline) {
        symlinkSync(target, `${dir}/${name}`);
        lchownNewSync(`${dir}/${name}`, ownerFor(opts.caller, parent));
        return;
      }
      await fsp.symlink(target, `${dir}/${name}`);
      await lchownNew(`${dir}/${name}`, ownerFor(opts.caller, parent));
    });
  }

  async link(target: string, path: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    // link(2) does not follow a symlink named as its target: the new name is that symlink, still inside.
    await this.inParent(target, (fromDir, fromName, _f, inlineFrom) =>
      this.inParent(path, (toDir, toName, _t, inline) => (inline && inlineFrom ? linkSync(`${fromDir}/${fromName}`, `${toDir}/${toName}`) : fsp.link(`${fromDir}/${fromName}`, `${toDir}/${toName}`))),
    );
  }

  async mknod(path: string, type: SpecialType, mode: number, rdev: number, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    await this.inParent(path, async (dir, name, d) => {
      const parent = await this.parentForOwner(dir, opts);
      await makeSpecial({ ...(d.fd !== undefined ? { fd: d.fd } : {}), path: dir }, name, type, mode, rdev);
      const owner = ownerFor(opts.caller, parent);
      await lchownNew(`${dir}/${name}`, owner);
      if (needsChmod(mode, owner !== undefined)) await chmodNoFollow(`${dir}/${name}`, mode & 0o7777);
    });
  }

  async unlink(path: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    await this.inParent(path, (dir, name, _d, inline) => (inline ? unlinkSync(`${dir}/${name}`) : fsp.unlink(`${dir}/${name}`)));
  }

  async rmdir(path: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    const parts = splitGuestPath(path);
    await this.inParent(path, (dir, name, _d, inline) => (inline ? rmdirSync(`${dir}/${name}`) : fsp.rmdir(`${dir}/${name}`)));
    this.dirs.forget(parts);
  }

  async rename(from: string, to: string, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(to);
    await this.inParent(from, (fromDir, fromName, _f, inlineFrom) =>
      this.inParent(to, (toDir, toName, _t, inline) => (inline && inlineFrom ? renameSync(`${fromDir}/${fromName}`, `${toDir}/${toName}`) : fsp.rename(`${fromDir}/${fromName}`, `${toDir}/${toName}`))),
    );
    // Descriptors kept for folders under either name now name other paths (they would be re-proven anyway).
    this.dirs.forget(splitGuestPath(from));
    this.dirs.forget(splitGuestPath(to));
  }

  async setattr(path: string, attr: SetAttr, opts: CallOpts): Promise<void> {
    this.check(opts);
    this.writable(path);
    if (path === '/') throw new FsError('NotPermitted', `/: the root's attributes are not changed through ${this.name}`);
    await this.inParent(path, (dir, name, _d, inline) => (inline ? setattrAtSync(`${dir}/${name}`, path, attr) : setattrAt(`${dir}/${name}`, path, attr)));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dirs.closeAll();
  }
}

/** Opens the local guest a spec describes. */
export function openLocalGuest(spec: LocalGuestSpec): Promise<LocalGuest> {
  return LocalGuest.open(spec);
}
