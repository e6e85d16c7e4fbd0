import pMap from 'p-map';
import { CID } from 'multiformats/cid';
import type { AddOpts, AddResult, BlockOpts, CatOpts, IpfsKey, IpfsLsEntry, IpfsNode, IpfsRepoStat, IpfsStat, NodeCallOpts } from './IpfsNode.ts';
import { canonicalCid } from './canonicalCid.ts';
import { carBlocks } from './carBlocks.ts';
import type { KuboNode } from './kubo.ts';
import type { MessageTable } from './kuboRpc.ts';
import type { MfsBackend } from './mfs/MfsBackend.ts';
import { JsIpfsMfs } from './mfs/jsIpfsMfs.ts';
import { DAG_PB, decodePb, statFromBlock, unixfsOf } from './unixfsStat.ts';

// The js-ipfs RPC peer (npm ipfs@0.66, the test peer of PEERS.md) differs from Kubo in
// ways a guest would see. Every such difference is handled here, around a KuboNode that
// speaks only Kubo's documented API; against real Kubo this wrapper only passes calls on
// (it asks `version` once to tell the two apart).
// - `resolve` walks dag-pb link names, so it misses every entry of a HAMT-sharded folder:
//   `files/stat` on the /ipfs path finds them.
// - `ls` types symlinks as files (Type 2): small entries that could be symlinks are checked
//   by their block, all blocks of a small folder from one `dag/export` (verified), else
//   one block each. Their size cannot rule any out: js-ipfs writes a filesize into symlink
//   nodes too.
// - `key/list` repeats `self`.
// - Its error texts differ from Kubo's (JS_IPFS_MESSAGES).

/** js-ipfs error messages (Code 0) by the kind they mean. */
export const JS_IPFS_MESSAGES: MessageTable = [
  [/ERR_NOT_FOUND|could not resolve|couldn't resolve|failed to resolve|invalid path|invalid cid|selected encoding not supported|not a valid|destination did not exist/i, 'NotExist'],
];

/** Largest DAG (bytes, by its links' Tsize) below a folder that ls exports in one call to type its entries. */
const EXPORT_MAX = 8 * 1024 * 1024;
/** Largest `ls` size js-ipfs could report for a symlink (its target length). */
const SYMLINK_MAX = 4096;

/** True when a node's `version` answer is js-ipfs's (it names `ipfs-core`). */
export function isJsIpfsVersion(v: Record<string, unknown>): boolean {
  return 'ipfs-core' in v;
}

/** A KuboNode with the js-ipfs peer's differences handled when the peer is js-ipfs. */
export class JsIpfsAware implements IpfsNode {
  private jsIpfs: Promise<boolean> | undefined;

  constructor(readonly kubo: KuboNode) {}

  get address(): string {
    return this.kubo.address;
  }

  /** Resolved once per node (retried after a failure): is the peer js-ipfs? */
  async isJsIpfs(signal: AbortSignal): Promise<boolean> {
    this.jsIpfs ??= this.kubo.version({ signal }).then(isJsIpfsVersion);
    try {
      return await this.jsIpfs;
    } catch (err) {
      this.jsIpfs = undefined;
      throw err;
    }
  }

  stat(cid: string, opts: NodeCallOpts): Promise<IpfsStat> {
    return this.kubo.stat(cid, opts);
  }

  async resolve(path: string, opts: NodeCallOpts): Promise<IpfsStat> {
    if (!path.startsWith('/ipfs/') || !(await this.isJsIpfs(opts.signal).catch(() => false))) return await this.kubo.resolve(path, opts);
    let hash: string | undefined;
    try {
      hash = (await this.kubo.rpc.json<{ Hash?: string }>('files/stat', { arg: path, hash: true }, opts.signal)).Hash;
    } catch (err) {
      throw this.kubo.fail(err, `resolve ${path}`, opts.signal);
    }
    if (!hash) throw this.kubo.fail(new Error('the node answered without a Hash'), `files stat ${path}`, opts.signal);
    return await this.kubo.stat(hash, opts);
  }

  async *ls(cid: string, opts: NodeCallOpts): AsyncIterable<IpfsLsEntry> {
    if (!(await this.isJsIpfs(opts.signal))) {
      yield* this.kubo.ls(cid, opts);
      return;
    }
    // The folder's block (to find symlinks typed as files, below) is read while the node
    // builds the listing, not before it. The listing is asked for whole (see KuboNode.ls).
    const listing = this.kubo.ls(cid, opts, false)[Symbol.asyncIterator]();
    const first = listing.next();
    // a failed listing is reported by the loop below, not as an unhandled rejection here
    first.catch(() => {});
    let dir: Awaited<ReturnType<typeof this.folderBlock>>;
    try {
      dir = await this.folderBlock(cid, opts);
    } catch (err) {
      // not awaited: a listing still being built would hold the error back until it ends
      void first.then(() => listing.return?.()).catch(() => {});
      throw err;
    }
    // skipped in HAMT-sharded folders: there it would cost one block fetch per small
    // file (5,000 for the fixture's folder, ~10 s); getattr stays exact there
    const known = dir && dir.smallLinks >= 2 && dir.dagSize <= EXPORT_MAX ? this.exportStats(cid, opts).catch(() => undefined) : Promise.resolve(undefined);
    let batch: IpfsLsEntry[] = [];
    try {
      for (let r = await first; !r.done; r = await listing.next()) {
        batch.push(r.value);
        if (batch.length >= 64) {
          if (dir) await this.fixSymlinks(batch, await known, opts);
          yield* batch;
          batch = [];
        }
      }
    } finally {
      await listing.return?.();
    }
    if (dir) await this.fixSymlinks(batch, await known, opts);
    yield* batch;
  }

  /** A plain folder's count of links that could be symlinks and its DAG size; undefined when sharded. */
  private async folderBlock(cid: string, opts: NodeCallOpts): Promise<{ smallLinks: number; dagSize: number } | undefined> {
    const canon = canonicalCid(cid);
    if (!canon || CID.parse(canon).code !== DAG_PB) return undefined;
    const block = await this.kubo.block(canon, opts);
    const pb = decodePb(canon, block);
    if (unixfsOf(canon, pb)?.type === 'hamt-sharded-directory') return undefined;
    let smallLinks = 0;
    let dagSize = block.length;
    for (const l of pb.Links) {
      const tsize = l.Tsize ?? 0;
      dagSize += tsize;
      if (tsize <= SYMLINK_MAX + 64) smallLinks++;
    }
    return { smallLinks, dagSize };
  }

  /** Stats of every dag-pb block below a (small) folder, from one verified dag/export. */
  private async exportStats(cid: string, opts: NodeCallOpts): Promise<Map<string, IpfsStat>> {
    const from = `dag export ${cid} from ${this.address}`;
    const car = await this.kubo.rpc.call('dag/export', { arg: cid }, opts.signal, async (res) => {
      const parts: Uint8Array[] = [];
      let n = 0;
      if (res.body) {
        for await (const c of res.body) {
          n += c.length;
          // the Tsizes were a claim: never hold more than the limit
          if (n > 2 * EXPORT_MAX) throw new Error(`${from}: more than ${2 * EXPORT_MAX} bytes`);
          parts.push(c);
        }
      }
      return Buffer.concat(parts, n);
    });
    const out = new Map<string, IpfsStat>();
    for (const [c, block] of await carBlocks(car, from)) if (CID.parse(c).code === DAG_PB) out.set(c, statFromBlock(c, block));
    return out;
  }

  /** Retypes the small "files" of a batch that are symlinks. */
  private async fixSymlinks(batch: IpfsLsEntry[], known: ReadonlyMap<string, IpfsStat> | undefined, opts: NodeCallOpts): Promise<void> {
    const suspects = batch.filter((e) => e.type === 'file' && e.size <= SYMLINK_MAX && CID.parse(e.cid).code === DAG_PB);
    await pMap(
      suspects,
      async (e) => {
        const s = known?.get(e.cid) ?? (await this.kubo.stat(e.cid, opts));
        if (s.type === 'symlink') {
          e.type = 'symlink';
          e.size = s.size;
        }
      },
      { concurrency: 6 },
    );
  }

  block(cid: string, opts: BlockOpts): Promise<Uint8Array> {
    return this.kubo.block(cid, opts);
  }

  cat(cid: string, opts: CatOpts): AsyncIterable<Uint8Array> {
    return this.kubo.cat(cid, opts);
  }

  pins(opts: NodeCallOpts): Promise<string[]> {
    return this.kubo.pins(opts);
  }

  async keys(opts: NodeCallOpts): Promise<IpfsKey[]> {
    const seen = new Map<string, IpfsKey>();
    for (const k of await this.kubo.keys(opts)) if (!seen.has(k.name)) seen.set(k.name, k);
    return [...seen.values()];
  }

  nameResolve(name: string, opts: NodeCallOpts): Promise<string> {
    return this.kubo.nameResolve(name, opts);
  }

  repoStat(opts: NodeCallOpts): Promise<IpfsRepoStat> {
    return this.kubo.repoStat(opts);
  }

  private mfsBackend: MfsBackend | undefined;

  mfs(): MfsBackend {
    this.mfsBackend ??= new JsIpfsMfs(this.kubo, (signal) => this.isJsIpfs(signal));
    return this.mfsBackend;
  }

  add(path: string, opts: AddOpts): Promise<AddResult> {
    return this.kubo.add(path, opts);
  }

  close(): Promise<void> {
    return this.kubo.close();
  }
}
