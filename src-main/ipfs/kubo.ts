import { CID } from 'multiformats/cid';
import { FsError } from '../vfs/FsError.ts';
import { stat as fsStat } from 'node:fs/promises';
import { basename, resolve as resolvePath } from 'node:path';
import { identity } from 'multiformats/hashes/identity';
import type { AddOpts, AddResult, BlockOpts, CatOpts, IpfsKey, IpfsLsEntry, IpfsNode, IpfsRepoStat, IpfsStat, NodeCallOpts, NodeType } from './IpfsNode.ts';
import { canonicalCid } from './canonicalCid.ts';
import { KuboRpc, type MessageTable, ndjson, nodeError } from './kuboRpc.ts';
import { DAG_PB, RAW, statFromBlock } from './unixfsStat.ts';
import { KuboMfs } from './mfs/kuboMfs.ts';
import { KuboBlockClient } from './KuboBlockClient.ts';
import { verifyBlock } from './verifyBlock.ts';
import type { MfsBackend } from './mfs/MfsBackend.ts';

// The IpfsNode over Kubo's RPC API (https://docs.ipfs.tech/reference/kubo/rpc/), written
// against Kubo's documented commands only; a peer's departures from them live in one
// wrapper (jsIpfsPeer.ts). `cat` streams the raw body (no per-chunk copies, PERF.md);
// `ls` is read as ndjson (Type 4 is a symlink); a node is described from its root block
// (`block/get`, decoded by unixfsStat.ts), never from file content.

/** ls Type codes (unixfs.proto DataType). */
function lsType(code: number): NodeType {
  if (code === 1 || code === 5) return 'dir';
  if (code === 4) return 'symlink';
  return 'file';
}

/** The Kubo RPC backend. */
export class KuboNode implements IpfsNode {
  /** The transport, shared with the MFS backend and the peer wrapper. */
  readonly rpc: KuboRpc;
  /** block/get over keep-alive sockets (http nodes only). */
  private readonly blocks: KuboBlockClient | undefined;

  /** `url` is the API's base URL (http://host:port), `address` how to name it in messages. */
  constructor(
    readonly url: string,
    readonly address: string,
    /** Code-0 error messages of a peer that is not Kubo (see kuboRpc.ts). */
    private readonly messages: MessageTable = [],
  ) {
    this.rpc = new KuboRpc(url);
    this.blocks = url.startsWith('http:') ? new KuboBlockClient(url) : undefined;
  }

  /** Maps an error of a call of this node to an FsError. */
  fail(err: unknown, what: string, signal?: AbortSignal): FsError {
    return nodeError(err, what, this.address, signal, this.messages);
  }

  async stat(cid: string, opts: NodeCallOpts): Promise<IpfsStat> {
    const what = `stat ${cid}`;
    // whatever base the caller had it in, the stat names the CID canonically
    const canon = canonicalCid(cid);
    if (!canon) throw new FsError('NotExist', `${what}: not a CID`);
    const parsed = CID.parse(canon);
    try {
      if (parsed.code === RAW) {
        // raw leaf: a file that is one block; its size without fetching it
        const body = await this.rpc.json<{ Size: number }>('block/stat', { arg: canon }, opts.signal);
        return { cid: canon, type: 'file', size: body.Size };
      }
      if (parsed.code !== DAG_PB) {
        throw new FsError('InvalidItem', `${what}: codec 0x${parsed.code.toString(16)} is not UnixFS (dag-pb or raw)`);
      }
      return statFromBlock(canon, await this.block(canon, opts));
    } catch (err) {
      throw this.fail(err, what, opts.signal);
    }
  }

  /**
   * One block's bytes (`block/get`), verified against its CID. Over plain http through
   * KuboBlockClient (file content is read this way: its socket reads cost a quarter of
   * fetch's), else through the fetch transport.
   */
  async block(cid: string, opts: BlockOpts): Promise<Uint8Array> {
    const what = `block get ${cid}`;
    const canon = canonicalCid(cid);
    if (!canon) throw new FsError('NotExist', `${what}: not a CID`);
    const parsed = CID.parse(canon);
    // an identity CID holds its bytes: nothing to ask
    if (parsed.multihash.code === identity.code) return parsed.multihash.digest;
    let bytes: Uint8Array;
    try {
      bytes = this.blocks ? await this.blocks.get(canon, opts.signal, opts.sizeHint, opts.alloc) : await this.rpc.bytes('block/get', { arg: canon }, opts.signal);
    } catch (err) {
      throw this.fail(err, what, opts.signal);
    }
    await verifyBlock(parsed, bytes, `the IPFS node at ${this.address}`);
    return bytes;
  }

  async resolve(path: string, opts: NodeCallOpts): Promise<IpfsStat> {
    let resolved: string;
    try {
      resolved = (await this.rpc.json<{ Path?: string }>('resolve', { arg: path, recursive: true }, opts.signal)).Path ?? '';
    } catch (err) {
      throw this.fail(err, `resolve ${path}`, opts.signal);
    }
    const text = /^\/ipfs\/([^/]+)$/.exec(resolved)?.[1] ?? '';
    const cid = canonicalCid(text);
    if (!cid) throw new FsError('IO', `resolve ${path}: the node answered ${JSON.stringify(resolved)}, expected /ipfs/<cid>`);
    return await this.stat(cid, opts);
  }

  /**
   * `stream` false asks for the listing as one answer: js-ipfs builds the lines of a
   * streamed answer one by one (~25 % more of its CPU for a 5,000-entry folder, and as
   * many lines to parse here), while Kubo streams cheaply and holds nothing back.
   */
  async *ls(cid: string, opts: NodeCallOpts, stream = true): AsyncIterable<IpfsLsEntry> {
    const what = `ls ${cid}`;
    let release = (): void => {};
    try {
      const started = await this.rpc.post('ls', { arg: `/ipfs/${cid}`, stream, 'resolve-type': true, size: true }, opts.signal);
      release = started.release;
      let batch: IpfsLsEntry[] = [];
      for await (const line of ndjson(started.res)) {
        const obj = line as { Objects?: Array<{ Links?: RawLink[] }> };
        for (const o of obj.Objects ?? []) for (const l of o.Links ?? []) batch.push(entryOf(l));
        if (batch.length >= 64) {
          yield* batch;
          batch = [];
        }
      }
      yield* batch;
    } catch (err) {
      throw this.fail(err, what, opts.signal);
    } finally {
      release();
    }
  }

  async *cat(cid: string, opts: CatOpts): AsyncIterable<Uint8Array> {
    const params: Record<string, number | string> = { arg: cid };
    if (opts.offset) params.offset = opts.offset;
    if (opts.length !== undefined) params.length = opts.length;
    let release = (): void => {};
    try {
      const started = await this.rpc.post('cat', params, opts.signal);
      release = started.release;
      if (!started.res.body) return;
      for await (const chunk of started.res.body) yield chunk;
    } catch (err) {
      throw this.fail(err, `cat ${cid}`, opts.signal);
    } finally {
      release();
    }
  }

  async pins(opts: NodeCallOpts): Promise<string[]> {
    try {
      const body = await this.rpc.json<{ Keys?: Record<string, unknown> }>('pin/ls', { type: 'recursive' }, opts.signal);
      return Object.keys(body.Keys ?? {}).map((c) => canonicalCid(c) ?? c);
    } catch (err) {
      throw this.fail(err, 'pin ls', opts.signal);
    }
  }

  async keys(opts: NodeCallOpts): Promise<IpfsKey[]> {
    try {
      const body = await this.rpc.json<{ Keys?: Array<{ Name: string; Id: string }> }>('key/list', {}, opts.signal);
      return (body.Keys ?? []).map((k) => ({ name: k.Name, id: k.Id }));
    } catch (err) {
      throw this.fail(err, 'key list', opts.signal);
    }
  }

  async nameResolve(name: string, opts: NodeCallOpts): Promise<string> {
    let path: string | undefined;
    try {
      path = (await this.rpc.json<{ Path?: string }>('name/resolve', { arg: name, recursive: true }, opts.signal)).Path;
    } catch (err) {
      throw this.fail(err, `name resolve ${name}`, opts.signal);
    }
    if (!path?.startsWith('/ipfs/')) throw new FsError('NotExist', `name resolve ${name}: no /ipfs/ path published (got ${JSON.stringify(path ?? '')})`);
    return path;
  }

  async repoStat(opts: NodeCallOpts): Promise<IpfsRepoStat> {
    try {
      const s = await this.rpc.json<{ RepoSize?: number; StorageMax?: number; NumObjects?: number }>('repo/stat', {}, opts.signal);
      return { repoSize: Number(s.RepoSize ?? 0), storageMax: Number(s.StorageMax ?? 0), numObjects: Number(s.NumObjects ?? 0) };
    } catch (err) {
      throw this.fail(err, 'repo stat', opts.signal);
    }
  }

  /**
   * `add` with Kubo's current import defaults (CIDv1, raw leaves, 1 MiB chunks), pinned.
   * kubo-rpc-client builds the multipart body (loaded here only: the CLI never needs it).
   */
  async add(path: string, opts: AddOpts): Promise<AddResult> {
    const abs = resolvePath(path);
    const st = await fsStat(abs).catch((err: NodeJS.ErrnoException) => {
      throw new FsError(err.code === 'ENOENT' ? 'NotExist' : 'IO', `add ${abs}: ${err.message}`);
    });
    const { create, globSource } = await import('kubo-rpc-client');
    const client = create({ url: this.url });
    const options = { cidVersion: 1, rawLeaves: true, chunker: 'size-1048576', pin: opts.pin !== false, signal: opts.signal } as const;
    let cid: string | undefined;
    try {
      if (st.isDirectory()) {
        for await (const r of client.addAll(globSource(abs, '**/*', { hidden: true }), { ...options, wrapWithDirectory: true })) if (r.path === '') cid = r.cid.toString();
      } else {
        const { createReadStream } = await import('node:fs');
        cid = (await client.add(createReadStream(abs), options)).cid.toString();
      }
    } catch (err) {
      throw this.fail(err, `add ${abs}`, opts.signal);
    }
    if (!cid) throw new FsError('IO', `add ${abs}: the node at ${this.address} reported no root CID`);
    return { cid: canonicalCid(cid) ?? cid, name: basename(abs), size: st.isDirectory() ? 0 : st.size, dir: st.isDirectory() };
  }

  private mfsBackend: MfsBackend | undefined;

  mfs(): MfsBackend {
    this.mfsBackend ??= new KuboMfs(this);
    return this.mfsBackend;
  }

  /** The node's `version` answer (also a cheap liveness probe). */
  async version(opts: NodeCallOpts): Promise<Record<string, unknown>> {
    try {
      return await this.rpc.json<Record<string, unknown>>('version', {}, opts.signal);
    } catch (err) {
      throw this.fail(err, 'version', opts.signal);
    }
  }

  async close(): Promise<void> {
    // fetch keeps no state of ours; the block client's idle sockets are unref'd but go now
    this.blocks?.close();
  }
}

interface RawLink {
  Name?: string;
  Hash: string;
  Size?: number;
  Type?: number;
  Mode?: string | number;
  Mtime?: number;
}

function entryOf(l: RawLink): IpfsLsEntry {
  const e: IpfsLsEntry = { name: l.Name ?? '', cid: canonicalCid(l.Hash) ?? l.Hash, type: lsType(l.Type ?? 2), size: Number(l.Size ?? 0) };
  if (e.type === 'dir') e.size = 0;
  if (l.Mode !== undefined && l.Mode !== '') e.mode = typeof l.Mode === 'number' ? l.Mode : parseInt(l.Mode, 8);
  if (l.Mtime) e.mtimeMs = l.Mtime * 1000;
  return e;
}
