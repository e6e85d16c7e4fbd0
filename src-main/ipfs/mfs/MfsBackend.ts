import type { FsError } from '../../vfs/FsError.ts';
import type { NodeCallOpts } from '../IpfsNode.ts';

// What the mfs guest needs from a node's Mutable File System: paths to CIDs (content is
// then read by CID through the IpfsNode, a stable snapshot) and the namespace writes.
// Every write is whole: a file's new content is imported first and linked in at its
// path in one step (putFiles), so a crash leaves the old file or the new one, never half
// of one. A file's mode and mtime go in with its content (no chmod/touch after it), and
// several files may be put in one batch, which a backend links with as few MFS updates as
// it can (issue 10: an untar cost ~10 RPCs per small file). Backends: kuboMfs.ts (Kubo's files API; the js-ipfs peer's differences in
// jsIpfsPeer.ts) and embeddedMfs.ts (@helia/unixfs on a root CID of our own).

/** One file to put into MFS. */
export interface PutItem {
  /** Absolute MFS path. */
  path: string;
  /** The local file holding the whole new content (not changed while it is put). */
  localFile: string;
  /** UnixFS mode bits to store (0o7777), when any. */
  mode?: number;
  /** UnixFS mtime to store (ms since the epoch), when any. */
  mtimeMs?: number;
  /** True when nothing was at `path` as far as the caller knows (a replace is then not expected, one RPC less). */
  isNew: boolean;
}

/** What became of one PutItem: the CID linked at its path, or why not. */
export type PutOutcome = { cid: string } | { error: FsError };

/** The UnixFS mtime of ms since the epoch: whole seconds and the nanoseconds left. */
export function unixfsMtime(ms: number): { secs: number; nsecs: number } {
  const secs = Math.floor(ms / 1000);
  return { secs, nsecs: Math.round((ms - secs * 1000) * 1e6) };
}

/** The MFS backend of one node. Paths are absolute MFS paths ("/" is the MFS root). */
export interface MfsBackend {
  /** The CID at an MFS path; FsError NotExist when nothing is there. */
  cidOf(path: string, opts: NodeCallOpts): Promise<string>;
  /** Creates one folder (its parent must exist); Exist when the name is taken. */
  mkdir(path: string, opts: NodeCallOpts): Promise<void>;
  /** Removes a file, symlink or (recursively) folder. */
  rm(path: string, opts: NodeCallOpts): Promise<void>;
  /** Moves `from` to `to`, replacing what `to` held. */
  mv(from: string, to: string, opts: NodeCallOpts): Promise<void>;
  /**
   * Imports local files (CIDv1, raw leaves, 1 MiB chunks; with a mode or mtime the root
   * becomes a dag-pb node holding them) and links each at its path, replacing what was
   * there. One outcome per item, in order: a failure of one does not fail the others.
   */
  putFiles(items: readonly PutItem[], opts: NodeCallOpts): Promise<PutOutcome[]>;
  /** Creates a symlink at `path` pointing to `target`. */
  symlink(target: string, path: string, opts: NodeCallOpts): Promise<void>;
  /** Sets the UnixFS mode bits (0o7777) of an entry. */
  chmod(path: string, mode: number, opts: NodeCallOpts): Promise<void>;
  /** Sets the UnixFS mtime of an entry (ms since the epoch). */
  touch(path: string, mtimeMs: number, opts: NodeCallOpts): Promise<void>;
}
