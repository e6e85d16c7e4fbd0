import { NAME_MAX, Nfsstat3 } from '../nfs3/constants.ts';
import { NfsStatusError } from './NfsStatusError.ts';
import { parentOf } from '../../vfs/pathNames.ts';
import { hasRawBytes, nameToBytes } from '../../sys/byteNames.ts';

// Guest paths are built here only, so no name from the wire can leave the export:
// names with "/" or NUL, and "." / ".." where an entry is created, are refused.

/** Checks a filename3 from the wire (RFC 1813 §2.5) that must name a real entry. */
export function checkName(name: string): void {
  if (name.length === 0) throw new NfsStatusError(Nfsstat3.INVAL, 'empty file name');
  if (byteLength(name) > NAME_MAX) throw new NfsStatusError(Nfsstat3.NAMETOOLONG, `file name longer than ${NAME_MAX} bytes`);
  if (name.includes('/') || name.includes('\0')) throw new NfsStatusError(Nfsstat3.INVAL, 'file name contains "/" or NUL');
  if (name === '.' || name === '..') throw new NfsStatusError(Nfsstat3.INVAL, `"${name}" cannot be created or removed`);
}

/** The guest path of `name` inside `dir`; "." and ".." resolve without leaving the root (LOOKUP). */
export function lookupPath(dir: string, name: string): string {
  if (name === '.') return dir;
  if (name === '..') return parentOf(dir);
  checkName(name);
  return childPath(dir, name);
}

/** `dir` + "/" + `name` for an already checked name. */
export function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/**
 * The bytes `name` stands for. Node counts a byte kept as U+DC80..U+DCFF (byteNames.ts) as
 * the three of U+FFFD, so only a name that seems too long is counted again, byte by byte.
 */
function byteLength(name: string): number {
  const n = Buffer.byteLength(name);
  return n > NAME_MAX && hasRawBytes(name) ? nameToBytes(name).length : n;
}
