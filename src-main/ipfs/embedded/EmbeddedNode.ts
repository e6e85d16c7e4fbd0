import { stat as fsStat } from 'node:fs/promises';
import { basename, resolve as resolvePath } from 'node:path';
import { globSource, unixfs, type UnixFS } from '@helia/unixfs';
import pMap from 'p-map';
import { CID } from 'multiformats/cid';
import { identity } from 'multiformats/hashes/identity';
import { FsError } from '../../vfs/FsError.ts';
import type { AddOpts, AddResult, BlockOpts, CatOpts, IpfsKey, IpfsLsEntry, IpfsNode, IpfsRepoStat, IpfsStat, NodeCallOpts } from '../IpfsNode.ts';
import { canonicalCid } from '../canonicalCid.ts';
import { DAG_PB, RAW, statFromBlock } from '../unixfsStat.ts';
import { DEFAULT_TRUSTLESS_GATEWAYS, GatewayFetcher } from './gateways.ts';
import { LocalBlocks } from './LocalBlocks.ts';
import { PinStore } from './PinStore.ts';
import { EmbeddedMfs } from '../mfs/embeddedMfs.ts';
import type { MfsBackend } from '../mfs/MfsBackend.ts';

// The embedded IPFS node: no daemon, no libp2p. Blocks live in a blockstore under
// $XDG_DATA_HOME/berth/ipfs (LocalBlocks), missing ones come from trustless HTTP
// gateways (gateways.ts, every block verified), and UnixFS is read and written by
// @helia/unixfs on that blockstore. Why this and not a whole Helia node: measured in
// docs/architecture.md (helia's storage layers cost 2-4x on every cat; importing `helia`
// loads libp2p, ~1.3 s). One node per repo per process, shared by every mount
// (embeddedNode()); it is loaded only when a mount or `berth add` uses it.

/** What the embedded node is set up with (from the app settings). */
export interface EmbeddedOptions {
  /** Repo folder (blocks/, roots.json). */
  repoDir: string;
  /** Trustless gateways for missing blocks, tried in order. */
  gateways: readonly string[];
  /** True: never use the network; a missing block fails at once. */
  offline: boolean;
  /** Block cache cap in bytes (pinned and MFS content is never evicted). */
  maxBytes: number;
}

/** Default block cache cap: 10 GiB. */
export const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;
export { DEFAULT_TRUSTLESS_GATEWAYS };

/** How many blocks of one file a cat loads ahead (the exporter's fan-out). */
const CAT_BLOCKS_AHEAD = 8;

/** The embedded node. */
export class EmbeddedNode implements IpfsNode {
  readonly address = 'embedded';
  readonly blocks: LocalBlocks;
  /** @helia/unixfs over the blockstore; the MFS backend uses it too. */
  readonly fs: UnixFS;
  readonly roots: PinStore;
  private opts: EmbeddedOptions;

  constructor(opts: EmbeddedOptions) {
    this.opts = opts;
    this.roots = new PinStore(opts.repoDir);
    this.blocks = new LocalBlocks(`${opts.repoDir}/blocks`, this.blockOptions(opts));
    this.fs = unixfs({ blockstore: this.blocks });
  }

  private blockOptions(opts: EmbeddedOptions): ConstructorParameters<typeof LocalBlocks>[1] {
    const fetcher = new GatewayFetcher(opts.gateways);
    return {
      maxBytes: opts.maxBytes,
      ...(opts.offline ? { offlineReason: 'Berth is in offline mode (settings: offline)' } : { fetchMissing: (cid, signal) => fetcher.fetch(cid, signal) }),
      protectedRoots: () => this.roots.roots(),
    };
  }

  /** Applies changed settings to the running node. */
  configure(opts: EmbeddedOptions): void {
    this.opts = opts;
    this.blocks.configure(this.blockOptions(opts));
  }

  /** The settings in force. */
  get options(): Readonly<EmbeddedOptions> {
    return this.opts;
  }

  private static cid(text: string, what: string): CID {
    const canon = canonicalCid(text);
    if (!canon) throw new FsError('NotExist', `${what}: ${JSON.stringify(text.slice(0, 100))} is not a CID`);
    return CID.parse(canon);
  }

  async stat(cidText: string, opts: NodeCallOpts): Promise<IpfsStat> {
    const cid = EmbeddedNode.cid(cidText, `stat ${cidText}`);
    const text = cid.toString();
    if (cid.code === RAW) return { cid: text, type: 'file', size: (await this.blocks.getBytes(cid, { signal: opts.signal })).length };
    if (cid.code !== DAG_PB) throw new FsError('InvalidItem', `stat ${text}: codec 0x${cid.code.toString(16)} is not UnixFS (dag-pb or raw)`);
    return statFromBlock(text, await this.blocks.getBytes(cid, { signal: opts.signal }));
  }

  async resolve(path: string, opts: NodeCallOpts): Promise<IpfsStat> {
    const m = /^\/(ipfs|ipns)\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) throw new FsError('InvalidItem', `resolve ${path}: expected /ipfs/<cid>/… or /ipns/<name>/…`);
    if (m[1] === 'ipns') return await this.resolve(`${await this.nameResolve(`/ipns/${m[2]!}`)}${m[3] ?? ''}`, opts);
    const rest = (m[3] ?? '').split('/').filter(Boolean).join('/');
    const root = EmbeddedNode.cid(m[2]!, `resolve ${path}`);
    if (!rest) return await this.stat(root.toString(), opts);
    try {
      const s = await this.fs.stat(root, { path: rest, signal: opts.signal });
      return await this.stat(CID.asCID(s.cid)?.toString() ?? String(s.cid), opts);
    } catch (err) {
      throw unixfsError(err, `resolve ${path}`);
    }
  }

  async *ls(cidText: string, opts: NodeCallOpts): AsyncIterable<IpfsLsEntry> {
    const cid = EmbeddedNode.cid(cidText, `ls ${cidText}`);
    const batch: Array<{ name: string; cid: string; tsize: number }> = [];
    // entries come with name and CID only (the exporter reads no child); each child's
    // root block types it, read in parallel (local reads are cheap, fetches overlap)
    const describe = async function* (this: EmbeddedNode): AsyncIterable<IpfsLsEntry> {
      const stats = await pMap(batch, async (e) => {
        const s = CID.parse(e.cid).code === RAW ? { cid: e.cid, type: 'file' as const, size: e.tsize } : await this.stat(e.cid, opts);
        const out: IpfsLsEntry = { name: e.name, cid: s.cid, type: s.type, size: s.type === 'dir' ? 0 : s.size };
        if (s.mode !== undefined) out.mode = s.mode;
        if (s.mtimeMs !== undefined) out.mtimeMs = s.mtimeMs;
        return out;
      }, { concurrency: 16 });
      batch.length = 0;
      yield* stats;
    };
    try {
      for await (const e of this.fs.ls(cid, { signal: opts.signal })) {
        const c = CID.asCID(e.cid)?.toString() ?? String(e.cid);
        batch.push({ name: e.name, cid: canonicalCid(c) ?? c, tsize: Number(e.size) });
        if (batch.length >= 256) yield* describe.call(this);
      }
      yield* describe.call(this);
    } catch (err) {
      throw unixfsError(err, `ls ${cidText}`);
    }
  }

  async block(cidText: string, opts: BlockOpts): Promise<Uint8Array> {
    const cid = EmbeddedNode.cid(cidText, `block get ${cidText}`);
    // an identity CID holds its bytes
    if (cid.multihash.code === identity.code) return cid.multihash.digest;
    return await this.blocks.getBytes(cid, opts.alloc ? { signal: opts.signal, alloc: opts.alloc } : { signal: opts.signal });
  }

  async *cat(cidText: string, opts: CatOpts): AsyncIterable<Uint8Array> {
    const cid = EmbeddedNode.cid(cidText, `cat ${cidText}`);
    try {
      // blockReadConcurrency reaches the exporter's content() though CatOptions omits it
      const catOpts: Parameters<UnixFS['cat']>[1] & { blockReadConcurrency: number } = {
        signal: opts.signal,
        blockReadConcurrency: CAT_BLOCKS_AHEAD,
        ...(opts.offset ? { offset: opts.offset } : {}),
        ...(opts.length !== undefined ? { length: opts.length } : {}),
      };
      yield* this.fs.cat(cid, catOpts);
    } catch (err) {
      throw unixfsError(err, `cat ${cidText}`);
    }
  }

  async pins(): Promise<string[]> {
    return await this.roots.pins();
  }

  async keys(): Promise<IpfsKey[]> {
    // the embedded node holds no IPNS keys: keyfs on it is an empty folder
    return [];
  }

  async nameResolve(name: string): Promise<string> {
    throw new FsError('InvalidOperation', `name resolve ${name}: the embedded node does not resolve IPNS names yet; use a Kubo node (--ipfs-api) for ipns and keyfs mounts`);
  }

  async repoStat(): Promise<IpfsRepoStat> {
    const u = await this.blocks.usage();
    return { repoSize: u.bytes, storageMax: this.opts.maxBytes, numObjects: u.blocks };
  }

  /**
   * Imports a file or folder from disk with Kubo's current defaults (CIDv1, raw leaves,
   * 1 MiB chunks, 1024 links per node: @helia/unixfs's defaults) and pins it.
   */
  async add(path: string, opts: AddOpts): Promise<AddResult> {
    const abs = resolvePath(path);
    const st = await fsStat(abs).catch((err: NodeJS.ErrnoException) => {
      throw new FsError(err.code === 'ENOENT' ? 'NotExist' : 'IO', `add ${abs}: ${err.message}`);
    });
    let root: CID | undefined;
    try {
      if (st.isDirectory()) {
        for await (const r of this.fs.addAll(globSource(abs, '**/*', { hidden: true }), { wrapWithDirectory: true, signal: opts.signal })) root = CID.asCID(r.cid) ?? undefined;
      } else {
        const { createReadStream } = await import('node:fs');
        root = CID.asCID(await this.fs.addByteStream(createReadStream(abs, { highWaterMark: 1 << 20 }), { signal: opts.signal })) ?? undefined;
      }
    } catch (err) {
      throw unixfsError(err, `add ${abs}`);
    }
    if (!root) throw new FsError('IO', `add ${abs}: the importer produced no root`);
    const cid = root.toString();
    if (opts.pin !== false) {
      await this.roots.pin(cid);
    }
    return { cid, name: basename(abs), size: st.isDirectory() ? 0 : st.size, dir: st.isDirectory() };
  }

  private mfsBackend: MfsBackend | undefined;

  mfs(): MfsBackend {
    this.mfsBackend ??= new EmbeddedMfs(this);
    return this.mfsBackend;
  }

  async close(): Promise<void> {
    // shared by every mount of this process (embeddedNode()); nothing per guest to release
  }
}

/** Maps an error of @helia/unixfs (structured names) to an FsError. */
export function unixfsError(err: unknown, what: string): FsError {
  if (err instanceof FsError) return err;
  const e = err as { name?: string; message?: string };
  const msg = `${what}: ${e.message ?? String(err)}`;
  switch (e.name) {
    case 'AbortError':
    case 'TimeoutError':
      return new FsError('Timeout', msg, { cause: err });
    case 'DoesNotExistError':
    case 'NotFoundError':
    case 'BadPathError':
      return new FsError('NotExist', msg, { cause: err });
    case 'NotADirectoryError':
      return new FsError('NotDir', msg, { cause: err });
    case 'NotAFileError':
      return new FsError('IsDir', msg, { cause: err });
    case 'AlreadyExistsError':
      return new FsError('Exist', msg, { cause: err });
    case 'NotUnixFSError':
    case 'InvalidParametersError':
    case 'NoContentError':
      return new FsError('InvalidItem', msg, { cause: err });
    default:
      return new FsError('IO', msg, { cause: err });
  }
}

const nodes = new Map<string, Promise<EmbeddedNode>>();

/** The process's embedded node for a repo (created on first use, reconfigured after). */
export async function embeddedNode(opts: EmbeddedOptions): Promise<EmbeddedNode> {
  let p = nodes.get(opts.repoDir);
  if (!p) {
    p = (async () => {
      const node = new EmbeddedNode(opts);
      await node.blocks.open();
      return node;
    })();
    nodes.set(opts.repoDir, p);
    p.catch(() => nodes.delete(opts.repoDir));
    return await p;
  }
  const node = await p;
  node.configure(opts);
  return node;
}
