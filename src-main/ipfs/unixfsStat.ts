import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { FsError } from '../vfs/FsError.ts';
import type { IpfsStat } from './IpfsNode.ts';
import { canonicalCid } from './canonicalCid.ts';

// What one dag-pb block says about a UnixFS node (type, size, mode, mtime, symlink
// target, a plain folder's links), decoded by @ipld/dag-pb and ipfs-unixfs. Both
// backends describe nodes from their root block this way, never from file content.

/** The dag-pb codec code. */
export const DAG_PB = 0x70;
/** The raw codec code (a file that is one block). */
export const RAW = 0x55;

/** The decoded dag-pb node of a block; FsError InvalidItem when it is not dag-pb. */
export function decodePb(cid: string, block: Uint8Array): dagPb.PBNode {
  try {
    return dagPb.decode(block);
  } catch (err) {
    throw new FsError('InvalidItem', `${cid}: not a valid dag-pb block: ${(err as Error).message}`, { cause: err });
  }
}

/** The UnixFS data of a dag-pb node, or undefined for a bare link list. */
export function unixfsOf(cid: string, pb: dagPb.PBNode): UnixFS | undefined {
  if (!pb.Data) return undefined;
  try {
    return UnixFS.unmarshal(pb.Data);
  } catch (err) {
    throw new FsError('InvalidItem', `${cid}: not valid UnixFS data: ${(err as Error).message}`, { cause: err });
  }
}

function linksOf(pb: dagPb.PBNode): Map<string, string> {
  return new Map(pb.Links.map((l) => [l.Name ?? '', canonicalCid(l.Hash.toString()) ?? l.Hash.toString()]));
}

/** Type/size/metadata from a dag-pb block. */
export function statFromBlock(cid: string, block: Uint8Array): IpfsStat {
  const pb = decodePb(cid, block);
  const u = unixfsOf(cid, pb);
  // dag-pb without UnixFS data: a bare link list, shown as a folder
  if (!u) return { cid, type: 'dir', size: 0, links: linksOf(pb) };
  const meta: Pick<IpfsStat, 'mode' | 'mtimeMs'> = {};
  if (u.mode !== undefined) meta.mode = u.mode & 0o7777;
  if (u.mtime !== undefined) meta.mtimeMs = Number(u.mtime.secs) * 1000 + Math.floor((u.mtime.nsecs ?? 0) / 1e6);
  switch (u.type) {
    case 'directory':
      return { cid, type: 'dir', size: 0, links: linksOf(pb), ...meta };
    case 'hamt-sharded-directory':
      return { cid, type: 'dir', size: 0, sharded: true, ...meta };
    case 'symlink': {
      const target = new TextDecoder().decode(u.data ?? new Uint8Array());
      return { cid, type: 'symlink', size: new TextEncoder().encode(target).length, target, ...meta };
    }
    case 'file':
    case 'raw':
    case 'metadata':
      return { cid, type: 'file', size: Number(u.fileSize()), ...meta };
    default:
      throw new FsError('InvalidItem', `${cid}: unknown UnixFS type ${JSON.stringify(u.type)}`);
  }
}
