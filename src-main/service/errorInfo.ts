import { constants } from 'node:os';
import type { ErrorInfo } from '../../src-shared/errors.ts';
import { isFsErrorKind } from '../../src-shared/errors.ts';
import type { MountSpec } from '../../src-shared/mountSpec.ts';
import { errnoFor } from '../vfs/errno.ts';
import { FsError } from '../vfs/FsError.ts';

/** A failure the service itself raises, carrying the kind the API reports. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly kind: ErrorInfo['kind'],
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** Walks an error and its causes for a Node errno code like "ECONNREFUSED". */
function findCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const inner of errors) {
      const c = findCode(inner);
      if (c) return c;
    }
  }
  const text = err instanceof Error ? err.message : String(err);
  return /\b(ECONNREFUSED|ENOTCONN|EBUSY|ENOTEMPTY|ENOENT|EACCES|EPERM|EADDRINUSE|ETIMEDOUT|ENOTDIR)\b/.exec(text)?.[1];
}

/** Why a mount attempt failed and what the user can do about it. */
function hintFor(code: string | undefined, message: string, spec: MountSpec | undefined): string | undefined {
  const target = spec?.host.kind === 'fuse' ? spec.host.mountpoint : spec?.host.listen;
  const ipfsGuest = spec && spec.guest.kind !== 'nfs' && spec.guest.kind !== 'local';
  if (code === 'ECONNREFUSED' || /connection refused|fetch failed|ECONNRESET/i.test(message)) {
    if (ipfsGuest) return 'is the IPFS node running? start it with `ipfs daemon`';
    if (spec?.guest.kind === 'nfs') return `is the NFS server at ${spec.guest.server} running and reachable?`;
    return 'is the server running?';
  }
  if (code === 'ENOTEMPTY' || /not empty/i.test(message)) return `mount point is not empty: choose an empty folder or empty ${target ?? 'it'}`;
  if (code === 'ENOTCONN') return `a dead mount is left at ${target ?? 'the mount point'}: run \`fusermount -uz ${target ?? '<mountpoint>'}\``;
  if (code === 'EBUSY' || /busy/i.test(message)) return 'a file inside is still open; close it, or unmount with --level short or immediate';
  if (/already mounted/i.test(message)) return `${target ?? 'the mount point'} is already a mount point; unmount it first`;
  if (code === 'EADDRINUSE') return 'the listen address is taken by another program; pick another port or port 0';
  if (code === 'ENOTDIR') return `the mount point ${target ?? ''} is not a folder`.trim();
  if (code === 'ENOENT' && target && message.includes(target)) return `create the folder first: mkdir -p ${target}`;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied: check the folder permissions and that you may use /dev/fuse';
  if (code === 'ETIMEDOUT' || /timed? ?out/i.test(message)) return 'the guest did not answer in time; check that it is reachable, or raise --timeout';
  return undefined;
}

/** Turns anything thrown into plain data for the API and the table, with a hint when one is known. */
export function toErrorInfo(err: unknown, spec?: MountSpec): ErrorInfo {
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 2000) || 'unknown error';
  const code = findCode(err);
  let kind: ErrorInfo['kind'];
  let hint: string | undefined;
  if (err instanceof ServiceError) {
    kind = err.kind;
    hint = err.hint;
  } else if (err instanceof FsError) {
    kind = err.kind;
  } else if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH') {
    kind = 'Unavailable';
  } else if (code === 'ETIMEDOUT') {
    kind = 'Timeout';
  } else if (typeof (err as { kind?: unknown })?.kind === 'string' && isFsErrorKind((err as { kind: string }).kind)) {
    kind = (err as { kind: ErrorInfo['kind'] }).kind;
  } else {
    kind = 'IO';
  }
  const errno = code ?? (isFsErrorKind(kind) ? ERRNO_NAMES.get(errnoFor(kind)) : undefined);
  hint ??= hintFor(code, message, spec);
  return { kind, message, ...(errno ? { errno } : {}), ...(hint ? { hint } : {}) };
}
