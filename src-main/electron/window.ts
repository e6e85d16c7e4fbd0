import { BrowserWindow, session, shell, type BrowserWindowConstructorOptions, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { BridgeEvent } from '../../src-shared/bridge.ts';
import { isAppUrl, type AppPage } from './appPage.ts';
import { EVENT_CHANNEL } from './channelNames.ts';

// The one window and the hardening every web contents gets (Electron's security
// checklist): contextIsolation + sandbox, no Node in the page, no navigation away from
// the app's page, no new windows, no webviews, no permissions but writing the clipboard
// from the app's own page, and a CSP (a <meta> in the built page; a header for the dev
// server). Closing the window hides it: Berth lives in the tray until Quit.

/** CSP sent with dev-server responses; looser than the built one only where Vite's HMR needs it. */
export const DEV_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self'; connect-src 'self' ws:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/** The only permission the page may use: writing (sanitized) text to the clipboard, for "Copy CID". */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

/** The main window's options: the secure webPreferences, and the sizes of UI.md. */
export function windowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 960,
    height: 640,
    minWidth: 640,
    minHeight: 400,
    title: 'Berth',
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}

/** Locks a web contents down: no navigation away, no new windows, no webviews, no permissions but the clipboard write. */
export function hardenContents(contents: WebContents, page: AppPage): void {
  const stay = (event: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url, page)) event.preventDefault();
  };
  contents.on('will-navigate', stay);
  contents.on('will-redirect', stay);
  contents.on('will-frame-navigate', (event) => {
    // Subframes never navigate anywhere: the app has none of its own.
    if (!event.isMainFrame || !isAppUrl(event.url, page)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // Links to gateways and docs open in the user's browser, never inside the app.
    if (/^https?:\/\//i.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  const allowed = (permission: string, url: string | undefined) => ALLOWED_PERMISSIONS.has(permission) && isAppUrl(url, page);
  contents.session.setPermissionRequestHandler((wc, permission, callback, details) => callback(allowed(permission, details.requestingUrl ?? wc.getURL())));
  contents.session.setPermissionCheckHandler((_wc, permission, requestingOrigin, details) => allowed(permission, details.requestingUrl ?? requestingOrigin));
}

/** Events held for a page between its snapshot request and the answer, at most. */
const MAX_BUFFERED = 10_000;

/**
 * The main window, created on first use. Owner of the window and of the events on their
 * way to its page. The page subscribes, then asks for its snapshot; events that happen
 * while the snapshot is taken are held and sent right after the answer (the page drops
 * events that arrive before it), so none is lost between the two. An `openAdd` sent
 * before the page asked (a window opened by a second launch has no listener yet) waits
 * for that moment too.
 */
export class MainWindow {
  private win?: BrowserWindow;
  /** waiting: no snapshot asked since the page loaded; holding: answers pending; open: events flow. */
  private stream: 'waiting' | 'holding' | 'open' = 'waiting';
  private pendingSnapshots = 0;
  private held: BridgeEvent[] = [];
  private pendingAdd?: BridgeEvent;
  private quitting = false;

  constructor(
    private readonly page: AppPage,
    private readonly preload: string,
  ) {}

  /** The window, when it exists. */
  current(): BrowserWindow | undefined {
    return this.win && !this.win.isDestroyed() ? this.win : undefined;
  }

  /** Shows and focuses the window, creating it when needed. */
  show(): BrowserWindow {
    let win = this.current();
    if (!win) win = this.create();
    else {
      if (win.isMinimized()) win.restore();
      win.show();
    }
    win.focus();
    return win;
  }

  /** Shows the window with the add dialog open (prefilled with `source`). */
  openAdd(source?: string): void {
    this.pendingAdd = { type: 'openAdd', data: source ? { source } : {} };
    this.show();
    if (this.stream === 'open') this.flush();
  }

  /** Pushes a service event to the page: now, after a snapshot answer, or not at all before the page asked. */
  send(ev: BridgeEvent): void {
    const win = this.current();
    if (!win || !isAppUrl(win.webContents.getURL(), this.page)) return;
    if (this.stream === 'open') win.webContents.send(EVENT_CHANNEL, ev);
    else if (this.stream === 'holding' && this.held.length < MAX_BUFFERED) this.held.push(ev);
  }

  /** The page asked for its snapshot: it is listening; hold events until the answer is out. */
  snapshotAsked(): void {
    this.pendingSnapshots++;
    this.stream = 'holding';
  }

  /** The snapshot answer was handed to IPC: what was held follows it (a timer runs after the reply is sent). */
  snapshotAnswered(): void {
    setTimeout(() => {
      this.pendingSnapshots = Math.max(0, this.pendingSnapshots - 1);
      if (this.pendingSnapshots > 0 || this.stream !== 'holding') return;
      this.stream = 'open';
      const win = this.current();
      const held = this.held;
      this.held = [];
      if (win) for (const ev of held) win.webContents.send(EVENT_CHANNEL, ev);
      this.flush();
    }, 0);
  }

  /** True only for the main frame of this window showing exactly the app's page. */
  isAppSender(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>): boolean {
    const win = this.current();
    const frame = event.senderFrame;
    if (!win || !frame || frame.detached || event.sender.id !== win.webContents.id) return false;
    // The top frame of this window (not an iframe inside it), showing the page itself.
    return frame.parent === null && frame.frameTreeNodeId === win.webContents.mainFrame.frameTreeNodeId && isAppUrl(frame.url, this.page);
  }

  /** From now on closing really closes (Quit). */
  allowClose(): void {
    this.quitting = true;
  }

  private resetStream(): void {
    this.stream = 'waiting';
    this.pendingSnapshots = 0;
    this.held = [];
  }

  private flush(): void {
    const ev = this.pendingAdd;
    const win = this.current();
    if (!ev || !win || this.stream !== 'open') return;
    this.pendingAdd = undefined;
    win.webContents.send(EVENT_CHANNEL, ev);
  }

  private create(): BrowserWindow {
    const win = new BrowserWindow(windowOptions(this.preload));
    this.win = win;
    this.resetStream();
    win.once('ready-to-show', () => win.show());
    win.on('close', (event) => {
      if (this.quitting) return;
      event.preventDefault();
      win.hide();
    });
    win.on('closed', () => {
      if (this.win === win) this.win = undefined;
    });
    // A reload starts a new page: it asks for its snapshot again.
    win.webContents.on('did-start-loading', () => this.resetStream());
    if (this.page.load.kind === 'url') {
      const url = this.page.load.url;
      session.defaultSession.webRequest.onHeadersReceived({ urls: [`${new URL(url).origin}/*`] }, (details, callback) => {
        callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [DEV_CSP] } });
      });
      void win.loadURL(url);
    } else {
      void win.loadFile(this.page.load.path);
    }
    return win;
  }
}
