import type { MountHealth } from '../../src-shared/mountState.ts';

// The guest interface every host consumes (DESIGN.md "The guest interface").
// Paths are guest-relative, absolute ("/" is the guest's root), already split-safe:
// hosts never pass "..", "." or empty components. Calls use lstat semantics: a
// symlink is reported as a symlink, never followed, unless the guest cannot express
// the link inside the mount (then it presents the target, see guests/).

/**
 * The kinds of node a guest can hold. Most guests hold only files, folders and symlinks;
 * the special ones (fifo, socket, char and block devices) exist only where the guest is a
 * real file system (a local folder) and are never opened through Berth.
 */
export type NodeType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';

/** The special node types mknod creates. */
export type SpecialType = Exclude<NodeType, 'file' | 'dir' | 'symlink'>;

/**
 * Attributes of one node. Times are milliseconds since the epoch and may carry a
 * fraction (sub-millisecond precision where the guest has it).
 */
export interface Attr {
  type: NodeType;
  /** Permission bits only (e.g. 0o444); hosts add the type bits. */
  mode: number;
  size: number;
  nlink: number;
  uid: number;
  gid: number;
  /** Stable for the mount's life; NFS fileid and FUSE ino. At most 2^53. */
  ino: number;
  mtime: number;
  atime: number;
  ctime: number;
  /**
   * The same times in exact nanoseconds, where the guest has them (a local folder): a
   * double in ms keeps only ~0.25 µs at today's dates.
   */
  atimeNs?: bigint;
  mtimeNs?: bigint;
  ctimeNs?: bigint;
  /** Device number of a char or block device (major << 8 | minor as Linux encodes it); 0 otherwise. */
  rdev?: number;
  /**
   * 512-byte blocks the node takes on its disk (st_blocks), where the guest knows them (a
   * local folder, an NFS share): a sparse file takes fewer than its size, a small one a
   * whole block. Hosts derive them from the size otherwise (blocksOf).
   */
  blocks?: number;
  /** True when the bytes under this node never change (IPFS content): hosts may cache forever. */
  immutable?: boolean;
}

/** One entry of a directory listing, with its attributes (PERF.md: readdir returns attributes). */
export interface DirEntry {
  name: string;
  attr: Attr;
}

/** File-system wide figures for statfs / FSSTAT. */
export interface StatFs {
  blockSize: number;
  blocks: number;
  blocksFree: number;
  blocksAvail: number;
  files: number;
  filesFree: number;
  nameMax: number;
}

/**
 * How a guest's backend is doing (an IPFS node, an NFS server), for the mount table to
 * show as MountStatus.health. Changes are pushed to subscribers.
 */
export interface HealthSource {
  current(): MountHealth;
  /** Calls `fn` on every change; returns the unsubscribe function. */
  subscribe(fn: (h: MountHealth) => void): () => void;
}

/**
 * Who asks for a call: the credentials a host learned from its client (the FUSE request's
 * context, an NFS call's AUTH_SYS). Guests that can act as another user (a local folder
 * served by root) create nodes owned by the caller; hosts check permissions against it.
 */
export interface Caller {
  uid: number;
  gid: number;
  /** Supplementary groups (AUTH_SYS carries up to 16); the primary gid need not repeat. */
  groups?: readonly number[];
}

/** Every guest call takes one; a call never outlives its signal. */
export interface CallOpts {
  signal: AbortSignal;
  /** Who made the call; absent means Berth's own user (the service, tests, a single-user mount). */
  caller?: Caller;
}

/** Flags for open. */
export interface OpenFlags {
  write?: boolean;
  truncate?: boolean;
}

/**
 * An open file's synchronous face (like VfsNow): blocking reads and writes on a local disk,
 * for hosts whose per-call overhead would otherwise exceed the call (a 4 KiB NFS WRITE).
 * Only offered by handles whose every call is inline; errors are FsErrors.
 */
export interface FileHandleNow {
  /** Reads up to `buffer.length` bytes at `position` into `buffer`; fewer only at end of file. */
  readInto(buffer: Uint8Array, position: number): number;
  /** Writes all of `data` at `position`; returns the bytes written. */
  write(position: number, data: Uint8Array): number;
  /** Optional: the open file's attributes (fstat): the node it names, whatever path it has now. */
  stat?(): Attr;
  /**
   * Optional: the file's descriptor on this machine, for a host that sends its bytes to a
   * socket with sendfile(2) (the NFS host's READ). Borrowed: valid until the handle is
   * closed, only read through, never closed by the caller.
   */
  fd?(): number;
  /**
   * Optional: applies `attr` to the open file itself (fchown, fchmod, ftruncate, futimens,
   * in that order), with no path to resolve: what `tar x` does to each file it writes.
   */
  setattr?(attr: SetAttr): void;
  /**
   * Optional: where the next data (`data`) or hole (`hole`) at or after `offset` begins
   * (lseek's SEEK_DATA and SEEK_HOLE on the open file; its end counts as a hole); null
   * where there is none (`offset` at or past the end, or only a hole after it: ENXIO).
   */
  seek?(offset: number, what: 'data' | 'hole'): number | null;
  /**
   * Optional: fallocate(2) on the open file: `mode` 0 reserves room (growing the file),
   * else Linux's FALLOC_FL_* bits as the caller gave them (keep size, punch a hole, zero a
   * range); what the disk cannot do fails as it says (EOPNOTSUPP).
   */
  fallocate?(mode: number, offset: number, length: number): void;
  /**
   * Optional: whether the path the file was opened by still names this very file, proven
   * without a system call (the local guest: inotify saw no name made, removed or renamed in
   * its folder since). False when that cannot be said; a host then goes by the path.
   */
  named?(): boolean;
}

/** An open file. Reads may be concurrent and out of order. */
export interface FileHandle {
  /** Optional synchronous reads and writes (FileHandleNow); wrappers pass it on as they pass the async calls. */
  now?: FileHandleNow;
  /**
   * A file just made by Vfs.create: its attributes then, where the guest had them without
   * another call (NFS: CREATE's reply holds them). Wrappers pass it on.
   */
  madeAttr?: Attr;
  /** Reads up to `length` bytes at `position`; fewer only at end of file. */
  read(position: number, length: number, opts: CallOpts): Promise<Uint8Array>;
  /**
   * Optional: reads up to `buffer.length` bytes at `position` into the caller's buffer and
   * returns how many (fewer only at end of file). Lets a host reuse its buffers (NFS READ):
   * a fresh 1 MiB buffer per call costs more CPU in page faults than the copy itself.
   */
  readInto?(buffer: Uint8Array, position: number, opts: CallOpts): Promise<number>;
  write?(position: number, data: Uint8Array, opts: CallOpts): Promise<number>;
  truncate?(size: number, opts: CallOpts): Promise<void>;
  flush?(opts: CallOpts): Promise<void>;
  /**
   * Optional: the open file's attributes, asked through the handle itself, not its path
   * (NFS GETATTR on its file handle): what a host answers for a file unlinked while open.
   */
  getattr?(opts: CallOpts): Promise<Attr>;
  /** Optional: applies `attr` to the open file itself, as getattr (NFS SETATTR on its file handle); resolves with the attributes after it where known. */
  setattr?(attr: SetAttr, opts: CallOpts): Promise<Attr | undefined>;
  close(): Promise<void>;
}

/** Attribute changes for setattr; absent fields stay as they are. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: number;
  mtime?: number;
  /** The same times in exact nanoseconds, when the host got them so (utimensat through FUSE 3); atime/mtime are still set. */
  atimeNs?: bigint;
  mtimeNs?: bigint;
  /**
   * The times given are the server's "now" (utimensat's UTIME_NOW, NFS SET_TO_SERVER_TIME),
   * which needs only write access, where explicit times need ownership (POSIX utimensat).
   */
  timesNow?: boolean;
}

/**
 * A guest's synchronous face: calls that block this thread for a few microseconds (system
 * calls on a local disk) instead of a threadpool hop, a promise chain and a deadline. Hosts
 * whose per-call overhead dominates (the NFS host answers a GETATTR in far less than one
 * promise chain costs) try it first. Each method answers `undefined` (or false) when the
 * call cannot be made inline right now (a path on a network mount, another platform):
 * nothing was done then, and the host makes the usual async call. Errors are FsErrors, as
 * from the async methods. No caller check, no deadline: a blocking call cannot be bounded.
 */
export interface VfsNow {
  getattr(path: string): Attr | undefined;
  /** getattr, but null when nothing has that name (no error made: an untar looks up every name it creates). */
  lookup(path: string): Attr | null | undefined;
  /** Creates a regular file as Vfs.create (owned by `caller` where the guest can); undefined when not done inline. */
  create(path: string, mode: number, caller: Caller | undefined): FileHandle | undefined;
  /** Creates a folder as Vfs.mkdir; false when not done inline. */
  mkdir(path: string, mode: number, caller: Caller | undefined): boolean;
  /** Removes a file or symlink; false when not done inline. */
  unlink(path: string): boolean;
  /** Removes an empty folder; false when not done inline. */
  rmdir(path: string): boolean;
  /**
   * Changes attributes as Vfs.setattr; the node's attributes after the change (read in the
   * folder the change was made in: no second path resolution), or undefined when not done inline.
   */
  setattr(path: string, attr: SetAttr): Attr | undefined;
  /** Renames as Vfs.rename (replacing what `to` names); false when not done inline (either folder). */
  rename(from: string, to: string): boolean;
  /** A symlink's target as Vfs.readlink; undefined when not read inline. */
  readlink(path: string): string | undefined;
  /**
   * The whole listing of a small folder (the order of readdir), or undefined when it cannot
   * be read inline (a big folder is listed in batches by readdirBatches, off this path).
   */
  readdir(path: string): readonly DirEntry[] | undefined;
}

/**
 * A file system Berth can present. The read side is required; writers are optional
 * and hosts answer ReadOnly (EROFS / NFS3ERR_ROFS) when they are absent.
 */
export interface Vfs {
  /** Short name for messages, e.g. "ipfs /ipfs/bafy...". */
  readonly name: string;
  /** True when no writer exists or the guest was opened read-only. */
  readonly readOnly: boolean;
  /** The backend's reachability, when the guest has a backend that can go away. */
  readonly health?: HealthSource;
  /**
   * How long this guest's attributes and listings may be cached when the spec names no
   * expiry (ms). A local folder says 0: it changes under Berth and an lstat is cheap.
   */
  readonly cacheExpiryMs?: number;
  /**
   * True when no node ever has an extended attribute (an NFS share; a local folder where
   * libc's xattr calls do not load). The FUSE host then answers ENOSYS, after which the
   * kernel stops asking: it otherwise asks security.capability before every single write.
   */
  readonly noXattrs?: boolean;
  /**
   * Optional synchronous calls (VfsNow); only layers that add nothing a blocking call needs
   * pass it on (a deadline cannot bound it; a cache that holds attributes must see changes).
   */
  now?: VfsNow;

  getattr(path: string, opts: CallOpts): Promise<Attr>;
  /**
   * Optional: the attributes of `path` when they are known in memory right now (a cache
   * layer), else undefined; never asks the guest. Lets a host answer a lookup at once
   * (`ls -l` of 5,000 entries is 5,000 lookups after one listing).
   */
  cachedAttr?(path: string): Attr | undefined;
  /**
   * Optional: drops what a cache layer keeps of the attributes of `path`, for a host that
   * learned they changed by a call on another path (a hard link of the file made or removed).
   */
  forgetAttr?(path: string): void;
  /** Streams a directory's entries with their attributes, in a stable order. */
  readdir(path: string, opts: CallOpts): AsyncIterable<DirEntry>;
  /**
   * Optional: the same listing a batch at a time (what the guest reads at once: an lstat
   * batch, an NFS page). Hosts list through readdirBatches() in listing.ts, which prefers
   * it: each layer between a guest and a host costs promises per entry through readdir,
   * and per batch through this. A batch is never changed after it was yielded.
   */
  readdirBatches?(path: string, opts: CallOpts): AsyncIterable<readonly DirEntry[]>;
  open(path: string, flags: OpenFlags, opts: CallOpts): Promise<FileHandle>;
  readlink(path: string, opts: CallOpts): Promise<string>;
  statfs(opts: CallOpts): Promise<StatFs>;
  /** Extended attribute value, or undefined when the node has none by that name. */
  getxattr(path: string, name: string, opts: CallOpts): Promise<Uint8Array | undefined>;
  listxattr(path: string, opts: CallOpts): Promise<string[]>;
  /**
   * Optional: sets the extended attribute `name` of `path` (never following a symlink);
   * `how` 'create' fails where it exists (Exist), 'replace' where it does not (NoAttribute).
   */
  setxattr?(path: string, name: string, value: Uint8Array, how: 'create' | 'replace' | undefined, opts: CallOpts): Promise<void>;
  /** Optional: removes the extended attribute `name` of `path` (NoAttribute where it has none). */
  removexattr?(path: string, name: string, opts: CallOpts): Promise<void>;

  create?(path: string, mode: number, opts: CallOpts): Promise<FileHandle>;
  /**
   * Makes a folder; resolves with its attributes where the guest has them without another
   * call (NFS: MKDIR's reply holds them), else with nothing (the host then reads them).
   */
  mkdir?(path: string, mode: number, opts: CallOpts): Promise<Attr | void>;
  symlink?(target: string, path: string, opts: CallOpts): Promise<void>;
  /** Makes `path` a new hard link to the existing non-folder `target` (both guest paths). */
  link?(target: string, path: string, opts: CallOpts): Promise<void>;
  /** Creates a fifo, socket or device node; `rdev` is the device number for char/block. */
  mknod?(path: string, type: SpecialType, mode: number, rdev: number, opts: CallOpts): Promise<void>;
  /** Removes a file or symlink. */
  unlink?(path: string, opts: CallOpts): Promise<void>;
  rmdir?(path: string, opts: CallOpts): Promise<void>;
  rename?(from: string, to: string, opts: CallOpts): Promise<void>;
  /**
   * Optional: rename(2) with a flag: 'noreplace' fails where `to` exists (Exist), 'exchange'
   * swaps the two (both must exist). Guests without it leave callers to fall back (EINVAL).
   */
  rename2?(from: string, to: string, how: 'noreplace' | 'exchange', opts: CallOpts): Promise<void>;
  /** Changes attributes; resolves with those after the change where the guest has them without another call (NFS: SETATTR's wcc_data), else with nothing. */
  setattr?(path: string, attr: SetAttr, opts: CallOpts): Promise<Attr | void>;

  /** Releases connections and caches; the vfs is unusable afterwards. */
  close(): Promise<void>;
}
