import type { Settings, ShutdownLevel } from '../../src-shared/api.ts';
import type { ErrorInfo } from '../../src-shared/errors.ts';
import type { MountState, MountStatus } from '../../src-shared/mountState.ts';
import type { MountSpec } from '../../src-shared/mountSpec.ts';
import type { MountedHost, MountEnd } from '../hosts/index.ts';
import type { Vfs } from '../vfs/types.ts';
import { ServiceError, toErrorInfo } from './errorInfo.ts';
import { selfOverlap } from './selfOverlap.ts';
import { withTimeout } from './timing.ts';

/** When a guest's close is slow enough to say so in the log. */
const GUEST_SLOW_MS = 3_000;
/** How long a guest may take to close (to save pending writes) before the unmount goes on without it. */
const GUEST_CLOSE_MS = 60_000;

// One mount's life in the table: its state machine, its retries, and what happens when
// its host goes. The host owns the mount itself (MountedHost: unmount(level), `done`);
// this file knows no FUSE or NFS details, only that a host went and why.

/** A mount that is up: the vfs (as the host serves it) and the host presenting it. */
export interface OpenedMount {
  vfs: Vfs;
  host: MountedHost;
}

/** Brings a spec up: openGuest → wrapGuest → mountHost (see openMount.ts). */
export type MountOpener = (spec: MountSpec, settings: Settings) => Promise<OpenedMount>;

/** What an entry needs from its table. Owner: MountTable. */
export interface EntryContext {
  opener: MountOpener;
  log: (message: string) => void;
  /** Every status change goes out as one event (unless the entry was removed). */
  changed: (status: MountStatus) => void;
  settings: () => Settings;
  /** The specs of the other mounts that are up or coming up (a mount must not serve itself). */
  othersUp: (self: MountEntry) => MountSpec[];
  stopping: () => boolean;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** The table's own record of one mount and its state machine. Owner: MountTable. */
export class MountEntry {
  status: MountStatus;
  live?: OpenedMount;
  removed = false;
  private op: Promise<unknown> = Promise.resolve();
  private retryTimer?: NodeJS.Timeout;
  private attempts = 0;
  /** Set while Berth itself unmounts, so the host ending is expected. */
  private leaving = false;
  /** Stops following the guest's backend health (MountStatus.health). */
  private unfollowHealth?: () => void;

  constructor(
    public spec: MountSpec,
    private readonly ctx: EntryContext,
  ) {
    this.status = { id: spec.id, spec, state: 'unmounted', since: new Date().toISOString() };
  }

  /** Whether a retry is scheduled (a failed auto-mount counts as wanted up). */
  get retrying(): boolean {
    return this.retryTimer !== undefined;
  }

  /** Runs `fn` after every earlier operation on this mount; nothing runs once it is removed. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.op.then(
      () => (this.removed ? (undefined as T) : fn()),
      () => (this.removed ? (undefined as T) : fn()),
    );
    this.op = next.catch(() => undefined);
    return next;
  }

  /** Cancels a scheduled retry. */
  clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Replaces the spec of a mount that is not up, forgetting its failures. */
  replaceSpec(spec: MountSpec): void {
    this.spec = spec;
    this.attempts = 0;
    this.clearRetry();
    this.setState('unmounted', { keepError: false });
  }

  /** Records a state, with what goes with it, and announces it. */
  setState(state: MountState, extra: { error?: ErrorInfo; nextRetryAt?: string; address?: string; info?: Record<string, string>; keepError?: boolean }): void {
    const s: MountStatus = { id: this.spec.id, spec: this.spec, state, since: new Date().toISOString() };
    const error = extra.error ?? (extra.keepError !== false && (state === 'failed' || state === 'stale') ? this.status.error : undefined);
    if (error) s.error = error;
    if (extra.nextRetryAt) s.nextRetryAt = extra.nextRetryAt;
    if (this.attempts > 0) s.attempts = this.attempts;
    const address = extra.address ?? (state === 'mounted' || state === 'unmounting' ? this.status.address : undefined);
    if (address) s.address = address;
    const info = extra.info ?? (state === 'mounted' || state === 'unmounting' ? this.status.info : undefined);
    if (info) s.info = info;
    const health = state === 'mounted' || state === 'unmounting' ? this.live?.vfs.health?.current() : undefined;
    if (health) s.health = health;
    this.status = s;
    if (!this.removed) this.ctx.changed(structuredClone(s));
  }

  /** Brings the mount up; on failure an auto-mount retries with doubling delays. Call inside run(). */
  async mount(): Promise<void> {
    if (this.live || this.ctx.stopping()) return;
    this.clearRetry();
    this.leaving = false;
    this.setState('mounting', { keepError: false });
    const spec = this.spec;
    let opened: OpenedMount;
    try {
      const overlap = selfOverlap(spec, this.ctx.othersUp(this));
      if (overlap) throw new ServiceError('Conflict', overlap);
      opened = await this.ctx.opener(spec, this.ctx.settings());
    } catch (err) {
      this.attempts++;
      const error = toErrorInfo(err, spec);
      let nextRetryAt: string | undefined;
      if (spec.autoMount && !this.ctx.stopping() && !this.removed) {
        const delay = Math.min(this.ctx.retryBaseMs * 2 ** Math.min(this.attempts - 1, 30), this.ctx.retryMaxMs);
        nextRetryAt = new Date(Date.now() + delay).toISOString();
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          if (this.status.state === 'failed') void this.run(() => this.mount());
        }, delay);
        this.retryTimer.unref();
      }
      this.ctx.log(`mount ${spec.id} failed (attempt ${this.attempts}): ${error.message}${nextRetryAt ? `; retrying at ${nextRetryAt}` : ''}`);
      this.setState('failed', { error, ...(nextRetryAt ? { nextRetryAt } : {}) });
      return;
    }
    this.live = opened;
    this.attempts = 0;
    this.ctx.log(`mounted ${spec.id} at ${opened.host.target}`);
    this.setState('mounted', { address: opened.host.target, ...(opened.host.info ? { info: opened.host.info } : {}) });
    // "mounted · node unreachable" and back: the guest pushes its backend's health.
    this.unfollowHealth?.();
    this.unfollowHealth = opened.vfs.health?.subscribe((health) => {
      if (this.live !== opened || this.removed || (this.status.state !== 'mounted' && this.status.state !== 'unmounting')) return;
      this.status = { ...this.status, health };
      this.ctx.changed(structuredClone(this.status));
    });
    // `done` is the one death signal: whatever ends the mount, it settles, once.
    void opened.host.done.then((end) => {
      if (this.live === opened && !this.leaving) void this.run(() => this.ended(opened, end));
    });
  }

  /** Takes the mount away with the given patience (the host does it). Call inside run(). */
  async unmount(level: ShutdownLevel): Promise<void> {
    const opened = this.live;
    if (!opened) return;
    this.leaving = true;
    this.setState('unmounting', {});
    try {
      const note = await opened.host.unmount(level);
      if (note) this.ctx.log(`unmount ${this.spec.id}: ${note}`);
    } catch (err) {
      // Still up (it could not even be detached): it stays ours, to be unmounted again.
      this.leaving = false;
      const error: ErrorInfo = { kind: 'IO', message: `could not unmount: ${(err as Error).message}` };
      this.ctx.log(`unmount ${this.spec.id}: ${error.message}`);
      this.setState('stale', { error });
      return;
    }
    await this.closeGuest(opened);
    this.stopFollowingHealth();
    this.live = undefined;
    this.leaving = false;
    this.ctx.log(`unmounted ${this.spec.id}`);
    this.setState('unmounted', { keepError: false });
  }

  /**
   * Closes the mount's guest. A guest that still saves what was written (the mfs guest's
   * queued puts) gets its time, said in the log; one that hangs is given up after
   * GUEST_CLOSE_MS so an unmount or a shutdown always ends.
   */
  private async closeGuest(opened: OpenedMount): Promise<void> {
    const slow = setTimeout(() => this.ctx.log(`unmount ${this.spec.id}: still saving what was written to ${opened.host.target}`), GUEST_SLOW_MS);
    try {
      await withTimeout(opened.vfs.close().catch(() => undefined), GUEST_CLOSE_MS, () => this.ctx.log(`unmount ${this.spec.id}: the guest did not close within ${GUEST_CLOSE_MS / 1000} s; going on`));
    } finally {
      clearTimeout(slow);
    }
  }

  private stopFollowingHealth(): void {
    this.unfollowHealth?.();
    this.unfollowHealth = undefined;
  }

  /** The host went without Berth asking: an external unmount is respected (stale); a death remounts an auto-mount. */
  private async ended(opened: OpenedMount, end: MountEnd): Promise<void> {
    if (this.live !== opened || this.leaving) return;
    this.stopFollowingHealth();
    this.live = undefined;
    await this.closeGuest(opened);
    const target = opened.host.target;
    if (end.reason !== 'died') {
      // Someone ran `fusermount -u` / `umount`. Respect that.
      this.ctx.log(`mount ${this.spec.id} at ${target} was unmounted outside Berth`);
      this.setState('stale', {
        error: { kind: 'Closed', message: `${target} was unmounted outside Berth (for example with fusermount -u)`, hint: 'mount it again with `berth mount` or from the app' },
      });
      return;
    }
    const error: ErrorInfo = { kind: 'IO', message: `the mount at ${target} died${end.message ? ` (${end.message})` : ''}`, errno: 'ENOTCONN' };
    this.ctx.log(`${error.message}${this.spec.autoMount ? '; remounting' : ''}`);
    if (this.spec.autoMount && !this.ctx.stopping()) {
      this.status.error = error;
      await this.mount();
    } else {
      this.setState('stale', { error, keepError: false });
    }
  }
}
