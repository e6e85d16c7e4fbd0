import type { ErrorInfo } from './errors.ts';
import type { MountSpec } from './mountSpec.ts';

/** Every state a mount can be in (DESIGN.md "Data model"). */
export const MOUNT_STATES = ['unmounted', 'mounting', 'mounted', 'unmounting', 'failed', 'stale'] as const;

/**
 * Where one mount is in its life:
 * - `unmounted`: known to the table, not presented to the OS;
 * - `mounting` / `unmounting`: a transition is under way;
 * - `mounted`: the kernel (or NFS clients) can use it;
 * - `failed`: the last attempt failed (see `error`); auto-mounts retry at `nextRetryAt`;
 * - `stale`: it was mounted and died underneath; it is cleaned up but not remounted.
 */
export type MountState = (typeof MOUNT_STATES)[number];

/** True when `s` names a MountState. */
export function isMountState(s: unknown): s is MountState {
  return typeof s === 'string' && (MOUNT_STATES as readonly string[]).includes(s);
}

/** One row of the live mount table, as every face (CLI, app, browser) sees it. */
export interface MountStatus {
  id: string;
  spec: MountSpec;
  state: MountState;
  /** When the state last changed (ISO 8601). */
  since: string;
  /** The last failure, kept while the state is `failed` or `stale`. */
  error?: ErrorInfo;
  /** When a failed auto-mount is tried again (ISO 8601). */
  nextRetryAt?: string;
  /** How many attempts failed in a row (reset once mounted). */
  attempts?: number;
  /** The mount point, or for an NFS host the address actually bound (port filled in). */
  address?: string;
  /** Extra facts from the host, e.g. the `mount` command for an NFS export. */
  info?: Record<string, string>;
  /**
   * Set while a mounted mount cannot reach what it reads from (its IPFS node or NFS
   * server): reads fail fast until it answers again, and the faces show
   * "mounted · node unreachable" with the error and its hint.
   */
  health?: MountHealth;
}

/** A mounted mount's reach to its backend (see MountStatus.health). */
export interface MountHealth {
  node: 'ok' | 'unreachable';
  /** The node or server address, e.g. /ip4/127.0.0.1/tcp/5001. */
  address?: string;
  error?: ErrorInfo;
  /** When it changed (ISO 8601). */
  since: string;
}

/** True for the states in which a mount occupies its target (mount point or listen address). */
export function isActiveState(state: MountState): boolean {
  switch (state) {
    case 'mounting':
    case 'mounted':
    case 'unmounting':
      return true;
    case 'unmounted':
    case 'failed':
    case 'stale':
      return false;
    default: {
      const never: never = state;
      return never;
    }
  }
}
