import type { ShutdownLevel } from '../../src-shared/api.ts';
import type { Vfs } from '../vfs/types.ts';

/** How a mount ended: what `MountedHost.done` resolves with. */
export interface MountEnd {
  /**
   * `unmounted`: by the host's unmount(); `external`: taken away outside Berth
   * (`fusermount -u`, `umount`); `died`: it stopped serving on its own (its server failed).
   */
  reason: 'unmounted' | 'external' | 'died';
  /** What happened, in words, when it died. */
  message?: string;
}

/**
 * A live host: returned by a host's mount() once the OS (or NFS clients) can use it. It
 * owns the mount's whole life: the service asks it to go and learns from `done` that it
 * went, and knows nothing of FUSE or NFS.
 */
export interface MountedHost {
  /** The mount point, or the NFS address actually bound (with the chosen port). */
  readonly target: string;
  /** Extra facts for the user: e.g. the exact `mount` command for an NFS host. */
  readonly info?: Record<string, string>;
  /** The one death signal: settles once, when the mount is gone, however it went. Never rejects. */
  readonly done: Promise<MountEnd>;
  /**
   * Takes the mount away with the patience of `level` (default `short`: busy files get a
   * grace period, then the mount is detached lazily); resolves once `done` has settled,
   * with a note for the log when it had to force. A later, harder level overrides a
   * pending gentler one.
   */
  unmount(level?: ShutdownLevel): Promise<string | undefined>;
}

/** One host kind: presents a vfs at a target. */
export interface Host<Opts> {
  mount(vfs: Vfs, target: string, opts: Opts): Promise<MountedHost>;
}
