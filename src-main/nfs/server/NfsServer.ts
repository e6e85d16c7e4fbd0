import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Vfs } from '../../vfs/types.ts';
import type { NfsAuthPolicy } from './credentials.ts';
import { mountProgram } from '../mount3/mountProgram.ts';
import { RpcServer } from '../rpc/RpcServer.ts';
import { DirListingCache } from './DirListingCache.ts';
import { HandleTable } from './HandleTable.ts';
import type { NfsContext, NfsProcedure } from './NfsContext.ts';
import { NFS3_PROCEDURES, nfsProgram } from './nfsProgram.ts';
import { OpenFileCache } from './OpenFileCache.ts';

/** Options of an NFS server. */
export interface NfsServerOptions {
  /** Refuse every write with NFS3ERR_ROFS even when the guest could write. */
  readOnly?: boolean;
  /** rtmax/wtmax; default 1 MiB. */
  maxIo?: number;
  /** Decides on each connection by client address (the allow-list). */
  allow?: (address: string) => boolean;
  /** The NFSv3 dispatch table; defaults to every RFC 1813 procedure. */
  procedures?: Record<number, NfsProcedure>;
  /** Told about connection-level and unexpected failures (and refused credentials). */
  onError?: (err: Error, remote: string) => void;
  /** Credential rules besides `writable` (credentials.ts); default: root squash, any port, the server's own uid. */
  auth?: Partial<Omit<NfsAuthPolicy, 'writable'>>;
  /**
   * What the export serves, in words that stay the same when the server restarts (the
   * guest's description). The export's bytes in every handle and its fsid derive from it,
   * so a client keeps a working root handle over a restart (HandleTable). Random when not given.
   */
  exportKey?: string;
}

/** MOUNT v3 and NFSv3 for one guest on one TCP port (no portmapper). */
export class NfsServer {
  private readonly rpc: RpcServer;
  /** The per-server state every procedure gets. */
  readonly ctx: NfsContext;

  constructor(vfs: Vfs, opts: NfsServerOptions = {}) {
    const maxIo = opts.maxIo ?? 1024 * 1024;
    const readOnly = opts.readOnly ?? vfs.readOnly;
    const key = opts.exportKey === undefined ? randomBytes(16) : createHash('sha256').update(`berth nfs export\0${opts.exportKey}`).digest();
    this.ctx = {
      vfs,
      readOnly,
      auth: {
        writable: !readOnly && !vfs.readOnly,
        rootSquash: opts.auth?.rootSquash ?? true,
        reservedPort: opts.auth?.reservedPort ?? false,
        serverUid: opts.auth?.serverUid ?? process.getuid?.(),
        allowUids: opts.auth?.allowUids ?? [],
      },
      handles: new HandleTable(undefined, key.subarray(0, 8)),
      dirs: new DirListingCache(vfs),
      files: new OpenFileCache(vfs, maxIo),
      fsid: key.readBigUInt64BE(8),
      writeVerf: randomBytes(8),
      maxIo,
      exclusive: new Map(),
      mounts: new Map(),
    };
    this.rpc = new RpcServer({
      programs: [mountProgram(this.ctx), nfsProgram(this.ctx, opts.procedures ?? NFS3_PROCEDURES)],
      maxRecord: maxIo + 64 * 1024,
      ...(opts.allow ? { allow: opts.allow } : {}),
      ...(opts.onError ? { onError: opts.onError } : {}),
    });
  }

  /** Starts listening (port 0 picks a free one); resolves with the bound address. */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return this.rpc.listen(port, host);
  }

  /** Live client connections. */
  get connectionCount(): number {
    return this.rpc.connectionCount;
  }

  /** Stops serving and releases open guest handles (the guest itself stays open). */
  async close(): Promise<void> {
    await this.rpc.close();
    await this.ctx.files.closeAll();
  }
}
