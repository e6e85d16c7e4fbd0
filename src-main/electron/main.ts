import { app, clipboard, Menu, Notification } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appPage } from './appPage.ts';
import { createDesktopService, type DesktopHandle } from './desktop.ts';
import { DesktopSettingsStore } from './desktopSettings.ts';
import { registerIpc } from './ipc.ts';
import { contentFromArgv, contentSource } from './launchArgs.ts';
import { openedAtLogin } from './loginItem.ts';
import { Notifier, type Note } from './notifications.ts';
import { quitBerth } from './quit.ts';
import { AppService } from './service.ts';
import { assetsDir, BerthTray } from './tray.ts';
import { hardenContents, MainWindow } from './window.ts';

// The app's lifecycle, thin on purpose: one instance per user; the service (hosted on
// the usual control socket, or attached to a running daemon); the tray; the window,
// created when first shown and hidden when closed; IPC; notifications. Quit (tray, app
// menu, Cmd+Q) unmounts everything and exits. Everything with logic lives in modules
// that run under plain Node (service.ts, trayMenu.ts, notifications.ts, quit.ts, …).

/** Replaceable parts, for tests (the app itself passes none). */
export interface LaunchOptions {
  argv?: readonly string[];
  /** Folder of desktop.json (default: Electron's userData). */
  userData?: string;
  /** Folders of the service (default: the daemon's, so `berth` finds the app). */
  configDir?: string;
  runtimeDir?: string;
  log?: (message: string) => void;
  /** When quitting names busy mounts (default 3 s). */
  busyAfterMs?: number;
}

/** The running app's parts (tests look at them). */
export interface RunningApp {
  service: AppService;
  window: MainWindow;
  tray: BerthTray;
  desktop: DesktopHandle;
  notifier: Notifier;
  /** Quits as the tray's "Quit Berth" does; resolves just before app.exit. */
  quit(): Promise<void>;
}

function defaultLog(message: string): void {
  console.error(`${new Date().toISOString()} ${message}`);
}

/**
 * The `berth` CLI as argv words, for the file manager's Copy CID scripts: the deb's
 * /usr/bin/berth when packaged, else this checkout's launcher under Node (npm start
 * passes its Node as BERTH_NODE) or under this Electron run as Node.
 */
function cliCommand(): string[] | undefined {
  if (app.isPackaged) return process.platform === 'linux' && existsSync('/usr/bin/berth') ? ['/usr/bin/berth'] : undefined;
  const launcher = fileURLToPath(new URL('../../src-main/cli/berth.cjs', import.meta.url));
  const node = process.env.BERTH_NODE;
  return node ? [node, launcher] : ['env', 'ELECTRON_RUN_AS_NODE=1', process.execPath, launcher];
}

function showNote(note: Note): void {
  if (Notification.isSupported()) new Notification({ title: note.title, body: note.body }).show();
}

/** Starts the app; undefined when another Berth app already runs (it gets our argv and shows itself). */
export async function launchApp(opts: LaunchOptions = {}): Promise<RunningApp | undefined> {
  const log = opts.log ?? defaultLog;
  const argv = opts.argv ?? process.argv;
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return undefined;
  }
  const page = appPage({
    rendererIndex: fileURLToPath(new URL('../renderer/index.html', import.meta.url)),
    devServerUrl: process.env.ELECTRON_RENDERER_URL,
    packaged: app.isPackaged,
  });
  const window = new MainWindow(page, fileURLToPath(new URL('../preload/index.cjs', import.meta.url)));
  app.on('web-contents-created', (_event, contents) => hardenContents(contents, page));
  // Berth lives in the tray: closing the last window does not quit (the tray's Quit does).
  app.on('window-all-closed', () => {});
  app.on('activate', () => window.show()); // macOS: the dock icon was clicked

  const notifier = new Notifier(showNote);
  const cli = cliCommand();
  const service = new AppService({
    clipboard: (text) => clipboard.writeText(text),
    version: app.getVersion(),
    log,
    ...(cli ? { cliCommand: cli } : {}),
    ...(opts.configDir ? { configDir: opts.configDir } : {}),
    ...(opts.runtimeDir ? { runtimeDir: opts.runtimeDir } : {}),
  });
  service.onHosted((mounts) => notifier.beginRestore(mounts));

  // A second launch, or an ipfs:// link the OS hands over: show the window, with the add
  // dialog when it names content. macOS can deliver a link before the app is ready (it
  // started the app for it): that one waits for the start.
  let started = false;
  let early: { source?: string } | undefined;
  const handOver = (source: string | undefined) => {
    if (!started) early = { ...early, ...(source ? { source } : {}) };
    else if (source) window.openAdd(source);
    else window.show();
  };
  app.on('second-instance', (_event, otherArgv) => handOver(contentFromArgv(otherArgv)));
  app.on('open-url', (event, url) => {
    event.preventDefault();
    handOver(contentSource(url));
  });

  await app.whenReady();
  Menu.setApplicationMenu(process.platform === 'darwin' ? Menu.buildFromTemplate([{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }]) : null);

  const desktop = await createDesktopService({
    store: new DesktopSettingsStore(join(opts.userData ?? app.getPath('userData'), 'desktop.json'), log),
    window: () => window.current(),
    onChange: () => tray.refresh(),
  });
  const unregisterIpc = registerIpc({
    service: service.service,
    desktop: desktop.service,
    snapshot: () => service.snapshot(),
    isAppSender: (event) => window.isAppSender(event),
    snapshotAsked: () => window.snapshotAsked(),
    snapshotAnswered: () => window.snapshotAnswered(),
    log,
  });

  let quitting: Promise<void> | undefined;
  let exiting = false;
  const exit = () => {
    exiting = true;
    unregisterIpc();
    tray.destroy();
    app.exit(0);
  };
  const quit = (): Promise<void> =>
    (quitting ??= (async () => {
      log('quitting: unmounting everything');
      window.allowClose();
      await quitBerth(service, { notifyBusy: (names) => notifier.busyOnQuit(names), log, ...(opts.busyAfterMs !== undefined ? { busyAfterMs: opts.busyAfterMs } : {}) });
      exit();
    })());
  app.on('before-quit', (event) => {
    if (exiting) return;
    event.preventDefault();
    void quit();
  });
  // `berth shutdown` (or a signal) stopped the service this app hosts: the app goes too.
  service.onStopped(() => {
    log('the mount service stopped; closing the app');
    window.allowClose();
    exit();
  });

  const report = (what: string) => (err: unknown) => {
    log(`${what}: ${(err as Error).message}`);
    showNote({ title: 'Berth', body: `${what}: ${(err as Error).message}` });
  };
  const tray = new BerthTray(
    {
      toggleMount: (id, on) => {
        if (on) void service.service.mount({ id }).then((m) => notifier.mountedOnRequest(m), report('Could not mount'));
        else void service.service.unmount({ id, level: 'short' }).catch(report('Could not unmount'));
      },
      mountFromClipboard: (source) => window.openAdd(source),
      open: () => window.show(),
      unmountAll: () => void service.service.unmountAll({ level: 'short' }).catch(report('Could not unmount everything')),
      setLaunchAtLogin: (on) => void desktop.service.updateDesktopSettings({ launchAtLogin: on }).catch(report('Launch at login')),
      quit: () => app.quit(),
    },
    () => ({ mounts: service.mounts(), connection: service.connection(), launchAtLogin: desktop.settings().launchAtLogin }),
    { assets: assetsDir(app.isPackaged) },
  );
  tray.create();
  service.subscribe((ev) => {
    notifier.onEvent(ev);
    window.send(ev);
    tray.refresh();
  });

  await service.start();
  started = true;
  const source = contentFromArgv(argv) ?? early?.source;
  if (source) window.openAdd(source);
  else if (early || !openedAtLogin(argv)) window.show();
  return { service, window, tray, desktop, notifier, quit };
}
