import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('../../../helpers/electron.ts'));

import { app, electronDouble } from '../../../helpers/electron.ts';
import { createDesktopService } from '../../../../src-main/electron/desktop.ts';
import { DesktopSettingsStore } from '../../../../src-main/electron/desktopSettings.ts';

// The desktop app's own settings: one JSON file in userData, validated; applied to the OS
// (login item, ipfs:// handler) before they are saved, so a saved "on" is true.

describe('desktop settings', () => {
  let dir: string;
  let file: string;
  let loginOn: boolean;
  beforeEach(async () => {
    electronDouble.reset();
    dir = await mkdtemp(join(tmpdir(), 'berth-desktop-'));
    file = join(dir, 'userData', 'desktop.json');
    loginOn = false;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const service = () =>
    createDesktopService({
      store: new DesktopSettingsStore(file),
      window: () => undefined,
      loginItem: { get: async () => loginOn, set: async (on) => void (loginOn = on) },
    });

  it('starts with nothing registered, saves changes, and registers ipfs:// and ipns:// only when turned on', async () => {
    const d = await service();
    expect(await d.service.getDesktopSettings()).toEqual({ launchAtLogin: false, protocolHandler: false });
    expect(app.protocols.size).toBe(0);
    expect(await d.service.updateDesktopSettings({ protocolHandler: true })).toEqual({ launchAtLogin: false, protocolHandler: true });
    expect([...app.protocols].sort()).toEqual(['ipfs', 'ipns']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ launchAtLogin: false, protocolHandler: true });
    // A restart registers them again from the file; turning off unregisters.
    electronDouble.reset();
    const again = await service();
    expect([...app.protocols].sort()).toEqual(['ipfs', 'ipns']);
    await again.service.updateDesktopSettings({ protocolHandler: false });
    expect(app.protocols.size).toBe(0);
  });

  it('launch at login follows the OS (the user may have removed it there) and is applied before saving', async () => {
    loginOn = true;
    const d = await service();
    expect(d.settings().launchAtLogin).toBe(true);
    await d.service.updateDesktopSettings({ launchAtLogin: false });
    expect(loginOn).toBe(false);
    expect(JSON.parse(await readFile(file, 'utf8')).launchAtLogin).toBe(false);
  });

  it('a refused registration is an error and nothing is saved', async () => {
    const d = await service();
    app.protocolAnswer = false;
    await expect(d.service.updateDesktopSettings({ protocolHandler: true })).rejects.toMatchObject({ kind: 'Unavailable' });
    expect(d.settings().protocolHandler).toBe(false);
    await expect(readFile(file, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a damaged file is moved aside, not dropped, and the defaults are used', async () => {
    await mkdir(join(dir, 'userData'), { recursive: true });
    await writeFile(file, '{"launchAtLogin": "maybe"');
    const logs: string[] = [];
    expect(await new DesktopSettingsStore(file, (m) => logs.push(m)).load()).toEqual({ launchAtLogin: false, protocolHandler: false });
    const names = await readdir(join(dir, 'userData'));
    expect(names.filter((n) => n.startsWith('desktop.json.corrupt-'))).toHaveLength(1);
    expect(logs.join()).toMatch(/moved to/);
    // A key from a newer Berth is dropped; what this version knows is kept.
    await writeFile(file, '{"launchAtLogin": true, "protocolHandler": false, "theme": "dark"}');
    expect(await new DesktopSettingsStore(file, () => undefined).load()).toEqual({ launchAtLogin: true, protocolHandler: false });
  });
});
