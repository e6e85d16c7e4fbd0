import { randomBytes } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import type { ApiEventName, ApiEvents, Notice, Settings, SettingsPatch, ShutdownLevel } from '../../src-shared/api.ts';
import { SettingsPatchSchema, SettingsSchema } from '../../src-shared/api.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { isActiveState } from '../../src-shared/mountState.ts';
import type { MountInput, MountSpec } from '../../src-shared/mountSpec.ts';
import { describeIssues, MountInputSchema, MountSpecSchema } from '../../src-shared/mountSpec.ts';
import { cleanLeftovers } from '../hosts/index.ts';
import type { Vfs } from '../vfs/types.ts';
import { ServiceError } from './errorInfo.ts';
import { MountEntry, type EntryContext, type MountOpener } from './MountEntry.ts';
import { claimOf, newMountId } from './mountIds.ts';
import { releaseMountPoint } from './mountFolder.ts';
import type { MountStore } from './MountStore.ts';

export type { MountOpener, OpenedMount } from './MountEntry.ts';

/** One change of the table, as the API streams it. */
export type TableEvent = { [K in ApiEventName]: { type: K; data: ApiEvents[K] } }[ApiEventName];

/** Options of a MountTable. */
export interface MountTableOptions {
  store: MountStore;
  opener: MountOpener;
  /** Where service messages go (the daemon log). */
  log?: (message: string) => void;
  /** First retry delay of a failed auto-mount; doubles up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * Owns every mount: validates specs, saves the table, and emits one event per change
 * (DESIGN.md "The service"). Each mount's state machine, retries and end live in its
 * MountEntry; each mount itself belongs to its host (MountedHost).
 */
export class MountTable {
  private readonly entries = new Map<string, MountEntry>();
  private readonly listeners = new Set<(ev: TableEvent) => void>();
  private readonly noticeList: Notice[] = [];
  private settingsValue: Settings = SettingsSchema.parse({});
  private stopping = false;
  private readonly log: (message: string) => void;
  /** What every entry of this table shares. */
  private readonly ctx: EntryContext;

  constructor(private readonly opts: MountTableOptions) {
    this.log = opts.log ?? ((m) => console.error(`${new Date().toISOString()} ${m}`));
    this.ctx = {
      opener: opts.opener,
      log: this.log,
      changed: (mount) => this.emit({ type: 'mount', data: { mount } }),
      settings: () => this.settings(),
      othersUp: (self) => [...this.entries.values()].filter((o) => o !== self && (o.live || o.status.state === 'mounting')).map((o) => o.spec),
      stopping: () => this.stopping,
      retryBaseMs: opts.retryBaseMs ?? 1000,
      retryMaxMs: opts.retryMaxMs ?? 60_000,
    };
  }

  /** Subscribes to every change; returns the unsubscribe function. */
  subscribe(listener: (ev: TableEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Loads mounts.json, cleans dead mounts left at the specs' targets by an earlier run
   * (hosts/leftovers.ts) and brings every auto-mount up (without waiting for them: their
   * progress shows in the events).
   */
  async start(): Promise<void> {
    const { data, notices } = await this.opts.store.load();
    for (const n of notices) this.notice('warning', n);
    this.settingsValue = data.settings;
    for (const spec of data.mounts) this.entries.set(spec.id, new MountEntry(spec, this.ctx));
    for (const n of await cleanLeftovers([...this.entries.values()].map((e) => e.spec.host), this.log)) this.notice(n.level, n.message);
    for (const e of this.entries.values()) if (e.spec.autoMount) void e.run(() => e.mount());
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
    const e = new MountEntry(spec, this.ctx);
    this.entries.set(id, e);
    // On disk before anyone is told: what a page or `berth list` shows survives a crash.
    try {
      await this.save();
    } finally {
      this.emit({ type: 'mount', data: { mount: structuredClone(e.status) } });
    }
    if (opts.mount !== false) await e.run(() => e.mount());
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
    await e.run(async () => {
      const wasUp = isActiveState(e.status.state) || e.retrying;
      if (e.live) await e.unmount('short');
      e.replaceSpec(spec);
      await this.save();
      if (wasUp) await e.mount();
    });
    return structuredClone(e.status);
  }

  /** Unmounts (if needed) and forgets a mount. */
  async remove(id: string, level: ShutdownLevel = 'short'): Promise<void> {
    const e = this.entry(id);
    await e.run(async () => {
      e.clearRetry();
      if (e.live) await e.unmount(level);
      e.removed = true;
      this.entries.delete(id);
      await releaseMountPoint(e.spec, this.settingsValue).catch(() => undefined);
    });
    try {
      await this.save();
    } finally {
      this.emit({ type: 'removed', data: { id } });
    }
  }

  /** Mounts one mount; settles once it is mounted or failed. */
  async mount(id: string): Promise<MountStatus> {
    this.assertRunning();
    const e = this.entry(id);
    await e.run(() => e.mount());
    return structuredClone(e.status);
  }

  /** Unmounts one mount with the given patience. */
  async unmount(id: string, level: ShutdownLevel = 'short'): Promise<MountStatus> {
    const e = this.entry(id);
    await e.run(async () => {
      e.clearRetry();
      if (e.live) await e.unmount(level);
      else if (e.status.state !== 'unmounted') e.setState('unmounted', { keepError: false });
    });
    return structuredClone(e.status);
  }

  /** Mounts every mount that is not up. */
  async mountAll(): Promise<MountStatus[]> {
    this.assertRunning();
    await Promise.all([...this.entries.values()].map((e) => e.run(() => e.mount())));
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
    try {
      await this.save();
    } finally {
      this.emit({ type: 'settings', data: { settings: this.settings() } });
    }
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
    for (const e of this.entries.values()) e.clearRetry();
    await Promise.all(
      [...this.entries.values()].map((e) =>
        e.run(async () => {
          if (e.live) await e.unmount(level);
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

  private entry(id: string): MountEntry {
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
}
