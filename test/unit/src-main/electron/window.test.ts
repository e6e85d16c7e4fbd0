import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('../../../helpers/electron.ts'));

import { app, BrowserWindow, electronDouble, preventable, session, shell, WebContents, WebFrameMain } from '../../../helpers/electron.ts';
import { appPage, isAppUrl } from '../../../../src-main/electron/appPage.ts';
import { DEV_CSP, hardenContents, MainWindow, windowOptions } from '../../../../src-main/electron/window.ts';

// Issue 7 "Electron main": the window's options are the secure ones; issue 8 part 6: only
// the app's own page (exact URL) may navigate or talk over IPC, and permission checks
// are answered too, not only requests.

const page = appPage({ rendererIndex: '/opt/Berth/out/renderer/index.html', packaged: true });

describe('the app page', () => {
  it('is exactly the built index.html; a fragment is the same page, anything else is not', () => {
    expect(page.url).toBe('file:///opt/Berth/out/renderer/index.html');
    expect(isAppUrl('file:///opt/Berth/out/renderer/index.html', page)).toBe(true);
    expect(isAppUrl('file:///opt/Berth/out/renderer/index.html#/settings', page)).toBe(true);
    for (const other of [
      'file:///opt/Berth/out/renderer/index.html.evil.html',
      'file:///opt/Berth/out/renderer/index.htmlx',
      'file:///opt/Berth/out/renderer/other.html',
      'file:///tmp/index.html',
      'file:///opt/Berth/out/renderer/index.html?x=1',
      'file:///',
      'https://example.com/',
      'about:blank',
      '',
      'not a url',
    ]) {
      expect(isAppUrl(other, page), other).toBe(false);
    }
    expect(isAppUrl(undefined, page)).toBe(false);
  });

  it('is the dev server only when unpackaged and on loopback, matched exactly (no prefix)', () => {
    const dev = appPage({ rendererIndex: '/x/index.html', devServerUrl: 'http://localhost:5173', packaged: false });
    expect(dev.load).toEqual({ kind: 'url', url: 'http://localhost:5173/' });
    expect(isAppUrl('http://localhost:5173/', dev)).toBe(true);
    expect(isAppUrl('http://localhost:5173.evil.example/', dev)).toBe(false);
    expect(isAppUrl('http://localhost:51730/', dev)).toBe(false);
    expect(isAppUrl('http://localhost:5173/other.html', dev)).toBe(false);
    // A packaged app ignores the variable; a dev server elsewhere is refused.
    expect(appPage({ rendererIndex: '/x/index.html', devServerUrl: 'http://localhost:5173', packaged: true }).load.kind).toBe('file');
    expect(() => appPage({ rendererIndex: '/x/index.html', devServerUrl: 'http://evil.example:5173', packaged: false })).toThrow(/on this machine/);
  });
});

describe('window options', () => {
  it('isolate the page: contextIsolation, sandbox, no Node anywhere, no webviews, web security on', () => {
    const o = windowOptions('/opt/Berth/out/preload/index.cjs');
    expect(o.webPreferences).toMatchObject({
      preload: '/opt/Berth/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
    expect(o.show).toBe(false);
    expect([o.minWidth, o.minHeight]).toEqual([640, 400]);
  });
});

describe('hardenContents', () => {
  beforeEach(() => electronDouble.reset());

  it('keeps navigation on the app page, denies new windows (https goes to the browser) and webviews', () => {
    const wc = new WebContents();
    hardenContents(wc as never, page);
    const nav = (event: string, url: string) => {
      const ev = preventable({ url, isMainFrame: true });
      wc.emit(event, ev, url);
      return ev.defaultPrevented;
    };
    expect(nav('will-navigate', page.url)).toBe(false);
    expect(nav('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(nav('will-navigate', `${page.url}.evil.html`)).toBe(true);
    expect(nav('will-redirect', 'https://example.com/')).toBe(true);
    const sub = preventable({ url: page.url, isMainFrame: false });
    wc.emit('will-frame-navigate', sub);
    expect(sub.defaultPrevented).toBe(true);
    const webview = preventable();
    wc.emit('will-attach-webview', webview);
    expect(webview.defaultPrevented).toBe(true);
    expect(wc.windowOpenHandler?.({ url: 'https://dweb.link/ipfs/bafy' })).toEqual({ action: 'deny' });
    expect(wc.windowOpenHandler?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(shell.external).toEqual(['https://dweb.link/ipfs/bafy']);
  });

  it('answers permission requests AND checks: only the clipboard write, only for the app page', () => {
    const wc = new WebContents();
    hardenContents(wc as never, page);
    const s = session.defaultSession;
    const request = (permission: string, url: string) => {
      let answer: boolean | undefined;
      s.permissionRequest!(wc, permission, (ok) => (answer = ok), { requestingUrl: url });
      return answer;
    };
    expect(request('media', page.url)).toBe(false);
    expect(request('notifications', page.url)).toBe(false);
    expect(request('clipboard-sanitized-write', page.url)).toBe(true);
    expect(request('clipboard-sanitized-write', 'https://example.com/')).toBe(false);
    expect(s.permissionCheck!(wc, 'clipboard-read', 'file:///', { requestingUrl: page.url })).toBe(false);
    expect(s.permissionCheck!(wc, 'geolocation', 'file:///', { requestingUrl: page.url })).toBe(false);
    expect(s.permissionCheck!(wc, 'clipboard-sanitized-write', 'file:///', { requestingUrl: page.url })).toBe(true);
    expect(s.permissionCheck!(wc, 'clipboard-sanitized-write', 'file:///', { requestingUrl: 'file:///tmp/x.html' })).toBe(false);
  });
});

describe('MainWindow', () => {
  beforeEach(() => electronDouble.reset());

  it('creates the window with the secure options and the CSP header only for a dev server', () => {
    const w = new MainWindow(page, '/p.cjs');
    w.show();
    const win = electronDouble.window()!;
    expect(win.options).toEqual(windowOptions('/p.cjs'));
    expect(win.loaded).toEqual({ file: '/opt/Berth/out/renderer/index.html' });
    expect(session.defaultSession.headerFilters).toEqual([]);

    electronDouble.reset();
    const dev = appPage({ rendererIndex: '/x', devServerUrl: 'http://127.0.0.1:5173', packaged: false });
    new MainWindow(dev, '/p.cjs').show();
    const [hook] = session.defaultSession.headerFilters as { filter: { urls: string[] }; listener: (d: unknown, cb: (r: unknown) => void) => void }[];
    expect(hook!.filter).toEqual({ urls: ['http://127.0.0.1:5173/*'] });
    let headers: unknown;
    hook!.listener({ responseHeaders: { a: ['b'] } }, (r) => (headers = r));
    expect(headers).toEqual({ responseHeaders: { a: ['b'], 'Content-Security-Policy': [DEV_CSP] } });
  });

  it('hides instead of closing until quit allows it', () => {
    const w = new MainWindow(page, '/p.cjs');
    const win = w.show();
    expect(win.isVisible()).toBe(false); // shown on ready-to-show
    win.emit('ready-to-show');
    expect(win.isVisible()).toBe(true);
    (win as unknown as BrowserWindow).close();
    expect(win.isDestroyed()).toBe(false);
    expect(win.isVisible()).toBe(false);
    w.allowClose();
    (win as unknown as BrowserWindow).close();
    expect(win.isDestroyed()).toBe(true);
    expect(w.current()).toBeUndefined();
  });

  it('accepts IPC only from its own main frame showing exactly the app page', () => {
    const w = new MainWindow(page, '/p.cjs');
    w.show();
    const wc = electronDouble.window()!.webContents;
    expect(w.isAppSender(wc.eventFrom() as never)).toBe(true);
    // An iframe inside the app page, even one claiming the same URL.
    expect(w.isAppSender(wc.eventFrom(new WebFrameMain(page.url, wc.mainFrame)) as never)).toBe(false);
    // Another window showing the same page.
    const other = new BrowserWindow({});
    other.webContents.navigateTo(page.url);
    expect(w.isAppSender(other.webContents.eventFrom() as never)).toBe(false);
    // The window after navigating elsewhere (a prefix match, then another file).
    wc.navigateTo(`${page.url}.evil.html`);
    expect(w.isAppSender(wc.eventFrom() as never)).toBe(false);
    wc.navigateTo('file:///tmp/index.html');
    expect(w.isAppSender(wc.eventFrom() as never)).toBe(false);
    expect(w.isAppSender({ sender: wc, senderFrame: null } as never)).toBe(false);
    expect(app.exitCode).toBeUndefined();
  });

  it('sends nothing before the page asks for its snapshot, holds what happens while it is taken, then sends it after the answer', async () => {
    const w = new MainWindow(page, '/p.cjs');
    w.openAdd('/ipfs/bafkqaaa');
    const wc = electronDouble.window()!.webContents;
    const sent = () => wc.sent.map((m) => m.args[0]);
    w.send({ type: 'removed', data: { id: 'm_before' } }); // covered by the snapshot to come
    expect(sent()).toEqual([]);
    w.snapshotAsked();
    w.send({ type: 'removed', data: { id: 'm_during' } }); // maybe not in the snapshot: held
    expect(sent()).toEqual([]);
    w.snapshotAnswered();
    expect(sent()).toEqual([]); // the reply goes first
    await new Promise((r) => setTimeout(r, 5));
    expect(sent()).toEqual([
      { type: 'removed', data: { id: 'm_during' } },
      { type: 'openAdd', data: { source: '/ipfs/bafkqaaa' } },
    ]);
    w.send({ type: 'removed', data: { id: 'm_after' } });
    expect(sent()).toHaveLength(3);
    // A reload: nothing is pushed until the new page asks again.
    wc.navigateTo(page.url);
    w.send({ type: 'removed', data: { id: 'm_reload' } });
    expect(sent()).toHaveLength(3);
    expect(wc.sent.every((m) => m.channel === 'berth:event')).toBe(true);
  });
});
