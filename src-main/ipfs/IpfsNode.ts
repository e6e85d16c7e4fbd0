import type { HealthSource, NodeType as VfsNodeType } from '../vfs/types.ts';
import type { MfsBackend } from './mfs/MfsBackend.ts';

// What a guest needs from an IPFS node. Backends: kubo.ts (Kubo RPC API, with the js-ipfs
// peer's differences in jsIpfsPeer.ts) and embedded/EmbeddedNode.ts. Every call takes an AbortSignal and fails with FsError: NotExist when
// the content or name is not there, IO when the node cannot be reached, Timeout when
// the signal fires.

/** The node types UnixFS can hold (no fifos, sockets or devices). */
export type NodeType = Extract<VfsNodeType, 'file' | 'dir' | 'symlink'>;

/** Options every node call takes. */
export interface NodeCallOpts {
  signal: AbortSignal;
}

/** A UnixFS node, as far as resolving it told (no file content was fetched). */
export interface IpfsStat {
  /** The CID as the node prints it (CIDv0 base58, CIDv1 base32). */
  cid: string;
  type: NodeType;
  /** File size in bytes; symlink target length; 0 for folders. */
  size: number;
  /** UnixFS mode bits when the node stores them. */
  mode?: number;
  /** UnixFS mtime in ms when the node stores it. */
  mtimeMs?: number;
  /** A symlink's target as stored. */
  target?: string;
  /** A plain folder's links (name -> CID); absent for HAMT-sharded folders. */
  links?: ReadonlyMap<string, string>;
  /** True for HAMT-sharded folders (names are not in the root block). */
  sharded?: boolean;
}

/** One entry of a folder listing. */
export interface IpfsLsEntry {
  name: string;
  cid: string;
  type: NodeType;
  size: number;
  mode?: number;
  mtimeMs?: number;
}

/** A key of the node's keystore. */
export interface IpfsKey {
  name: string;
  /** The IPNS name the key publishes to. */
  id: string;
}

/** Storage figures of the node's repo. */
export interface IpfsRepoStat {
  repoSize: number;
  storageMax: number;
  numObjects: number;
}

/** Options for cat. */
export interface CatOpts extends NodeCallOpts {
  offset?: number;
  length?: number;
}

/** Options for block. */
export interface BlockOpts extends NodeCallOpts {
  /** Expected size in bytes, when a parent link says (a hint, never trusted). */
  sizeHint?: number;
  /**
   * Memory for the block (the caller reuses it, ipfsBlockBuffers.ts): `size` bytes to fill.
   * A backend that reads into a buffer of its own returns that instead.
   */
  alloc?: (size: number) => Uint8Array;
}

/** Options for add. */
export interface AddOpts extends NodeCallOpts {
  /** Pin what was added (default true). */
  pin?: boolean;
}

/** What add made of a file or folder. */
export interface AddResult {
  cid: string;
  /** The base name of what was added. */
  name: string;
  /** File size in bytes; 0 for a folder. */
  size: number;
  /** True when a folder was added. */
  dir: boolean;
}

/** An IPFS node as guests use it. */
export interface IpfsNode {
  /** Where the node is, for messages (e.g. "/ip4/127.0.0.1/tcp/5001"). */
  readonly address: string;
  /** Whether the node answers (nodes that can go away: Kubo over RPC). */
  readonly health?: HealthSource;
  /** Type, size and metadata of the node with this CID (one block fetched, never a file's content). */
  stat(cid: string, opts: NodeCallOpts): Promise<IpfsStat>;
  /** Resolves `/ipfs/<cid>/a/b` or `/ipns/<name>/a` to its node. */
  resolve(path: string, opts: NodeCallOpts): Promise<IpfsStat>;
  /**
   * Streams a folder's entries with type and size (works for HAMT-sharded folders).
   * Cost: the node fetches every child's root block to type it (js-ipfs: ~2 s for
   * 10,000 entries, PERF.md), so callers cache listings rather than repeat them.
   */
  ls(cid: string, opts: NodeCallOpts): AsyncIterable<IpfsLsEntry>;
  /**
   * One block's bytes, verified against its CID when they came from outside this process
   * (the embedded node's own store holds only verified or self-made blocks). File content
   * is read this way, a block at a time, several in flight (guests/ipfsBlockCache.ts).
   * `sizeHint` (the parent link's Tsize) only sizes a buffer.
   */
  block(cid: string, opts: BlockOpts): Promise<Uint8Array>;
  /** Streams a file's bytes from `offset`, at most `length` of them. */
  cat(cid: string, opts: CatOpts): AsyncIterable<Uint8Array>;
  /** CIDs of recursive pins. */
  pins(opts: NodeCallOpts): Promise<string[]>;
  /** The node's keys, each once. */
  keys(opts: NodeCallOpts): Promise<IpfsKey[]>;
  /** Resolves an IPNS name (recursively) to an `/ipfs/...` path. */
  nameResolve(name: string, opts: NodeCallOpts): Promise<string>;
  /** Repo size figures. */
  repoStat(opts: NodeCallOpts): Promise<IpfsRepoStat>;
  /**
   * Imports a file or folder from local disk with Kubo's current defaults (CIDv1, raw
   * leaves, 1 MiB chunks) and pins it.
   */
  add(path: string, opts: AddOpts): Promise<AddResult>;
  /** The node's Mutable File System (one per node: its writes are serialised there). */
  mfs(): MfsBackend;
  /** Releases the connection pool. */
  close(): Promise<void>;
}
