import type { Bridge, BridgeCapabilities, DesktopChannel, ServiceChannel, ServiceOutputs } from '../../src-shared/bridge.ts';
import { BridgeError, DESKTOP_CHANNELS, SERVICE_CHANNELS } from '../../src-shared/bridge.ts';
import type { ErrorInfo } from '../../src-shared/errors.ts';
import { HTTP_BINDINGS } from '../../src-shared/httpBindings.ts';
import { describeIssues } from '../../src-shared/mountSpec.ts';
import { followEvents, type ProbeResult } from './eventStream.ts';

// The browser face of the bridge: every service channel is one fetch to the daemon's
// control API (the route from the shared HTTP_BINDINGS table, the bearer token in a
// header), events come over Server-Sent Events, and the clipboard is the browser's own.
// The desktop channels (folder picker, file manager, login item) need the Electron app;
// they reject with Unavailable and the capabilities say so, so no button offers them.

/** The browser cannot pick folders, open the file manager or set login items. */
const CAPABILITIES: BridgeCapabilities = { pickFolder: false, openFolder: false, desktopSettings: false };

/** Mount operations can wait for a slow guest; the rest answer quickly. */
const SLOW: ReadonlySet<ServiceChannel> = new Set(['addMount', 'updateMount', 'removeMount', 'mount', 'unmount', 'mountAll', 'unmountAll', 'browse', 'entryLink', 'resolve', 'link']);

/** What the browser bridge needs from the page (replaceable in tests). */
export interface HttpBridgeOptions {
  /** The daemon's origin, e.g. http://127.0.0.1:5050 (the page's own). */
  origin: string;
  token: string;
  fetch?: typeof fetch;
  EventSource?: new (url: string) => EventSource;
  /** Writes text to the clipboard (default: navigator.clipboard). */
  writeText?: (text: string) => Promise<void>;
  /** Called once the daemon refused the token (the page forgets it). */
  onUnauthorized?: () => void;
  /** Reconnect delays of the event stream (ms). */
  backoff?: { firstMs: number; maxMs: number };
}

/** Words for a failed fetch: the browser only says "Failed to fetch". */
function unreachable(origin: string): ErrorInfo {
  return {
    kind: 'Unavailable',
    message: `cannot reach Berth’s daemon at ${origin}`,
    hint: 'is `berth daemon --ui` still running? The page reconnects by itself once it answers',
  };
}

/** The ErrorInfo in an API error answer, or one made from the status. */
function errorOf(status: number, json: unknown): ErrorInfo {
  const e = (json as { error?: Partial<ErrorInfo> } | undefined)?.error;
  if (e && typeof e.kind === 'string' && typeof e.message === 'string') return e as ErrorInfo;
  return { kind: status === 401 ? 'Permission' : 'Internal', message: `the daemon answered HTTP ${status}` };
}

/** Creates the browser bridge for the daemon at `origin`. */
export function createHttpBridge(opts: HttpBridgeOptions): Bridge {
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const ES = opts.EventSource ?? globalThis.EventSource;
  const writeText = opts.writeText ?? ((text: string) => navigator.clipboard.writeText(text));
  const auth = { authorization: `Bearer ${opts.token}` };

  const call = async (method: string, path: string, body: unknown, slow: boolean): Promise<unknown> => {
    let res: Response;
    try {
      res = await doFetch(`${opts.origin}${path}`, {
        method,
        headers: body === undefined ? { ...auth, accept: 'application/json' } : { ...auth, accept: 'application/json', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        cache: 'no-store',
        signal: AbortSignal.timeout(slow ? 120_000 : 15_000),
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'TimeoutError') {
        throw new BridgeError({ kind: 'Timeout', message: `Berth’s daemon did not answer ${method} ${path} in time` });
      }
      throw new BridgeError(unreachable(opts.origin));
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new BridgeError({ kind: 'Internal', message: `the daemon answered HTTP ${res.status} with something that is not JSON` });
    }
    if (!res.ok) {
      if (res.status === 401) opts.onUnauthorized?.();
      throw new BridgeError(errorOf(res.status, json));
    }
    return json;
  };

  /** One service channel: the input checked with the channel's schema (same words as the server), then its route. */
  const channel = <K extends ServiceChannel>(name: K) => {
    const binding = HTTP_BINDINGS[name];
    return async (input?: unknown): Promise<ServiceOutputs[K]> => {
      const parsed = SERVICE_CHANNELS[name].safeParse(input);
      if (!parsed.success) throw new BridgeError({ kind: 'Usage', message: describeIssues(parsed.error) });
      const value = parsed.data as Parameters<typeof binding.path>[0];
      const json = await call(binding.method, binding.path(value), binding.body ? binding.body(value) : undefined, SLOW.has(name));
      return binding.result(json);
    };
  };

  const service = Object.fromEntries((Object.keys(SERVICE_CHANNELS) as ServiceChannel[]).map((n) => [n, channel(n)])) as unknown as Pick<Bridge, ServiceChannel>;

  /** The browser's clipboard stands in for the app's: the page the user is looking at copies. */
  const writeClipboard: Bridge['writeClipboard'] = async (input) => {
    const parsed = SERVICE_CHANNELS.writeClipboard.safeParse(input);
    if (!parsed.success) throw new BridgeError({ kind: 'Usage', message: describeIssues(parsed.error) });
    try {
      await writeText(parsed.data.text);
    } catch (err) {
      throw new BridgeError({
        kind: 'Unavailable',
        message: `the browser did not let Berth write the clipboard (${err instanceof Error ? err.message : String(err)})`,
        hint: 'copy the text shown here by hand',
      });
    }
  };

  const desktopOnly = (name: DesktopChannel) => async (): Promise<never> => {
    throw new BridgeError({ kind: 'Unavailable', message: `${name} needs the Berth desktop app; this is the browser page of \`berth daemon --ui\`` });
  };
  const desktop = Object.fromEntries((Object.keys(DESKTOP_CHANNELS) as DesktopChannel[]).map((n) => [n, desktopOnly(n)])) as unknown as Pick<Bridge, DesktopChannel>;

  const probe = async (): Promise<ProbeResult> => {
    try {
      await call('GET', '/v1/info', undefined, false);
      return { kind: 'ok' };
    } catch (err) {
      const info = err instanceof BridgeError ? err.info : undefined;
      if (info?.kind === 'Permission') return { kind: 'unauthorized', message: info.message };
      return { kind: 'down', message: info?.message ?? String(err) };
    }
  };

  return {
    kind: 'browser',
    capabilities: CAPABILITIES,
    ...service,
    writeClipboard,
    ...desktop,
    subscribe(listener) {
      // One stream per listener, so each gets its own snapshot first (the page has one).
      const stream = followEvents({
        url: `${opts.origin}/v1/events?access_token=${encodeURIComponent(opts.token)}`,
        EventSource: ES,
        probe,
        emit: listener,
        ...(opts.backoff ? { backoff: opts.backoff } : {}),
        ...(opts.onUnauthorized ? { onUnauthorized: opts.onUnauthorized } : {}),
      });
      return () => stream.close();
    },
  };
}
