// What a guest path is made of: "/" then names joined by "/". The one rule for a name in
// it, shared by the guests that take paths apart and the NFS server's handle table, which
// reads paths back from a snapshot file; and the one way to a path's folder (parentOf).

/** Whether `name`, one component of a guest path split at "/", is a name: not empty, "." or "..", and no NUL. */
export function isPathName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('\0');
}

/** The folder holding a guest path: "/" for a name at the top, and for "/" itself. */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
