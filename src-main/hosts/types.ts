import type { Vfs } from '../vfs/types.ts';

/** A live host: returned by a host's mount() once the OS (or NFS clients) can use it. */
export interface MountedHost {
  /** The mount point, or the NFS address actually bound (with the chosen port). */
  readonly target: string;
  /** Extra facts for the user: e.g. the exact `mount` command for an NFS host. */
  readonly info?: Record<string, string>;
  /** Settles when the mount ends for any reason (unmount, external fusermount -u, crash). */
  readonly done: Promise<void>;
  unmount(): Promise<void>;
}

/** One host kind: presents a vfs at a target. */
export interface Host<Opts> {
  mount(vfs: Vfs, target: string, opts: Opts): Promise<MountedHost>;
}
