import * as dagPb from '@ipld/dag-pb';
import type { CID } from 'multiformats/cid';
import { FsError } from '../vfs/FsError.ts';
import { canonicalCid } from './canonicalCid.ts';
import { DAG_PB, RAW, decodePb, unixfsOf } from './unixfsStat.ts';

// One block of a UnixFS file's DAG as a reader walks it (https://specs.ipfs.tech/unixfs/):
// its own bytes (a leaf's data, or bytes an inner node holds before its children) and its
// children with the file range each covers (the node's blocksizes). Decoded by
// @ipld/dag-pb and ipfs-unixfs; the data is a view into the block, never a copy.

/** A node of a file's DAG. Immutable, so caches keep it by CID. */
export interface FileNode {
  /** Bytes the node holds itself, first in its range: a leaf's data, or an inner node's prefix. */
  readonly data: Uint8Array;
  /** Children's CIDs (canonical text), in file order. */
  readonly links: readonly string[];
  /** Each child's Tsize: the block size of a leaf, so a size hint for fetching it. */
  readonly hints: readonly number[];
  /** Where each child starts, relative to this node; one more entry: the node's size. */
  readonly starts: Float64Array;
  /** File bytes under this node (data and every child). */
  readonly size: number;
  /** Bytes of memory the node keeps alive (its block). */
  readonly cost: number;
}

/** Decodes the block of a file node; FsError IsDir/InvalidItem for what is no file, IO for an inconsistent one. */
export function fileNodeOf(cid: CID, block: Uint8Array): FileNode {
  const text = cid.toString();
  if (cid.code === RAW) return { data: block, links: [], hints: [], starts: new Float64Array([block.length]), size: block.length, cost: block.length };
  if (cid.code !== DAG_PB) throw new FsError('InvalidItem', `${text}: codec 0x${cid.code.toString(16)} is not UnixFS (dag-pb or raw)`);
  const pb = decodePb(text, block);
  const u = unixfsOf(text, pb);
  if (!u) throw new FsError('InvalidItem', `${text}: a dag-pb node without UnixFS data is not a file`);
  if (u.type === 'directory' || u.type === 'hamt-sharded-directory') throw new FsError('IsDir', `${text} is a folder`);
  if (u.type !== 'file' && u.type !== 'raw') throw new FsError('InvalidItem', `${text}: a UnixFS ${u.type} node is not file content`);
  if (pb.Links.length !== u.blockSizes.length) {
    throw new FsError('IO', `${text}: malformed file node: ${pb.Links.length} links but ${u.blockSizes.length} block sizes`);
  }
  const data = u.data ?? new Uint8Array(0);
  const starts = new Float64Array(pb.Links.length + 1);
  let at = data.length;
  for (let i = 0; i < pb.Links.length; i++) {
    starts[i] = at;
    at += Number(u.blockSizes[i]!);
  }
  starts[pb.Links.length] = at;
  if (!Number.isSafeInteger(at)) throw new FsError('IO', `${text}: malformed file node: sizes add up to ${at}`);
  return {
    data,
    links: pb.Links.map((l: dagPb.PBLink) => canonicalCid(l.Hash.toString()) ?? l.Hash.toString()),
    hints: pb.Links.map((l: dagPb.PBLink) => l.Tsize ?? 0),
    starts,
    size: at,
    cost: block.length,
  };
}

/** The index of the child whose range holds `pos` (relative to the node; pos >= data.length, < size). */
export function childAt(node: FileNode, pos: number): number {
  const s = node.starts;
  let lo = 0;
  let hi = node.links.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s[mid]! <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
