import { BrowserWindow, session, shell, type WebContents } from 'electron';
import { fileURLToPath } from 'node:url';

// The main window and the hardening every web contents gets (Electron security checklist):
// contextIsolation + sandbox, no Node in the page, no navigation or new windows, no
// permissions, and a CSP header for the dev server (the built page carries a CSP <meta>).

/** Set by `electron-vite dev`: the renderer dev server URL. */
const devServerUrl = process.env.ELECTRON_RENDERER_URL;

/** CSP sent with dev-server responses; looser than the built one only where Vite's HMR needs it. */
const DEV_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self'; connect-src 'self' ws:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/** Creates the window that shows the mount table. */
export function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 960,
    height: 640,
    minWidth: 640,
    minHeight: 400,
    title: 'Berth',
    show: false,
    webPreferences: {
      preload: fileURLToPath(new URL('../preload/index.cjs', import.meta.url)),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  if (devServerUrl) {
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [DEV_CSP] } });
    });
    void win.loadURL(devServerUrl);
  } else {
    void win.loadFile(fileURLToPath(new URL('../renderer/index.html', import.meta.url)));
  }
  return win;
}

/** True for the app's own pages (the built files or the dev server). */
function isAppUrl(url: string): boolean {
  return url.startsWith('file://') || (devServerUrl !== undefined && url.startsWith(devServerUrl));
}

/** Locks a web contents down: no navigation away, no new windows, no permission prompts. */
export function hardenContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // Links to gateways and docs open in the user's browser, never inside the app.
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
}
