import type { Attr, DirEntry, FileHandle, SetAttr, SpecialType } from '../vfs/types.ts';
import { FsError } from '../vfs/FsError.ts';
import { type FolderWitness, HAS_PROC_FD } from './localDirs.ts';
import type { Answer, XattrCallName } from './localLibc.ts';

// How the local guest reaches the nodes of its folder without ever leaving it, behind one
// interface so that local.ts (paths checked, read-only refused, owners decided) does not
// know the platform. A strategy opens a folder of the guest proven to lie inside the root
// (a DirRef) and then acts on one name in it, never following a symlink there. Linux
// proves folders by their /proc/self/fd link (localProcPaths.ts); elsewhere the folder is
// reached by an openat walk from the root's descriptor (localAtPaths.ts), which also runs
// on Linux when asked (BERTH_LOCAL_PATHS=openat), so that path is tested here too.

/** The owner a new node gets (localOwner.ts ownerFor); undefined keeps Berth's own. */
export type NewOwner = { uid: number; gid: number } | undefined;

/** What a new node's owner is decided from: the folder's mode (set-group-id) and group. */
export interface FolderOwner {
  mode: number;
  gid: number;
}

/** A folder of the guest, opened and proven inside the root; release() when done. */
export interface DirRef {
  /** The folder's own host path (root + guest path): what the inline policy judges. */
  readonly lexical: string;
  /** Whether calls on nodes in it may block this thread (localInline.ts). */
  readonly inline: boolean;
  release(): void;
}

/**
 * A strategy's blocking forms of the calls the guest's synchronous face makes (VfsNow in
 * vfs/types.ts); used only for folders the inline policy allows.
 */
export interface LocalPathsNow<D extends DirRef = DirRef> {
  /** dir() by blocking calls; the folder is inline. */
  dir(parts: readonly string[], guestPath: string): D;
  stat(d: D, name: string | undefined): Attr;
  /** stat of `name`, or null when nothing has that name. */
  lookup(d: D, name: string): Attr | null;
  folderOwner(d: D): FolderOwner;
  create(d: D, name: string, guestPath: string, mode: number, owner: NewOwner): FileHandle;
  mkdir(d: D, name: string, mode: number, owner: NewOwner): void;
  unlink(d: D, name: string): void;
  rmdir(d: D, name: string): void;
  setattr(d: D, name: string, guestPath: string, attr: SetAttr): void;
  rename(from: D, fromName: string, to: D, toName: string): void;
  readlink(d: D, name: string): string;
  /** The sorted listing of `d` with attributes when it has at most `max` entries, all inline; else undefined. */
  list(d: D, max: number): DirEntry[] | undefined;
  /** A path naming the folder `d` itself (its /proc/self/fd link), for inotify_add_watch; absent: no attribute cache. */
  watchPath?(d: D): string;
  /** Lets the attribute cache's watches vouch for kept folders, sparing their proof by link (localDirs.ts FolderWitness). */
  vouchBy?(witness: FolderWitness): void;
}

/** The strategies: the /proc proof (Linux) and the openat walk (every platform with libc's *at calls). */
export type PathsKind = 'proc' | 'openat';

/** One strategy, owned by one guest. Every name is one checked path component. */
export interface LocalPaths<D extends DirRef = DirRef> {
  readonly kind: PathsKind;
  /** Blocking forms of some calls, where the strategy has them (the /proc one). */
  readonly now?: LocalPathsNow<D>;
  /** Opens the folder at `parts`; `inline` says whether its nodes' calls may block this thread. */
  dir(parts: readonly string[], guestPath: string, inline: boolean): Promise<D>;
  /** Forgets the folder kept at `parts` (after rmdir: it was empty, nothing under it is kept as still there). */
  forget(parts: readonly string[]): void;
  /** Forgets the folders kept at and under `parts` (after a rename, which moves what lies under it). */
  forgetTree(parts: readonly string[]): void;
  /** Closes every descriptor the strategy keeps. */
  close(): void;
  /** Attributes with exact ns times of `name` in `d` (never followed), or of `d` itself. */
  stat(d: D, name: string | undefined): Promise<Attr>;
  /** The folder's mode and group, which a new node's owner depends on. */
  folderOwner(d: D): Promise<FolderOwner>;
  /** The folder's entries with attributes, sorted by name, a batch at a time. */
  list(d: D, signal: AbortSignal): AsyncIterable<readonly DirEntry[]>;
  /** Opens a regular file (open(2) flags) without following a symlink or blocking on a fifo. */
  open(d: D, name: string, guestPath: string, flags: number, canWrite: boolean): Promise<FileHandle>;
  /** Creates a regular file with exactly `mode`, given to `owner`. */
  create(d: D, name: string, guestPath: string, mode: number, owner: NewOwner): Promise<FileHandle>;
  mkdir(d: D, name: string, mode: number, owner: NewOwner): Promise<void>;
  symlink(target: string, d: D, name: string, owner: NewOwner): Promise<void>;
  mknod(d: D, name: string, type: SpecialType, mode: number, rdev: number, owner: NewOwner): Promise<void>;
  link(from: D, fromName: string, to: D, toName: string): Promise<void>;
  rename(from: D, fromName: string, to: D, toName: string): Promise<void>;
  unlink(d: D, name: string): Promise<void>;
  rmdir(d: D, name: string): Promise<void>;
  readlink(d: D, name: string): Promise<string>;
  setattr(d: D, name: string, guestPath: string, attr: SetAttr): Promise<void>;
  /**
   * Where extended attributes can be kept (Linux, libc loaded): one l*xattr call on `name`
   * in `d`, or on `d` itself (localXattrs.ts), with the node's path put first in `args`.
   */
  xattr?(d: D, name: string | undefined, call: XattrCallName, args: unknown[], outSize: number): Promise<Answer>;
  /** Where renameat2 is bound: a rename with RENAME_NOREPLACE (1) or RENAME_EXCHANGE (2). */
  rename2?(from: D, fromName: string, to: D, toName: string, flags: number): Promise<void>;
}

const KINDS: readonly PathsKind[] = ['proc', 'openat'];

/** The strategy asked for by BERTH_LOCAL_PATHS, else this platform's default. */
export function pathsKind(asked: string | undefined = process.env.BERTH_LOCAL_PATHS): PathsKind {
  if (asked === undefined || asked === '') return HAS_PROC_FD ? 'proc' : 'openat';
  if (!(KINDS as readonly string[]).includes(asked)) {
    throw new FsError('InvalidItem', `BERTH_LOCAL_PATHS: expected one of ${KINDS.join(', ')}, got ${JSON.stringify(asked.slice(0, 40))}`);
  }
  if (asked === 'proc' && !HAS_PROC_FD) throw new FsError('InvalidOperation', 'BERTH_LOCAL_PATHS=proc needs /proc/self/fd (Linux)');
  return asked as PathsKind;
}
