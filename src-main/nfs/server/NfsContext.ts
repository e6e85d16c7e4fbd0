import { XdrError } from '../xdr/XdrError.ts';
import type { XdrReader } from '../xdr/XdrReader.ts';
import type { Attr, Vfs } from '../../vfs/types.ts';
import type { RpcCall } from '../rpc/RpcServer.ts';
import { FHSIZE3, Nfsstat3 } from '../nfs3/constants.ts';
import { nameFromBytes } from '../../sys/byteNames.ts';
import type { NfsAuthPolicy } from './credentials.ts';
import type { DirListingCache } from './DirListingCache.ts';
import type { HandleTable } from './HandleTable.ts';
import { NfsStatusError } from './NfsStatusError.ts';
import type { OpenFileCache } from './OpenFileCache.ts';

/** Everything a procedure needs; one per NFS server, passed explicitly (no globals). */
export interface NfsContext {
  readonly vfs: Vfs;
  readonly readOnly: boolean;
  /** Who calls may act as (credentials.ts). */
  readonly auth: NfsAuthPolicy;
  readonly handles: HandleTable;
  readonly dirs: DirListingCache;
  readonly files: OpenFileCache;
  /** fsid reported in every fattr3. */
  readonly fsid: bigint;
  /** writeverf3 (§3.3.7): changes when the server restarts, so clients resend unstable writes. */
  readonly writeVerf: Buffer;
  /** Largest READ/WRITE payload (rtmax/wtmax). */
  readonly maxIo: number;
  /** createverf3 of EXCLUSIVE creates by path, so a retransmitted create succeeds (§3.3.8). */
  readonly exclusive: Map<string, string>;
  /** Paths clients mounted (MOUNT DUMP), by client address. */
  readonly mounts: Map<string, Set<string>>;
}

/** One NFS procedure: decode → validate → call the guest → encode (RFC 1813 §3.3). */
export type NfsProcedure = (ctx: NfsContext, call: RpcCall) => Promise<void>;

/** Reads an nfs_fh3 (§2.5): opaque<64>. */
export function readFh(r: XdrReader): Buffer {
  return r.opaque(FHSIZE3);
}

/**
 * Reads a filename3 with a generous wire bound; names.ts applies the real one. A name is
 * bytes: those that are not UTF-8 are kept (byteNames.ts), so Latin-1 "caf\xe9" and
 * "caf\xe8" are two files, as on the disk.
 */
export function readName(r: XdrReader): string {
  const raw = r.opaque(1024);
  if (raw.length > 255) return 'x'.repeat(256); // becomes NAMETOOLONG in checkName
  return nameFromBytes(raw);
}

/**
 * Attributes of a path, or undefined when they cannot be read (post_op_attr is optional):
 * by the guest's synchronous face where it answers (no threadpool hop), else by its getattr.
 */
export async function attrOf(ctx: NfsContext, path: string, signal: AbortSignal): Promise<Attr | undefined> {
  try {
    return ctx.vfs.now?.getattr(path) ?? (await ctx.vfs.getattr(path, { signal }));
  } catch {
    return undefined;
  }
}

/** Fails with ROFS unless the export is writable and the guest has `method`. */
export function requireWritable<K extends keyof Vfs>(ctx: NfsContext, method: K): NonNullable<Vfs[K]> {
  const fn = ctx.vfs[method];
  if (ctx.readOnly || ctx.vfs.readOnly || typeof fn !== 'function') {
    throw new NfsStatusError(Nfsstat3.ROFS, 'the export is read-only');
  }
  return (fn as (...a: unknown[]) => unknown).bind(ctx.vfs) as NonNullable<Vfs[K]>;
}

/** Fails with ROFS unless the export and the guest take writes. */
export function requireWritableExport(ctx: NfsContext): void {
  if (ctx.readOnly || ctx.vfs.readOnly) throw new NfsStatusError(Nfsstat3.ROFS, 'the export is read-only');
}

/** Rejects enum values outside their range as bad arguments. */
export function checkEnum(v: number, max: number, what: string): number {
  if (v > max) throw new XdrError(`unknown ${what} ${v}`);
  return v;
}
