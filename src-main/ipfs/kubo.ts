import { create, type KuboRPCClient } from 'kubo-rpc-client';
import { CID } from 'multiformats/cid';
import { tryParseCid } from '../../src-shared/contentPath.ts';
import { FsError } from '../vfs/FsError.ts';
import type { CatOpts, NodeType, IpfsKey, IpfsLsEntry, IpfsNode, IpfsRepoStat, IpfsStat, NodeCallOpts } from './IpfsNode.ts';
import { canonicalCid } from './canonicalCid.ts';
import { carBlocks } from './carBlocks.ts';
import { decodeDagPb, decodeUnixfs, unixfsSize } from './unixfs.ts';

// The IpfsNode over Kubo's RPC API (https://docs.ipfs.tech/reference/kubo/rpc/).
// kubo-rpc-client serves the small calls (pins, keys, name, resolve, repo stat). Three
// calls go over plain fetch on the same API because the client loses what Berth needs:
// `cat` (the raw body stream, no per-chunk copies, PERF.md), `ls` (the client maps the
// symlink type 4 to "file" and yields an empty folder as an entry of itself) and
// `block/get` (raw bytes, decoded by unixfs.ts, no multiformats version coupling).
//
// Peer quirks (PEERS.md), handled here so guests never see them:
// - js-ipfs lists symlinks as files (Type 2): entries that could be a symlink are
//   checked by their block (only on js-ipfs): all blocks of a small folder come in one
//   dag/export, else one block fetch each. Their size cannot rule any out: js-ipfs writes
//   a filesize into symlink nodes too, so a symlink's block is exactly as long as a
//   file's with the same bytes (the link Tsize tells nothing).
// - js-ipfs repeats `self` in key list: keys are deduplicated by name.

/** Largest DAG (bytes, by its links' Tsize) below a folder that ls exports in one call to type its entries. */
const EXPORT_MAX = 8 * 1024 * 1024;

/** Largest `ls` size js-ipfs could report for a symlink (its target length). */
const SYMLINK_MAX = 4096;

/** ls Type codes (unixfs.proto DataType). */
function lsType(code: number): NodeType {
  if (code === 1 || code === 5) return 'dir';
  if (code === 4) return 'symlink';
  return 'file';
}

const NOT_FOUND =
  /no link named|does not exist|not found|could not resolve|couldn't resolve|failed to resolve|no such|could not find|ERR_NOT_FOUND|invalid path|invalid cid|selected encoding not supported|not a valid/i;

/** Maps anything a call threw to an FsError; `what` says which call, for the message. */
export function nodeError(err: unknown, what: string, address: string, signal?: AbortSignal): FsError {
  if (err instanceof FsError) return err;
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (signal?.aborted || e.name === 'AbortError' || e.name === 'TimeoutError') {
    const reason = signal?.reason instanceof Error ? signal.reason.message : 'aborted';
    return new FsError('Timeout', `${what}: ${reason}`, { cause: err });
  }
  const msg = e.message ?? String(err);
  if (e.name === 'HTTPError' || e.name === 'RpcError') {
    if (NOT_FOUND.test(msg)) return new FsError('NotExist', `${what}: ${msg}`, { cause: err });
    if (/not a directory|is not a directory/i.test(msg)) return new FsError('NotDir', `${what}: ${msg}`, { cause: err });
    if (/is a directory|this dag node is a directory/i.test(msg)) return new FsError('IsDir', `${what}: ${msg}`, { cause: err });
    return new FsError('IO', `${what}: the IPFS node at ${address} answered: ${msg}`, { cause: err });
  }
  const cause = e.cause?.code ?? e.cause?.message ?? '';
  return new FsError('IO', `${what}: cannot talk to the IPFS node at ${address}: ${msg}${cause ? ` (${cause})` : ''}`, { cause: err });
}

/** An error the node answered with (status >= 400 or an error object in a stream). */
class RpcError extends Error {
  override readonly name = 'RpcError';
}

/** The Kubo RPC backend. */
export class KuboNode implements IpfsNode {
  readonly client: KuboRPCClient;
  private readonly api: string;
  /** Resolved once: true when the peer is js-ipfs (its `version` reports `ipfs-core`). */
  private jsIpfs: Promise<boolean> | undefined;

  /** `url` is the API's base URL (http://host:port), `address` how to name it in messages. */
  constructor(
    url: string,
    readonly address: string,
  ) {
    this.api = `${url.replace(/\/+$/, '')}/api/v0`;
    this.client = create({ url });
  }

  /**
   * One RPC call whose body `consume` reads. fetch gets a signal of its own, linked to
   * the caller's by one listener removed afterwards: undici leaves its abort listener on
   * a signal until GC, and one readdir passes its signal to thousands of calls.
   */
  private async call<T>(cmd: string, params: Record<string, string | number | boolean>, signal: AbortSignal, consume: (res: Response) => Promise<T>): Promise<T> {
    const { res, release } = await this.postLinked(cmd, params, signal);
    try {
      return await consume(res);
    } finally {
      release();
    }
  }

  private async postLinked(
    cmd: string,
    params: Record<string, string | number | boolean>,
    signal: AbortSignal,
  ): Promise<{ res: Response; release: () => void }> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) qs.set(k, String(v));
    signal.throwIfAborted();
    const ctrl = new AbortController();
    const onAbort = (): void => ctrl.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const release = (): void => signal.removeEventListener('abort', onAbort);
    let res: Response;
    try {
      res = await fetch(`${this.api}/${cmd}?${qs.toString()}`, { method: 'POST', signal: ctrl.signal });
    } catch (err) {
      release();
      throw err;
    }
    if (res.ok) return { res, release };
    release();
    let msg = `${res.status} ${res.statusText}`;
    try {
      const text = await res.text();
      try {
        const body = JSON.parse(text) as { Message?: string };
        msg = body.Message ?? text;
      } catch {
        msg = text || msg;
      }
    } catch {
      // keep the status line
    }
    throw new RpcError(msg);
  }

  private async isJsIpfs(signal: AbortSignal): Promise<boolean> {
    this.jsIpfs ??= (async () => {
      const v = await this.call('version', {}, signal, async (res) => (await res.json()) as Record<string, unknown>);
      return 'ipfs-core' in v;
    })();
    try {
      return await this.jsIpfs;
    } catch (err) {
      this.jsIpfs = undefined;
      throw err;
    }
  }

  async stat(cid: string, opts: NodeCallOpts): Promise<IpfsStat> {
    const what = `stat ${cid}`;
    // whatever base the caller had it in, the stat names the CID canonically
    const canon = canonicalCid(cid);
    if (!canon) throw new FsError('NotExist', `${what}: not a CID`);
    cid = canon;
    const parsed = CID.parse(cid);
    try {
      if (parsed.code === 0x55) {
        // raw leaf: a file that is one block; its size without fetching it
        const body = await this.call('block/stat', { arg: cid }, opts.signal, async (res) => (await res.json()) as { Size: number });
        return { cid, type: 'file', size: body.Size };
      }
      if (parsed.code !== 0x70) {
        throw new FsError('InvalidItem', `${what}: codec 0x${parsed.code.toString(16)} is not UnixFS (dag-pb or raw)`);
      }
      const block = await this.call('block/get', { arg: cid }, opts.signal, async (res) => new Uint8Array(await res.arrayBuffer()));
      return statFromBlock(cid, block);
    } catch (err) {
      throw nodeError(err, what, this.address, opts.signal);
    }
  }

  async resolve(path: string, opts: NodeCallOpts): Promise<IpfsStat> {
    let resolved: string;
    if (path.startsWith('/ipfs/') && (await this.isJsIpfs(opts.signal).catch(() => false))) return await this.filesStat(path, opts);
    try {
      resolved = await this.client.resolve(path, { recursive: true, signal: opts.signal });
    } catch (err) {
      throw nodeError(err, `resolve ${path}`, this.address, opts.signal);
    }
    // the client asks for a multibase-prefixed CID (js-ipfs answers "zQm…" for CIDv0);
    // print it the node's usual way so CIDs compare equal everywhere
    const text = /^\/ipfs\/([^/]+)$/.exec(resolved)?.[1] ?? '';
    const cid = tryParseCid(/^zQm/.test(text) ? text.slice(1) : text);
    if (!cid) throw new FsError('IO', `resolve ${path}: the node answered ${JSON.stringify(resolved)}, expected /ipfs/<cid>`);
    return await this.stat(cid.toString(), opts);
  }

  /**
   * js-ipfs quirk: its resolve walks dag-pb link names and so misses every entry of a
   * HAMT-sharded folder; its `files stat` reads UnixFS and finds them (and symlinks,
   * which Kubo's files stat refuses, so Kubo keeps `resolve`).
   */
  private async filesStat(path: string, opts: NodeCallOpts): Promise<IpfsStat> {
    try {
      const st = await this.call('files/stat', { arg: path, hash: true }, opts.signal, async (res) => (await res.json()) as { Hash?: string });
      if (!st.Hash) throw new FsError('IO', `files stat ${path}: the node answered without a Hash`);
      return await this.stat(st.Hash, opts);
    } catch (err) {
      throw nodeError(err, `resolve ${path}`, this.address, opts.signal);
    }
  }

  async *ls(cid: string, opts: NodeCallOpts): AsyncIterable<IpfsLsEntry> {
    const what = `ls ${cid}`;
    // js-ipfs quirk fix-up (see fixSymlinks), skipped in HAMT-sharded folders: there it
    // would cost one block fetch per small file (5,000 fetches for the fixture's
    // folder, ~10 s). There js-ipfs listings show symlinks as files; getattr is exact.
    let js: boolean;
    let known: Promise<Map<string, IpfsStat> | undefined> = Promise.resolve(undefined);
    try {
      js = false;
      if (await this.isJsIpfs(opts.signal)) {
        const dir = await this.folderBlock(cid, opts);
        js = dir !== undefined;
        // small plain folders: every child block in one dag/export (in parallel with ls)
        // rather than one block/get per small file (5,000 calls took ~10 s)
        if (dir && dir.smallLinks >= 2 && dir.dagSize <= EXPORT_MAX) {
          known = this.exportStats(cid, opts).catch(() => undefined);
        }
      }
    } catch (err) {
      throw nodeError(err, what, this.address, opts.signal);
    }
    let batch: IpfsLsEntry[] = [];
    let release = (): void => {};
    try {
      const linked = await this.postLinked('ls', { arg: `/ipfs/${cid}`, stream: true, 'resolve-type': true, size: true }, opts.signal);
      release = linked.release;
      const res = linked.res;
      for await (const line of ndjson(res)) {
        const obj = line as { Objects?: Array<{ Links?: RawLink[] }>; Type?: string; Message?: string };
        if (obj.Type === 'error') throw new RpcError(obj.Message ?? 'error in ls stream');
        for (const o of obj.Objects ?? []) {
          for (const l of o.Links ?? []) {
            batch.push(entryOf(l));
          }
        }
        if (batch.length >= 64) {
          if (js) await this.fixSymlinks(batch, await known, opts);
          yield* batch;
          batch = [];
        }
      }
      if (js) await this.fixSymlinks(batch, await known, opts);
      yield* batch;
    } catch (err) {
      throw nodeError(err, what, this.address, opts.signal);
    } finally {
      release();
    }
  }

  /**
   * A plain (not HAMT-sharded) dag-pb folder's figures from its one block: how many links
   * could be small files or symlinks, and the whole DAG's size (the links' Tsize);
   * undefined for a sharded folder (its names are spread over many blocks).
   */
  private async folderBlock(cid: string, opts: NodeCallOpts): Promise<{ smallLinks: number; dagSize: number } | undefined> {
    const canon = canonicalCid(cid);
    if (!canon || CID.parse(canon).code !== 0x70) return undefined;
    const block = await this.call('block/get', { arg: canon }, opts.signal, async (res) => new Uint8Array(await res.arrayBuffer()));
    const pb = decodeDagPb(block);
    if (pb.data && decodeUnixfs(pb.data).type === 'hamt-sharded-directory') return undefined;
    let smallLinks = 0;
    let dagSize = block.length;
    for (const l of pb.links) {
      dagSize += l.tsize;
      if (l.tsize <= SYMLINK_MAX + 64) smallLinks++;
    }
    return { smallLinks, dagSize };
  }

  /** Stats of every dag-pb block below a (small) folder, from one dag/export. */
  private async exportStats(cid: string, opts: NodeCallOpts): Promise<Map<string, IpfsStat>> {
    const car = await this.call('dag/export', { arg: cid }, opts.signal, async (res) => {
      const parts: Uint8Array[] = [];
      let n = 0;
      if (res.body) {
        for await (const c of res.body) {
          n += c.length;
          // the Tsizes were a claim: never hold more than the limit
          if (n > 2 * EXPORT_MAX) throw new FsError('IO', `dag export ${cid}: more than ${2 * EXPORT_MAX} bytes`);
          parts.push(c);
        }
      }
      return Buffer.concat(parts, n);
    });
    const out = new Map<string, IpfsStat>();
    for (const [c, block] of carBlocks(car)) {
      if (CID.parse(c).code === 0x70) out.set(c, statFromBlock(c, block));
    }
    return out;
  }

  /**
   * js-ipfs quirk: a symlink is listed as a small file; its block tells, taken from the
   * folder's export (`known`) when there is one, else one block fetch each.
   */
  private async fixSymlinks(batch: IpfsLsEntry[], known: ReadonlyMap<string, IpfsStat> | undefined, opts: NodeCallOpts): Promise<void> {
    const suspects = batch.filter((e) => e.type === 'file' && e.size <= SYMLINK_MAX && CID.parse(e.cid).code === 0x70);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < suspects.length) {
        const e = suspects[next++]!;
        const s = known?.get(e.cid) ?? (await this.stat(e.cid, opts));
        if (s.type === 'symlink') {
          e.type = 'symlink';
          e.size = s.size;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(6, suspects.length) }, worker));
  }

  async *cat(cid: string, opts: CatOpts): AsyncIterable<Uint8Array> {
    const what = `cat ${cid}`;
    const params: Record<string, number | string> = { arg: cid };
    if (opts.offset) params.offset = opts.offset;
    if (opts.length !== undefined) params.length = opts.length;
    let release = (): void => {};
    try {
      const linked = await this.postLinked('cat', params, opts.signal);
      release = linked.release;
      if (!linked.res.body) return;
      for await (const chunk of linked.res.body) yield chunk;
    } catch (err) {
      throw nodeError(err, what, this.address, opts.signal);
    } finally {
      release();
    }
  }

  async pins(opts: NodeCallOpts): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const p of this.client.pin.ls({ type: 'recursive', signal: opts.signal })) out.push(p.cid.toString());
    } catch (err) {
      throw nodeError(err, 'pin ls', this.address, opts.signal);
    }
    return out;
  }

  async keys(opts: NodeCallOpts): Promise<IpfsKey[]> {
    try {
      const list = await this.client.key.list({ signal: opts.signal });
      const seen = new Map<string, IpfsKey>();
      for (const k of list) if (!seen.has(k.name)) seen.set(k.name, { name: k.name, id: k.id });
      return [...seen.values()];
    } catch (err) {
      throw nodeError(err, 'key list', this.address, opts.signal);
    }
  }

  async nameResolve(name: string, opts: NodeCallOpts): Promise<string> {
    let last: string | undefined;
    try {
      for await (const p of this.client.name.resolve(name, { recursive: true, nocache: false, signal: opts.signal })) last = p;
    } catch (err) {
      throw nodeError(err, `name resolve ${name}`, this.address, opts.signal);
    }
    if (!last?.startsWith('/ipfs/')) throw new FsError('NotExist', `name resolve ${name}: no /ipfs/ path published (got ${JSON.stringify(last ?? '')})`);
    return last;
  }

  async repoStat(opts: NodeCallOpts): Promise<IpfsRepoStat> {
    try {
      const s = await this.client.repo.stat({ signal: opts.signal });
      return { repoSize: Number(s.repoSize), storageMax: Number(s.storageMax), numObjects: Number(s.numObjects) };
    } catch (err) {
      throw nodeError(err, 'repo stat', this.address, opts.signal);
    }
  }

  async close(): Promise<void> {
    // fetch keeps no state of ours; nothing to release
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

/** Type/size/metadata from a dag-pb block. */
export function statFromBlock(cid: string, block: Uint8Array): IpfsStat {
  const pb = decodeDagPb(block);
  if (!pb.data) {
    // dag-pb without UnixFS data: a bare link list, shown as a folder
    return { cid, type: 'dir', size: 0, links: new Map(pb.links.map((l) => [l.name, l.cid])) };
  }
  const u = decodeUnixfs(pb.data);
  const meta: Pick<IpfsStat, 'mode' | 'mtimeMs'> = {};
  if (u.mode !== undefined) meta.mode = u.mode & 0o7777;
  if (u.mtimeMs !== undefined) meta.mtimeMs = u.mtimeMs;
  switch (u.type) {
    case 'directory':
      return { cid, type: 'dir', size: 0, links: new Map(pb.links.map((l) => [l.name, l.cid])), ...meta };
    case 'hamt-sharded-directory':
      return { cid, type: 'dir', size: 0, sharded: true, ...meta };
    case 'symlink': {
      const target = new TextDecoder().decode(u.data ?? new Uint8Array());
      return { cid, type: 'symlink', size: new TextEncoder().encode(target).length, target, ...meta };
    }
    case 'file':
    case 'raw':
    case 'metadata':
      return { cid, type: 'file', size: unixfsSize(u), ...meta };
    default: {
      const never: never = u.type;
      throw new FsError('InvalidItem', `${cid}: unknown UnixFS type ${String(never)}`);
    }
  }
}

/** Parses a newline-delimited JSON body as it streams. */
async function* ndjson(res: Response): AsyncIterable<unknown> {
  if (!res.body) return;
  const dec = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body) {
    buf += dec.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield JSON.parse(line);
    }
  }
  buf += dec.decode();
  if (buf.trim()) yield JSON.parse(buf);
}
