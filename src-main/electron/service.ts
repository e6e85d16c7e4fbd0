import { join } from 'node:path';
import type { ShutdownLevel } from '../../src-shared/api.ts';
import type { BerthService, BridgeEvent, ConnectionState, ServiceChannel, Snapshot } from '../../src-shared/bridge.ts';
import { SERVICE_CHANNELS } from '../../src-shared/bridge.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { ApiClient } from '../api/client.ts';
import { startDaemon, type DaemonStart } from '../api/daemon.ts';
import { serviceClient } from '../api/serviceClient.ts';
import { ServiceError } from '../service/errorInfo.ts';
import { socketPath as defaultSocketPath } from '../service/paths.ts';

// The mount service behind the desktop app (DESIGN.md "Faces"). The app HOSTS it — the
// same startDaemon as `berth daemon`, on the usual control socket, so `berth list` and
// `berth mount` drive the running app — unless a headless daemon already serves this
// user: then the app ATTACHES as a client (the control API for calls, its event stream
// for changes) instead of starting a second table over the same mounts.json. If that
// daemon goes away the app says so (a `connection` event) and takes over, or re-attaches
// to whichever daemon won the lock. Callers see one BerthService that never changes
// identity, one event stream (a fresh `snapshot` after every (re)connection) and a
// mirror of the mounts for the tray. No electron import: it runs under plain Node in tests.

/** Options of the app's service. */
export interface AppServiceOptions {
  /** Writes the desktop clipboard (Electron's clipboard in the app). */
  clipboard: (text: string) => void | Promise<void>;
  /** The `berth` CLI as argv words, for the file manager menu's scripts. */
  cliCommand?: readonly string[];
  version?: string;
  log: (message: string) => void;
  /** Folder of mounts.json (default: the same as the daemon's, so both faces show one table). */
  configDir?: string;
  /** Folder of the socket and lock (default: the daemon's). */
  runtimeDir?: string;
  /** First delay before re-attaching or taking over after the daemon went away; doubles up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** How the app reaches its mount service right now. */
export type ServiceMode = 'host' | 'attached' | 'connecting';

type Started = Extract<DaemonStart, { kind: 'started' }>;
/** Owner: AppService. */
type Current =
  | { mode: 'host'; daemon: Started; unsubscribe: () => void }
  | { mode: 'attached'; service: BerthService; stream: { close(): void }; pid?: number }
  | { mode: 'connecting' };

/** A service channel as a plain function (the facade forwards untyped input; the callee parses it). */
type AnyMethod = (input?: unknown) => Promise<unknown>;

/** The app's one handle on the mount service, hosted or attached. */
export class AppService {
  /** Every service channel, forwarded to whichever service is current. */
  readonly service: BerthService;
  private current: Current = { mode: 'connecting' };
  private readonly listeners = new Set<(ev: BridgeEvent) => void>();
  private readonly hostedListeners = new Set<(mounts: MountStatus[]) => void>();
  private readonly stoppedListeners = new Set<() => void>();
  private readonly mirror = new Map<string, MountStatus>();
  private connectionState: ConnectionState = { state: 'connecting' };
  private closing = false;
  private retryTimer?: NodeJS.Timeout;
  private attempts = 0;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;

  constructor(private readonly opts: AppServiceOptions) {
    this.retryBaseMs = opts.retryBaseMs ?? 500;
    this.retryMaxMs = opts.retryMaxMs ?? 10_000;
    const forward = (name: ServiceChannel): AnyMethod => (input) => {
      const c = this.current;
      if (c.mode === 'connecting') {
        return Promise.reject(new ServiceError('Unavailable', 'Berth is reconnecting to its mount service', 'try again in a moment'));
      }
      const target = c.mode === 'host' ? c.daemon.service : c.service;
      return (target[name] as AnyMethod)(input);
    };
    this.service = Object.fromEntries((Object.keys(SERVICE_CHANNELS) as ServiceChannel[]).map((n) => [n, forward(n)])) as unknown as BerthService;
  }

  /** Hosts the service, or attaches to the daemon that already serves this user. */
  async start(): Promise<void> {
    await this.connect();
  }

  /** host, attached, or connecting (between a lost daemon and the next attempt). */
  mode(): ServiceMode {
    return this.current.mode;
  }

  /** The live connection, as the last `connection` event said. */
  connection(): ConnectionState {
    return { ...this.connectionState };
  }

  /** The mounts as the last events left them (the tray's view). */
  mounts(): MountStatus[] {
    return [...this.mirror.values()];
  }

  /** Follows every event (table changes, snapshots after reconnecting, connection state); returns the unsubscribe function. */
  subscribe(listener: (ev: BridgeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called each time the app starts hosting (at launch or after a takeover), with the mounts being restored. */
  onHosted(listener: (mounts: MountStatus[]) => void): () => void {
    this.hostedListeners.add(listener);
    return () => this.hostedListeners.delete(listener);
  }

  /** Called when the hosted service stopped without the app asking (`berth shutdown`, SIGTERM). */
  onStopped(listener: () => void): () => void {
    this.stoppedListeners.add(listener);
    return () => this.stoppedListeners.delete(listener);
  }

  /** The table as it is now: what the window's first request and every reconnection get. */
  async snapshot(): Promise<Snapshot> {
    const c = this.current;
    if (c.mode === 'host') {
      const t = c.daemon.table;
      return { mounts: t.list(), settings: t.settings(), notices: t.notices(), info: await c.daemon.service.info() };
    }
    if (c.mode === 'attached') {
      const [mounts, settings, notices, info] = await Promise.all([c.service.listMounts(), c.service.getSettings(), c.service.listNotices(), c.service.info()]);
      return { mounts, settings, notices, info };
    }
    throw new ServiceError('Unavailable', 'Berth is reconnecting to its mount service', 'try again in a moment');
  }

  /**
   * Stops for good. Hosting: unmounts everything with `level` (the table's `short` waits
   * for busy files, then detaches them) and closes the socket. Attached: closes the
   * stream and leaves the daemon and its mounts alone — they are the daemon's.
   */
  async close(level: ShutdownLevel): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    // The service stays reachable while it winds down: the window and tray keep seeing its events.
    const c = this.current;
    if (c.mode === 'host') {
      await c.daemon.stop(level);
      c.unsubscribe();
    } else if (c.mode === 'attached') {
      c.stream.close();
    }
    this.current = { mode: 'connecting' };
  }

  // --- internals -------------------------------------------------------------------

  private socket(): string {
    return this.opts.runtimeDir ? join(this.opts.runtimeDir, 'api.sock') : defaultSocketPath();
  }

  private async connect(): Promise<void> {
    if (this.closing) return;
    let d: DaemonStart;
    try {
      d = await startDaemon({
        servedBy: 'app',
        clipboard: this.opts.clipboard,
        log: this.opts.log,
        ...(this.opts.cliCommand ? { cliCommand: this.opts.cliCommand } : {}),
        ...(this.opts.version ? { version: this.opts.version } : {}),
        ...(this.opts.configDir ? { configDir: this.opts.configDir } : {}),
        ...(this.opts.runtimeDir ? { runtimeDir: this.opts.runtimeDir } : {}),
      });
    } catch (err) {
      this.lost(`could not start the mount service: ${(err as Error).message}`);
      return;
    }
    if (this.closing) {
      if (d.kind === 'started') await d.stop('short');
      return;
    }
    if (d.kind === 'started') await this.host(d);
    else this.attach(d.info?.socket ?? this.socket(), d.info?.pid ?? d.pid);
  }

  private async host(daemon: Started): Promise<void> {
    const unsubscribe = daemon.table.subscribe((ev) => this.emit(ev));
    this.current = { mode: 'host', daemon, unsubscribe };
    this.attempts = 0;
    this.opts.log(`hosting the mount service on ${daemon.api.socketPath}`);
    void daemon.stopped.then(() => {
      if (this.current.mode !== 'host' || this.current.daemon !== daemon || this.closing) return;
      // `berth shutdown` or a signal stopped the service the app hosts: the app goes with it.
      unsubscribe();
      this.current = { mode: 'connecting' };
      for (const l of this.stoppedListeners) l();
    });
    this.replaceMirror(daemon.table.list());
    for (const l of this.hostedListeners) l(this.mounts());
    this.setConnection({ state: 'open' });
    this.emit({ type: 'snapshot', data: await this.snapshot() });
  }

  private attach(socket: string, pid: number | undefined): void {
    this.opts.log(`a Berth daemon${pid ? ` (pid ${pid})` : ''} already serves this user: attaching to ${socket}`);
    const remote = serviceClient({ socketPath: socket });
    // A headless daemon cannot write the desktop clipboard; the app can, for its own window.
    const writeClipboard: BerthService['writeClipboard'] = async (input) => {
      await this.opts.clipboard(SERVICE_CHANNELS.writeClipboard.parse(input).text);
    };
    const service: BerthService = { ...remote, writeClipboard };
    let opened = false;
    const stream = new ApiClient({ socketPath: socket }).events((name, data) => {
      const ev = { type: name, data } as BridgeEvent;
      if (name === 'snapshot') {
        opened = true;
        this.attempts = 0;
        this.replaceMirror((data as Snapshot).mounts);
        this.setConnection({ state: 'open' });
      }
      this.emit(ev);
    });
    const current: Current = { mode: 'attached', service, stream, ...(pid ? { pid } : {}) };
    this.current = current;
    const ended = (err?: unknown) => {
      if (this.current !== current || this.closing) return;
      this.current = { mode: 'connecting' };
      const who = `the Berth daemon${pid ? ` (pid ${pid})` : ''}`;
      this.lost(opened ? `${who} went away` : `could not reach ${who}: ${err instanceof Error ? err.message : 'the stream closed'}`);
    };
    stream.closed.then(() => ended(), ended);
  }

  /** Says the service is gone and tries again after a growing delay (take over, or re-attach). */
  private lost(message: string): void {
    if (this.closing) return;
    const delay = Math.min(this.retryBaseMs * 2 ** Math.min(this.attempts, 20), this.retryMaxMs);
    this.attempts++;
    this.opts.log(`${message}; trying again in ${Math.round(delay / 100) / 10} s`);
    this.setConnection({ state: 'lost', message, retryAt: new Date(Date.now() + delay).toISOString() });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private setConnection(state: ConnectionState): void {
    this.connectionState = state;
    this.emit({ type: 'connection', data: state });
  }

  private replaceMirror(mounts: readonly MountStatus[]): void {
    this.mirror.clear();
    for (const m of mounts) this.mirror.set(m.id, m);
  }

  private emit(ev: BridgeEvent): void {
    if (ev.type === 'mount') this.mirror.set(ev.data.mount.id, ev.data.mount);
    else if (ev.type === 'removed') this.mirror.delete(ev.data.id);
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (err) {
        this.opts.log(`event listener failed: ${(err as Error).message}`);
      }
    }
  }
}
