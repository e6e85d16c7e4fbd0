import type { Answer, XattrCallName } from './localLibc.ts';
import { nameFromBytes } from '../sys/byteNames.ts';
import { FsError } from '../vfs/FsError.ts';

// Extended attributes of a local folder's nodes (Linux): libc's l*xattr calls on
// "/proc/self/fd/<folder's descriptor>/<name>", the name resolved in the very folder the
// guest holds open and proved (as every other call of the guest), its last component never
// followed. Only the `user.` namespace is shown and changed: `security.*`, `trusted.*` and
// `system.*` (ACLs) belong to the machine serving the folder, whose process may hold rights
// the mount's users do not. The kernel checks a caller's right to read or write a node's
// user attributes before asking (with default_permissions, as every mount others may use has).

/** One l*xattr call with the node's path first in `args` (added by the paths strategy); throws its errno as Node's fs would. */
export type XattrRun = (call: XattrCallName, args: unknown[], outSize: number) => Promise<Answer>;

/** The largest value and the longest list of names Linux hands over (XATTR_SIZE_MAX, XATTR_LIST_MAX). */
const XATTR_MAX = 65536;
/** lsetxattr's flags. */
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

/** Whether `name` is one this guest shows and changes. */
export function isUserXattr(name: string): boolean {
  return name.startsWith('user.') && name.length > 5;
}

function userOnly(name: string): void {
  if (!isUserXattr(name)) throw new FsError('NotPermitted', `${JSON.stringify(name.slice(0, 80))}: only user.* attributes are kept here`);
}

/** The value of `name`, or undefined when the node has none (ENODATA) or the name is not a user one. */
export async function getXattr(run: XattrRun, name: string): Promise<Uint8Array | undefined> {
  if (!isUserXattr(name)) return undefined;
  try {
    const [n, , out] = await run('lgetxattr', [name, null, XATTR_MAX], XATTR_MAX);
    return Buffer.from(out!.buffer, out!.byteOffset, n);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENODATA') return undefined;
    throw err;
  }
}

/** The node's user attribute names. */
export async function listXattrs(run: XattrRun): Promise<string[]> {
  const [n, , out] = await run('llistxattr', [null, XATTR_MAX], XATTR_MAX);
  const list = Buffer.from(out!.buffer, out!.byteOffset, n);
  const names: string[] = [];
  // NUL-ended names, each kept by its bytes (sys/byteNames.ts), as file names are.
  for (let at = 0; at < list.length; ) {
    const end = list.indexOf(0, at);
    const stop = end < 0 ? list.length : end;
    if (stop > at) names.push(nameFromBytes(list, at, stop));
    at = stop + 1;
  }
  return names.filter(isUserXattr);
}

/** Sets `name` to `value`; `how`: 'create' fails where it exists (EEXIST), 'replace' where it does not (ENODATA). */
export async function setXattr(run: XattrRun, name: string, value: Uint8Array, how: 'create' | 'replace' | undefined): Promise<void> {
  userOnly(name);
  await run('lsetxattr', [name, value, value.length, how === 'create' ? XATTR_CREATE : how === 'replace' ? XATTR_REPLACE : 0], 0);
}

/** Removes `name` (ENODATA where the node has none). */
export async function removeXattr(run: XattrRun, name: string): Promise<void> {
  userOnly(name);
  await run('lremovexattr', [name], 0);
}

/** The path the l*xattr calls take for `name` in the folder open as `dirFd`, or for that folder itself. */
export function xattrPath(dirFd: number, name: string | undefined): string {
  return `/proc/self/fd/${dirFd}/${name ?? '.'}`;
}
