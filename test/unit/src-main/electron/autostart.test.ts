import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('../../../helpers/electron.ts'));

import { app, electronDouble } from '../../../helpers/electron.ts';
import { launchesAtLogin, loginCommand, setLaunchAtLogin, type LoginItemContext } from '../../../../src-main/electron/loginItem.ts';
import { autostartEntry, autostartFile, execArg } from '../../../../src-main/electron/xdgAutostart.ts';

// Issue 7 "Electron main": launch at login writes and removes the XDG autostart entry on
// Linux; macOS and Windows use the login item API.

describe('launch at login', () => {
  let base: string;
  let ctx: LoginItemContext;
  beforeEach(async () => {
    electronDouble.reset();
    base = await mkdtemp(join(tmpdir(), 'berth-autostart-'));
    ctx = { platform: 'linux', env: { XDG_CONFIG_HOME: join(base, 'config') }, execPath: '/opt/Berth/berth-desktop', appPath: '/opt/Berth/resources/app.asar', packaged: true };
  });
  afterEach(() => rm(base, { recursive: true, force: true }));

  it('on Linux writes $XDG_CONFIG_HOME/autostart/berth.desktop starting hidden, and removes it', async () => {
    const file = join(base, 'config', 'autostart', 'berth.desktop');
    expect(autostartFile(ctx.env)).toBe(file);
    expect(await launchesAtLogin(ctx)).toBe(false);
    await setLaunchAtLogin(true, ctx);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^\[Desktop Entry\]\n/);
    expect(text).toContain('\nType=Application\n');
    expect(text).toContain('\nExec=/opt/Berth/berth-desktop --hidden\n');
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    expect(await launchesAtLogin(ctx)).toBe(true);
    await setLaunchAtLogin(true, ctx); // again: same entry
    await setLaunchAtLogin(false, ctx);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await launchesAtLogin(ctx)).toBe(false);
    await setLaunchAtLogin(false, ctx); // nothing to remove: fine
    expect(app.loginItem.openAtLogin).toBe(false); // the login item API is not Linux's
  });

  it('starts the AppImage file itself, or Electron with the app folder in development', () => {
    expect(loginCommand({ ...ctx, env: { APPIMAGE: '/home/ana/Apps/Berth.AppImage' } })).toEqual(['/home/ana/Apps/Berth.AppImage', '--hidden']);
    expect(loginCommand({ ...ctx, packaged: false, execPath: '/repo/node_modules/electron/dist/electron', appPath: '/repo' })).toEqual([
      '/repo/node_modules/electron/dist/electron',
      '/repo',
      '--hidden',
    ]);
  });

  it('quotes Exec arguments as the Desktop Entry spec says', () => {
    expect(execArg('/opt/Berth/berth')).toBe('/opt/Berth/berth');
    expect(execArg('/home/ana/My Apps/Berth.AppImage')).toBe('"/home/ana/My Apps/Berth.AppImage"');
    expect(execArg('/a/100%/b')).toBe('/a/100%%/b');
    expect(execArg('/a/$HOME"x')).toBe('"/a/\\\\$HOME\\\\"x"');
    expect(() => execArg('/a\nExec=evil')).toThrow(/line break/);
    expect(autostartEntry(['/x', '--hidden'])).toContain('\nX-GNOME-Autostart-enabled=true\n');
  });

  it('on macOS and Windows uses the login item API', async () => {
    const mac = { ...ctx, platform: 'darwin' as const };
    await setLaunchAtLogin(true, mac);
    expect(app.loginItem).toMatchObject({ openAtLogin: true, args: ['--hidden'] });
    expect(await launchesAtLogin(mac)).toBe(true);
    await setLaunchAtLogin(false, mac);
    expect(await launchesAtLogin(mac)).toBe(false);
    await expect(stat(autostartFile(ctx.env))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
