import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiEventName, ApiEvents, InfoResponse } from '../../src-shared/api.ts';
import type { MountTable } from '../service/MountTable.ts';

/** Formats one Server-Sent Event: `event: <name>` and one `data:` line of JSON. */
export function formatEvent<K extends ApiEventName>(name: K, data: ApiEvents[K]): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Streams the table: a `snapshot` first, then one event per change, and a comment every
 * 15 s so proxies and idle timeouts keep the stream open. A slow client is dropped
 * rather than buffered without bound.
 */
export function streamEvents(table: MountTable, info: InfoResponse, req: IncomingMessage, res: ServerResponse, streams: Set<ServerResponse>): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  req.socket.setTimeout(0);
  streams.add(res);
  const write = (text: string) => {
    if (res.writableLength > 4 * 1024 * 1024) {
      res.destroy();
      return;
    }
    res.write(text);
  };
  write(formatEvent('snapshot', { mounts: table.list(), settings: table.settings(), notices: table.notices(), info }));
  const unsubscribe = table.subscribe((ev) => write(`event: ${ev.type}\ndata: ${JSON.stringify(ev.data)}\n\n`));
  const beat = setInterval(() => write(': keep-alive\n\n'), 15_000);
  beat.unref();
  res.once('close', () => {
    clearInterval(beat);
    unsubscribe();
    streams.delete(res);
  });
}
