import { FsError } from './FsError.ts';
import type { Attr, Caller, SetAttr } from './types.ts';

// POSIX permission rules for a caller the OS does not know about. A FUSE mount leaves them
// to the kernel (default_permissions); an NFS server running as root must apply them
// itself, for the uid, gid and groups its client sent (AUTH_SYS), or every local account
// gets the server's rights (issue 9). No caller means Berth's own user: the OS decides.

/** Access bits as in mode and access(2). */
export const R = 4;
/** Write access. */
export const W = 2;
/** Execute (search, for a folder). */
export const X = 1;

const S_ISVTX = 0o1000;

/** Whether the caller is in group `gid` (its primary group or a supplementary one). */
export function inGroup(caller: Caller, gid: number): boolean {
  return caller.gid === gid || (caller.groups?.includes(gid) ?? false);
}

/** The rwx bits (0-7) `caller` has on a node by its owner, group and mode. */
export function accessBits(attr: Attr, caller: Caller): number {
  if (caller.uid === 0) {
    // root may do anything, but execute a file only when someone may (as the kernel does).
    return attr.type !== 'dir' && (attr.mode & 0o111) === 0 ? R | W : R | W | X;
  }
  if (caller.uid === attr.uid) return (attr.mode >> 6) & 7;
  if (inGroup(caller, attr.gid)) return (attr.mode >> 3) & 7;
  return attr.mode & 7;
}

/** Whether `caller` has every bit of `want` on the node (always, without a caller). */
export function mayAccess(attr: Attr, caller: Caller | undefined, want: number): boolean {
  return !caller || (accessBits(attr, caller) & want) === want;
}

/** Fails with Permission (EACCES) unless `caller` has `want` on the node. */
export function requireAccess(attr: Attr, caller: Caller | undefined, want: number, path: string): void {
  if (!mayAccess(attr, caller, want)) {
    const what = [want & R ? 'read' : '', want & W ? 'write' : '', want & X ? (attr.type === 'dir' ? 'search' : 'execute') : ''].filter(Boolean).join('+');
    throw new FsError('Permission', `${path}: ${what} permission denied for uid ${caller?.uid}`);
  }
}

/** Whether `caller` owns the node (root owns everything). */
export function owns(attr: Attr, caller: Caller | undefined): boolean {
  return !caller || caller.uid === 0 || caller.uid === attr.uid;
}

/**
 * Checks that `caller` may remove or rename away `victim` from folder `dir`: write and
 * search on the folder, and in a sticky folder (/tmp) only the owner of the victim or of
 * the folder may (EPERM otherwise, as Linux answers).
 */
export function requireMayDelete(dir: Attr, victim: Attr, caller: Caller | undefined, path: string): void {
  requireAccess(dir, caller, W | X, path);
  if ((dir.mode & S_ISVTX) !== 0 && !owns(victim, caller) && !owns(dir, caller)) {
    throw new FsError('NotPermitted', `${path}: the folder is sticky and uid ${caller?.uid} owns neither it nor the entry`);
  }
}

/**
 * Checks a SETATTR against POSIX rules: the mode and explicit times only by the owner,
 * the owner only by root, the group by the owner to a group they belong to, the size and
 * "now" times with write access (or ownership for times).
 */
export function requireMaySetattr(attr: Attr, set: SetAttr, caller: Caller | undefined, path: string): void {
  if (!caller || caller.uid === 0) return;
  const deny = (what: string): never => {
    throw new FsError('NotPermitted', `${path}: uid ${caller.uid} may not change ${what}`);
  };
  if (set.mode !== undefined && !owns(attr, caller)) deny('the mode (not the owner)');
  if (set.uid !== undefined && set.uid !== attr.uid) deny('the owner (only root may)');
  if (set.gid !== undefined && set.gid !== attr.gid && (!owns(attr, caller) || !inGroup(caller, set.gid))) deny(`the group to ${set.gid}`);
  if (set.size !== undefined) requireAccess(attr, caller, W, path);
  if (set.atime !== undefined || set.mtime !== undefined) {
    if (set.timesNow) {
      if (!owns(attr, caller)) requireAccess(attr, caller, W, path);
    } else if (!owns(attr, caller)) deny('the times (not the owner)');
  }
}
