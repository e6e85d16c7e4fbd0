import { join } from 'node:path';
import type { IpcResult } from '../../src-shared/bridge.ts';
import { ipcChannel, type BridgeChannel } from '../../src-shared/bridge.ts';
import { launchApp, type RunningApp } from '../../src-main/electron/main.ts';
import type { BerthSandbox } from './berthDaemon.ts';
import { app, electronDouble, ipcMain, type Menu } from './electron.ts';

// Runs the real Electron main process (src-main/electron/main.ts) in the test process
// against the electron double (the test file must `vi.mock('electron', …)` it), with the
// service's folders in a berthSandbox, so the `berth` CLI of that sandbox talks to it.

/** The app of one test and ways to act as its window and its tray. */
export interface AppUnderTest {
  running: RunningApp;
  logs: string[];
  /** Calls a bridge channel as the app's page would (from its main frame). */
  ipc<T = unknown>(channel: BridgeChannel | 'snapshot', input?: unknown): Promise<IpcResult<T>>;
  /** The tray's menu items as last set. */
  menu(): Record<string, unknown>[];
  /** Clicks a tray menu item by id ("mount:<id>", "quit", …). */
  click(id: string): void;
  /** What the window was sent on the event channel. */
  sentEvents(): { type: string; data: unknown }[];
  /** Quits (unless done) and waits for app.exit. */
  stop(): Promise<void>;
}

const ENV_KEYS = ['XDG_CONFIG_HOME', 'XDG_RUNTIME_DIR', 'XDG_STATE_HOME'] as const;

/** Points this process at the sandbox's folders (the app reads them like the daemon does); returns the undo. */
export function useSandboxEnv(sb: BerthSandbox): () => void {
  const saved = ENV_KEYS.map((k) => [k, process.env[k]] as const);
  for (const k of ENV_KEYS) process.env[k] = sb.env[k];
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** Starts the app the way Electron would run out/main/index.js. */
export async function startApp(sb: BerthSandbox, argv: string[] = ['/usr/lib/berth/electron', '/usr/lib/berth'], whileStarting?: () => void): Promise<AppUnderTest> {
  electronDouble.reset();
  app.paths.userData = join(sb.base, 'userData');
  app.ready = false; // as at process start: 'ready' comes after launchApp began
  const logs: string[] = [];
  const launching = launchApp({ argv, log: (m) => logs.push(m), busyAfterMs: 1000 });
  // What the OS may do before the app is ready (macOS opens it for a link: open-url).
  whileStarting?.();
  const running = await launching;
  if (!running) throw new Error('launchApp did not start (single-instance lock refused)');
  const menu = () => ((electronDouble.tray()?.menu as Menu | undefined)?.items ?? []) as Record<string, unknown>[];
  return {
    running,
    logs,
    ipc: (channel, input) => {
      const wc = electronDouble.window()?.webContents;
      if (!wc) throw new Error('no window yet');
      return ipcMain.invoke(channel === 'snapshot' ? 'berth:snapshot' : ipcChannel(channel), wc.eventFrom(), input) as Promise<IpcResult<never>>;
    },
    menu,
    click(id) {
      const item = menu().find((i) => i.id === id);
      if (!item) throw new Error(`no tray item ${id}; the menu has ${menu().map((i) => i.id ?? i.type).join(', ')}`);
      if (item.enabled === false) throw new Error(`tray item ${id} is disabled`);
      (item.click as () => void)();
    },
    sentEvents: () =>
      (electronDouble.window()?.webContents.sent ?? []).filter((s) => s.channel === 'berth:event').map((s) => s.args[0] as { type: string; data: unknown }),
    async stop() {
      if (app.exitCode === undefined) await running.quit();
    },
  };
}
