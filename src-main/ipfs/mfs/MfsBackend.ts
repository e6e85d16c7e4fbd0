import type { NodeCallOpts } from '../IpfsNode.ts';

// What the mfs guest needs from a node's Mutable File System: paths to CIDs (content is
// then read by CID through the IpfsNode, a stable snapshot) and the namespace writes.
// Every write is whole: a file's new content is imported first and linked in at its
// path in one step (putFile), so a crash leaves the old file or the new one, never half
// of one. Backends: kuboMfs.ts (Kubo's files API; the js-ipfs peer's differences in
// jsIpfsPeer.ts) and embeddedMfs.ts (@helia/unixfs on a root CID of our own).

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
  /** Imports a local file (CIDv1, raw leaves, 1 MiB chunks) and links it at `path`, replacing what was there; returns its CID. */
  putFile(path: string, localFile: string, opts: NodeCallOpts): Promise<string>;
  /** Creates a symlink at `path` pointing to `target`. */
  symlink(target: string, path: string, opts: NodeCallOpts): Promise<void>;
  /** Sets the UnixFS mode bits (0o7777) of an entry. */
  chmod(path: string, mode: number, opts: NodeCallOpts): Promise<void>;
  /** Sets the UnixFS mtime of an entry (ms since the epoch). */
  touch(path: string, mtimeMs: number, opts: NodeCallOpts): Promise<void>;
}
