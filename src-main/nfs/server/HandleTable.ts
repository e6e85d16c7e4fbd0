import { randomBytes } from 'node:crypto';
import { Nfsstat3 } from '../nfs3/constants.ts';
import { NfsStatusError } from './NfsStatusError.ts';

// File handles (RFC 1813 §2.4: opaque, at most 64 bytes) mapped to guest paths. A
// handle is: "BRT1" + 8 bytes naming this table (so handles of an earlier server are
// recognised as stale, not misread) + an 8-byte id. Ids never change for a path while
// the table lives, so handles are stable for the mount's life; renames move them.

const MAGIC = Buffer.from('BRT1');
const MAGIC_WORD = MAGIC.readUInt32BE(0);
/** Length of the handles this table issues. */
export const HANDLE_BYTES = 20;

/** Maps file handles to guest paths and back. Owned by one NFS server. */
export class HandleTable {
  private readonly instance = randomBytes(8);
  /** The first 12 bytes of every handle (magic and instance), compared as three words. */
  private readonly prefix: Buffer;
  private readonly w1: number;
  private readonly w2: number;
  /** Ids are numbers below 2^53 (written as 8 bytes): no BigInt per call. */
  private readonly byId = new Map<number, string>();
  private readonly byPath = new Map<string, number>();
  private next = 1;

  constructor() {
    this.byPath.set('/', 0);
    this.byId.set(0, '/');
    this.prefix = Buffer.concat([MAGIC, this.instance]);
    this.w1 = this.prefix.readUInt32BE(4);
    this.w2 = this.prefix.readUInt32BE(8);
  }

  /** The id of a guest path, issuing one on first sight. */
  private idFor(path: string): number {
    let id = this.byPath.get(path);
    if (id === undefined) {
      id = this.next++;
      this.byPath.set(path, id);
      this.byId.set(id, path);
    }
    return id;
  }

  /** The handle for a guest path, issuing one on first sight. */
  handleFor(path: string): Buffer {
    const fh = Buffer.allocUnsafe(HANDLE_BYTES);
    this.writeHandle(fh, 0, path);
    return fh;
  }

  /** Writes the handle of `path` (HANDLE_BYTES bytes) into `buf` at `at`: listings encode thousands. */
  writeHandle(buf: Buffer, at: number, path: string): void {
    const id = this.idFor(path);
    this.prefix.copy(buf, at);
    const hi = Math.floor(id / 0x1_0000_0000);
    buf.writeUInt32BE(hi, at + 12);
    buf.writeUInt32BE(id - hi * 0x1_0000_0000, at + 16);
  }

  /** The guest path of a handle; BADHANDLE when it is not ours, STALE when it is no longer known. */
  pathOf(fh: Buffer): string {
    if (fh.length !== HANDLE_BYTES || fh.readUInt32BE(0) !== MAGIC_WORD) {
      throw new NfsStatusError(Nfsstat3.BADHANDLE, 'not a file handle of this server');
    }
    if (fh.readUInt32BE(4) !== this.w1 || fh.readUInt32BE(8) !== this.w2) throw new NfsStatusError(Nfsstat3.STALE, 'file handle of an earlier server');
    const path = this.byId.get(fh.readUInt32BE(12) * 0x1_0000_0000 + fh.readUInt32BE(16));
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

  private under(path: string): [string, number][] {
    if (path === '/') return [];
    const out: [string, number][] = [];
    const prefix = path + '/';
    for (const [p, id] of this.byPath) if (p === path || p.startsWith(prefix)) out.push([p, id]);
    return out;
  }
}
