import { CID } from 'multiformats/cid';
import { type FileNode, childAt, fileNodeOf } from '../ipfs/unixfsFileNode.ts';
import { FsError, toFsError } from '../vfs/FsError.ts';
import type { CallOpts } from '../vfs/types.ts';
import { Lru } from '../vfs/cache/Lru.ts';
import { BadBlockError } from '../ipfs/verifyBlock.ts';
import { BlockBuffers } from './ipfsBlockBuffers.ts';

// File content of immutable UnixFS DAGs, read a block at a time (issue 11) and kept in one
// cache shared by every handle of a guest. Policy "blocks": decoded file nodes by CID, least
// recently used first out past `maxBytes` (64 MiB: what the ranged-read chunk cache held
// before). A read walks from the file's root to the leaf holding its offset: a 4 KiB read
// costs exactly one leaf block, and sequential readers fetch the next leaves ahead, several
// in flight (prefetch), so the node serves plain blocks instead of one `cat` stream. Blocks
// come through IpfsNode.block, verified against their CIDs there, into memory this cache
// reuses (ipfsBlockBuffers.ts). So no view of a block ever leaves it: a Leaf's bytes are
// valid until the caller awaits again, and callers copy them out before that.
// A prefetch belongs to the reader that asked for it: when that reader closes or jumps
// elsewhere (release), the fetches nobody else waits for are aborted, queued or not, so a
// reader that stops leaves no request running at the node.

/**
 * Fetches one block (verified); `hint` is the expected size; `alloc` gives memory to put it
 * in (a fetcher that has its own buffer may return that instead).
 */
export type BlockFetch = (cid: string, hint: number, signal: AbortSignal, alloc: (size: number) => Uint8Array) => Promise<Uint8Array>;

/** Tuning of a BlockCache. */
export interface BlockCacheOptions {
  /** Bytes of blocks kept (default 64 MiB). */
  maxBytes?: number;
  /** How long one block fetch may take before it is given up (default 60 s, a guest call's deadline). */
  fetchTimeoutMs?: number;
  /** Where a block the node got wrong is said (default stderr); once per CID. */
  log?: (line: string) => void;
}

/** One block on its way, shared by the readers that wait for it and the prefetches that asked for it. */
interface Fetch {
  readonly p: Promise<FileNode>;
  readonly ac: AbortController;
  /** Readers whose prefetch asked for it (released when they close or jump away). */
  readonly owners: Set<object>;
  /** Reads awaiting it now: while there is one, no release aborts it. */
  waiters: number;
}

/** CIDs whose bad block was logged, at most this many remembered (a log line per CID, not per read). */
const LOGGED_MAX = 1024;

/** The leaf holding an offset: its bytes and where they start in the file. */
export interface Leaf {
  start: number;
  data: Uint8Array;
}

/** The block cache of one guest. Owner: the guest that created it. */
export class BlockCache {
  private readonly maxBytes: number;
  private readonly fetchTimeoutMs: number;
  /** Decoded nodes, least recently used first (evicted by keep() past maxBytes). */
  private readonly nodes = new Lru<string, FileNode>(Infinity);
  private bytes = 0;
  /** Fetches in flight, shared by every reader of the block. */
  private readonly inflight = new Map<string, Fetch>();
  /** Memory of the blocks, reused after eviction. */
  private readonly buffers = new BlockBuffers();
  private readonly log: (line: string) => void;
  private readonly logged = new Set<string>();

  constructor(
    private readonly fetchBlock: BlockFetch,
    opts: BlockCacheOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.fetchTimeoutMs = opts.fetchTimeoutMs ?? 60_000;
    this.log = opts.log ?? ((line) => console.error(line));
  }

  /** Block fetches under way (queued at the node client or running). */
  get fetchesInFlight(): number {
    return this.inflight.size;
  }

  /** The node when it is cached (marked as just used), else undefined. */
  private cached(cid: string): FileNode | undefined {
    return this.nodes.get(cid);
  }

  private keep(cid: string, n: FileNode): void {
    if (this.nodes.has(cid)) return;
    this.nodes.set(cid, n);
    this.bytes += n.cost;
    for (const [k, v] of this.nodes.oldestFirst()) {
      if (this.bytes <= this.maxBytes) break;
      this.nodes.delete(k);
      this.bytes -= v.cost;
      // a leaf's data is a view of its block: its memory serves the next fetch
      this.buffers.give(v.data);
    }
  }

  /**
   * Starts (or joins) the fetch of a node; `owner` is the reader whose prefetch asks for it.
   * It runs under a signal of its own: readers share it, so one reader's deadline must not
   * fail the others; each waits under its own.
   */
  private fetchNode(cid: string, hint: number, expect: number, owner?: object): Fetch {
    const joined = this.inflight.get(cid);
    if (joined) {
      if (owner) joined.owners.add(owner);
      return joined;
    }
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new FsError('Timeout', `block ${cid}: no answer within ${this.fetchTimeoutMs} ms`)), this.fetchTimeoutMs);
    const settle = (): void => {
      clearTimeout(timer);
      // an aborted fetch was taken out already, and a new one may stand in its place
      if (this.inflight.get(cid) === f) this.inflight.delete(cid);
    };
    const p = this.fetchBlock(cid, hint, ac.signal, this.buffers.take).then(
      (block) => {
        settle();
        let n: FileNode;
        try {
          n = fileNodeOf(CID.parse(cid), block);
          if (expect >= 0 && n.size !== expect) {
            throw new FsError('IO', `${cid}: malformed file: its parent says ${expect} bytes, the block holds ${n.size}`);
          }
        } catch (err) {
          // a verified block that is no part of a file: the content is broken, not the link
          if (err instanceof FsError && err.kind === 'IO') this.tell(cid, err);
          throw err;
        }
        this.keep(cid, n);
        return n;
      },
      (err: unknown) => {
        settle();
        if (err instanceof BadBlockError) this.tell(cid, err);
        throw toFsError(err);
      },
    );
    // a prefetch nobody waits for must not surface as an unhandled rejection
    p.catch(() => undefined);
    const f: Fetch = { p, ac, owners: new Set(owner ? [owner] : []), waiters: 0 };
    this.inflight.set(cid, f);
    return f;
  }

  private async node(cid: string, hint: number, expect: number, opts: CallOpts): Promise<FileNode> {
    const hit = this.cached(cid);
    if (hit) return hit;
    const f = this.fetchNode(cid, hint, expect);
    f.waiters++;
    try {
      return await waitFor(f.p, opts.signal);
    } finally {
      f.waiters--;
    }
  }

  /**
   * Says in the log, once per CID, that the node's block was wrong (the reader only sees
   * EIO). A node that cannot be reached is not said here: that is the node's health.
   */
  private tell(cid: string, err: FsError): void {
    if (this.logged.has(cid)) return;
    if (this.logged.size >= LOGGED_MAX) this.logged.clear();
    this.logged.add(cid);
    this.log(`berth: ipfs: ${err.message}`);
  }

  /**
   * Forgets `owner`'s prefetches (it closed, or jumped elsewhere in the file) and aborts
   * those no other reader asked for or waits on: a queued one is never sent, a running one
   * has its connection closed.
   */
  release(owner: object): void {
    for (const [cid, f] of this.inflight) {
      if (!f.owners.delete(owner) || f.owners.size > 0 || f.waiters > 0) continue;
      this.inflight.delete(cid);
      f.ac.abort(new FsError('Closed', `block ${cid}: its reader went away`));
    }
  }

  /**
   * The leaf holding `pos` (0 <= pos < size) of the file rooted at `root`, walking cached
   * nodes without a promise and fetching the rest.
   */
  leaf(root: string, size: number, pos: number, opts: CallOpts): Leaf | Promise<Leaf> {
    let n = this.cached(root);
    let base = 0;
    while (n) {
      const rel = pos - base;
      if (rel < n.data.length || n.links.length === 0) return { start: base, data: n.data };
      const i = childAt(n, rel);
      const child = this.cached(n.links[i]!);
      if (!child) return this.leafFrom(n, base, pos, opts);
      base += n.starts[i]!;
      n = child;
    }
    return this.leafAsync(root, size, pos, opts);
  }

  private async leafAsync(root: string, size: number, pos: number, opts: CallOpts): Promise<Leaf> {
    // the root's block size is unknown (its size is the file's): no hint
    return await this.leafFrom(await this.node(root, 0, size, opts), 0, pos, opts);
  }

  private async leafFrom(start: FileNode, startBase: number, pos: number, opts: CallOpts): Promise<Leaf> {
    let n = start;
    let base = startBase;
    for (;;) {
      const rel = pos - base;
      if (rel < n.data.length || n.links.length === 0) {
        if (rel >= n.data.length) throw new FsError('IO', `malformed file: no block holds byte ${pos}`);
        return { start: base, data: n.data };
      }
      const i = childAt(n, rel);
      const child = await this.node(n.links[i]!, n.hints[i]!, n.starts[i + 1]! - n.starts[i]!, opts);
      base += n.starts[i]!;
      n = child;
    }
  }

  /**
   * Starts fetching the blocks of [from, to) that are neither cached nor on their way,
   * without waiting (the block fetcher bounds how many run at once). An inner node on the
   * way is fetched first; its leaves are asked for by a later call, once it is here.
   */
  prefetch(root: string, from: number, to: number, owner: object): void {
    const top = this.nodes.peek(root);
    if (!top) return;
    const stop = Math.min(to, top.size);
    let pos = from;
    while (pos < stop) {
      let n = top;
      let base = 0;
      for (;;) {
        const rel = pos - base;
        if (rel < n.data.length || n.links.length === 0) {
          // a cached leaf, or an inner node's own bytes: nothing to fetch for them
          pos = base + (rel < n.data.length ? n.data.length : n.size);
          break;
        }
        const i = childAt(n, rel);
        const cid = n.links[i]!;
        const child = this.nodes.peek(cid);
        if (child) {
          base += n.starts[i]!;
          n = child;
          continue;
        }
        this.fetchNode(cid, n.hints[i]!, n.starts[i + 1]! - n.starts[i]!, owner);
        pos = base + n.starts[i + 1]!;
        break;
      }
    }
  }

  /** Drops every block and stops every fetch (the guest closed). */
  clear(): void {
    for (const f of [...this.inflight.values()]) f.ac.abort(new FsError('Closed', 'the mount was closed'));
    this.inflight.clear();
    this.nodes.clear();
    this.bytes = 0;
    this.buffers.clear();
  }
}

/** Waits for `p` under `signal`: an abort ends the wait, not the shared work. */
function waitFor<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(toFsError(signal.reason ?? new DOMException('aborted', 'AbortError')));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(toFsError(signal.reason ?? new DOMException('aborted', 'AbortError')));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
