import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RENDERER_CSP_HEADER } from '../../src-shared/csp.ts';

// The browser face: the daemon's loopback listener serves the built renderer (the same
// files the Electron window loads) at "/". The page holds no secret, so it needs no
// token; it reads the token from the URL fragment (never sent here) and sends it on
// every API call. A strict CSP forbids inline script and every origin but this one.

/** The browser UI's Content-Security-Policy header (the built page's <meta>, plus frame-ancestors). */
export const UI_CSP = RENDERER_CSP_HEADER;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

/** The package root: the nearest folder above this file holding package.json (source, CLI bundle or app.asar). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return process.cwd();
}

/** Where the built renderer is: $BERTH_UI_DIR, else out/renderer in the package. */
export function defaultUiRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.BERTH_UI_DIR && env.BERTH_UI_DIR.startsWith('/') ? env.BERTH_UI_DIR : join(packageRoot(), 'out', 'renderer');
}

const baseHeaders = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** A page shown when the renderer was never built (no script, same CSP). */
function notBuiltPage(root: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Berth</title></head><body>
<h1>Berth</h1><p>The browser UI is not built yet, so there is nothing to show at this address.</p>
<p>Build it once with <code>npm run build</code> (it is written to <code>${root.replace(/[<>&]/g, '')}</code>), then reload this page.
The control API under <code>/v1</code> works without it.</p></body></html>`;
}

/**
 * Serves GET/HEAD of the built renderer from `root`; true when it answered. Only files
 * inside `root` are served (no "..", no dot files); unknown paths get the app's
 * index.html, so a reload of any UI path works.
 */
export async function serveUi(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const base = resolve(root);
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  if (rel.includes('\0') || rel.split('/').some((p) => p.startsWith('.'))) return false;
  let file = resolve(base, `.${rel === '/' ? '/index.html' : rel}`);
  if (file !== base && !file.startsWith(base + sep)) return false;
  let st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) {
    // A path without an extension is a UI route: answer with the app (or say it is not built).
    if (extname(file) !== '' && rel !== '/' && rel !== '/index.html') return false;
    file = join(base, 'index.html');
    st = await stat(file).catch(() => undefined);
  }
  if (!st?.isFile()) {
    const page = notBuiltPage(base);
    res.writeHead(503, { ...baseHeaders, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(page) });
    res.end(req.method === 'HEAD' ? undefined : page);
    return true;
  }
  const body = await readFile(file);
  const isIndex = file.endsWith(`${sep}index.html`);
  res.writeHead(200, {
    ...baseHeaders,
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    // Hashed asset names never change; the page itself must be re-read after an update.
    'cache-control': isIndex ? 'no-store' : 'public, max-age=31536000, immutable',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
