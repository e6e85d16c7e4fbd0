import { randomBytes } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import type { ApiEventName, ApiEvents, Notice, Settings, SettingsPatch, ShutdownLevel } from '../../src-shared/api.ts';
import { SettingsPatchSchema, SettingsSchema } from '../../src-shared/api.ts';
import type { ErrorInfo } from '../../src-shared/errors.ts';
import type { MountState, MountStatus } from '../../src-shared/mountState.ts';
import { isActiveState } from '../../src-shared/mountState.ts';
import type { MountInput, MountSpec } from '../../src-shared/mountSpec.ts';
import { describeIssues, MountInputSchema, MountSpecSchema } from '../../src-shared/mountSpec.ts';
import type { MountedHost } from '../hosts/types.ts';
import type { Vfs } from '../vfs/types.ts';
import { ServiceError, toErrorInfo } from './errorInfo.ts';
import { cleanLeftovers } from './leftovers.ts';
import { claimOf, newMountId } from './mountIds.ts';
import { mountInfoReadNumber, watchMountInfo } from '../hosts/mountInfoWatch.ts';
import { fuseMountAt, lazyUnmount } from './mountinfo.ts';
import { withTimeout } from './timing.ts';
import { releaseFuse } from './releaseFuse.ts';
import { selfOverlap } from './selfOverlap.ts';
import { releaseMountPoint } from './mountFolder.ts';
import type { MountStore } from './MountStore.ts';

/** A mount that is up: the vfs (as the host serves it) and the host presenting it. */
export interface OpenedMount {
  vfs: Vfs;
  host: MountedHost;
}

/** Brings a spec up: openGuest → wrapGuest → mountHost (see openMount.ts). */
export type MountOpener = (spec: MountSpec, settings: Settings) => Promise<OpenedMount>;

/** One change of the table, as the API streams it. */
export type TableEvent = { [K in ApiEventName]: { type: K; data: ApiEvents[K] } }[ApiEventName];

/** Options of a MountTable. */
export interface MountTableOptions {
  store: MountStore;
  opener: MountOpener;
  /** Where service messages go (the daemon log). */
  log?: (message: string) => void;
  /**
   * 0 turns off the check of mounted FUSE mounts against /proc/self/mountinfo; any other
   * value keeps it on, at the pace of the process's one shared watcher (hosts/mountInfoWatch.ts).
   */
  healthIntervalMs?: number;
  /** First retry delay of a failed auto-mount; doubles up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long `short` waits for busy files before forcing. */
  shortGraceMs?: number;
}

/** The table's own record of one mount. Owner: MountTable. */
interface Entry {
  spec: MountSpec;
  status: MountStatus;
  live?: OpenedMount;
  /** Operations on one mount run one after another. */
  op: Promise<unknown>;
  retryTimer?: NodeJS.Timeout;
  attempts: number;
  /** Set while Berth itself unmounts, so the host ending is expected. */
  leaving: boolean;
  removed: boolean;
  /** The mountinfo read under way when it came up; the health check judges it by later ones. */
  upAfterRead: number;
  /** Stops following the guest's backend health (MountStatus.health). */
  unfollowHealth?: () => void;
}

/**
 * Owns every mount: validates specs, drives each mount's state machine, saves the table,
 * retries failed auto-mounts with backoff, notices mounts that die underneath and emits
 * one event per change (DESIGN.md "The service").
 */
export class MountTable {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(ev: TableEvent) => void>();
  private readonly noticeList: Notice[] = [];
  private settingsValue: Settings = SettingsSchema.parse({});
  private unwatchHealth?: () => void;
  private stopping = false;
  private readonly log: (message: string) => void;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly shortGraceMs: number;

  constructor(private readonly opts: MountTableOptions) {
    this.log = opts.log ?? ((m) => console.error(`${new Date().toISOString()} ${m}`));
    this.retryBaseMs = opts.retryBaseMs ?? 1000;
    this.retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.shortGraceMs = opts.shortGraceMs ?? 10_000;
  }

  /** Subscribes to every change; returns the unsubscribe function. */
  subscribe(listener: (ev: TableEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Loads mounts.json, cleans dead FUSE mounts left at the specs' mount points by an
   * earlier run, starts the health check and brings every auto-mount up (without waiting
   * for them: their progress shows in the events).
   */
  async start(): Promise<void> {
    const { data, notices } = await this.opts.store.load();
    for (const n of notices) this.notice('warning', n);
    this.settingsValue = data.settings;
    for (const spec of data.mounts) this.entries.set(spec.id, this.newEntry(spec));
    await cleanLeftovers([...this.entries.values()].map((e) => e.spec), (level, message) => this.notice(level, message), this.log);
    if ((this.opts.healthIntervalMs ?? 1000) > 0) this.unwatchHealth = watchMountInfo((points, read) => this.checkHealth(points, read));
    for (const e of this.entries.values()) if (e.spec.autoMount) void this.run(e, () => this.doMount(e));
  }

  /** Every mount, in the order they were added. */
  list(): MountStatus[] {
    return [...this.entries.values()].map((e) => structuredClone(e.status));
  }

  /** One mount; NotFound when the id is unknown. */
  get(id: string): MountStatus {
    return structuredClone(this.entry(id).status);
  }

  /** The app-wide settings. */
  settings(): Settings {
    return structuredClone(this.settingsValue);
  }

  /** Messages the user must see (e.g. a corrupt mounts.json was moved aside). */
  notices(): Notice[] {
    return structuredClone(this.noticeList);
  }

  /** Forgets a notice the user dismissed; NotFound when there is no such notice. */
  dismissNotice(id: string): void {
    const i = this.noticeList.findIndex((n) => n.id === id);
    if (i < 0) throw new ServiceError('NotFound', `no notice with id ${JSON.stringify(id)}`);
    this.noticeList.splice(i, 1);
    this.emit({ type: 'noticeDismissed', data: { id } });
  }

  /** The spec of a mount and, while it is mounted, the vfs its host serves (for browsing and links). */
  liveVfs(id: string): { spec: MountSpec; vfs?: Vfs } {
    const e = this.entry(id);
    return { spec: e.spec, ...(e.live && e.status.state === 'mounted' ? { vfs: e.live.vfs } : {}) };
  }

  /** Adds a mount (and mounts it unless `mount` is false); settles once mounted or failed. */
  async add(input: MountInput, opts: { mount?: boolean } = {}): Promise<MountStatus> {
    this.assertRunning();
    const parsed = MountInputSchema.safeParse(input);
    if (!parsed.success) throw new ServiceError('Usage', `invalid mount spec: ${describeIssues(parsed.error)}`);
    let id = newMountId();
    while (this.entries.has(id)) id = newMountId();
    const spec = MountSpecSchema.parse({ ...parsed.data, id });
    this.assertNoConflict(spec);
    const e = this.newEntry(spec);
    this.entries.set(id, e);
    this.emit({ type: 'mount', data: { mount: structuredClone(e.status) } });
    await this.save();
    if (opts.mount !== false) await this.run(e, () => this.doMount(e));
    return structuredClone(e.status);
  }

  /** Replaces a mount's spec; a mount that is up is remounted with the new spec. */
  async update(id: string, input: MountInput): Promise<MountStatus> {
    this.assertRunning();
    const e = this.entry(id);
    const parsed = MountInputSchema.safeParse(input);
    if (!parsed.success) throw new ServiceError('Usage', `invalid mount spec: ${describeIssues(parsed.error)}`);
    const spec = MountSpecSchema.parse({ ...parsed.data, id });
    this.assertNoConflict(spec);
    await this.run(e, async () => {
      const wasUp = isActiveState(e.status.state) || e.retryTimer !== undefined;
      if (e.live) await this.doUnmount(e, 'short');
      e.spec = spec;
      e.attempts = 0;
      this.clearRetry(e);
      this.setState(e, 'unmounted', { keepError: false });
      await this.save();
      if (wasUp) await this.doMount(e);
    });
    return structuredClone(e.status);
  }

  /** Unmounts (if needed) and forgets a mount. */
  async remove(id: string, level: ShutdownLevel = 'short'): Promise<void> {
    const e = this.entry(id);
    await this.run(e, async () => {
      this.clearRetry(e);
      if (e.live) await this.doUnmount(e, level);
      e.removed = true;
      this.entries.delete(id);
      await releaseMountPoint(e.spec, this.settingsValue).catch(() => undefined);
    });
    this.emit({ type: 'removed', data: { id } });
    await this.save();
  }

  /** Mounts one mount; settles once it is mounted or failed. */
  async mount(id: string): Promise<MountStatus> {
    this.assertRunning();
    const e = this.entry(id);
    await this.run(e, () => this.doMount(e));
    return structuredClone(e.status);
  }

  /** Unmounts one mount with the given patience. */
  async unmount(id: string, level: ShutdownLevel = 'short'): Promise<MountStatus> {
    const e = this.entry(id);
    await this.run(e, async () => {
      this.clearRetry(e);
      if (e.live) await this.doUnmount(e, level);
      else if (e.status.state !== 'unmounted') this.setState(e, 'unmounted', { keepError: false });
    });
    return structuredClone(e.status);
  }

  /** Mounts every mount that is not up. */
  async mountAll(): Promise<MountStatus[]> {
    this.assertRunning();
    await Promise.all([...this.entries.values()].map((e) => this.run(e, () => this.doMount(e))));
    return this.list();
  }

  /** Unmounts every mount. */
  async unmountAll(level: ShutdownLevel = 'short'): Promise<MountStatus[]> {
    await Promise.all([...this.entries.keys()].map((id) => this.unmount(id, level).catch(() => undefined)));
    return this.list();
  }

  /** Merges a settings change and saves it. */
  async updateSettings(patch: SettingsPatch): Promise<Settings> {
    const parsed = SettingsPatchSchema.safeParse(patch);
    if (!parsed.success) throw new ServiceError('Usage', `invalid settings: ${describeIssues(parsed.error)}`);
    const merged: Record<string, unknown> = { ...this.settingsValue, ...parsed.data };
    // null in a patch means "back to the default": the key goes away.
    for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
    this.settingsValue = SettingsSchema.parse(merged);
    this.emit({ type: 'settings', data: { settings: this.settings() } });
    await this.save();
    return this.settings();
  }

  /**
   * Finds the mounted FUSE mount holding a host path and the path inside it. The path is
   * normalized first, so ".." cannot step out of the mount it names.
   */
  locate(hostPath: string): { id: string; vfs: Vfs; path: string } {
    const abs = resolvePath(hostPath);
    let best: { id: string; vfs: Vfs; path: string; len: number } | undefined;
    for (const e of this.entries.values()) {
      if (e.spec.host.kind !== 'fuse' || !e.live || e.status.state !== 'mounted') continue;
      const mp = resolvePath(e.spec.host.mountpoint);
      const inside = abs === mp ? '/' : abs.startsWith(mp === '/' ? '/' : `${mp}/`) ? abs.slice(mp === '/' ? 0 : mp.length) : undefined;
      if (inside !== undefined && (!best || mp.length > best.len)) best = { id: e.spec.id, vfs: e.live.vfs, path: inside, len: mp.length };
    }
    if (!best) throw new ServiceError('NotFound', `${abs} is not inside a mounted Berth FUSE mount`, 'run `berth list` to see the mount points');
    return { id: best.id, vfs: best.vfs, path: best.path };
  }

  /** The CID of a host path inside a mount (the guest's user.ipfs.cid attribute). */
  async resolveCid(hostPath: string): Promise<{ mountId: string; path: string; cid: string }> {
    const where = this.locate(hostPath);
    const value = await where.vfs.getxattr(where.path, 'user.ipfs.cid', { signal: AbortSignal.timeout(30_000) });
    if (!value || value.length === 0) {
      throw new ServiceError('NotFound', `${hostPath} has no CID: the ${where.vfs.name} guest does not give content IDs`);
    }
    return { mountId: where.id, path: where.path, cid: new TextDecoder().decode(value).trim() };
  }

  /** Unmounts everything with the given patience, stops timers and writes the table. */
  async shutdown(level: ShutdownLevel): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.emit({ type: 'shutdown', data: { level } });
    this.unwatchHealth?.();
    for (const e of this.entries.values()) this.clearRetry(e);
    await Promise.all(
      [...this.entries.values()].map((e) =>
        this.run(e, async () => {
          if (e.live) await this.doUnmount(e, level);
        }),
      ),
    );
    await this.opts.store.flush();
  }

  /** Records something the user must be told, and logs it. */
  notice(level: Notice['level'], message: string): void {
    const n: Notice = { id: `n_${randomBytes(6).toString('hex')}`, time: new Date().toISOString(), level, message };
    this.noticeList.push(n);
    if (this.noticeList.length > 100) this.noticeList.shift();
    this.log(`${level}: ${message}`);
    this.emit({ type: 'notice', data: { notice: n } });
  }

  // --- internals -------------------------------------------------------------------

  private newEntry(spec: MountSpec): Entry {
    return {
      spec,
      status: { id: spec.id, spec, state: 'unmounted', since: new Date().toISOString() },
      op: Promise.resolve(),
      attempts: 0,
      leaving: false,
      removed: false,
      upAfterRead: 0,
    };
  }

  private entry(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new ServiceError('NotFound', `no mount with id ${JSON.stringify(id)}`, 'run `berth list` to see the ids');
    return e;
  }

  private assertRunning(): void {
    if (this.stopping) throw new ServiceError('Unavailable', 'Berth is shutting down');
  }

  private assertNoConflict(spec: MountSpec): void {
    const claim = claimOf(spec);
    if (!claim) return;
    for (const other of this.entries.values()) {
      if (other.spec.id !== spec.id && claimOf(other.spec) === claim) {
        const what = spec.host.kind === 'fuse' ? `mount point ${spec.host.mountpoint}` : `listen address ${spec.host.listen}`;
        throw new ServiceError('Conflict', `the ${what} is already used by mount ${other.spec.id}${other.spec.name ? ` (${other.spec.name})` : ''}`, 'pick another one, or remove that mount first');
      }
    }
  }

  /** Runs `fn` after every earlier operation on the same mount. */
  private run<T>(e: Entry, fn: () => Promise<T>): Promise<T> {
    const next = e.op.then(
      () => (e.removed ? (undefined as T) : fn()),
      () => (e.removed ? (undefined as T) : fn()),
    );
    e.op = next.catch(() => undefined);
    return next;
  }

  private save(): Promise<void> {
    return this.opts.store.save(() => ({ mounts: [...this.entries.values()].map((e) => e.spec), settings: this.settingsValue })).catch((err: unknown) => {
      this.notice('error', `could not save ${this.opts.store.file}: ${(err as Error).message}`);
      throw new ServiceError('Internal', `could not save ${this.opts.store.file}: ${(err as Error).message}`);
    });
  }

  private emit(ev: TableEvent): void {
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (err) {
        this.log(`event listener failed: ${(err as Error).message}`);
      }
    }
  }

  private setState(e: Entry, state: MountState, extra: { error?: ErrorInfo; nextRetryAt?: string; address?: string; info?: Record<string, string>; keepError?: boolean }): void {
    const s: MountStatus = { id: e.spec.id, spec: e.spec, state, since: new Date().toISOString() };
    const error = extra.error ?? (extra.keepError !== false && (state === 'failed' || state === 'stale') ? e.status.error : undefined);
    if (error) s.error = error;
    if (extra.nextRetryAt) s.nextRetryAt = extra.nextRetryAt;
    if (e.attempts > 0) s.attempts = e.attempts;
    const address = extra.address ?? (state === 'mounted' || state === 'unmounting' ? e.status.address : undefined);
    if (address) s.address = address;
    const info = extra.info ?? (state === 'mounted' || state === 'unmounting' ? e.status.info : undefined);
    if (info) s.info = info;
    const health = state === 'mounted' || state === 'unmounting' ? e.live?.vfs.health?.current() : undefined;
    if (health) s.health = health;
    e.status = s;
    if (!e.removed) this.emit({ type: 'mount', data: { mount: structuredClone(s) } });
  }

  private clearRetry(e: Entry): void {
    if (e.retryTimer) clearTimeout(e.retryTimer);
    e.retryTimer = undefined;
  }

  private async doMount(e: Entry): Promise<void> {
    if (e.live || this.stopping) return;
    this.clearRetry(e);
    e.leaving = false;
    this.setState(e, 'mounting', { keepError: false });
    const spec = e.spec;
    let opened: OpenedMount;
    try {
      const others = [...this.entries.values()].filter((o) => o !== e && (o.live || o.status.state === 'mounting')).map((o) => o.spec);
      const overlap = selfOverlap(spec, others);
      if (overlap) throw new ServiceError('Conflict', overlap);
      opened = await this.opts.opener(spec, this.settings());
    } catch (err) {
      e.attempts++;
      const error = toErrorInfo(err, spec);
      let nextRetryAt: string | undefined;
      if (spec.autoMount && !this.stopping && !e.removed) {
        const delay = Math.min(this.retryBaseMs * 2 ** Math.min(e.attempts - 1, 30), this.retryMaxMs);
        nextRetryAt = new Date(Date.now() + delay).toISOString();
        e.retryTimer = setTimeout(() => {
          e.retryTimer = undefined;
          if (e.status.state === 'failed') void this.run(e, () => this.doMount(e));
        }, delay);
        e.retryTimer.unref();
      }
      this.log(`mount ${spec.id} failed (attempt ${e.attempts}): ${error.message}${nextRetryAt ? `; retrying at ${nextRetryAt}` : ''}`);
      this.setState(e, 'failed', { error, ...(nextRetryAt ? { nextRetryAt } : {}) });
      return;
    }
    e.live = opened;
    e.upAfterRead = mountInfoReadNumber();
    e.attempts = 0;
    this.log(`mounted ${spec.id} at ${opened.host.target}`);
    this.setState(e, 'mounted', { address: opened.host.target, ...(opened.host.info ? { info: opened.host.info } : {}) });
    // "mounted · node unreachable" and back: the guest pushes its backend's health
    e.unfollowHealth?.();
    e.unfollowHealth = opened.vfs.health?.subscribe((health) => {
      if (e.live !== opened || e.removed || (e.status.state !== 'mounted' && e.status.state !== 'unmounting')) return;
      e.status = { ...e.status, health };
      this.emit({ type: 'mount', data: { mount: structuredClone(e.status) } });
    });
    const ended = (err?: unknown) => {
      if (e.live !== opened || e.leaving) return;
      void this.run(e, () => this.handleDeath(e, opened, err ? `the host ended: ${(err as Error).message}` : 'the host ended'));
    };
    opened.host.done.then(() => ended(), (err: unknown) => ended(err ?? new Error('unknown')));
  }

  private async doUnmount(e: Entry, level: ShutdownLevel): Promise<void> {
    const opened = e.live;
    if (!opened) return;
    e.leaving = true;
    this.setState(e, 'unmounting', {});
    const mountpoint = e.spec.host.kind === 'fuse' ? resolvePath(e.spec.host.mountpoint) : undefined;
    if (mountpoint) await releaseFuse(mountpoint, level, this.shortGraceMs, (m) => this.log(`unmount ${e.spec.id}: ${m}`));
    // The host detaches whatever is left and releases its session; never wait forever.
    await withTimeout(
      opened.host.unmount().catch((err: unknown) => this.log(`unmount ${e.spec.id}: ${(err as Error).message}`)),
      20_000,
      () => this.log(`unmount ${e.spec.id}: the host did not finish within 20 s`),
    );
    if (mountpoint && (await fuseMountAt(mountpoint))) await lazyUnmount(mountpoint).catch(() => undefined);
    await withTimeout(opened.host.done.catch(() => undefined), 3000, () => undefined);
    await withTimeout(opened.vfs.close().catch(() => undefined), 3000, () => undefined);
    e.unfollowHealth?.();
    e.unfollowHealth = undefined;
    e.live = undefined;
    e.leaving = false;
    this.log(`unmounted ${e.spec.id}`);
    this.setState(e, 'unmounted', { keepError: false });
  }

  /** A mount ended without Berth asking: clean up, then remount it or mark it stale. */
  private async handleDeath(e: Entry, opened: OpenedMount, why: string): Promise<void> {
    if (e.live !== opened || e.leaving) return;
    e.unfollowHealth?.();
    e.unfollowHealth = undefined;
    e.live = undefined;
    const mountpoint = e.spec.host.kind === 'fuse' ? resolvePath(e.spec.host.mountpoint) : undefined;
    const left = mountpoint ? await fuseMountAt(mountpoint) : undefined;
    if (mountpoint && left) await lazyUnmount(mountpoint).catch((err: unknown) => this.log(`lazy unmount of ${mountpoint} failed: ${(err as Error).message}`));
    await withTimeout(opened.host.unmount().catch(() => undefined), 3000, () => undefined);
    await withTimeout(opened.vfs.close().catch(() => undefined), 3000, () => undefined);
    if (mountpoint && !left) {
      // Gone from the mount table: someone ran `fusermount -u` / `umount`. Respect that.
      this.log(`mount ${e.spec.id} at ${mountpoint} was unmounted outside Berth (${why})`);
      this.setState(e, 'stale', {
        error: { kind: 'Closed', message: `${mountpoint} was unmounted outside Berth (for example with fusermount -u)`, hint: 'mount it again with `berth mount` or from the app' },
      });
      return;
    }
    const error: ErrorInfo = { kind: 'IO', message: `the mount ${e.spec.host.kind === 'fuse' ? `at ${mountpoint}` : e.spec.id} died (${why})`, errno: 'ENOTCONN' };
    this.log(`${error.message}${e.spec.autoMount ? '; remounting' : ''}`);
    if (e.spec.autoMount && !this.stopping) {
      e.status.error = error;
      await this.doMount(e);
    } else {
      this.setState(e, 'stale', { error, keepError: false });
    }
  }

  /** Notices FUSE mounts that vanished from /proc/self/mountinfo (done may not settle for an external unmount). */
  private checkHealth(points: ReadonlySet<string>, read: number): void {
    if (this.stopping) return;
    for (const e of this.entries.values()) {
      const opened = e.live;
      if (!opened || e.leaving || e.status.state !== 'mounted' || e.spec.host.kind !== 'fuse' || read <= e.upAfterRead) continue;
      if (!points.has(resolvePath(e.spec.host.mountpoint))) void this.run(e, () => this.handleDeath(e, opened, 'no longer in /proc/self/mountinfo'));
    }
  }
}
