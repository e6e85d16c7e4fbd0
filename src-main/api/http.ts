import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ZodError, type z } from 'zod';
import { ERROR_STATUS, type ErrorResponse } from '../../src-shared/api.ts';
import type { ErrorInfo } from '../../src-shared/errors.ts';
import { describeIssues } from '../../src-shared/mountSpec.ts';
import { FsError } from '../vfs/FsError.ts';
import { ServiceError, toErrorInfo } from '../service/errorInfo.ts';

/** An API failure with its own HTTP status (401, 405, 413, 415 have no error kind of their own). */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly kind: ErrorInfo['kind'],
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Writes a JSON response (unless the client is gone). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** Maps anything thrown by a handler to a status and `{error:{kind,message,hint?}}` — never a stack. */
export function errorResponse(err: unknown): { status: number; body: ErrorResponse; headers: Record<string, string> } {
  if (err instanceof HttpError) return { status: err.status, body: { error: { kind: err.kind, message: err.message } }, headers: err.headers };
  if (err instanceof ZodError) return { status: 400, body: { error: { kind: 'Usage', message: describeIssues(err) } }, headers: {} };
  if (err instanceof ServiceError || err instanceof FsError) {
    const info = toErrorInfo(err);
    return { status: ERROR_STATUS[info.kind], body: { error: info }, headers: {} };
  }
  // Unexpected: report the message only; the stack stays in the daemon log.
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: { error: { kind: 'Internal', message: message.slice(0, 500) || 'internal error' } }, headers: {} };
}

/**
 * Reads and validates a JSON body. Over `limit` bytes → 413, and the rest of the body is
 * read and dropped (see discardBody) so a client still sending reads the answer instead
 * of a reset; a body that is not JSON → 400; a schema mismatch → 400 naming each bad
 * field. An empty body counts as `{}`.
 */
export async function readJson<S extends z.ZodType>(req: IncomingMessage, schema: S, limit: number): Promise<z.infer<S>> {
  const type = req.headers['content-type'];
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    discardBody(req);
    throw new HttpError(413, 'Usage', `request body of ${declared} bytes is over the ${limit}-byte limit`);
  }
  // Events, not an async iterator: leaving a for-await early would destroy the socket
  // before the 413 is written.
  const chunks = await new Promise<Buffer[]>((resolve, reject) => {
    const got: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        discardBody(req);
        reject(new HttpError(413, 'Usage', `request body is over the ${limit}-byte limit`));
        return;
      }
      got.push(chunk);
    };
    const onEnd = () => resolve(got);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() !== '' && type !== undefined && !/^application\/json\b/i.test(type)) {
    throw new HttpError(415, 'Usage', `expected a JSON body (content-type: application/json), got ${type.slice(0, 80)}`);
  }
  let json: unknown = {};
  if (text.trim() !== '') {
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, 'Usage', `the body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
    }
  }
  return parseRequest(schema, json);
}

/**
 * Validates one request's input with its schema: a mismatch is a 400 Usage naming each
 * bad field. HTTP bodies and Electron IPC payloads both go through it, so a bad input gets
 * the same words on every face.
 */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'Usage', `invalid request: ${describeIssues(parsed.error)}`);
  return parsed.data as z.infer<S>;
}

/** Bytes of a refused body read and dropped before the connection is given up. */
const DISCARD_MAX_BYTES = 16 * 1024 * 1024;
/** How long a refused body is read and dropped before the connection is given up. */
const DISCARD_MAX_MS = 10_000;
/** How long a half-closed connection keeps reading before it is closed for good. */
const LINGER_MS = 2_000;
/** Requests whose body is already being dropped (readJson and the server's catch both ask). */
const discarding = new WeakSet<IncomingMessage>();

/**
 * Reads and drops the rest of a request whose answer is already decided (a 413 before the
 * body ended). Closing at once would reset a client that is still sending, and it could
 * lose the status it has not read yet (RFC 9112 §9.6). Within the bound the body is read
 * to its end and the connection stays usable; past it the connection is closed in stages
 * (lingerClose). Call it before the answer is written: data and timer callbacks run after
 * the handler's synchronous reply, so the answer is always queued before any close.
 */
export function discardBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed || discarding.has(req)) return;
  discarding.add(req);
  let seen = 0;
  const stop = () => {
    clearTimeout(timer);
    req.off('data', onData);
    lingerClose(req.socket);
  };
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_MAX_BYTES) stop();
  };
  const timer = setTimeout(stop, DISCARD_MAX_MS).unref();
  req.on('data', onData);
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/**
 * Closes a connection the way RFC 9112 §9.6 asks: our side first (whatever was written,
 * the answer included, goes out before the FIN), then keep reading for a while so the
 * kernel does not reset the peer over unread data, then close for good.
 */
function lingerClose(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(timer));
}
