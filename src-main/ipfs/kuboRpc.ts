import { FsError } from '../vfs/FsError.ts';

// The transport of Kubo's RPC API (https://docs.ipfs.tech/reference/kubo/rpc/): one POST
// per command, errors as `{Message, Code, Type: "error"}`. Shared by the node backend
// (kubo.ts), the MFS backend (kuboMfs.ts) and the js-ipfs wrapper (jsIpfsPeer.ts).
//
// Errors are classified by their structured fields first: no HTTP answer at all (the
// node is down: `cause.code` such as ECONNREFUSED), the HTTP status and the cmds error
// `Code` (go-ipfs-cmds: 1 client, 3 not found, 6 forbidden). Kubo sends most lookup
// failures as Code 0 with only a message (e.g. resolver's "no link named"), so for
// those alone a short table of Kubo's own texts decides.

/** go-ipfs-cmds error codes (cmds.ErrorType). */
const CMDS_CLIENT = 1;
const CMDS_NOT_FOUND = 3;
const CMDS_FORBIDDEN = 6;

/** Kubo's messages for Code-0 errors that mean "not there" (boxo resolver, blockstore, mfs). */
const KUBO_NOT_FOUND = /no link named|block was not found locally|could not find|not found|file does not exist|does not exist|no such/i;
const KUBO_NOT_DIR = /not a directory/i;
const KUBO_IS_DIR = /is a directory|this dag node is a directory/i;
const KUBO_EXISTS = /already (has entry|exists)/i;
const KUBO_NOT_EMPTY = /not empty/i;

/** Extra Code-0 messages a peer that is not Kubo uses (see jsIpfsPeer.ts), by kind. */
export type MessageTable = ReadonlyArray<readonly [RegExp, 'NotExist' | 'NotDir' | 'IsDir' | 'Exist' | 'NotEmpty' | 'InvalidItem']>;

/** An error the node answered with (status >= 400, or an error object in a stream). */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    message: string,
    /** HTTP status; 200 for an error inside a streamed body. */
    readonly status: number,
    /** go-ipfs-cmds error code when the body had one. */
    readonly code?: number,
  ) {
    super(message);
  }
}

/** A parameter value of an RPC call; arrays repeat the key (`arg=a&arg=b`). */
export type RpcParams = Record<string, string | number | boolean | ReadonlyArray<string>>;

/** Errors that mean no HTTP answer came at all (the node is down or unreachable). */
const unreachable = new WeakSet<FsError>();

/** True when a node call failed because nothing answered (not an error the node sent, not a deadline). */
export function isUnreachable(err: unknown): boolean {
  return err instanceof FsError && unreachable.has(err);
}

/** Maps anything a node call threw to an FsError; `what` says which call, for the message. */
export function nodeError(err: unknown, what: string, address: string, signal?: AbortSignal, extra: MessageTable = []): FsError {
  if (err instanceof FsError) return err;
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (signal?.aborted || e.name === 'AbortError' || e.name === 'TimeoutError') {
    const reason = signal?.reason instanceof Error ? signal.reason.message : 'aborted';
    return new FsError('Timeout', `${what}: ${reason}`, { cause: err });
  }
  const msg = e.message ?? String(err);
  if (err instanceof RpcError) {
    const answered = `${what}: ${msg}`;
    if (err.status === 404 || err.code === CMDS_NOT_FOUND) return new FsError('NotExist', answered, { cause: err });
    if (err.status === 403 || err.code === CMDS_FORBIDDEN) return new FsError('Permission', answered, { cause: err });
    for (const [re, kind] of extra) if (re.test(msg)) return new FsError(kind, answered, { cause: err });
    if (KUBO_NOT_DIR.test(msg)) return new FsError('NotDir', answered, { cause: err });
    if (KUBO_IS_DIR.test(msg)) return new FsError('IsDir', answered, { cause: err });
    if (KUBO_EXISTS.test(msg)) return new FsError('Exist', answered, { cause: err });
    if (KUBO_NOT_EMPTY.test(msg)) return new FsError('NotEmpty', answered, { cause: err });
    if (KUBO_NOT_FOUND.test(msg)) return new FsError('NotExist', answered, { cause: err });
    if (err.status === 400 || err.code === CMDS_CLIENT) return new FsError('InvalidItem', answered, { cause: err });
    return new FsError('IO', `${what}: the IPFS node at ${address} answered: ${msg}`, { cause: err });
  }
  const cause = e.cause?.code ?? e.cause?.message ?? '';
  const out = new FsError('IO', `${what}: cannot talk to the IPFS node at ${address}: ${msg}${cause ? ` (${cause})` : ''}`, { cause: err });
  unreachable.add(out);
  return out;
}

/** The RPC transport of one node. */
export class KuboRpc {
  private readonly api: string;

  /** `url` is the API's base URL (http://host:port). */
  constructor(url: string) {
    this.api = `${url.replace(/\/+$/, '')}/api/v0`;
  }

  /**
   * One RPC call whose body `consume` reads. fetch gets a signal of its own, linked to
   * the caller's by one listener removed afterwards: undici leaves its abort listener on
   * a signal until GC, and one readdir passes its signal to thousands of calls.
   */
  async call<T>(cmd: string, params: RpcParams, signal: AbortSignal, consume: (res: Response) => Promise<T>, body?: RequestInit['body']): Promise<T> {
    const { res, release } = await this.post(cmd, params, signal, body);
    try {
      return await consume(res);
    } finally {
      release();
    }
  }

  /** One call answered with JSON. */
  async json<T>(cmd: string, params: RpcParams, signal: AbortSignal, body?: RequestInit['body']): Promise<T> {
    return await this.call(cmd, params, signal, async (res) => {
      const text = await res.text();
      return (text.trim() ? JSON.parse(text) : {}) as T;
    }, body);
  }

  /** One call whose body is drained and ignored. */
  async run(cmd: string, params: RpcParams, signal: AbortSignal, body?: RequestInit['body']): Promise<void> {
    await this.call(cmd, params, signal, async (res) => void (await res.arrayBuffer()), body);
  }

  /** One call answered with raw bytes. */
  async bytes(cmd: string, params: RpcParams, signal: AbortSignal): Promise<Uint8Array> {
    return await this.call(cmd, params, signal, async (res) => new Uint8Array(await res.arrayBuffer()));
  }

  /** Starts a call and hands over its response; `release` must be called once the body is read. */
  async post(cmd: string, params: RpcParams, signal: AbortSignal, body?: RequestInit['body']): Promise<{ res: Response; release: () => void }> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (Array.isArray(v)) for (const one of v) qs.append(k, one);
      else qs.set(k, String(v));
    }
    signal.throwIfAborted();
    const ctrl = new AbortController();
    const onAbort = (): void => ctrl.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const release = (): void => signal.removeEventListener('abort', onAbort);
    let res: Response;
    try {
      const init: RequestInit & { duplex?: 'half' } = { method: 'POST', signal: ctrl.signal };
      if (body !== undefined) {
        init.body = body;
        // a streamed request body needs half duplex in Node's fetch
        if (isStream(body)) init.duplex = 'half';
      }
      res = await fetch(`${this.api}/${cmd}?${qs.toString()}`, init);
    } catch (err) {
      release();
      throw err;
    }
    if (res.ok) return { res, release };
    release();
    let msg = `${res.status} ${res.statusText}`;
    let code: number | undefined;
    try {
      const text = await res.text();
      try {
        const parsed = JSON.parse(text) as { Message?: string; Code?: number };
        msg = parsed.Message ?? text;
        if (typeof parsed.Code === 'number') code = parsed.Code;
      } catch {
        msg = text || msg;
      }
    } catch {
      // keep the status line
    }
    throw new RpcError(msg, res.status, code);
  }
}

function isStream(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (Symbol.asyncIterator in body || 'getReader' in body);
}

/** Parses a newline-delimited JSON body as it streams; an `{Type:"error"}` line throws RpcError. */
export async function* ndjson(res: Response): AsyncIterable<unknown> {
  if (!res.body) return;
  const dec = new TextDecoder();
  let buf = '';
  const parse = (line: string): unknown => {
    const obj = JSON.parse(line) as { Type?: string; Message?: string; Code?: number };
    if (obj && obj.Type === 'error') throw new RpcError(obj.Message ?? 'error in the response stream', 200, obj.Code);
    return obj;
  };
  for await (const chunk of res.body) {
    buf += dec.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield parse(line);
    }
  }
  buf += dec.decode();
  if (buf.trim()) yield parse(buf);
}
