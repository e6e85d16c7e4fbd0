import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

// The one test double of the 'electron' module (no Electron binary can be installed here,
// PEERS.md). Tests load it with `vi.mock('electron', () => import('<this file>'))`. It
// keeps the shape of the APIs src-main/electron uses and records what was done with them
// (windows, sends, menus, notifications, login items) so tests can look; `electronDouble`
// drives it (frames, clipboard, dialog answers) and resets it between tests. Nothing here
// decides anything for the code under test.

let nextId = 1;

/** A frame of a page (WebFrameMain). */
export class WebFrameMain {
  readonly frameTreeNodeId = nextId++;
  detached = false;
  constructor(
    public url: string,
    readonly parent: WebFrameMain | null = null,
  ) {}
}

/** A preventable event, as Electron passes to will-navigate, close, before-quit. */
export function preventable(extra: Record<string, unknown> = {}): { defaultPrevented: boolean; preventDefault(): void } & Record<string, unknown> {
  const ev = {
    ...extra,
    defaultPrevented: false,
    preventDefault() {
      ev.defaultPrevented = true;
    },
  };
  return ev;
}

type PermissionRequest = (wc: unknown, permission: string, callback: (ok: boolean) => void, details: { requestingUrl?: string }) => void;
type PermissionCheck = (wc: unknown, permission: string, origin: string, details: { requestingUrl?: string }) => boolean;

/** A session: records the handlers installed on it. */
class SessionDouble {
  permissionRequest?: PermissionRequest;
  permissionCheck?: PermissionCheck;
  headerFilters: { filter: unknown; listener: unknown }[] = [];
  readonly webRequest = {
    onHeadersReceived: (filter: unknown, listener?: unknown) => {
      this.headerFilters.push(listener === undefined ? { filter: undefined, listener: filter } : { filter, listener });
    },
  };
  setPermissionRequestHandler(fn: PermissionRequest) {
    this.permissionRequest = fn;
  }
  setPermissionCheckHandler(fn: PermissionCheck) {
    this.permissionCheck = fn;
  }
}

/** The default session. */
export const session = { defaultSession: new SessionDouble() };

/** A web contents: records sends and its window-open handler. */
export class WebContents extends EventEmitter {
  readonly id = nextId++;
  readonly sent: { channel: string; args: unknown[] }[] = [];
  mainFrame = new WebFrameMain('about:blank');
  windowOpenHandler?: (details: { url: string }) => { action: string };
  readonly session = session.defaultSession;
  send(channel: string, ...args: unknown[]) {
    this.sent.push({ channel, args: structuredClone(args) });
  }
  getURL() {
    return this.mainFrame.url;
  }
  setWindowOpenHandler(fn: (details: { url: string }) => { action: string }) {
    this.windowOpenHandler = fn;
  }
  isDestroyed() {
    return false;
  }
  /** Test helper: the page at `url` finished loading (a new main frame). */
  navigateTo(url: string) {
    this.emit('did-start-loading');
    this.mainFrame = new WebFrameMain(url);
    this.emit('did-finish-load');
  }
  /** Test helper: the IPC event a frame of this page would send. */
  eventFrom(frame: WebFrameMain | null = this.mainFrame) {
    return { sender: this, senderFrame: frame };
  }
}

/** A browser window. */
export class BrowserWindow extends EventEmitter {
  static readonly created: BrowserWindow[] = [];
  readonly webContents = new WebContents();
  visible = false;
  focusCount = 0;
  minimized = false;
  destroyed = false;
  loaded?: { file?: string; url?: string };
  constructor(readonly options: Record<string, unknown>) {
    super();
    if (!app.ready) throw new Error('Cannot create BrowserWindow before app is ready');
    BrowserWindow.created.push(this);
    app.emit('web-contents-created', {}, this.webContents);
  }
  loadFile(path: string) {
    this.loaded = { file: path };
    this.webContents.navigateTo(pathToFileURL(path).href);
    return Promise.resolve();
  }
  loadURL(url: string) {
    this.loaded = { url };
    this.webContents.navigateTo(url);
    return Promise.resolve();
  }
  show() {
    this.visible = true;
  }
  hide() {
    this.visible = false;
  }
  focus() {
    this.focusCount++;
  }
  isVisible() {
    return this.visible;
  }
  isMinimized() {
    return this.minimized;
  }
  restore() {
    this.minimized = false;
  }
  isDestroyed() {
    return this.destroyed;
  }
  /** Closes as the window's close button does (the app may prevent it). */
  close() {
    const ev = preventable();
    this.emit('close', ev);
    if (!ev.defaultPrevented) this.destroy();
  }
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.visible = false;
    this.emit('closed');
  }
}

type Invoke = (event: unknown, ...args: unknown[]) => unknown;

/** ipcMain: handlers by channel; `invoke` calls one as Electron would for a renderer. */
export const ipcMain = {
  handlers: new Map<string, Invoke>(),
  handle(channel: string, fn: Invoke) {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, fn);
  },
  removeHandler(channel: string) {
    this.handlers.delete(channel);
  },
  /** Test helper: what the renderer's ipcRenderer.invoke(channel, ...args) would get back. */
  async invoke(channel: string, event: unknown, ...args: unknown[]): Promise<unknown> {
    const fn = this.handlers.get(channel);
    if (!fn) throw new Error(`No handler registered for '${channel}'`);
    // Electron clones what crosses the process boundary.
    return structuredClone(await fn(event, ...structuredClone(args)));
  },
};

/** ipcRenderer, as the preload sees it: records invokes, delivers sends to listeners. */
class IpcRendererDouble extends EventEmitter {
  readonly invoked: { channel: string; args: unknown[] }[] = [];
  answer: (channel: string, args: unknown[]) => unknown = () => ({ ok: true, value: null });
  invoke(channel: string, ...args: unknown[]) {
    this.invoked.push({ channel, args });
    return Promise.resolve(this.answer(channel, args));
  }
}
/** The renderer side of IPC. */
export const ipcRenderer = new IpcRendererDouble();

/** contextBridge: what the preload exposed, by key. */
export const contextBridge = {
  exposed: {} as Record<string, unknown>,
  exposeInMainWorld(key: string, api: unknown) {
    if (key in this.exposed) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${key}`);
    this.exposed[key] = api;
  },
};

/** A native image: remembers its file and template flag. */
export class NativeImage {
  template = false;
  constructor(readonly path: string) {}
  setTemplateImage(on: boolean) {
    this.template = on;
  }
  isEmpty() {
    return !existsSync(this.path);
  }
}
/** nativeImage.createFromPath. */
export const nativeImage = { createFromPath: (path: string) => new NativeImage(path) };

/** A built menu: the template it came from. */
export class Menu extends EventEmitter {
  static applicationMenu: Menu | null | undefined;
  constructor(readonly items: Record<string, unknown>[]) {
    super();
  }
  static buildFromTemplate(template: Record<string, unknown>[]) {
    return new Menu(template);
  }
  static setApplicationMenu(menu: Menu | null) {
    Menu.applicationMenu = menu;
  }
}

/** A tray icon: its image, tooltip and menu, as last set. */
export class Tray extends EventEmitter {
  static readonly created: Tray[] = [];
  image: NativeImage;
  tooltip = '';
  menu?: Menu;
  destroyed = false;
  constructor(image: NativeImage) {
    super();
    if (!app.ready) throw new Error('Cannot create Tray before app is ready');
    this.image = image;
    Tray.created.push(this);
  }
  setImage(image: NativeImage) {
    this.image = image;
  }
  setToolTip(text: string) {
    this.tooltip = text;
  }
  setContextMenu(menu: Menu) {
    this.menu = menu;
  }
  isDestroyed() {
    return this.destroyed;
  }
  destroy() {
    this.destroyed = true;
  }
}

/** nativeTheme: dark or light panels. */
export const nativeTheme = Object.assign(new EventEmitter(), { shouldUseDarkColors: false });

/** A desktop notification; shown ones are kept in order. */
export class Notification {
  static readonly shown: { title: string; body: string }[] = [];
  static isSupported() {
    return true;
  }
  constructor(readonly options: { title: string; body: string }) {}
  show() {
    Notification.shown.push({ title: this.options.title, body: this.options.body });
  }
}

/** The clipboard: one text. */
export const clipboard = {
  text: '',
  readText() {
    return this.text;
  },
  writeText(text: string) {
    this.text = text;
  },
};

/** dialog: answers showOpenDialog with `nextOpen`; records the calls. */
export const dialog = {
  calls: [] as unknown[][],
  nextOpen: { canceled: true, filePaths: [] as string[] },
  showOpenDialog(...args: unknown[]) {
    this.calls.push(args);
    return Promise.resolve(this.nextOpen);
  },
};

/** shell: records what was opened; `openPathAnswer` is openPath's error text ('' = success). */
export const shell = {
  opened: [] as string[],
  external: [] as string[],
  openPathAnswer: '',
  openPath(path: string) {
    this.opened.push(path);
    return Promise.resolve(this.openPathAnswer);
  },
  openExternal(url: string) {
    this.external.push(url);
    return Promise.resolve();
  },
};

/** app: lifecycle events, paths, the single-instance lock, login items, protocol clients. */
class AppDouble extends EventEmitter {
  /** Set by whenReady(), a tick later, as Electron's 'ready'; windows and trays need it. */
  ready = true;
  isPackaged = false;
  paths: Record<string, string> = {};
  lockAvailable = true;
  exitCode: number | undefined;
  quitCalls = 0;
  loginItem = { openAtLogin: false, wasOpenedAtLogin: false, args: [] as string[] };
  readonly protocols = new Set<string>();
  protocolAnswer = true;
  requestSingleInstanceLock() {
    return this.lockAvailable;
  }
  whenReady() {
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        this.ready = true;
        resolve();
      }),
    );
  }
  getPath(name: string) {
    const p = this.paths[name];
    if (!p) throw new Error(`electron double: app.getPath('${name}') was not set by the test`);
    return p;
  }
  getAppPath() {
    return this.paths.appPath ?? process.cwd();
  }
  getVersion() {
    return '0.1.0';
  }
  /** Quits as Electron does: before-quit first, which may be prevented. */
  quit() {
    this.quitCalls++;
    const ev = preventable();
    this.emit('before-quit', ev);
    if (!ev.defaultPrevented) this.exitCode ??= 0;
  }
  exit(code = 0) {
    this.exitCode = code;
    this.emit('exited', code);
  }
  setLoginItemSettings(s: { openAtLogin?: boolean; args?: string[] }) {
    this.loginItem = { ...this.loginItem, openAtLogin: s.openAtLogin ?? false, args: s.args ?? [] };
  }
  getLoginItemSettings() {
    return { ...this.loginItem };
  }
  setAsDefaultProtocolClient(protocol: string) {
    if (this.protocolAnswer) this.protocols.add(protocol);
    return this.protocolAnswer;
  }
  removeAsDefaultProtocolClient(protocol: string) {
    this.protocols.delete(protocol);
    return this.protocolAnswer;
  }
  isDefaultProtocolClient(protocol: string) {
    return this.protocols.has(protocol);
  }
}
/** The app. */
export const app = new AppDouble();

/** Test-side controls of the double. */
export const electronDouble = {
  /** Puts every part back to a fresh state (listeners, records, answers). */
  reset() {
    app.removeAllListeners();
    Object.assign(app, { ready: true, isPackaged: false, paths: {}, lockAvailable: true, exitCode: undefined, quitCalls: 0, protocolAnswer: true });
    app.loginItem = { openAtLogin: false, wasOpenedAtLogin: false, args: [] };
    app.protocols.clear();
    ipcMain.handlers.clear();
    ipcRenderer.removeAllListeners();
    ipcRenderer.invoked.length = 0;
    ipcRenderer.answer = () => ({ ok: true, value: null });
    contextBridge.exposed = {};
    BrowserWindow.created.length = 0;
    Tray.created.length = 0;
    Menu.applicationMenu = undefined;
    Notification.shown.length = 0;
    nativeTheme.removeAllListeners();
    nativeTheme.shouldUseDarkColors = false;
    clipboard.text = '';
    dialog.calls.length = 0;
    dialog.nextOpen = { canceled: true, filePaths: [] };
    shell.opened.length = 0;
    shell.external.length = 0;
    shell.openPathAnswer = '';
    session.defaultSession = new SessionDouble();
  },
  /** The tray created last. */
  tray(): Tray | undefined {
    return Tray.created.at(-1);
  },
  /** The window created last. */
  window(): BrowserWindow | undefined {
    return BrowserWindow.created.at(-1);
  },
};

export default { app, BrowserWindow, clipboard, contextBridge, dialog, ipcMain, ipcRenderer, Menu, nativeImage, nativeTheme, Notification, session, shell, Tray };
