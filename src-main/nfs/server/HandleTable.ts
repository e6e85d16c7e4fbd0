import { randomBytes } from 'node:crypto';
import { Nfsstat3 } from '../nfs3/constants.ts';
import { NfsStatusError } from './NfsStatusError.ts';

// File handles (RFC 1813 §2.4: opaque, at most 64 bytes) mapped to guest paths. A
// handle is: "BRT1" + 8 bytes naming this table (so handles of an earlier server are
// recognised as stale, not misread) + an 8-byte id. Ids never change for a path while
// the table lives, so handles are stable for the mount's life; renames move them.

const MAGIC = Buffer.from('BRT1');
/** Length of the handles this table issues. */
export const HANDLE_BYTES = 20;

/** Maps file handles to guest paths and back. Owned by one NFS server. */
export class HandleTable {
  private readonly instance = randomBytes(8);
  private readonly byId = new Map<bigint, string>();
  private readonly byPath = new Map<string, bigint>();
  private next = 1n;

  constructor() {
    this.byPath.set('/', 0n);
    this.byId.set(0n, '/');
  }

  /** The handle for a guest path, issuing one on first sight. */
  handleFor(path: string): Buffer {
    let id = this.byPath.get(path);
    if (id === undefined) {
      id = this.next++;
      this.byPath.set(path, id);
      this.byId.set(id, path);
    }
    const fh = Buffer.allocUnsafe(HANDLE_BYTES);
    MAGIC.copy(fh, 0);
    this.instance.copy(fh, 4);
    fh.writeBigUInt64BE(id, 12);
    return fh;
  }

  /** The guest path of a handle; BADHANDLE when it is not ours, STALE when it is no longer known. */
  pathOf(fh: Buffer): string {
    if (fh.length !== HANDLE_BYTES || !fh.subarray(0, 4).equals(MAGIC)) {
      throw new NfsStatusError(Nfsstat3.BADHANDLE, 'not a file handle of this server');
    }
    if (!fh.subarray(4, 12).equals(this.instance)) throw new NfsStatusError(Nfsstat3.STALE, 'file handle of an earlier server');
    const path = this.byId.get(fh.readBigUInt64BE(12));
    if (path === undefined) throw new NfsStatusError(Nfsstat3.STALE, 'file handle no longer known');
    return path;
  }

  /** Forgets a removed path and everything under it (their handles become STALE). */
  forget(path: string): void {
    for (const [p, id] of this.under(path)) {
      this.byPath.delete(p);
      this.byId.delete(id);
    }
  }

  /** Moves handles of `from` (and everything under it) to `to`, replacing whatever `to` had. */
  rename(from: string, to: string): void {
    this.forget(to);
    for (const [p, id] of this.under(from)) {
      const moved = to + p.slice(from.length);
      this.byPath.delete(p);
      this.byPath.set(moved, id);
      this.byId.set(id, moved);
    }
  }

  /** Handles issued (tests check it stays bounded). */
  get size(): number {
    return this.byId.size;
  }

  private under(path: string): [string, bigint][] {
    if (path === '/') return [];
    const out: [string, bigint][] = [];
    const prefix = path + '/';
    for (const [p, id] of this.byPath) if (p === path || p.startsWith(prefix)) out.push([p, id]);
    return out;
  }
}
