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

/** An open file. Reads may be concurrent and out of order. */
export interface FileHandle {
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
  close(): Promise<void>;
  /**
   * Optional: the same file's calls as blocking ones, present only when none can wait on
   * anything but a local disk (the local guest's inline files). A host may answer a request
   * from them at once: no promise, no deadline (nothing to time out), no copy of the data.
   */
  now?: FileHandleNow;
}

/** Blocking calls on one open file (FileHandle.now); they throw FsError like the async ones. */
export interface FileHandleNow {
  readInto(buffer: Uint8Array, position: number): number;
  write(position: number, data: Uint8Array): number;
  /** The open file's attributes (fstat): the node it names, whatever path it has now. */
  stat(): Attr;
  /**
   * Applies `attr` to the open file itself (fchown, fchmod, ftruncate, futimens, in that
   * order), with no path to resolve. A size needs the file open for writing.
   */
  setattr(attr: SetAttr): void;
}

/** Blocking calls of a vfs (Vfs.now); each throws FsError like its async form rejects. */
export interface VfsNow {
  /** The attributes; null when nothing is at `path` (NotExist without an Error); undefined: ask getattr. */
  getattr(path: string): Attr | null | undefined;
  /** Removes a non-folder; false when it must be asked by unlink instead. */
  unlink(path: string): boolean;
  /** Removes an empty folder; false when it must be asked by rmdir instead. */
  rmdir(path: string): boolean;
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
   * True when no node ever has an extended attribute (a local folder as Berth presents it).
   * The FUSE host then answers ENOSYS, after which the kernel stops asking: it otherwise asks
   * security.capability before every single write.
   */
  readonly noXattrs?: boolean;

  getattr(path: string, opts: CallOpts): Promise<Attr>;
  /**
   * Optional: some calls as blocking ones, where the guest can answer without waiting on
   * anything but a local disk (the local guest's inline paths). A host answers a request
   * from them at once (no promise, no deadline), and asks the usual way when they decline.
   */
  now?: VfsNow;
  /**
   * Optional: the attributes of `path` when they are known in memory right now (a cache
   * layer), else undefined; never asks the guest. Lets a host answer a lookup at once
   * (`ls -l` of 5,000 entries is 5,000 lookups after one listing).
   */
  cachedAttr?(path: string): Attr | undefined;
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

  create?(path: string, mode: number, opts: CallOpts): Promise<FileHandle>;
  mkdir?(path: string, mode: number, opts: CallOpts): Promise<void>;
  symlink?(target: string, path: string, opts: CallOpts): Promise<void>;
  /** Makes `path` a new hard link to the existing non-folder `target` (both guest paths). */
  link?(target: string, path: string, opts: CallOpts): Promise<void>;
  /** Creates a fifo, socket or device node; `rdev` is the device number for char/block. */
  mknod?(path: string, type: SpecialType, mode: number, rdev: number, opts: CallOpts): Promise<void>;
  /** Removes a file or symlink. */
  unlink?(path: string, opts: CallOpts): Promise<void>;
  rmdir?(path: string, opts: CallOpts): Promise<void>;
  rename?(from: string, to: string, opts: CallOpts): Promise<void>;
  setattr?(path: string, attr: SetAttr, opts: CallOpts): Promise<void>;

  /** Releases connections and caches; the vfs is unusable afterwards. */
  close(): Promise<void>;
}
