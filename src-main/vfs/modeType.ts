import { constants as C } from 'node:fs';
import type { Attr, NodeType, SpecialType } from './types.ts';

// The S_IFMT bits of a mode as the Vfs's node types: read from a guest's stat, and from
// the mode a FUSE mknod carries.

/** The S_IFMT bits of each node type (a stat's mode is these | the permission bits). */
export const TYPE_BITS: Record<NodeType, number> = {
  file: C.S_IFREG,
  dir: C.S_IFDIR,
  symlink: C.S_IFLNK,
  fifo: C.S_IFIFO,
  socket: C.S_IFSOCK,
  char: C.S_IFCHR,
  block: C.S_IFBLK,
};

/** The node type of st_mode's S_IFMT bits (anything unknown reads as a block device, the last kind). */
export function typeOfMode(mode: number): NodeType {
  switch (mode & C.S_IFMT) {
    case C.S_IFREG:
      return 'file';
    case C.S_IFDIR:
      return 'dir';
    case C.S_IFLNK:
      return 'symlink';
    case C.S_IFIFO:
      return 'fifo';
    case C.S_IFSOCK:
      return 'socket';
    case C.S_IFCHR:
      return 'char';
    default:
      return 'block';
  }
}

/** The special node a mknod's mode asks for; undefined for a regular file (or no type bits). */
export function specialOfMode(mode: number): SpecialType | undefined {
  switch (mode & C.S_IFMT) {
    case C.S_IFIFO:
    case C.S_IFSOCK:
    case C.S_IFCHR:
    case C.S_IFBLK:
      return typeOfMode(mode) as SpecialType;
    default:
      return undefined;
  }
}

/** st_blocks of a node: the guest's count where it has one, else its size in 512-byte blocks. */
export function blocksOf(a: Attr): number {
  return a.blocks ?? Math.ceil(a.size / 512);
}
