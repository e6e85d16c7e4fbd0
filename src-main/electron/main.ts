import { app, BrowserWindow } from 'electron';
import { createMainWindow, hardenContents } from './window.ts';

// Electron entry. Thin on purpose: app lifecycle only; the mount service (src-main/service)
// is started here by the service team, and everything testable lives outside this folder.

/** True when this process holds the single-instance lock. */
const primary = app.requestSingleInstanceLock();

if (!primary) {
  // Another Berth is running; it gets our argv through 'second-instance' and shows itself.
  app.quit();
} else {
  let mainWindow: BrowserWindow | undefined;

  const showMainWindow = (): void => {
    if (!mainWindow || mainWindow.isDestroyed()) {
      mainWindow = createMainWindow();
      mainWindow.on('closed', () => {
        mainWindow = undefined;
      });
    } else {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  };

  app.on('web-contents-created', (_event, contents) => hardenContents(contents));
  app.on('second-instance', showMainWindow);
  app.on('activate', showMainWindow); // macOS: dock icon clicked with no window open

  // Berth lives in the tray: closing the last window does not quit (the tray's Quit does).
  app.on('window-all-closed', () => {});

  void app.whenReady().then(showMainWindow);
}
