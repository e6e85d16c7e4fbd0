import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { ShutdownLevel } from '../../src-shared/api.ts';
import type { BerthService } from '../../src-shared/bridge.ts';
import type { MountTable } from '../service/MountTable.ts';
import { discardBody, errorResponse, HttpError, sendJson } from './http.ts';
import { handleRoute, matchRoute, type RouteContext } from './routes.ts';
import { claimControlSocket } from './socketClaim.ts';
import { defaultUiRoot, serveUi } from './staticUi.ts';
import { makeHostGuard, makeTcpGuard, newToken, parseUiAddress, redactUrl } from './tcpGuard.ts';

/** Options of the control API server. */
export interface ApiServerOptions {
  table: MountTable;
  /** What every route calls (src-main/service/TableService.ts). */
  service: BerthService;
  socketPath: string;
  /** `127.0.0.1:PORT` to also listen on loopback TCP with a token, and serve the browser UI there. */
  ui?: string;
  /** Folder of the built renderer served at "/" on the TCP listener (default: out/renderer). */
  uiRoot?: string;
  /** The UI listener's bearer token (default: a fresh one). */
  token?: string;
  onShutdown: (level: ShutdownLevel) => void;
  log?: (message: string) => void;
  /** Requests other than /v1/info wait for it (the daemon claims the socket before it loads the table). */
  ready?: Promise<void>;
}

/** The running API. */
export interface RunningApi {
  socketPath: string;
  /** The TCP listener, when `ui` was given; `url` carries the token in its fragment (never sent to the server). */
  ui?: { origin: string; token: string; port: number; url: string };
  close(): Promise<void>;
}

/** Creates the socket folder 0700 and checks nobody else owns it (it may sit in /tmp). */
export async function prepareSocketDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder`);
  if (process.getuid && st.uid !== process.getuid()) throw new Error(`${dir} belongs to uid ${st.uid}, not to this user; refusing to put the control socket there`);
  await chmod(dir, 0o700);
}

function listen(server: Server, ...args: [string] | [number, string]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (args.length === 1) server.listen(args[0], done);
    else server.listen(args[0], args[1], done);
  });
}

/**
 * Serves the control API on a unix socket (mode 0600 in a 0700 folder) and, with `ui`,
 * on a loopback TCP port guarded by a token and a Host check. Every request is handled
 * on its own: a bad one gets a JSON error and never affects the others.
 */
export async function startApiServer(opts: ApiServerOptions): Promise<RunningApi> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const streams = new Set<ServerResponse>();
  const ctx: RouteContext = { service: opts.service, table: opts.table, onShutdown: opts.onShutdown, streams };
  const uiRoot = opts.uiRoot ?? defaultUiRoot();

  /** `tcp` guards the loopback listener: Host/Origin for everything, the token for /v1. */
  const handler = (tcp?: { host: (req: IncomingMessage) => void; api: (req: IncomingMessage, url: URL) => void }) => (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        const raw = req.url ?? '/';
        if (!raw.startsWith('/')) throw new HttpError(400, 'Usage', 'expected a request path starting with "/"');
        const url = new URL(`http://berth.invalid${raw}`);
        if (tcp) {
          tcp.host(req);
          if (url.pathname !== '/v1' && !url.pathname.startsWith('/v1/')) {
            if (await serveUi(uiRoot, req, res, url.pathname)) return;
            throw new HttpError(404, 'NotFound', `no such file ${JSON.stringify(url.pathname.slice(0, 200))}; the API lives under /v1`);
          }
          tcp.api(req, url);
        }
        const route = matchRoute(req.method ?? 'GET', url.pathname);
        // info answers at once: it is how a second daemon sees this one is alive.
        if (route.name !== 'info') await opts.ready;
        await handleRoute(ctx, route, req, res);
      } catch (err) {
        const r = errorResponse(err);
        if (r.status >= 500) log(`API ${req.method} ${redactUrl(req.url)}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        // Refused before its body was read (401, 404, 413...): drop the rest, bounded.
        discardBody(req);
        if (!res.headersSent) sendJson(res, r.status, r.body, r.headers);
        else res.destroy();
      }
    })();
  };
  const harden = (server: Server) => {
    server.headersTimeout = 20_000;
    server.requestTimeout = 10 * 60_000;
    server.maxHeadersCount = 100;
    // Enough for every face at once; a runaway client cannot exhaust file descriptors.
    server.maxConnections = 512;
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":{"kind":"Usage","message":"malformed HTTP request"}}');
      else socket.destroy();
    });
  };

  await prepareSocketDir(dirname(opts.socketPath));
  const unixServer = createServer(handler());
  harden(unixServer);
  // The socket is the one-daemon-per-user lock (socketClaim.ts); created 0600, chmod makes sure.
  await claimControlSocket(unixServer, opts.socketPath);
  await chmod(opts.socketPath, 0o600);

  let tcpServer: Server | undefined;
  let ui: RunningApi['ui'];
  if (opts.ui) {
    const addr = parseUiAddress(opts.ui);
    const token = opts.token ?? newToken();
    const guarded: { check?: ReturnType<typeof handler> } = {};
    // Until the port (and so the allowed Host names) is known, nothing is served.
    tcpServer = createServer((req, res) => (guarded.check ? guarded.check(req, res) : res.destroy()));
    harden(tcpServer);
    try {
      await listen(tcpServer, addr.port, addr.host);
    } catch (err) {
      unixServer.close();
      await unlink(opts.socketPath).catch(() => undefined);
      throw err;
    }
    const port = (tcpServer.address() as AddressInfo).port;
    guarded.check = handler({ host: makeHostGuard(port), api: makeTcpGuard(port, token) });
    const host = addr.host === '::1' ? '[::1]' : addr.host;
    const origin = `http://${host}:${port}`;
    ui = { origin, token, port, url: `${origin}/#token=${token}` };
  }

  const close = async () => {
    // The path first: once this daemon stops listening, a new one may take the path over,
    // and an unlink after that would remove the new daemon's socket.
    await unlink(opts.socketPath).catch(() => undefined);
    for (const s of streams) s.end();
    const closing = [unixServer, tcpServer].filter((s): s is Server => !!s).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    );
    await Promise.all(closing);
  };
  return { socketPath: opts.socketPath, ...(ui ? { ui } : {}), close };
}
