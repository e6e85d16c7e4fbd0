import type { BerthService, ServiceChannel } from '../../src-shared/bridge.ts';
import { SERVICE_CHANNELS } from '../../src-shared/bridge.ts';
import { HTTP_BINDINGS } from '../../src-shared/httpBindings.ts';
import { describeIssues } from '../../src-shared/mountSpec.ts';
import { ApiError, call, type ApiEndpoint } from './client.ts';

// The mount service of another process (a running daemon or app) as a BerthService, over
// the control API. The Electron app uses it when it attaches to a headless daemon instead
// of starting its own table; its IPC handlers then call this object exactly as they would
// the in-process one.

/** Mount operations can wait for a slow guest; everything else answers quickly. */
const SLOW: ReadonlySet<ServiceChannel> = new Set(['addMount', 'updateMount', 'removeMount', 'mount', 'unmount', 'mountAll', 'unmountAll', 'browse', 'entryLink', 'resolve', 'link']);

/** A BerthService that forwards every channel to the API at `endpoint`. */
export function serviceClient(endpoint: ApiEndpoint): BerthService {
  const channel = <K extends ServiceChannel>(name: K) => {
    const b = HTTP_BINDINGS[name];
    return async (input?: unknown) => {
      // The same schema the server applies: a bad call fails here, with the same words and status.
      const checked = SERVICE_CHANNELS[name].safeParse(input);
      if (!checked.success) throw new ApiError(400, { kind: 'Usage', message: `invalid request: ${describeIssues(checked.error)}` });
      const parsed = checked.data as Parameters<typeof b.path>[0];
      const json = await call<unknown>(endpoint, b.method, b.path(parsed), b.body ? b.body(parsed) : undefined, SLOW.has(name) ? 120_000 : 15_000);
      return b.result(json);
    };
  };
  return Object.fromEntries((Object.keys(SERVICE_CHANNELS) as ServiceChannel[]).map((n) => [n, channel(n)])) as unknown as BerthService;
}
