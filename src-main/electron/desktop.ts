import { app, dialog, shell, type BrowserWindow } from 'electron';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DESKTOP_CHANNELS, type DesktopService, type DesktopSettings } from '../../src-shared/bridge.ts';
import { ServiceError } from '../service/errorInfo.ts';
import type { DesktopSettingsStore } from './desktopSettings.ts';
import { launchesAtLogin, setLaunchAtLogin } from './loginItem.ts';

// The desktop channels of the bridge (only the Electron app answers them): the folder
// picker, "Open folder" in the file manager, and the app's own settings, which it applies
// to the OS (login item, ipfs:// handler) before saving them, so a saved "on" is true.

/** URL schemes Berth opens when the user turned the handler on. */
export const PROTOCOLS = ['ipfs', 'ipns'] as const;

/** What the desktop service needs from the app. */
export interface DesktopDeps {
  store: DesktopSettingsStore;
  /** The main window, to parent the folder picker. */
  window: () => BrowserWindow | undefined;
  /** Told after every change (the tray's "Launch at login" checkbox follows it). */
  onChange?: (settings: DesktopSettings) => void;
  /** Replaceable OS hooks (tests pass their own). */
  loginItem?: { get(): Promise<boolean>; set(on: boolean): Promise<void> };
  protocolClient?: (on: boolean) => boolean;
}

/** Registers (or unregisters) Berth as the handler of ipfs:// and ipns:// links; false when the OS refused. */
export function setProtocolClient(on: boolean): boolean {
  // An unpackaged app is Electron plus the app folder: the OS must be told both.
  const path = app.isPackaged ? undefined : process.execPath;
  const args = app.isPackaged ? undefined : [resolve(app.getAppPath())];
  return PROTOCOLS.map((p) => (on ? app.setAsDefaultProtocolClient(p, path, args) : app.removeAsDefaultProtocolClient(p, path, args))).every(Boolean);
}

/** The desktop service plus the settings it holds. */
export interface DesktopHandle {
  service: DesktopService;
  /** The settings as they are now. */
  settings(): DesktopSettings;
}

/** Loads the settings (launch at login as the OS reports it) and returns the desktop channels. */
export async function createDesktopService(deps: DesktopDeps): Promise<DesktopHandle> {
  const login = deps.loginItem ?? { get: () => launchesAtLogin(), set: (on: boolean) => setLaunchAtLogin(on) };
  const protocolClient = deps.protocolClient ?? setProtocolClient;
  let current = await deps.store.load();
  // The OS is the truth for the login item: the user may have removed it there.
  current = { ...current, launchAtLogin: await login.get().catch(() => current.launchAtLogin) };
  if (current.protocolHandler) protocolClient(true);

  const service: DesktopService = {
    async pickFolder(input) {
      const r = DESKTOP_CHANNELS.pickFolder.parse(input) ?? {};
      const options = { title: r.title ?? 'Choose a folder', properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[], ...(r.defaultPath ? { defaultPath: r.defaultPath } : {}) };
      const win = deps.window();
      const answer = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return { path: answer.canceled ? null : (answer.filePaths[0] ?? null) };
    },
    async openFolder(input) {
      const { path } = DESKTOP_CHANNELS.openFolder.parse(input);
      // Folders only: shell.openPath on a file would run it with its default program.
      const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
        throw new ServiceError(err.code === 'ENOENT' ? 'NotExist' : 'IO', `cannot open ${path}: ${err.code === 'ENOENT' ? 'no such folder' : err.message}`);
      });
      if (!st.isDirectory()) throw new ServiceError('NotDir', `${path} is not a folder`, 'Berth opens folders only');
      const failure = await shell.openPath(path);
      if (failure) throw new ServiceError('IO', `the file manager could not open ${path}: ${failure}`);
    },
    async getDesktopSettings() {
      return { ...current };
    },
    async updateDesktopSettings(input) {
      const patch = DESKTOP_CHANNELS.updateDesktopSettings.parse(input);
      const next = { ...current, ...patch };
      if (patch.launchAtLogin !== undefined && patch.launchAtLogin !== current.launchAtLogin) {
        try {
          await login.set(patch.launchAtLogin);
        } catch (err) {
          throw new ServiceError('IO', `could not turn launch at login ${patch.launchAtLogin ? 'on' : 'off'}: ${(err as Error).message}`);
        }
      }
      if (patch.protocolHandler !== undefined && patch.protocolHandler !== current.protocolHandler && !protocolClient(patch.protocolHandler)) {
        throw new ServiceError('Unavailable', `the system did not let Berth ${patch.protocolHandler ? 'open' : 'stop opening'} ipfs:// links`, 'another app may be registered for them; check your system settings');
      }
      await deps.store.save(next);
      current = next;
      deps.onChange?.({ ...current });
      return { ...current };
    },
  };
  return { service, settings: () => ({ ...current }) };
}
