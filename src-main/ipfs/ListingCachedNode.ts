import type { AddOpts, AddResult, BlockOpts, CatOpts, IpfsKey, IpfsLsEntry, IpfsNode, IpfsRepoStat, IpfsStat, NodeCallOpts } from './IpfsNode.ts';
import type { MfsBackend } from './mfs/MfsBackend.ts';
import type { ListingStore } from './ListingStore.ts';

// An IpfsNode whose `ls` answers from the on-disk listing store (ListingStore.ts) when it
// holds the folder's CID, and otherwise asks the node and keeps the complete answer. Every
// other call passes through, so reading a file still needs the node. Kept outside the
// health monitor: a kept listing answers even while the node is down.

/** Folders with fewer entries are one quick node call and are not kept (a tree walk would write a file per folder). */
export const MIN_KEPT_ENTRIES = 64;

/** The node with listings kept on disk by CID. */
export class ListingCachedNode implements IpfsNode {
  /** Writes not yet finished; close() waits for them so a listing taken just before exit is kept. */
  private readonly writing = new Set<Promise<void>>();

  constructor(
    readonly inner: IpfsNode,
    readonly store: ListingStore,
  ) {}

  get address(): string {
    return this.inner.address;
  }

  get health(): IpfsNode['health'] {
    return this.inner.health;
  }

  async *ls(cid: string, opts: NodeCallOpts): AsyncIterable<IpfsLsEntry> {
    const kept = await this.store.read(cid);
    if (kept) {
      yield* kept;
      return;
    }
    const all: IpfsLsEntry[] = [];
    for await (const e of this.inner.ls(cid, opts)) {
      all.push(e);
      yield e;
    }
    // only a listing read to its end is whole (a consumer that stopped early never gets here)
    if (all.length < MIN_KEPT_ENTRIES) return;
    const w = this.store.write(cid, all).catch((err: unknown) => console.error(`berth: listing cache: cannot keep the listing of ${cid} in ${this.store.dir}: ${(err as Error).message}`));
    this.writing.add(w);
    void w.finally(() => this.writing.delete(w));
  }

  stat(cid: string, opts: NodeCallOpts): Promise<IpfsStat> {
    return this.inner.stat(cid, opts);
  }

  resolve(path: string, opts: NodeCallOpts): Promise<IpfsStat> {
    return this.inner.resolve(path, opts);
  }

  block(cid: string, opts: BlockOpts): Promise<Uint8Array> {
    return this.inner.block(cid, opts);
  }

  cat(cid: string, opts: CatOpts): AsyncIterable<Uint8Array> {
    return this.inner.cat(cid, opts);
  }

  pins(opts: NodeCallOpts): Promise<string[]> {
    return this.inner.pins(opts);
  }

  keys(opts: NodeCallOpts): Promise<IpfsKey[]> {
    return this.inner.keys(opts);
  }

  nameResolve(name: string, opts: NodeCallOpts): Promise<string> {
    return this.inner.nameResolve(name, opts);
  }

  repoStat(opts: NodeCallOpts): Promise<IpfsRepoStat> {
    return this.inner.repoStat(opts);
  }

  add(path: string, opts: AddOpts): Promise<AddResult> {
    return this.inner.add(path, opts);
  }

  mfs(): MfsBackend {
    return this.inner.mfs();
  }

  async close(): Promise<void> {
    await Promise.all(this.writing);
    await this.inner.close();
  }
}
