import { constants } from 'node:os';
import { FsError, toFsError } from '../../vfs/FsError.ts';
import { errnoFor } from '../../vfs/errno.ts';
import type { Attr, CallOpts, Caller, FileHandle, FileHandleNow, Vfs } from '../../vfs/types.ts';
import { type BackingRegistry, BackingFiles } from './BackingFiles.ts';
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
export type Replies = Pick<FuseSession, 'replyErr' | 'replyEntry' | 'replyCreate' | 'replyAttr' | 'replyOpen' | 'replyWrite' | 'replyStatfs' | 'replyXattrSize' | 'replyLseek' | 'replyData'>;

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
  /** Backing files for passthrough opens, where the mount asked for them. */
  backing?: BackingRegistry;
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
  const backing = new BackingFiles(ctx.backing);
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
  /**
   * The path of node `id`, for a call by path; NotExist (ENOENT) once the node lost its name
   * (FuseNode.detached): the path may name another file by now, and nothing is made in a
   * folder that was removed.
   */
  const named = (id: number): FuseNode => {
    const n = node(id);
    if (n.detached) throw new FsError('NotExist', `node ${id} no longer has a name`);
    return n;
  };
  const pathOf = (id: number): string => named(id).path;
  const childPath = (parent: number, name: string): string => NodeTable.child(named(parent), name);
  const okErr = (req: Req) => () => r.replyErr(req, 0);
  /** Replies with a new entry for `path` (counted as one lookup the kernel holds). */
  const replyEntry = (req: Req, path: string, a: Attr): void => {
    // A path that names another file than its node's (replaced in the backing folder) gets a new node (NodeTable.ts).
    const n = nodes.remember(path, a.ino);
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
  /** The open files of each node (node -> fhs, oldest first): another takes over openNow when the latest closes, and heldOpen finds them. */
  const openOf = new Map<number, Set<number>>();
  const keep = (h: FileHandle, ino?: number): number => {
    const fh = nextFh++;
    handles.set(fh, h);
    if (ino !== undefined) {
      const all = openOf.get(ino);
      if (all) all.add(fh);
      else openOf.set(ino, new Set([fh]));
      if (byDescriptor(h.now)) openNow.set(ino, fh);
    }
    return fh;
  };
  /**
   * Keeps an opened file of node `ino` and says how the kernel is to use it: pages kept
   * across opens where the content never changes, else passed through or served here
   * (BackingFiles.ts). Undefined when the open must answer ESTALE.
   */
  const openedFile = (h: FileHandle, ino: number): OpenReply | undefined => {
    // Immutable content keeps its pages across opens (libfuse 2's kernel_cache); mutable drops them.
    if (ctx.immutable) return { fh: keep(h, ino), flags: FOPEN.KEEP_CACHE };
    return backing.open(h, ino, () => keep(h, ino));
  };
  /**
   * Whether `h`, just opened by node `ino`'s path, is the node's file. Not when the path was
   * replaced in the backing folder since the kernel looked it up: the open then answers
   * ESTALE, the kernel looks the name up once more and opens the new node that lookup gives
   * (two files on one node would share its attributes and pages). True where either side
   * has no inode number to say.
   */
  const sameFile = (h: FileHandle, ino: number): boolean => {
    const n = nodes.get(ino);
    if (!n || n.ino === 0 || !h.now?.stat) return true;
    try {
      return NodeTable.holds(n, h.now.stat().ino);
    } catch {
      return true;
    }
  };
  /** The handle `fh` of node `ino` was released. */
  const drop = (ino: number, fh: number): void => {
    if (!handles.delete(fh)) return;
    const all = openOf.get(ino);
    all?.delete(fh);
    if (all?.size === 0) openOf.delete(ino);
    if (openNow.get(ino) === fh) {
      openNow.delete(ino);
      // Another file still open on the node takes over, the latest one that can.
      for (const other of all ?? []) if (byDescriptor(handles.get(other)?.now)) openNow.set(ino, other);
    }
    backing.released(ino, fh);
  };
  /**
   * Blocking calls on node `ino`: of the file the request names, else of one open on the
   * node while that file still has a name (a file replaced or removed in the backing folder
   * meanwhile is no longer what the node's path names: the path is asked then), or at all
   * once the node lost its name (FuseNode.detached: its open files are all that reach it).
   */
  const nowOf = (ino: number, fh: number | undefined): DescriptorCalls | undefined => {
    if (fh) {
      const h = handles.get(fh);
      if (h) return byDescriptor(h.now);
    }
    const last = openNow.get(ino);
    const now = last === undefined ? undefined : byDescriptor(handles.get(last)?.now);
    if (!now) return undefined;
    if (nodes.get(ino)?.detached) return now;
    try {
      return now.stat().nlink > 0 ? now : undefined;
    } catch {
      return undefined;
    }
  };
  /**
   * An open file of node `ino` that lost its name, for a guest that reaches it by handle
   * rather than by descriptor (the nfs guest: FileHandle.getattr and setattr): the one the
   * request names, else the latest open on the node. Undefined for a node that still has a name.
   */
  const heldOpen = (ino: number, fh: number | undefined): FileHandle | undefined => {
    if (!nodes.get(ino)?.detached) return undefined;
    if (fh) return handles.get(fh);
    let latest: FileHandle | undefined;
    for (const other of openOf.get(ino) ?? []) latest = handles.get(other);
    return latest;
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

  return { r, nodes, handles, dirs, own, base, opts, fail, serve, serveNow, node, pathOf, heldOpen, childPath, okErr, replyEntry, replyAttr, keep, drop, nowOf, handle, openedFile, sameFile, readOnly, cannotHold };
}
