import type { IncomingMessage, ServerResponse } from 'node:http';
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
 * Reads and validates a JSON body. Over `limit` bytes → 413 (the rest is drained so the
 * client still reads the answer); a body that is not JSON → 400; a schema mismatch → 400
 * naming each bad field. An empty body counts as `{}`.
 */
export async function readJson<S extends z.ZodType>(req: IncomingMessage, schema: S, limit: number): Promise<z.infer<S>> {
  const type = req.headers['content-type'];
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    drain(req);
    throw new HttpError(413, 'Usage', `request body of ${declared} bytes is over the ${limit}-byte limit`, { connection: 'close' });
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
        drain(req);
        reject(new HttpError(413, 'Usage', `request body is over the ${limit}-byte limit`, { connection: 'close' }));
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

/** Reads and drops what is left of a request, up to a point, so a 413 reaches the client. */
function drain(req: IncomingMessage): void {
  let seen = 0;
  req.on('data', (c: Buffer) => {
    seen += c.length;
    if (seen > 64 * 1024 * 1024) req.destroy();
  });
  req.resume();
}
