import type { BridgeEvent } from '../../src-shared/bridge.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { mountLabel, nameList } from './mountLabel.ts';

// What the desktop tells the user without being asked (UI.md "Notifications"): a mount
// that failed or went stale, ONCE per failure streak (a retrying auto-mount must not
// notify every 30 s); one summary after a restore instead of one note per mount; a
// "Mounted …" only for what the user asked from the tray; the busy mounts at quit.
// The policy lives here without electron; main.ts passes Electron's Notification as `show`.

/** One desktop notification. */
export interface Note {
  title: string;
  body: string;
}

/** How long a restore may take before the summary goes out with the stragglers named. */
const RESTORE_SUMMARY_AFTER_MS = 60_000;

/** Turns service events into desktop notifications. Owner of the streak and restore state. */
export class Notifier {
  /** Mounts in a failure streak the user was already told about. */
  private readonly told = new Set<string>();
  /** Auto-mounts of the restore under way: undefined = still mounting. */
  private restoring?: Map<string, { name: string; began?: boolean; outcome?: 'mounted' | 'failed' }>;
  private restoreTimer?: NodeJS.Timeout;

  constructor(
    private readonly show: (note: Note) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** A restore began (the app started hosting): collect the auto-mounts and summarize once they settled. */
  beginRestore(mounts: readonly MountStatus[]): void {
    clearTimeout(this.restoreTimer);
    const auto = mounts.filter((m) => m.spec.autoMount);
    if (auto.length === 0) {
      this.restoring = undefined;
      return;
    }
    this.restoring = new Map(auto.map((m) => [m.id, { name: mountLabel(m) }]));
    for (const m of auto) this.settle(m);
    this.restoreTimer = setTimeout(() => this.summarize(true), RESTORE_SUMMARY_AFTER_MS);
    this.restoreTimer.unref();
    this.summarize(false);
  }

  /** Feeds one service event. */
  onEvent(ev: BridgeEvent): void {
    if (ev.type === 'mount') this.onMount(ev.data.mount);
    else if (ev.type === 'removed') {
      this.told.delete(ev.data.id);
      if (this.restoring?.delete(ev.data.id)) this.summarize(false);
    }
  }

  /** The user asked from the tray and the mount came up. */
  mountedOnRequest(m: MountStatus): void {
    if (m.state !== 'mounted') return;
    const where = m.spec.host.kind === 'fuse' ? m.spec.host.mountpoint : (m.address ?? m.spec.host.listen);
    this.show({ title: 'Berth', body: `Mounted ${mountLabel(m)} at ${where}` });
  }

  /** Quitting waits for files still open in these mounts. */
  busyOnQuit(names: readonly string[]): void {
    if (names.length === 0) return;
    this.show({
      title: 'Berth is quitting',
      body: `Waiting for open files in ${nameList(names)}. ${names.length === 1 ? 'It is' : 'They are'} detached in a few seconds.`,
    });
  }

  private onMount(m: MountStatus): void {
    const r = this.restoring?.get(m.id);
    if (r && !r.outcome) {
      this.settle(m);
      this.summarize(false);
      return;
    }
    if (m.state === 'mounted' || m.state === 'unmounted') {
      this.told.delete(m.id);
      return;
    }
    if ((m.state === 'failed' || m.state === 'stale') && !this.told.has(m.id)) {
      this.told.add(m.id);
      this.show({ title: 'Berth', body: failureText(m, this.now()) });
    }
  }

  /** Records a restoring mount's first outcome; one that failed counts as told (the summary names it). */
  private settle(m: MountStatus): void {
    const r = this.restoring?.get(m.id);
    if (!r || r.outcome) return;
    if (m.state === 'mounted') r.outcome = 'mounted';
    else if (m.state === 'failed' || m.state === 'stale') {
      r.outcome = 'failed';
      this.told.add(m.id);
    } else if (m.state === 'mounting') r.began = true;
    // Unmounted after it began: the user turned it off during the restore; leave it out.
    else if (m.state === 'unmounted' && r.began) this.restoring?.delete(m.id);
  }

  private summarize(force: boolean): void {
    const r = this.restoring;
    if (!r) return;
    const all = [...r.values()];
    if (!force && all.some((x) => !x.outcome)) return;
    clearTimeout(this.restoreTimer);
    this.restoring = undefined;
    if (all.length === 0) return;
    const ok = all.filter((x) => x.outcome === 'mounted').length;
    const failed = all.filter((x) => x.outcome === 'failed').map((x) => x.name);
    const pending = all.filter((x) => !x.outcome).map((x) => x.name);
    const noun = (n: number) => (n === 1 ? 'mount' : 'mounts');
    let body = ok === all.length ? `Restored ${ok} ${noun(ok)}` : `Restored ${ok} of ${all.length} ${noun(all.length)}`;
    const problems = [failed.length ? `${nameList(failed)} failed` : '', pending.length ? `${nameList(pending)} still mounting` : ''].filter(Boolean);
    if (problems.length) body += ` — ${problems.join('; ')}`;
    this.show({ title: 'Berth', body });
  }
}

/** "NAS share failed: connection refused. Retrying in 30 s." */
export function failureText(m: MountStatus, now: number): string {
  const name = mountLabel(m);
  const why = (m.error?.message ?? 'unknown error').replace(/\s+/g, ' ').slice(0, 200).replace(/[.\s]+$/, '');
  const retry = m.nextRetryAt ? Math.max(1, Math.round((Date.parse(m.nextRetryAt) - now) / 1000)) : undefined;
  const head = m.state === 'stale' ? `${name} stopped: ${why}.` : `${name} failed: ${why}.`;
  return retry !== undefined ? `${head} Retrying in ${retry} s.` : head;
}
