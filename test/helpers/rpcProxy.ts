import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CID } from 'multiformats/cid';

// A loopback HTTP proxy in front of a real IPFS node's RPC API, for what a test cannot see
// from outside Berth's process: how many requests are open at the node right now, and how
// many block bytes it served. `corrupt` makes it flip one byte of the block/get answer of
// one CID (the rest of the node stays real), to prove Berth verifies every block it uses;
// `blockDelayMs` holds each block/get that long first, as a slow node would. `refuse`
// answers chosen commands with the node's error shape, `lsStream` makes `ls` stream its
// answer line by line (as Kubo does), and `cutAfter` drops a command's answer midway (no
// end of the chunked body, no error trailer), as a connection that dies would.

/** A running proxy. */
export interface RpcProxy {
  /** `/ip4/127.0.0.1/tcp/N`, for `--ipfs-api`. */
  readonly multiaddr: string;
  /** Requests forwarded whose answer has neither finished nor been dropped, by command (`block/get`, `cat`…). */
  open(command?: string): number;
  /** Requests forwarded so far, by command. */
  count(command: string): number;
  /** The CIDs block/get was asked for, in order (as the client wrote them). */
  readonly blockCids: readonly string[];
  /** Body bytes of block/get answers sent on (whole or cut short). */
  readonly blockBytes: number;
  /** The CID whose block/get answer gets one byte flipped (matched as CIDv1), or undefined. */
  corrupt: string | undefined;
  /** Milliseconds each block/get waits before it is forwarded (0: none). */
  blockDelayMs: number;
  /** Every command asked for, in order, refused ones included (`ls`, `block/get`…). */
  readonly commands: string[];
  /** Commands answered with an error (HTTP 500, the node's JSON) instead of forwarded; undefined: none. */
  refuse: ((command: string) => boolean) | undefined;
  /** Whether `ls` is forwarded with stream=true (answered line by line, as Kubo does). */
  lsStream: boolean;
  /** The answer of `command` is cut after `bytes` body bytes (its connection dropped); undefined: none. */
  cutAfter: { command: string; bytes: number } | undefined;
  /** Answers cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

const sameCid = (a: string, b: string): boolean => {
  try {
    return CID.parse(a).toV1().equals(CID.parse(b).toV1());
  } catch {
    return false;
  }
};

/** Starts a proxy on 127.0.0.1, port 0, forwarding to `apiUrl` (`http://127.0.0.1:N`). */
export async function startRpcProxy(apiUrl: string): Promise<RpcProxy> {
  const upstream = new URL(apiUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const open = new Map<string, number>();
  const counts = new Map<string, number>();
  const state = {
    corrupt: undefined as string | undefined,
    blockBytes: 0,
    blockDelayMs: 0,
    refuse: undefined as ((command: string) => boolean) | undefined,
    lsStream: false,
    cutAfter: undefined as { command: string; bytes: number } | undefined,
    cuts: 0,
  };
  const blockCids: string[] = [];
  const commands: string[] = [];
  const bump = (m: Map<string, number>, k: string, by: number): void => {
    m.set(k, (m.get(k) ?? 0) + by);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const command = url.pathname.replace(/^\/api\/v0\//, '');
    commands.push(command);
    if (state.refuse?.(command)) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Message: `refused by the test proxy: ${command}`, Code: 0, Type: 'error' }));
      return;
    }
    if (command === 'ls' && state.lsStream) url.searchParams.set('stream', 'true');
    bump(open, command, 1);
    bump(counts, command, 1);
    if (command === 'block/get') blockCids.push(url.searchParams.get('arg') ?? '');
    let ended = false;
    // 'close' fires once the answer went out whole or the client went away: either way the
    // request no longer runs here, and the upstream one is cut with it
    let up: ReturnType<typeof request> | undefined;
    res.once('close', () => {
      if (!ended) bump(open, command, -1);
      ended = true;
      up?.destroy();
    });
    // a delayed block/get has no body to pass on (Berth sends none), and `req` may have ended by then
    const forward = (delayed: boolean): void => {
      if (ended) return;
      up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: `${url.pathname}${url.search}`, headers: { ...req.headers, host: upstream.host }, agent },
      (answer: IncomingMessage) => {
        const target = url.searchParams.get('arg') ?? '';
        const isBlock = command === 'block/get';
        if (isBlock && state.corrupt !== undefined && answer.statusCode === 200 && sameCid(target, state.corrupt)) {
          const parts: Buffer[] = [];
          answer.on('data', (b: Buffer) => parts.push(b));
          answer.on('end', () => {
            const body = Buffer.concat(parts);
            if (body.length > 0) body[body.length >> 1] = body[body.length >> 1]! ^ 0xff;
            state.blockBytes += body.length;
            const headers = { ...answer.headers, 'content-length': String(body.length) };
            delete headers['transfer-encoding'];
            res.writeHead(200, headers).end(body);
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const cut = state.cutAfter?.command === command ? state.cutAfter.bytes : undefined;
        let sent = 0;
        answer.on('data', (b: Buffer) => {
          if (cut !== undefined && (sent += b.length) > cut) {
            state.cuts++;
            answer.destroy();
            res.socket?.destroy();
            return;
          }
          if (isBlock) state.blockBytes += b.length;
          res.write(b);
        });
        answer.on('end', () => res.end());
        answer.on('error', () => res.destroy());
      },
    );
      up.on('error', () => res.destroy());
      if (delayed) up.end();
      else req.pipe(up);
    };
    if (command === 'block/get' && state.blockDelayMs > 0) setTimeout(() => forward(true), state.blockDelayMs);
    else forward(false);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    multiaddr: `/ip4/127.0.0.1/tcp/${port}`,
    open: (command?: string) => (command === undefined ? [...open.values()].reduce((a, b) => a + b, 0) : (open.get(command) ?? 0)),
    count: (command: string) => counts.get(command) ?? 0,
    blockCids,
    get blockBytes() {
      return state.blockBytes;
    },
    get corrupt() {
      return state.corrupt;
    },
    set corrupt(cid: string | undefined) {
      state.corrupt = cid;
    },
    get blockDelayMs() {
      return state.blockDelayMs;
    },
    set blockDelayMs(ms: number) {
      state.blockDelayMs = ms;
    },
    commands,
    get refuse() {
      return state.refuse;
    },
    set refuse(pick: ((command: string) => boolean) | undefined) {
      state.refuse = pick;
    },
    get lsStream() {
      return state.lsStream;
    },
    set lsStream(on: boolean) {
      state.lsStream = on;
    },
    get cutAfter() {
      return state.cutAfter;
    },
    set cutAfter(cut: { command: string; bytes: number } | undefined) {
      state.cutAfter = cut;
    },
    get cuts() {
      return state.cuts;
    },
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
