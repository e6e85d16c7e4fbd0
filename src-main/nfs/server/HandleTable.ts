import { randomBytes } from 'node:crypto';
import { bytesOfName, nameFromBytes } from '../../sys/byteNames.ts';
import { Lru } from '../../vfs/cache/Lru.ts';
import { isPathName, parentOf } from '../../vfs/pathNames.ts';
import { Nfsstat3 } from '../nfs3/constants.ts';
import { NfsStatusError } from './NfsStatusError.ts';

// File handles (RFC 1813 §2.4: opaque, at most 64 bytes) mapped to guest paths. A
// handle is: "BRT2" + 8 bytes naming the export + 4 bytes naming this table's run + an
// 8-byte id. The export's 8 bytes are derived from what it serves (NfsServer's exportKey)
// and stay the same when the server restarts; the root's handle has run 0 and id 0, so a
// client that mounted the export keeps a working root across a restart and finds every
// path again from there. Other handles carry this run's 4 (random, never 0) bytes: ids are
// handed out anew each run, so a handle of an earlier run answers STALE, never another
// file. Ids never change for a path while it stays in the table, so handles are stable;
// renames move them. The table is bounded: the least recently used handle is dropped past
// `max`, and a client that still holds it gets NFS3ERR_STALE, which clients answer by
// looking the name up again (§2.6). A child index per folder makes removing or renaming a
// subtree cost its size, not the table's. A server that stops cleanly may hand its table to
// its next run (snapshot, fromSnapshot): that run goes on with the same run bytes and ids,
// so every handle a client holds still works. So may one that crashes, through a journal
// of every id handed out, rename and removal (HandleJournal.ts, told through `journal`).

const MAGIC = Buffer.from('BRT2');
const MAGIC_WORD = MAGIC.readUInt32BE(0);
/** Length of the handles this table issues. */
export const HANDLE_BYTES = 24;
/** Handles kept by default (about 100 bytes each). */
const DEFAULT_MAX = 200_000;
/** The first 4 bytes of a snapshot. */
const SNAPSHOT_MAGIC = Buffer.from('BRTS');

/** Writes id (below 2^53) as 8 bytes at `at`; returns the offset after it. */
export function writeId(buf: Buffer, at: number, id: number): number {
  const hi = Math.floor(id / 0x1_0000_0000);
  buf.writeUInt32BE(hi, at);
  return buf.writeUInt32BE(id - hi * 0x1_0000_0000, at + 4);
}

/** The id (below 2^53) written as 8 bytes at `at` (writeId). */
export function readId(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 0x1_0000_0000 + buf.readUInt32BE(at + 4);
}

/** A path as the table keeps them: "/" and names (isPathName); not the root. */
export function isGuestPath(path: string): boolean {
  return path.length > 1 && path.startsWith('/') && path.slice(1).split('/').every(isPathName);
}

/** Told of every change to which path an id names, as it is made (HandleJournal). */
export interface HandleTableJournal {
  /** A new id now names `path`. */
  issued(id: number, path: string): void;
  /** `from` and everything under it now have the paths under `to` (what `to` named is gone). */
  renamed(from: string, to: string): void;
  /** `path` and everything under it are gone. */
  forgot(path: string): void;
}

/** Maps file handles to guest paths and back. Owned by one NFS server. */
export class HandleTable {
  /** Told of each change as it is made; none by default. */
  journal: HandleTableJournal | undefined;
  /** This run's 4 bytes (never 0: run 0 is the root's). */
  private readonly run: number;
  /** The export's 8 bytes. */
  private readonly exportId: Buffer;
  /** The first 16 bytes of every handle but the root's (magic, export, run). */
  private readonly prefix: Buffer;
  /** The root's whole handle (run 0, id 0). */
  private readonly rootHandle: Buffer;
  /** The export's 8 bytes as two words, to compare. */
  private readonly e1: number;
  private readonly e2: number;
  /**
   * By id, least recently used out first past `max` with the root (which is not here, as
   * id 0: it is never dropped). Ids are numbers below 2^53 (8 bytes on the wire): no BigInt per call.
   */
  private readonly byId: Lru<number, string>;
  private readonly byPath = new Map<string, number>();
  /** Paths in the table by their parent folder's path. */
  private readonly children = new Map<string, Set<string>>();
  private next: number;
  private removals = 0;

  /**
   * `exportId`: 8 bytes naming the export, the same across restarts (random when not given).
   * `resume`: the run and next id of an earlier run whose handles this table takes over.
   */
  constructor(max = DEFAULT_MAX, exportId: Buffer = randomBytes(8), resume?: { run: number; next: number }) {
    if (exportId.length !== 8) throw new RangeError(`an export id is 8 bytes, got ${exportId.length}`);
    this.exportId = exportId;
    this.run = resume?.run ?? (randomBytes(4).readUInt32BE(0) || 1);
    this.next = resume?.next ?? 1;
    // The children of a dropped folder stay: their own handles still name their paths.
    this.byId = new Lru(Math.max(1, max - 1), (_id, path) => this.unindex(path));
    this.byPath.set('/', 0);
    const run = Buffer.alloc(4);
    run.writeUInt32BE(this.run);
    this.prefix = Buffer.concat([MAGIC, exportId, run]);
    this.rootHandle = Buffer.concat([MAGIC, exportId, Buffer.alloc(12)]);
    this.e1 = exportId.readUInt32BE(0);
    this.e2 = exportId.readUInt32BE(4);
  }

  /** The handle for a guest path, issuing one on first sight. */
  handleFor(path: string): Buffer {
    const fh = Buffer.allocUnsafe(HANDLE_BYTES);
    this.writeHandle(fh, 0, path);
    return fh;
  }

  /** Writes the handle of `path` (HANDLE_BYTES bytes) into `buf` at `at`: listings encode thousands. */
  writeHandle(buf: Buffer, at: number, path: string): void {
    let id = this.byPath.get(path);
    if (id === undefined) {
      id = this.next++;
      this.add(path, id);
      this.journal?.issued(id, path);
    } else if (id === 0) {
      this.rootHandle.copy(buf, at);
      return;
    } else this.byId.get(id);
    this.prefix.copy(buf, at);
    writeId(buf, at + 16, id);
  }

  /** The guest path of a handle; BADHANDLE when it is not ours, STALE when it is no longer known. */
  pathOf(fh: Buffer): string {
    if (fh.length !== HANDLE_BYTES || fh.readUInt32BE(0) !== MAGIC_WORD) {
      throw new NfsStatusError(Nfsstat3.BADHANDLE, 'not a file handle of this server');
    }
    const path = this.pathAt(fh, 0);
    if (path !== undefined) return path;
    // Not known: only now is it worth saying why.
    const why =
      fh.readUInt32BE(4) !== this.e1 || fh.readUInt32BE(8) !== this.e2
        ? 'file handle of another export'
        : fh.readUInt32BE(12) !== this.run
          ? 'file handle from before the server restarted'
          : 'file handle no longer known';
    throw new NfsStatusError(Nfsstat3.STALE, why);
  }

  /**
   * The guest path of the HANDLE_BYTES-long handle at `at` in `buf`, or undefined when it is
   * not one this table knows (pathOf says why); for the synchronous paths, which never throw.
   */
  pathAt(buf: Buffer, at: number): string | undefined {
    if (buf.readUInt32BE(at) !== MAGIC_WORD || buf.readUInt32BE(at + 4) !== this.e1 || buf.readUInt32BE(at + 8) !== this.e2) return undefined;
    const run = buf.readUInt32BE(at + 12);
    const id = readId(buf, at + 16);
    if (run === 0) return id === 0 ? '/' : undefined;
    // Looking it up marks it as just used (id 0 is never there: the root's is matched above).
    return run === this.run ? this.byId.get(id) : undefined;
  }

  /** Forgets a removed path and everything under it (their handles become STALE). */
  forget(path: string): void {
    if (path === '/') return;
    const gone = this.subtree(path);
    if (gone.length === 0) return;
    this.journal?.forgot(path);
    for (const p of gone) this.remove(p);
  }

  /** Moves handles of `from` (and everything under it) to `to`, replacing whatever `to` had. */
  rename(from: string, to: string): void {
    if (from === '/' || from === to) return;
    this.journal?.renamed(from, to);
    // What `to` named goes, as forget() would drop it; the rename's record covers it.
    for (const p of this.subtree(to)) this.remove(p);
    const moved: [string, number][] = [];
    for (const p of this.subtree(from)) {
      const id = this.byPath.get(p)!;
      this.remove(p);
      moved.push([to + p.slice(from.length), id]);
    }
    for (const [p, id] of moved) this.add(p, id);
  }

  /**
   * Counts handles dropped (removed, renamed away, evicted): while it stays the same, every
   * path keeps the handle it had, so entries encoded with those handles are still right.
   */
  get generation(): number {
    return this.removals;
  }

  /**
   * The table as bytes, for the next run of its server: "BRTS", the export's 8 bytes, the
   * run, the next id, then each handle's id and path (its bytes: byteNames.ts), least
   * recently used first.
   */
  snapshot(): Buffer {
    const paths: (readonly [number, Buffer])[] = [];
    for (const [id, path] of this.byId.oldestFirst()) {
      // A path no bytes spell (byteNames.ts) is left out: its handle answers STALE in the next run.
      const bytes = bytesOfName(path);
      if (bytes) paths.push([id, bytes]);
    }
    const out = Buffer.allocUnsafe(4 + 8 + 4 + 8 + 4 + paths.reduce((n, [, p]) => n + 12 + p.length, 0));
    SNAPSHOT_MAGIC.copy(out, 0);
    this.exportId.copy(out, 4);
    out.writeUInt32BE(this.run, 12);
    let at = writeId(out, 16, this.next);
    at = out.writeUInt32BE(paths.length, at);
    for (const [id, path] of paths) {
      at = out.writeUInt32BE(path.length, writeId(out, at, id));
      at += path.copy(out, at);
    }
    return out;
  }

  /**
   * A table that goes on from `bytes` (a snapshot of an earlier run of export `exportId`),
   * or undefined when they are not one: another export's, or cut short.
   */
  static fromSnapshot(bytes: Buffer, exportId: Buffer, max = DEFAULT_MAX): HandleTable | undefined {
    if (bytes.length < 28 || !bytes.subarray(0, 4).equals(SNAPSHOT_MAGIC) || !bytes.subarray(4, 12).equals(exportId)) return undefined;
    const run = bytes.readUInt32BE(12);
    const next = readId(bytes, 16);
    const count = bytes.readUInt32BE(24);
    const entries = new Map<string, number>();
    const ids = new Set<number>();
    let at = 28;
    for (let i = 0; i < count; i++) {
      if (at + 12 > bytes.length) return undefined;
      const id = readId(bytes, at);
      const len = bytes.readUInt32BE(at + 8);
      at += 12;
      if (at + len > bytes.length || id === 0 || id >= next) return undefined;
      const path = nameFromBytes(bytes, at, at + len);
      at += len;
      if (!isGuestPath(path) || entries.has(path) || ids.has(id)) return undefined;
      entries.set(path, id);
      ids.add(id);
    }
    if (run === 0 || at !== bytes.length || !Number.isSafeInteger(next)) return undefined;
    const table = new HandleTable(max, exportId, { run, next });
    for (const [path, id] of entries) table.add(path, id);
    return table;
  }

  /**
   * Gives `path` the id `id` again, as an earlier run of this table had it (a journal read
   * back); false when either is not one this table could have issued (the journal is then
   * not to be trusted past it).
   */
  restore(path: string, id: number): boolean {
    if (id === 0 || !Number.isSafeInteger(id) || !isGuestPath(path)) return false;
    if (this.byPath.get(path) === id) return true;
    this.remove(path);
    const had = this.byId.peek(id);
    if (had !== undefined) this.remove(had);
    this.add(path, id);
    if (id >= this.next) this.next = id + 1;
    return true;
  }

  /** Handles issued and still known (tests check it stays bounded). */
  get size(): number {
    return this.byId.size + 1;
  }

  private add(path: string, id: number): void {
    this.byPath.set(path, id);
    this.byId.set(id, path);
    // Link the path and any ancestors not linked yet, so a subtree is reachable from every
    // folder above it even when that folder's own handle was dropped.
    for (let p = path; p !== '/'; ) {
      const parent = parentOf(p);
      let set = this.children.get(parent);
      if (!set) this.children.set(parent, (set = new Set()));
      if (set.has(p)) break;
      set.add(p);
      p = parent;
    }
  }

  private remove(path: string): void {
    const id = this.byPath.get(path);
    if (id === undefined || id === 0) return;
    this.byId.delete(id);
    this.unindex(path);
  }

  /** Drops `path` (no longer in byId) from byPath and the child index. */
  private unindex(path: string): void {
    this.removals++;
    this.byPath.delete(path);
    // Unlink upwards while nothing is left to reach through a path.
    for (let p = path; p !== '/' && !this.byPath.has(p) && !this.children.get(p)?.size; ) {
      const parent = parentOf(p);
      const set = this.children.get(parent);
      set?.delete(p);
      if (set?.size === 0) this.children.delete(parent);
      p = parent;
    }
  }

  /** `path` and every path in the table below it (through the child index, not a scan). */
  private subtree(path: string): string[] {
    const out: string[] = [];
    const walk = (p: string): void => {
      if (this.byPath.has(p)) out.push(p);
      for (const c of this.children.get(p) ?? []) walk(c);
    };
    walk(path);
    return out;
  }
}
