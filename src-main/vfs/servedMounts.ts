// Mount points this process serves itself (FUSE hosts add theirs before mounting and drop
// them once gone). A guest that makes blocking system calls on the JavaScript thread (the
// local guest on a local disk) must never make one on a path inside these: the kernel
// would wait for this very thread to answer (issue 3). Owned by the hosts; read by guests.

const served = new Set<string>();

/** Marks `mountpoint` as served by this process (call before the mount exists). */
export function addServedMount(mountpoint: string): void {
  served.add(mountpoint);
}

/** Unmarks `mountpoint` (call once it is gone). */
export function removeServedMount(mountpoint: string): void {
  served.delete(mountpoint);
}

/** Every mount point this process serves. */
export function servedMounts(): ReadonlySet<string> {
  return served;
}
