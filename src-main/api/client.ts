import { request } from 'node:http';
import type {
  AddMountRequest,
  ApiEventName,
  ApiEvents,
  InfoResponse,
  LinkRequest,
  LinkResponse,
  MountResponse,
  MountsResponse,
  NoticesResponse,
  ResolveResponse,
  Settings,
  SettingsPatch,
  SettingsResponse,
  ShutdownLevel,
} from '../../src-shared/api.ts';
import type { ErrorInfo } from '../../src-shared/errors.ts';
import type { MountInput } from '../../src-shared/mountSpec.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { socketPath as defaultSocketPath } from '../service/paths.ts';

/** An error answer of the API, with its status and `{kind, message, hint}`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly info: ErrorInfo,
  ) {
    super(info.message);
  }
}

/** No daemon answers on the socket (not running, or a stale socket file). */
export class DaemonNotRunningError extends Error {
  override readonly name = 'DaemonNotRunningError';
}

/** Where the client connects: the unix socket (default), or the loopback TCP listener with its token. */
export type ApiEndpoint = { socketPath: string } | { baseUrl: string; token: string };

/** One JSON request to the API; resolves with the parsed body of a 2xx answer. */
export function call<T>(endpoint: ApiEndpoint, method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (text !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(text));
    }
    const target =
      'socketPath' in endpoint
        ? { socketPath: endpoint.socketPath, path, host: 'localhost' }
        : (() => {
            const u = new URL(path, endpoint.baseUrl);
            headers.authorization = `Bearer ${endpoint.token}`;
            return { hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: u.pathname + u.search };
          })();
    const req = request({ ...target, method, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = raw ? JSON.parse(raw) : {};
        } catch {
          reject(new ApiError(res.statusCode ?? 0, { kind: 'Internal', message: `the daemon answered ${res.statusCode} with something that is not JSON` }));
          return;
        }
        if ((res.statusCode ?? 500) >= 400) {
          const err = (json as { error?: ErrorInfo }).error ?? { kind: 'Internal', message: `HTTP ${res.statusCode}` };
          reject(new ApiError(res.statusCode ?? 500, err));
        } else resolve(json as T);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`the daemon did not answer ${method} ${path} within ${Math.round(timeoutMs / 1000)} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new DaemonNotRunningError(`no Berth daemon is running (${'socketPath' in endpoint ? endpoint.socketPath : endpoint.baseUrl})`));
      else reject(err);
    });
    req.end(text);
  });
}

/** The control API client the CLI (and tests) use. */
export class ApiClient {
  constructor(readonly endpoint: ApiEndpoint = { socketPath: defaultSocketPath() }) {}

  /** The daemon's identity, or DaemonNotRunningError. */
  info(): Promise<InfoResponse> {
    return call(this.endpoint, 'GET', '/v1/info', undefined, 5000);
  }
  /** Every mount. */
  async list(): Promise<MountStatus[]> {
    return (await call<MountsResponse>(this.endpoint, 'GET', '/v1/mounts')).mounts;
  }
  /** One mount. */
  async get(id: string): Promise<MountStatus> {
    return (await call<MountResponse>(this.endpoint, 'GET', `/v1/mounts/${encodeURIComponent(id)}`)).mount;
  }
  /** Adds (and by default mounts) a mount; resolves once it is mounted or failed. */
  async add(spec: MountInput, opts: { mount?: boolean } = {}): Promise<MountStatus> {
    const body: AddMountRequest = { spec, ...(opts.mount === undefined ? {} : { mount: opts.mount }) };
    return (await call<MountResponse>(this.endpoint, 'POST', '/v1/mounts', body)).mount;
  }
  /** Replaces a spec (remounting a mounted mount). */
  async update(id: string, spec: MountInput): Promise<MountStatus> {
    return (await call<MountResponse>(this.endpoint, 'PUT', `/v1/mounts/${encodeURIComponent(id)}`, { spec })).mount;
  }
  /** Unmounts and forgets a mount. */
  async remove(id: string, level?: ShutdownLevel): Promise<void> {
    await call(this.endpoint, 'DELETE', `/v1/mounts/${encodeURIComponent(id)}`, level ? { level } : undefined);
  }
  /** Mounts one mount. */
  async mount(id: string): Promise<MountStatus> {
    return (await call<MountResponse>(this.endpoint, 'POST', `/v1/mounts/${encodeURIComponent(id)}/mount`)).mount;
  }
  /** Unmounts one mount. */
  async unmount(id: string, level?: ShutdownLevel): Promise<MountStatus> {
    return (await call<MountResponse>(this.endpoint, 'POST', `/v1/mounts/${encodeURIComponent(id)}/unmount`, level ? { level } : undefined)).mount;
  }
  /** Mounts every mount. */
  async mountAll(): Promise<MountStatus[]> {
    return (await call<MountsResponse>(this.endpoint, 'POST', '/v1/mount-all')).mounts;
  }
  /** Unmounts every mount. */
  async unmountAll(level?: ShutdownLevel): Promise<MountStatus[]> {
    return (await call<MountsResponse>(this.endpoint, 'POST', '/v1/unmount-all', level ? { level } : undefined)).mounts;
  }
  /** The app-wide settings. */
  async settings(): Promise<Settings> {
    return (await call<SettingsResponse>(this.endpoint, 'GET', '/v1/settings')).settings;
  }
  /** Changes some settings. */
  async updateSettings(patch: SettingsPatch): Promise<Settings> {
    return (await call<SettingsResponse>(this.endpoint, 'PUT', '/v1/settings', patch)).settings;
  }
  /** Messages the user must see. */
  async notices(): Promise<NoticesResponse['notices']> {
    return (await call<NoticesResponse>(this.endpoint, 'GET', '/v1/notices')).notices;
  }
  /** The CID of an absolute host path inside a mount. */
  resolve(path: string): Promise<ResolveResponse> {
    return call(this.endpoint, 'POST', '/v1/resolve', { path });
  }
  /** A share link for an absolute host path inside a mount. */
  link(req: LinkRequest): Promise<LinkResponse> {
    return call(this.endpoint, 'POST', '/v1/link', req);
  }
  /** Asks the desktop app serving this API to put `text` on the clipboard (a headless daemon answers Unavailable). */
  async writeClipboard(text: string): Promise<void> {
    await call(this.endpoint, 'POST', '/v1/clipboard', { text }, 10_000);
  }
  /** Asks the daemon to unmount everything and exit. */
  async shutdown(level?: ShutdownLevel): Promise<void> {
    await call(this.endpoint, 'POST', '/v1/shutdown', level ? { level } : undefined);
  }

  /**
   * Follows the event stream; `onEvent` gets each event (a `snapshot` first). Returns a
   * function that closes the stream; `closed` settles when it ends.
   */
  events(onEvent: <K extends ApiEventName>(name: K, data: ApiEvents[K]) => void): { close(): void; closed: Promise<void> } {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    const ep = this.endpoint;
    const target = 'socketPath' in ep ? { socketPath: ep.socketPath, path: '/v1/events' } : (() => {
      const u = new URL('/v1/events', ep.baseUrl);
      headers.authorization = `Bearer ${ep.token}`;
      return { hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: u.pathname };
    })();
    let buffer = '';
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const closed = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const req = request({ ...target, method: 'GET', headers }, (res) => {
      if ((res.statusCode ?? 500) >= 400) {
        reject(new ApiError(res.statusCode ?? 500, { kind: 'Internal', message: `event stream refused: HTTP ${res.statusCode}` }));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let name = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) name = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) onEvent(name as ApiEventName, JSON.parse(data) as ApiEvents[ApiEventName]);
        }
      });
      res.on('end', () => resolve());
      res.on('close', () => resolve());
    });
    req.on('error', (err) => (req.destroyed ? resolve() : reject(err)));
    req.end();
    return { close: () => req.destroy(), closed };
  }
}
