import { fstatSync } from 'node:fs';
import { constants } from 'node:os';
import { FsError, toFsError } from '../../vfs/FsError.ts';
import { errnoFor } from '../../vfs/errno.ts';
import type { Attr, CallOpts, Caller, FileHandle, FileHandleNow, Vfs } from '../../vfs/types.ts';
import { DirListings } from './DirListings.ts';
import type { FuseSession, Req } from './FuseSession.ts';
import { type FuseNode, NodeTable } from './NodeTable.ts';
import { FOPEN, type OpenReply } from './wire.ts';
import { closeOnEnd } from '../openFiles.ts';

// What every low-level op of one mount shares: its node table, open files and folders, the
// caller of a request, and the one way a request is answered (serve: the vfs call's value
// to a reply, its error to the errno of vfs/errno.ts, nothing once the session is gone).
// Replies go through the session (`r`: FuseSession's reply* calls).

/** The replies of a session. */
export type Replies = Pick<FuseSession, 'replyErr' | 'replyEntry' | 'replyCreate' | 'replyAttr' | 'replyOpen' | 'replyWrite' | 'replyStatfs' | 'replyXattrSize' | 'replyData'>;

/** The calls on an open file that answer a SETATTR or GETATTR by its descriptor. */
export type DescriptorCalls = Required<Pick<FileHandleNow, 'stat' | 'setattr'>>;

/** `now` when it can stat and change its file by descriptor. */
function byDescriptor(now: FileHandleNow | undefined): DescriptorCalls | undefined {
  return now?.stat && now.setattr ? (now as DescriptorCalls) : undefined;
}

/** errno numbers of this platform. */
export const E = constants.errno;

/** How the ops present the vfs. */
export interface LowLevelContext {
  /** Signal every call gets; aborted when the mount goes away. */
  signal: AbortSignal;
  /** Owner shown for every node instead of the guest's, when set. */
  uid?: number;
  gid?: number;
  writable: boolean;
  /** Content never changes: pages and attributes may be kept by the kernel. */
  immutable: boolean;
  /** Kernel attribute and entry cache, seconds. */
  attrTimeoutS: number;
  entryTimeoutS: number;
  /** Other users reach the mount: pass who calls (fuse_req_ctx) to the guest. */
  allowOther: boolean;
  /** Where a refusal worth explaining once goes (default: stderr). */
  log?: (message: string) => void;
  /** Whether the session still takes replies. */
  alive: () => boolean;
  /** Makes the kernel forget a node's attributes (FuseSession.invalidateAttrs). */
  invalidateAttrs: (ino: number) => void;
  /** Called once the kernel's INIT came (the mount is served). */
  onInit: () => void;
  /** Backing files for passthrough opens (FuseSession.backingOpen/backingClose), where the mount asked for them. */
  backing?: {
    open(fd: number): number | undefined;
    close(id: number): void;
  };
}

/** A node's backing file while opens of it are passed through: its id, which file it is, and how many opens use it. */
interface Backing {
  id: number;
  dev: number;
  ino: number;
  opens: number;
}


/** The shared state and helpers of one mount's ops (owned by them). */
export type OpKit = ReturnType<typeof makeOpKit>;

/** Builds the kit of one mount. */
export function makeOpKit(vfs: Vfs, r: Replies, ctx: LowLevelContext) {
  const nodes = new NodeTable();
  const handles = new Map<number, FileHandle>();
  const dirs = new DirListings();
  closeOnEnd(ctx.signal, handles);
  let nextFh = 1;
  const own = { ...(ctx.uid !== undefined ? { uid: ctx.uid } : {}), ...(ctx.gid !== undefined ? { gid: ctx.gid } : {}) };
  const log = ctx.log ?? ((m: string) => console.error(m));
  const told = new Set<string>();
  const base: CallOpts = { signal: ctx.signal };

  /** CallOpts of a request: with its caller when other users can reach the mount. */
  const opts = (req: Req): CallOpts => {
    if (!ctx.allowOther) return base;
    const caller: Caller = { uid: req.uid, gid: req.gid };
    return { signal: ctx.signal, caller };
  };
  /** Node -> its backing file while opens of it are passed through (see openedFile). */
  const backings = new Map<number, Backing>();
  const fail = (req: Req, err: unknown): void => {
    if (ctx.alive()) r.replyErr(req, errnoFor(toFsError(err).kind));
  };
  /** Runs one request's promise; its value goes to `ok`, its error to fuse_reply_err. */
  const serve = <T>(req: Req, p: () => Promise<T>, ok: (v: T) => void): void => {
    let run: Promise<T>;
    try {
      run = p();
    } catch (err) {
      fail(req, err);
      return;
    }
    run.then(
      (v) => {
        if (ctx.alive()) ok(v);
      },
      (err: unknown) => fail(req, err),
    );
  };
  /**
   * Answers from the guest's synchronous face where it can (`now`, when given: its value; null
   * for no such name, answered ENOENT without an Error; undefined when it cannot answer at
   * once), else as serve() does with `later`.
   */
  const serveNow = <T>(req: Req, now: (() => T | null | undefined) | undefined, later: () => Promise<T>, ok: (v: T) => void): void => {
    if (now) {
      let v: T | null | undefined;
      try {
        v = now();
      } catch (err) {
        return fail(req, err);
      }
      if (v === null) return r.replyErr(req, E.ENOENT);
      if (v !== undefined) return ok(v);
    }
    serve(req, later, ok);
  };
  const node = (id: number): FuseNode => {
    const n = nodes.get(id);
    if (!n) throw new FsError('Closed', `no node ${id} (forgotten)`);
    return n;
  };
  const childPath = (parent: number, name: string): string => NodeTable.child(node(parent), name);
  const okErr = (req: Req) => () => r.replyErr(req, 0);
  /** Replies with a new entry for `path` (counted as one lookup the kernel holds). */
  const replyEntry = (req: Req, path: string, a: Attr): void => {
    if (backings.size > 0) {
      // The path names another file than the one its node's opens pass through to (replaced
      // in the backing folder): a new node, so the kernel's next open reaches that file. An
      // open of the old node answered ESTALE, and the kernel looks the name up again then.
      const old = nodes.at(path);
      const b = old && backings.get(old.id);
      if (b && b.ino !== a.ino) nodes.unlinked(path);
    }
    const n = nodes.remember(path);
    r.replyEntry(req, n.id, a, own, ctx);
  };
  /** Replies with a node's attributes. */
  const replyAttr = (req: Req, a: Attr): void => r.replyAttr(req, a, own, ctx.attrTimeoutS);
  /**
   * Node -> the latest file open on it whose handle has blocking calls (FileHandle.now).
   * fchmod, fchown and futimens reach FUSE as a SETATTR of the node with no file handle
   * (only ftruncate carries one), and so does the GETATTR the kernel sends before a chown;
   * through this they still act on the open descriptor, not on a path resolved anew.
   */
  const openNow = new Map<number, number>();
  const keep = (h: FileHandle, ino?: number): number => {
    const fh = nextFh++;
    handles.set(fh, h);
    if (ino !== undefined && byDescriptor(h.now)) openNow.set(ino, fh);
    return fh;
  };
  /**
   * Passthrough (Linux 6.9+, as root). While one open of a node is passed through, the
   * kernel wants every other open of it passed through to the same backing file, and none
   * while the node has opens served here (its page cache in use): a wrong answer fails the
   * caller's open() with EIO. So each node has at most one backing file, shared by its
   * opens and dropped at the last release, and a node with opens served here gets no new
   * passthrough open until they are released. (A release reaches us after the kernel let
   * go, so these counts are never below the kernel's.)
   */
  /** Node -> opens of it served here (not passed through). */
  const servedOpens = new Map<number, number>();
  /** Handles of passthrough opens. */
  const passedThrough = new Set<number>();
  /** The backing file an open of node `ino` through `h` shares; undefined: serve it here; 'stale': neither can be. */
  const backingFor = (h: FileHandle, ino: number): Backing | 'stale' | undefined => {
    const b = backings.get(ino);
    const fd = h.now?.fd?.();
    if (b) {
      if (fd === undefined) return b;
      const st = fstatSync(fd);
      // The node's path names another file now (replaced in the backing folder while open).
      return st.ino === b.ino && st.dev === b.dev ? b : 'stale';
    }
    if (fd === undefined || !ctx.backing || servedOpens.has(ino)) return undefined;
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const id = ctx.backing.open(fd);
    if (id === undefined) return undefined;
    const fresh = { id, dev: st.dev, ino: st.ino, opens: 0 };
    backings.set(ino, fresh);
    return fresh;
  };
  /**
   * Keeps an opened file of node `ino` and says how the kernel is to use it: passed through
   * to its backing file where it can be, else served here. Undefined when the open must
   * fail with ESTALE: the node's file was replaced in the backing folder while other opens
   * pass through to the old one. The kernel then looks the name up again and opens once
   * more, and that lookup gives the new file a node of its own (replyEntry).
   */
  const openedFile = (h: FileHandle, ino: number): OpenReply | undefined => {
    // Immutable content keeps its pages across opens (libfuse 2's kernel_cache); mutable drops them.
    if (ctx.immutable) return { fh: keep(h, ino), flags: FOPEN.KEEP_CACHE };
    const b = ctx.backing ? backingFor(h, ino) : undefined;
    if (b === 'stale') {
      void h.close().catch(() => {});
      return undefined;
    }
    const fh = keep(h, ino);
    if (!b) {
      servedOpens.set(ino, (servedOpens.get(ino) ?? 0) + 1);
      return { fh };
    }
    b.opens++;
    passedThrough.add(fh);
    return { fh, flags: FOPEN.PASSTHROUGH, backingId: b.id };
  };
  /** The handle `fh` of node `ino` was released. */
  const drop = (ino: number, fh: number): void => {
    if (!handles.delete(fh)) return;
    if (openNow.get(ino) === fh) openNow.delete(ino);
    if (passedThrough.delete(fh)) {
      const b = backings.get(ino);
      if (b && --b.opens === 0) {
        backings.delete(ino);
        ctx.backing?.close(b.id);
      }
      return;
    }
    const n = (servedOpens.get(ino) ?? 1) - 1;
    if (n > 0) servedOpens.set(ino, n);
    else servedOpens.delete(ino);
  };
  /**
   * Blocking calls on node `ino`: of the file the request names, else of one open on the
   * node while that file still has a name (a file replaced or removed in the backing folder
   * meanwhile is no longer what the node's path names: the path is asked then).
   */
  const nowOf = (ino: number, fh: number | undefined): DescriptorCalls | undefined => {
    if (fh) {
      const h = handles.get(fh);
      if (h) return byDescriptor(h.now);
    }
    const last = openNow.get(ino);
    const now = last === undefined ? undefined : byDescriptor(handles.get(last)?.now);
    if (!now) return undefined;
    try {
      return now.stat().nlink > 0 ? now : undefined;
    } catch {
      return undefined;
    }
  };
  const handle = (fh: number): FileHandle => {
    const h = handles.get(fh);
    if (!h) throw new FsError('Closed', 'no such open file');
    return h;
  };
  const readOnly = (): never => {
    throw new FsError('ReadOnly', `${vfs.name} is read-only`);
  };
  const cannotHold = (what: string): never => {
    const reason = `${vfs.name} cannot hold ${what}`;
    if (!told.has(what)) {
      told.add(what);
      log(`berth: ${reason}: answering EPERM`);
    }
    throw new FsError('NotPermitted', reason);
  };

  return { r, nodes, handles, dirs, own, base, opts, fail, serve, serveNow, node, childPath, okErr, replyEntry, replyAttr, keep, drop, nowOf, handle, openedFile, readOnly, cannotHold };
}
