// What a guest path is made of: "/" then names joined by "/". The one rule for a name in
// it, shared by the guests that take paths apart and the NFS server's handle table, which
// reads paths back from a snapshot file.

/** Whether `name`, one component of a guest path split at "/", is a name: not empty, "." or "..", and no NUL. */
export function isPathName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('\0');
}
