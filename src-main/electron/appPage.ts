import { pathToFileURL } from 'node:url';

// The one page Berth's window shows, and the one URL allowed to navigate there or to talk
// to the main process over IPC. Exact match (fragment aside): `startsWith('file://')`
// would let any local HTML file in, and a prefix of the dev server would let
// http://localhost:5173.evil.example in (issue 8, part 6).

/** The app's page: its URL (no fragment) and how to load it. */
export interface AppPage {
  /** The URL the window reports for the page, without fragment. */
  readonly url: string;
  /** What the window loads. */
  readonly load: { kind: 'file'; path: string } | { kind: 'url'; url: string };
}

/** Hosts a dev server may run on: only this machine. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The page: the built renderer's index.html, or (only in an unpackaged app, with
 * `electron-vite dev`) the dev server on loopback.
 */
export function appPage(opts: { rendererIndex: string; devServerUrl?: string | undefined; packaged: boolean }): AppPage {
  if (opts.devServerUrl && !opts.packaged) {
    const u = new URL(opts.devServerUrl);
    if (u.protocol !== 'http:' || !LOOPBACK.has(u.hostname)) {
      throw new Error(`ELECTRON_RENDERER_URL must be an http:// URL on this machine, got ${JSON.stringify(opts.devServerUrl.slice(0, 200))}`);
    }
    u.hash = '';
    return { url: u.href, load: { kind: 'url', url: u.href } };
  }
  return { url: pathToFileURL(opts.rendererIndex).href, load: { kind: 'file', path: opts.rendererIndex } };
}

/** True when `candidate` is exactly the app's page (a different fragment is the same document). */
export function isAppUrl(candidate: unknown, page: AppPage): boolean {
  if (typeof candidate !== 'string' || candidate === '') return false;
  let u: URL;
  try {
    u = new URL(candidate);
  } catch {
    return false;
  }
  u.hash = '';
  return u.href === page.url;
}
