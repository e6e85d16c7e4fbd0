import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http.ts';

/** A loopback address for the UI listener. */
export interface UiAddress {
  host: string;
  port: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Parses `--ui 127.0.0.1:PORT` (also `localhost:PORT`, `[::1]:PORT`, or a bare port).
 * Anything that is not loopback is refused: the API can mount and unmount, so it must
 * never be reachable from the network.
 */
export function parseUiAddress(text: string): UiAddress {
  const t = text.trim();
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(t);
  if (!m) throw new Error(`invalid --ui address ${JSON.stringify(t.slice(0, 80))}: expected 127.0.0.1:PORT`);
  const host = (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`invalid --ui port ${port}: expected 0-65535`);
  if (!LOOPBACK.has(host) && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) {
    throw new Error(`refusing to serve the control API on ${host}: the --ui listener only binds loopback (127.0.0.1, ::1 or localhost)`);
  }
  return { host, port };
}

/** A fresh bearer token (256 bits, URL-safe). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The UI token kept in `file` (in the 0700 runtime folder, mode 0600), made on first use.
 * A restarted daemon keeps it, so an open browser page reconnects by itself instead of
 * asking for the new address; the runtime folder is emptied at logout, and a new token
 * with it.
 */
export async function loadOrCreateToken(file: string): Promise<string> {
  const kept = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (/^[A-Za-z0-9_-]{43}$/.test(kept)) return kept;
  const token = newToken();
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return token;
}

/**
 * Checks the Host and Origin of a request on the TCP listener: the Host header must name
 * this listener by a loopback name (a DNS-rebinding page sends its own host name), and a
 * browser Origin must be the same. Static UI files need only this; the API needs the token too.
 */
export function makeHostGuard(port: number): (req: IncomingMessage) => void {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  return (req) => {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!hosts.has(host)) throw new HttpError(403, 'Permission', `forbidden Host header ${JSON.stringify(host.slice(0, 100))}: expected 127.0.0.1:${port} or localhost:${port}`);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null' && !hosts.has(origin.replace(/^https?:\/\//i, '').toLowerCase())) {
      throw new HttpError(403, 'Permission', `forbidden Origin ${JSON.stringify(origin.slice(0, 100))}`);
    }
  };
}

/**
 * Checks an API request on the TCP listener: Host and Origin (makeHostGuard), and the
 * bearer token (`Authorization: Bearer`, or `?access_token=` for EventSource, which
 * cannot set headers).
 */
export function makeTcpGuard(port: number, token: string): (req: IncomingMessage, url: URL) => void {
  const hostOk = makeHostGuard(port);
  const expected = Buffer.from(token);
  const tokenOk = (given: string | undefined) => {
    if (!given) return false;
    const b = Buffer.from(given);
    return b.length === expected.length && timingSafeEqual(b, expected);
  };
  return (req, url) => {
    hostOk(req);
    const auth = req.headers.authorization;
    const bearer = auth && /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    const fromQuery = url.pathname === '/v1/events' ? (url.searchParams.get('access_token') ?? undefined) : undefined;
    if (!tokenOk(bearer || fromQuery)) {
      throw new HttpError(401, 'Permission', auth || fromQuery ? 'wrong token: open the address `berth daemon --ui` printed, with its #token=…' : 'missing token: open the address `berth daemon --ui` printed (it ends in #token=…), or send Authorization: Bearer <token>', {
        'www-authenticate': 'Bearer realm="berth"',
      });
    }
  };
}

/** A request URL fit for a log: the EventSource token in `access_token=` is replaced by "…". */
export function redactUrl(url: string | undefined): string {
  return (url ?? '').replace(/([?&]access_token=)[^&#]*/gi, '$1…');
}
