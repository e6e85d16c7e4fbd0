import type { ApiEventName } from '../../src-shared/api.ts';
import type { BridgeEvent, ConnectionState } from '../../src-shared/bridge.ts';

// Follows the daemon's event stream (GET /v1/events, Server-Sent Events) for the browser
// face. EventSource reconnects by itself, but it cannot say why it failed, gives up for
// good on a 401, and does so silently; the page must show the user that it lost the
// daemon and when it tries again. So every failure closes the source, asks the API what
// is wrong, and opens a new one after a backoff. Each (re)connection starts with a fresh
// snapshot, which replaces whatever the page had.

/** Every event name the stream carries (the `event:` field). */
export const STREAM_EVENTS = ['snapshot', 'mount', 'removed', 'settings', 'notice', 'noticeDismissed', 'node', 'shutdown'] as const satisfies readonly ApiEventName[];

/** A compile-time check that STREAM_EVENTS names every ApiEventName. */
type Missing = Exclude<ApiEventName, (typeof STREAM_EVENTS)[number]>;
const _allNamed: Missing extends never ? true : never = true;
void _allNamed;

/** Why the stream failed, as the API told us (probe). */
export type ProbeResult = { kind: 'ok' } | { kind: 'unauthorized'; message: string } | { kind: 'down'; message: string };

/** What the follower needs from the page. */
export interface EventStreamOptions {
  /** The EventSource URL (with ?access_token=). */
  url: string;
  /** The EventSource constructor (the page's, or a double in tests). */
  EventSource: new (url: string) => EventSource;
  /** Finds out why the stream failed. */
  probe(): Promise<ProbeResult>;
  /** Every event, and connection changes. */
  emit(ev: BridgeEvent): void;
  /** First and largest reconnect delays (ms). */
  backoff?: { firstMs: number; maxMs: number };
  /** Called when the daemon refused the token. */
  onUnauthorized?(): void;
}

/** A running follower; `close()` stops it and every timer. */
export interface EventStream {
  close(): void;
}

/** Opens the stream now and keeps it open until closed. */
export function followEvents(opts: EventStreamOptions): EventStream {
  const { firstMs, maxMs } = opts.backoff ?? { firstMs: 500, maxMs: 5000 };
  let source: EventSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let failures = 0;
  /** Set by a `shutdown` event: the daemon said it is stopping, so the loss is expected. */
  let shutDown = false;

  const connection = (data: ConnectionState) => opts.emit({ type: 'connection', data });

  const open = () => {
    timer = undefined;
    if (closed) return;
    const es = new opts.EventSource(opts.url);
    source = es;
    for (const name of STREAM_EVENTS) {
      es.addEventListener(name, (raw) => {
        if (source !== es) return;
        let data: unknown;
        try {
          data = JSON.parse((raw as MessageEvent<string>).data);
        } catch {
          return; // a torn line cannot be applied; the next snapshot repairs the page
        }
        if (name === 'shutdown') shutDown = true;
        opts.emit({ type: name, data } as BridgeEvent);
        if (name === 'snapshot') {
          failures = 0;
          shutDown = false;
          connection({ state: 'open' });
        }
      });
    }
    es.onerror = () => {
      if (source !== es) return;
      es.close();
      source = undefined;
      void lost();
    };
  };

  const lost = async () => {
    const why = shutDown ? undefined : await opts.probe().catch((err: unknown) => ({ kind: 'down' as const, message: String(err) }));
    if (closed) return;
    const delay = Math.min(maxMs, firstMs * 2 ** Math.min(failures, 10));
    failures++;
    let message: string;
    if (!why) message = 'Berth’s daemon was stopped. Waiting for it to start again.';
    else if (why.kind === 'unauthorized') {
      opts.onUnauthorized?.();
      message = `The daemon refused this page’s token (${why.message}). Open the address \`berth daemon --ui\` printed; it ends in #token=…`;
    } else if (why.kind === 'down') message = `${why.message.charAt(0).toUpperCase()}${why.message.slice(1)}.`;
    else message = 'The event stream from Berth’s daemon broke off.';
    connection({ state: 'lost', message, retryAt: new Date(Date.now() + delay).toISOString() });
    timer = setTimeout(open, delay);
  };

  connection({ state: 'connecting' });
  open();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      source?.close();
      source = undefined;
    },
  };
}
