import { clipboard, Menu, nativeImage, nativeTheme, Tray, type MenuItemConstructorOptions } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentSource } from './launchArgs.ts';
import { trayModel, type TrayAction, type TrayIconState, type TrayInputs, type TrayItem } from './trayMenu.ts';

// The tray icon and its menu, rebuilt from trayMenu.ts's model on every table event.
// "Mount CID from clipboard…" is enabled only while the clipboard holds a CID or link:
// Linux has no clipboard-change event, so it is polled there (a cheap local read); on
// macOS a poll would trip its paste-privacy prompt, so it is read when the pointer
// reaches the icon instead.

/** What the menu's items do. */
export interface TrayHandlers {
  /** Mount (`on`) or unmount a mount from its checkbox. */
  toggleMount(id: string, on: boolean): void;
  /** Open the add dialog prefilled with the clipboard's content. */
  mountFromClipboard(source: string | undefined): void;
  open(): void;
  unmountAll(): void;
  setLaunchAtLogin(on: boolean): void;
  quit(): void;
}

/** How often the clipboard is looked at where there is no change event. */
const CLIPBOARD_POLL_MS = 2000;

/** Folder of the tray icons: resources/assets when packaged, the repo's assets/ otherwise. */
export function assetsDir(packaged: boolean): string {
  if (packaged && process.resourcesPath) return join(process.resourcesPath, 'assets');
  return fileURLToPath(new URL('../../assets/', import.meta.url));
}

/**
 * The icon file for a state: template images on macOS (black + alpha; the menu bar tints
 * them), elsewhere the glyph for the panel's brightness (`dark` = white, for dark panels).
 * Each has an @2x sibling that nativeImage picks up for high-DPI screens.
 */
export function trayIconFile(dir: string, state: TrayIconState, platform: NodeJS.Platform, darkPanel: boolean): string {
  if (platform === 'darwin') return join(dir, state === 'ok' ? 'trayTemplate.png' : `tray${state[0]!.toUpperCase()}${state.slice(1)}Template.png`);
  return join(dir, `tray-${state}-${darkPanel ? 'dark' : 'light'}.png`);
}

/** The tray: owns the Tray object and the clipboard watch. */
export class BerthTray {
  private tray?: Tray;
  private iconFile?: string;
  private clipboardSource?: string;
  private poll?: NodeJS.Timeout;
  private readonly onTheme = () => this.refresh();

  constructor(
    private readonly handlers: TrayHandlers,
    private readonly inputs: () => Omit<TrayInputs, 'clipboardHasContent'>,
    private readonly opts: { assets: string; platform?: NodeJS.Platform },
  ) {}

  /** Shows the tray icon and starts watching the clipboard. */
  create(): void {
    const platform = this.opts.platform ?? process.platform;
    this.readClipboard();
    this.tray = new Tray(this.image('ok'));
    if (platform === 'darwin') this.tray.on('mouse-enter', () => this.readClipboard() && this.refresh());
    else {
      this.poll = setInterval(() => {
        if (this.readClipboard()) this.refresh();
      }, CLIPBOARD_POLL_MS);
      this.poll.unref();
    }
    nativeTheme.on('updated', this.onTheme);
    this.refresh();
  }

  /** Rebuilds icon, tooltip and menu from the current inputs. */
  refresh(): void {
    const tray = this.tray;
    if (!tray || tray.isDestroyed()) return;
    const model = trayModel({ ...this.inputs(), clipboardHasContent: this.clipboardSource !== undefined });
    if (this.fileFor(model.icon) !== this.iconFile) tray.setImage(this.image(model.icon));
    tray.setToolTip(model.tooltip);
    tray.setContextMenu(Menu.buildFromTemplate(model.items.map((item) => this.menuItem(item))));
  }

  /** Removes the icon and stops the clipboard watch. */
  destroy(): void {
    clearInterval(this.poll);
    nativeTheme.removeListener('updated', this.onTheme);
    if (this.tray && !this.tray.isDestroyed()) this.tray.destroy();
    this.tray = undefined;
  }

  /** Reads the clipboard; true when what it offers changed. */
  private readClipboard(): boolean {
    let source: string | undefined;
    try {
      source = contentSource(clipboard.readText());
    } catch {
      source = undefined;
    }
    const changed = source !== this.clipboardSource;
    this.clipboardSource = source;
    return changed;
  }

  private fileFor(state: TrayIconState): string {
    return trayIconFile(this.opts.assets, state, this.opts.platform ?? process.platform, nativeTheme.shouldUseDarkColors);
  }

  private image(state: TrayIconState) {
    const file = this.fileFor(state);
    this.iconFile = file;
    const img = nativeImage.createFromPath(existsSync(file) ? file : this.fileFor('ok'));
    if ((this.opts.platform ?? process.platform) === 'darwin') img.setTemplateImage(true);
    return img;
  }

  private act(action: TrayAction, checked?: boolean): void {
    switch (action) {
      case 'mountFromClipboard':
        this.readClipboard();
        return this.handlers.mountFromClipboard(this.clipboardSource);
      case 'open':
        return this.handlers.open();
      case 'unmountAll':
        return this.handlers.unmountAll();
      case 'launchAtLogin':
        return this.handlers.setLaunchAtLogin(!checked);
      case 'quit':
        return this.handlers.quit();
      default: {
        const never: never = action;
        throw new Error(`unknown tray action ${String(never)}`);
      }
    }
  }

  private menuItem(item: TrayItem): MenuItemConstructorOptions {
    switch (item.kind) {
      case 'header':
        return { id: 'summary', label: item.label, enabled: false };
      case 'separator':
        return { type: 'separator' };
      case 'mount':
        return { id: `mount:${item.id}`, type: 'checkbox', label: item.label, checked: item.checked, enabled: item.enabled, click: () => this.handlers.toggleMount(item.id, !item.checked) };
      case 'action':
        return { id: item.action, label: item.label, enabled: item.enabled, click: () => this.act(item.action) };
      case 'toggle':
        return { id: item.action, type: 'checkbox', label: item.label, checked: item.checked, click: () => this.act(item.action, item.checked) };
      default: {
        const never: never = item;
        throw new Error(`unknown tray item ${JSON.stringify(never)}`);
      }
    }
  }
}
