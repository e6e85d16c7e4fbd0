import type { FileHandle } from '../vfs/types.ts';

// A FUSE mount's open files: the kernel releases each one, except when the session ends
// with files still open (an immediate unmount, an aborted connection, a lazily detached
// mount that Berth stops serving). Those handles would keep their descriptors until the
// garbage collector found them (or forever, for the raw descriptors of inline local
// files), so the mount's end closes them.

/** Closes every handle left in `handles` once `signal` aborts (the mount ended), then forgets them. */
export function closeOnEnd(signal: AbortSignal, handles: Map<number, FileHandle>): void {
  const closeAll = (): void => {
    const left = [...handles.values()];
    handles.clear();
    for (const h of left) void h.close().catch(() => undefined);
  };
  if (signal.aborted) closeAll();
  else signal.addEventListener('abort', closeAll, { once: true });
}
