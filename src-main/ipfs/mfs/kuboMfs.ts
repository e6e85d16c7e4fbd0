import { openAsBlob } from 'node:fs';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import { FsError, toFsError } from '../../vfs/FsError.ts';
import type { NodeCallOpts } from '../IpfsNode.ts';
import { canonicalCid } from '../canonicalCid.ts';
import type { KuboNode } from '../kubo.ts';
import { ndjson, type RpcParams } from '../kuboRpc.ts';
import { RAW } from '../unixfsStat.ts';
import { type MfsBackend, type PutItem, type PutOutcome, unixfsMtime } from './MfsBackend.ts';

// MFS over Kubo's files API (https://docs.ipfs.tech/reference/kubo/rpc/#api-v0-files-cp).
// Every call flushes (Kubo's default; Berth never passes flush=false). A file's content
// goes in with `add` (pin=false: MFS holds it) together with its mode and mtime, and is
// linked only once imported (`--to-files` for a new name, else `files/cp /ipfs/<cid>`), so
// a half-sent file is never visible. Kubo's `files/mv` and `files/cp` refuse an existing
// target, so a replacing move removes the target first (the guest serialises its writes,
// so its own callers never see the gap).

/** Kubo's current import defaults (CIDv1, raw leaves, 1 MiB chunks). */
export const IMPORT_PARAMS: Readonly<RpcParams> = { 'cid-version': 1, 'raw-leaves': true, chunker: 'size-1048576' };

/** The Kubo MFS backend. */
export class KuboMfs implements MfsBackend {
  constructor(readonly kubo: KuboNode) {}

  protected fail(err: unknown, what: string, opts: NodeCallOpts): FsError {
    return this.kubo.fail(err, what, opts.signal);
  }

  async cidOf(path: string, opts: NodeCallOpts): Promise<string> {
    let hash: string | undefined;
    try {
      hash = (await this.kubo.rpc.json<{ Hash?: string }>('files/stat', { arg: path, hash: true }, opts.signal)).Hash;
    } catch (err) {
      throw this.fail(err, `files stat ${path}`, opts);
    }
    const cid = hash ? canonicalCid(hash) : undefined;
    if (!cid) throw new FsError('IO', `files stat ${path}: the node at ${this.kubo.address} answered without a CID`);
    return cid;
  }

  /** Whether something is at `path`. */
  protected async exists(path: string, opts: NodeCallOpts): Promise<boolean> {
    try {
      await this.cidOf(path, opts);
      return true;
    } catch (err) {
      if (err instanceof FsError && err.kind === 'NotExist') return false;
      throw err;
    }
  }

  async mkdir(path: string, opts: NodeCallOpts): Promise<void> {
    if (await this.exists(path, opts)) throw new FsError('Exist', `mkdir ${path}: something is already there`);
    try {
      await this.kubo.rpc.run('files/mkdir', { arg: path, parents: false, 'cid-version': 1 }, opts.signal);
    } catch (err) {
      throw this.fail(err, `files mkdir ${path}`, opts);
    }
  }

  async rm(path: string, opts: NodeCallOpts): Promise<void> {
    try {
      await this.kubo.rpc.run('files/rm', { arg: path, recursive: true, force: true }, opts.signal);
    } catch (err) {
      throw this.fail(err, `files rm ${path}`, opts);
    }
  }

  async mv(from: string, to: string, opts: NodeCallOpts): Promise<void> {
    if (from === to) return;
    if (await this.exists(to, opts)) await this.rm(to, opts);
    try {
      await this.kubo.rpc.run('files/mv', { arg: [from, to] }, opts.signal);
    } catch (err) {
      throw this.fail(err, `files mv ${from} ${to}`, opts);
    }
  }

  /** Links existing content at `path`, replacing what was there. */
  protected async link(cid: string, path: string, opts: NodeCallOpts): Promise<void> {
    if (await this.exists(path, opts)) await this.rm(path, opts);
    try {
      await this.kubo.rpc.run('files/cp', { arg: [`/ipfs/${cid}`, path] }, opts.signal);
    } catch (err) {
      throw this.fail(err, `files cp /ipfs/${cid} ${path}`, opts);
    }
  }

  async putFiles(items: readonly PutItem[], opts: NodeCallOpts): Promise<PutOutcome[]> {
    const out: PutOutcome[] = [];
    for (const item of items) {
      try {
        out.push({ cid: await this.putOne(item, opts) });
      } catch (err) {
        out.push({ error: toFsError(err) });
      }
    }
    return out;
  }

  /**
   * One file: a new one in one call (`add --to-files`, Kubo 0.16+: imported, then linked by
   * Kubo itself, which refuses an existing name); a replacing one imported first, then
   * linked in place of the old.
   */
  private async putOne(item: PutItem, opts: NodeCallOpts): Promise<string> {
    if (item.isNew) {
      try {
        return await this.add(item, opts, item.path);
      } catch (err) {
        if (!(err instanceof FsError && err.kind === 'Exist')) throw err;
      }
    }
    const cid = await this.add(item, opts);
    await this.link(cid, item.path, opts);
    return cid;
  }

  /**
   * `add` of one local file with Kubo's import defaults and the item's mode and mtime
   * (Kubo 0.30+; they make the root a dag-pb node, and Kubo refuses raw-leaves=true beside
   * them: CIDv1's leaves are raw unless metadata is asked for). `toFiles`: link it there.
   */
  private async add(item: PutItem, opts: NodeCallOpts, toFiles?: string): Promise<string> {
    const form = new FormData();
    // a Blob backed by the file: fetch streams it from disk
    form.append('file', await openAsBlob(item.localFile), 'file');
    const params: RpcParams = { ...IMPORT_PARAMS, pin: false, quieter: true };
    if (item.mode !== undefined || item.mtimeMs !== undefined) {
      delete params['raw-leaves'];
      // a uint option (decimal); Go's FileMode has no place for the set-id and sticky bits
      if (item.mode !== undefined) params.mode = item.mode & 0o777;
      if (item.mtimeMs !== undefined) {
        const t = unixfsMtime(item.mtimeMs);
        params.mtime = t.secs;
        if (t.nsecs) params['mtime-nsecs'] = t.nsecs;
      }
    }
    if (toFiles !== undefined) params['to-files'] = toFiles;
    const what = toFiles !== undefined ? `add --to-files ${toFiles}` : `add (for ${item.path})`;
    let hash: string | undefined;
    try {
      hash = await this.kubo.rpc.call('add', params, opts.signal, async (res) => {
        let last: string | undefined;
        for await (const line of ndjson(res)) last = (line as { Hash?: string }).Hash ?? last;
        return last;
      }, form);
    } catch (err) {
      throw this.fail(err, what, opts);
    }
    const cid = hash ? canonicalCid(hash) : undefined;
    if (!cid) throw new FsError('IO', `${what}: the node at ${this.kubo.address} answered without a CID`);
    if (item.mode !== undefined && (item.mode & 0o7000) !== 0) {
      // set-id and sticky bits: through files/chmod, which takes them
      if (toFiles === undefined) await this.link(cid, item.path, opts);
      await this.chmod(item.path, item.mode, opts);
      return await this.cidOf(item.path, opts);
    }
    return cid;
  }

  /** Stores one dag-pb block (Kubo: `block/put?cid-codec=dag-pb`); returns its CID. */
  protected async putPbBlock(block: Uint8Array, opts: NodeCallOpts): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([block]), 'block');
    try {
      const r = await this.kubo.rpc.json<{ Key?: string }>('block/put', { 'cid-codec': 'dag-pb', mhtype: 'sha2-256' }, opts.signal, form);
      const cid = r.Key ? canonicalCid(r.Key) : undefined;
      if (!cid) throw new FsError('IO', `block put: the node at ${this.kubo.address} answered without a CID`);
      return cid;
    } catch (err) {
      throw this.fail(err, 'block put', opts);
    }
  }

  async symlink(target: string, path: string, opts: NodeCallOpts): Promise<void> {
    // Kubo's files API makes no symlinks: the UnixFS node is built here and linked in
    const block = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'symlink', data: new TextEncoder().encode(target) }).marshal() }));
    if (await this.exists(path, opts)) throw new FsError('Exist', `symlink ${path}: something is already there`);
    await this.link(await this.putPbBlock(block, opts), path, opts);
  }

  /**
   * Metadata needs a UnixFS node, and a one-block file is a bare raw block: it is wrapped
   * first in a dag-pb file node linking that block (same bytes, a CID of its own).
   */
  private async asUnixfs(path: string, opts: NodeCallOpts): Promise<void> {
    const cid = await this.cidOf(path, opts);
    if (CID.parse(cid).code !== RAW) return;
    const { size } = await this.kubo.stat(cid, opts);
    const data = new UnixFS({ type: 'file', blockSizes: [BigInt(size)] }).marshal();
    const block = dagPb.encode(dagPb.prepare({ Data: data, Links: [{ Hash: CID.parse(cid), Tsize: size, Name: '' }] }));
    await this.link(await this.putPbBlock(block, opts), path, opts);
  }

  async chmod(path: string, mode: number, opts: NodeCallOpts): Promise<void> {
    await this.asUnixfs(path, opts);
    try {
      await this.kubo.rpc.run('files/chmod', { arg: path, mode: (mode & 0o7777).toString(8) }, opts.signal);
    } catch (err) {
      throw this.fail(err, `files chmod ${path}`, opts);
    }
  }

  async touch(path: string, mtimeMs: number, opts: NodeCallOpts): Promise<void> {
    await this.asUnixfs(path, opts);
    try {
      await this.kubo.rpc.run('files/touch', { arg: path, mtime: Math.floor(mtimeMs / 1000) }, opts.signal);
    } catch (err) {
      throw this.fail(err, `files touch ${path}`, opts);
    }
  }
}
