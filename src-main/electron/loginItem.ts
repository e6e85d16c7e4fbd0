import { app } from 'electron';
import { HIDDEN_FLAG } from './launchArgs.ts';
import { autostartFile, hasAutostart, removeAutostart, writeAutostart } from './xdgAutostart.ts';

// Launch at login: the OS's login items on macOS and Windows; on Linux an XDG autostart
// entry the app writes and removes itself. Either way Berth starts hidden in the tray.

/** Where the app runs, for the command the login item starts (replaceable in tests). */
export interface LoginItemContext {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  execPath: string;
  /** The app folder, needed on the command line when Electron runs an unpackaged app. */
  appPath: string;
  packaged: boolean;
}

function context(): LoginItemContext {
  return { platform: process.platform, env: process.env, execPath: process.execPath, appPath: app.getAppPath(), packaged: app.isPackaged };
}

/**
 * The command that starts this Berth hidden: the AppImage file itself (its mount point
 * changes every run), the installed binary, or Electron plus the app folder in development.
 */
export function loginCommand(ctx: LoginItemContext): string[] {
  if (ctx.env.APPIMAGE) return [ctx.env.APPIMAGE, HIDDEN_FLAG];
  return ctx.packaged ? [ctx.execPath, HIDDEN_FLAG] : [ctx.execPath, ctx.appPath, HIDDEN_FLAG];
}

/** True when Berth starts at login. */
export async function launchesAtLogin(ctx: LoginItemContext = context()): Promise<boolean> {
  if (ctx.platform === 'linux') return hasAutostart(autostartFile(ctx.env));
  return app.getLoginItemSettings({ args: [HIDDEN_FLAG] }).openAtLogin;
}

/** Turns launch at login on or off. */
export async function setLaunchAtLogin(enabled: boolean, ctx: LoginItemContext = context()): Promise<void> {
  if (ctx.platform === 'linux') {
    const file = autostartFile(ctx.env);
    if (enabled) await writeAutostart(file, loginCommand(ctx));
    else await removeAutostart(file);
    return;
  }
  // macOS ignores args (it reports wasOpenedAtLogin instead); Windows passes them.
  app.setLoginItemSettings({ openAtLogin: enabled, args: [HIDDEN_FLAG] });
}

/** True when this launch should stay in the tray: started by the login item. */
export function openedAtLogin(argv: readonly string[], platform: NodeJS.Platform = process.platform): boolean {
  if (argv.includes(HIDDEN_FLAG)) return true;
  return platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin === true;
}
