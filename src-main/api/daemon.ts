import { join } from 'node:path';
import type { InfoResponse, ShutdownLevel } from '../../src-shared/api.ts';
import { MountStore } from '../service/MountStore.ts';
import { MountTable, type MountOpener } from '../service/MountTable.ts';
import { openMount } from '../service/openMount.ts';
import { createTableService } from '../service/TableService.ts';
import type { BerthService } from '../../src-shared/bridge.ts';
import { configDir, runtimeDir, socketPath } from '../service/paths.ts';
import { prepareSocketDir, startApiServer, type RunningApi } from './ApiServer.ts';
import { DaemonAlreadyRunning } from './socketClaim.ts';
import { loadOrCreateToken } from './tcpGuard.ts';

/** Options of one service instance (the headless daemon; Electron passes its own configDir). */
export interface DaemonOptions {
  /** `127.0.0.1:PORT`: also serve the API on loopback TCP with a token. */
  ui?: string;
  /** Folder of mounts.json (default $XDG_CONFIG_HOME/berth). */
  configDir?: string;
  /** Folder of the control socket (default $XDG_RUNTIME_DIR/berth). */
  runtimeDir?: string;
  version?: string;
  log?: (message: string) => void;
  /** Replaces openMount (Electron and benchmarks never need this; kept for embedding). */
  opener?: MountOpener;
  /** Who serves: the headless daemon (default) or the desktop app. */
  servedBy?: 'daemon' | 'app';
  /** Writes the desktop clipboard (the app passes Electron's); without it the clipboard route answers Unavailable. */
  clipboard?: (text: string) => void | Promise<void>;
  /** Folder of the built renderer for the browser UI (default: out/renderer). */
  uiRoot?: string;
  /** The `berth` CLI as argv words, for the file manager menu's scripts. */
  cliCommand?: readonly string[];
}

/** A running service, or the one that already runs. */
export type DaemonStart =
  | { kind: 'started'; table: MountTable; service: BerthService; api: RunningApi; stopped: Promise<void>; stop(level: ShutdownLevel): Promise<void> }
  | { kind: 'already-running'; info: InfoResponse; pid: number };

/**
 * Starts the service: one per user (a second one finds the first on the control socket
 * and reports it; a socket left by a dead daemon is taken over, see socketClaim.ts), the
 * mount table (restoring auto-mounts) and the control API. SIGINT/SIGTERM unmount
 * everything (`short`; a second signal: `immediate`) and stop.
 */
export async function startDaemon(opts: DaemonOptions = {}): Promise<DaemonStart> {
  const log = opts.log ?? ((m: string) => console.error(`${new Date().toISOString()} ${m}`));
  const rdir = opts.runtimeDir ?? runtimeDir();
  const sock = opts.runtimeDir ? join(rdir, 'api.sock') : socketPath();
  await prepareSocketDir(rdir);

  let api: RunningApi | undefined;
  const table = new MountTable({
    store: new MountStore(opts.configDir ?? configDir()),
    opener: opts.opener ?? openMount,
    log,
  });
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | undefined;
  const stop = (level: ShutdownLevel): Promise<void> => {
    stopping ??= (async () => {
      log(`shutting down (${level})`);
      try {
        await table.shutdown(level);
      } catch (err) {
        log(`shutdown: ${(err as Error).message}`);
      }
      await api?.close().catch(() => undefined);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      log('stopped');
      resolveStopped();
    })();
    return stopping;
  };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    log(`${sig}: ${signals === 1 ? 'unmounting everything (again to force)' : 'forcing'}`);
    if (signals === 1) void stop('short');
    else void table.shutdown('immediate').finally(() => process.exit(1));
  };

  const startedAt = new Date().toISOString();
  const service = createTableService(table, {
    info: () => ({
      name: 'berth',
      version: opts.version ?? '0.1.0',
      pid: process.pid,
      startedAt,
      socket: sock,
      servedBy: opts.servedBy ?? 'daemon',
      ...(api?.ui ? { ui: api.ui.origin } : {}),
    }),
    ...(opts.clipboard ? { clipboard: opts.clipboard } : {}),
    ...(opts.cliCommand ? { cliCommand: opts.cliCommand } : {}),
  });
  // The socket first: it decides whether this process is the user's daemon, before any
  // mount is touched. Requests other than /v1/info wait until the table is loaded.
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  try {
    api = await startApiServer({
      table,
      service,
      socketPath: sock,
      ...(opts.ui ? { ui: opts.ui } : {}),
      ...(opts.uiRoot ? { uiRoot: opts.uiRoot } : {}),
      // Kept across restarts (per login session), so an open browser page reconnects.
      ...(opts.ui ? { token: await loadOrCreateToken(join(rdir, 'ui-token')) } : {}),
      onShutdown: (level) => void stop(level),
      log,
      ready,
    });
  } catch (err) {
    if (err instanceof DaemonAlreadyRunning) return { kind: 'already-running', info: err.info, pid: err.info.pid };
    throw err;
  }
  try {
    await table.start();
  } catch (err) {
    await table.shutdown('immediate').catch(() => undefined);
    await api.close().catch(() => undefined);
    throw err;
  }
  markReady();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { kind: 'started', table, service, api, stopped, stop };
}
