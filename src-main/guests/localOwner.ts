import { lchownSync, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { Caller } from '../vfs/types.ts';

// What a node created through the local guest ends up as: exactly the mode the caller
// asked for, owned by the caller. The kernel (FUSE) or the NFS client already applied the
// caller's umask, so Berth's own umask must not be applied again (issue 9: mkdir 0777 under
// umask 0 gave 0755), and set-id bits asked for are kept. Only root can give a node away;
// a server running as anyone else leaves nodes its own (hosts refuse other callers then,
// or the user maps owners with --uid/--gid).

/** Set-id and sticky bits (POSIX values; not in Node's fs constants). */
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;

/** Whether this process may chown nodes to their creator. */
export const CAN_CHOWN = process.getuid?.() === 0;
/** This process's own user and group, read once (two system calls per create otherwise; Berth never changes them). */
const SELF = { uid: process.getuid?.(), gid: process.getgid?.() };

/**
 * Whether ownerFor needs the parent folder's mode and group for a node `caller` creates:
 * not when the caller is this process's own user and group, as the kernel then gives the
 * node exactly what ownerFor would (the folder's group when it is set-group-id).
 */
export function needsFolderOwner(caller: Caller | undefined): caller is Caller {
  return CAN_CHOWN && caller !== undefined && (caller.uid !== SELF.uid || caller.gid !== SELF.gid);
}

/**
 * This process's umask, read once: umask() without an argument is racy only against
 * threads changing it, and nothing in Berth does.
 */
const UMASK = process.umask();

/** The owner a new node gets: the caller, with the folder's group when it is set-group-id (BSD rule, as Linux does). */
export function ownerFor(caller: Caller | undefined, parent: Pick<Stats, 'mode' | 'gid'> | undefined): { uid: number; gid: number } | undefined {
  if (!CAN_CHOWN || !caller) return undefined;
  const gid = parent && (parent.mode & S_ISGID) !== 0 ? parent.gid : caller.gid;
  if (caller.uid === SELF.uid && gid === SELF.gid) return undefined;
  return { uid: caller.uid, gid };
}

/**
 * Whether a node created with `asked` needs a chmod afterwards: our umask took bits away,
 * set-id bits were asked (mkdir drops them; a chown clears them), or a chown happened.
 */
export function needsChmod(asked: number, chowned: boolean): boolean {
  return (asked & UMASK) !== 0 || (asked & (S_ISUID | S_ISGID | S_ISVTX)) !== 0 || chowned;
}

/** The mode a new folder must end with: what was asked, plus set-group-id inherited from its parent. */
export function folderMode(asked: number, created: Stats): number {
  return (asked & 0o7777) | (created.mode & S_ISGID);
}

/** Gives a node just created by path (symlinks and special nodes) to its owner, without following it. */
export async function lchownNew(path: string | Buffer, owner: { uid: number; gid: number } | undefined): Promise<void> {
  if (owner) await fsp.lchown(path, owner.uid, owner.gid);
}

/** lchownNew, inline. */
export function lchownNewSync(path: string | Buffer, owner: { uid: number; gid: number } | undefined): void {
  if (owner) lchownSync(path, owner.uid, owner.gid);
}
